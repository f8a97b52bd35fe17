"""Random-projection theory: independent reference, closed forms, thresholds, limits, phase behaviour."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference
from scipy.optimize import brentq

import jaxcollapse as jc

RNG = np.random.default_rng(3)


def _random_problem(d, rng):
    s = np.sort(rng.uniform(0.05, 3.0, d) ** 2)[::-1]
    gamma = rng.uniform(0.0, 2.0, d) / d
    delta = rng.uniform(0.0, 1.0, d) / d
    return s, gamma, delta


# Held-out-style configurations: random spectra and priors, every regime of (m, n, d), ridge > 0.
REFERENCE_CASES = [
    (d, n, m, p2, lam)
    for d, n, m, p2, lam in [
        (150, 100, 40, 0.3, 1e-2),  # m < n < d
        (150, 100, 130, 0.6, 1e-3),  # n < m < d
        (150, 100, 400, 0.2, 0.5),  # m > d > n
        (80, 200, 50, 0.5, 1e-4),  # m < d < n
        (80, 200, 120, 0.1, 1e-2),  # d < m < n
        (80, 200, 900, 0.9, 1.0),  # m > n > d
        (120, 120, 120, 0.4, 1e-3),  # m = n = d
        (200, 60, 60, 1.0, 1e-2),  # m = n, all synthetic
    ]
]


@pytest.mark.parametrize("d, n, m, p2, lam", REFERENCE_CASES)
def test_matches_scipy_reference(d, n, m, p2, lam):
    s, gamma, delta = _random_problem(d, RNG)
    mix = jc.Mixture(s, gamma, delta, noise_var=0.3)
    risk = jc.theory.random_projections(mix, n=n, m=m, p2=p2, lam=lam)
    ref = reference.random_projections(s, gamma, delta, n, m, p2, lam, sigma2=0.3)
    assert int(risk.status) == jc.Status.OK
    for field, key in [
        ("theta", "theta"),
        ("kappa", "kappa"),
        ("bias", "B"),
        ("variance", "V"),
        ("collapse", "zeta"),
        ("total", "E"),
    ]:
        np.testing.assert_allclose(float(getattr(risk, field)), ref[key], rtol=1e-8, err_msg=field)


RIDGELESS_GRID = [
    (phi, psi, p2) for phi in (0.4, 0.8, 1.5, 3.0) for psi in (0.2, 0.6, 0.95, 1.05, 1.7, 5.0) for p2 in (0.0, 0.3, 1.0)
]


@pytest.mark.parametrize("phi, psi, p2", RIDGELESS_GRID)
def test_ridgeless_closed_forms(phi, psi, p2):
    """λ = 0 equals §3.3 in regimes (i)–(iii); in (ii) it is classical OLS, independent of m."""
    d = 240
    n = d / phi
    m = psi * n
    mix = jc.isotropic(d, signal=1.3, shift=0.7, noise_var=0.4)
    risk = jc.theory.random_projections(mix, n=n, m=m, p2=p2, lam=0.0)
    B, V, zeta = reference.random_projections_ridgeless_isotropic(phi, psi, p2, 1.3, 0.7, 0.4)
    assert int(risk.status) == jc.Status.OK
    np.testing.assert_allclose([risk.bias, risk.variance, risk.collapse], [B, V, zeta], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("phi, psi", [(2.0, 0.7), (2.0, 1.4), (0.5, 0.3), (0.5, 3.0), (1.0, 0.5)])
def test_ridgeless_is_the_limit_of_small_ridge(phi, psi):
    d = 300
    n = d / phi
    mix = jc.power_law(d, 1.2, signal=1.0, shift=0.5, noise_var=0.2)
    at0 = jc.theory.random_projections(mix, n=n, m=psi * n, p2=0.3, lam=0.0)
    lams = jnp.array([1e-8, 1e-10, 1e-12])
    near = jc.theory.random_projections(mix, n=n, m=psi * n, p2=0.3, lam=lams)
    err = jnp.abs(near.total - at0.total) / at0.total
    assert float(err[-1]) < 1e-7
    assert bool(jnp.all(err[1:] < err[:-1] / 30))  # linear convergence as lam -> 0


def test_threshold_is_inf_exactly_and_finite_around_it():
    d = 300
    mix = jc.isotropic(d, signal=1.0, shift=0.5, noise_var=0.25)
    n = 150.0
    at = jc.theory.random_projections(mix, n=n, m=n, p2=0.2, lam=0.0)
    assert float(at.total) == np.inf and int(at.status) == jc.Status.INFINITE
    assert float(at.bias) == np.inf and float(at.variance) == np.inf and float(at.collapse) == np.inf
    # d = n ≤ m: the classical threshold inside the wide model
    at_d = jc.theory.random_projections(mix, n=d, m=2.0 * d, p2=0.2, lam=0.0)
    assert float(at_d.total) == np.inf and int(at_d.status) == jc.Status.INFINITE
    # both sides are finite and blow up as m -> n
    eps = jnp.array([1e-1, 1e-2, 1e-3])
    for side in (-1, 1):
        r = jc.theory.random_projections(mix, n=n, m=n * (1 + side * eps), p2=0.2, lam=0.0)
        assert bool(jnp.all(jnp.isfinite(r.total))) and bool(jnp.all(r.status == jc.Status.OK))
        assert bool(jnp.all(jnp.diff(r.total) > 0))
    # with a ridge the peak is finite
    ridge = jc.theory.random_projections(mix, n=n, m=n, p2=0.2, lam=jnp.array([1e-6, 1e-3, 1e-1]))
    assert bool(jnp.all(jnp.isfinite(ridge.total))) and bool(jnp.all(ridge.status == jc.Status.OK))
    assert bool(jnp.all(jnp.diff(ridge.total) < 0))


def test_noiseless_clean_fit_at_the_threshold_is_not_flagged_when_finite():
    """d ≤ min(m, n) at λ = 0 is OLS: at d = n with no noise, no shift, no bias, the error is 0."""
    d = 100
    mix = jc.isotropic(d, signal=0.0, shift=0.0, noise_var=0.0)
    r = jc.theory.random_projections(mix, n=d, m=3 * d, p2=0.3, lam=0.0)
    assert float(r.total) == 0.0 and int(r.status) == jc.Status.OK


def test_collapse_term_zero_without_synthetic_data_and_independent_of_quality():
    d = 200
    a = jc.power_law(d, 1.5, signal=1.0, shift=0.1, noise_var=0.3)
    b = jc.power_law(d, 1.5, signal=1.0, shift=5.0, noise_var=0.3)
    kw = dict(n=120.0, m=jnp.array([30.0, 110.0, 150.0, 600.0]), p2=0.0, lam=jnp.array([0.0, 1e-3, 1e-2, 0.0]))
    ra, rb = jc.theory.random_projections(a, **kw), jc.theory.random_projections(b, **kw)
    assert bool(jnp.all(ra.collapse == 0)) and bool(jnp.all(rb.collapse == 0))
    np.testing.assert_allclose(ra.total, rb.total, rtol=1e-14)


@pytest.mark.parametrize("n", [80.0, 300.0])
def test_infinitely_wide_model_is_ridgeless_regression_in_x_space(n):
    d = 150
    mix = jc.power_law(d, 1.1, signal=1.0, shift=0.5, noise_var=0.2)
    wide = jc.theory.random_projections(mix, n=n, m=1e12, p2=0.3, lam=0.0)
    ridgeless = jc.theory.ridge(mix, n=n, p2=0.3, lam=0.0)
    np.testing.assert_allclose(float(wide.total), float(ridgeless.total), rtol=1e-8)
    # A fixed ridge on v vanishes in x-space as m grows (features scale like sqrt(m/d)).
    wide_ridge = jc.theory.random_projections(mix, n=n, m=1e15, p2=0.3, lam=0.1)
    np.testing.assert_allclose(float(wide_ridge.total), float(ridgeless.total), rtol=1e-8)


@pytest.mark.parametrize("lam_x", [1e-3, 0.1, 2.0])
def test_very_wide_model_is_ridge_at_the_equivalent_penalty(lam_x):
    """With S of variance 1/d, ridge λ on v is ridge λ d/m on w once m ≫ d."""
    d = 120
    mix = jc.power_law(d, 1.3, signal=1.0, shift=0.5, noise_var=0.2)
    ridge = jc.theory.ridge(mix, n=90.0, p2=0.4, lam=lam_x)
    errors = []
    for ratio in (1e3, 1e5):
        m = ratio * d
        rp = jc.theory.random_projections(mix, n=90.0, m=m, p2=0.4, lam=lam_x * m / d)
        errors.append(abs(float(rp.total) / float(ridge.total) - 1))
    assert errors[1] < 1e-4
    assert errors[1] < errors[0] / 30  # the gap closes like d/m


@pytest.mark.parametrize("m", [20.0, 90.0, 199.0])
def test_infinite_data_limit_theta0_formula(m):
    """n → ∞ at fixed m ≤ d: E → θ0 tr[ΓΣ(Σ+θ0)^{-1}] + p2² tr[ΔΣ²(Σ+θ0)^{-1}], df1(θ0) = m."""
    d = 200
    mix = jc.power_law(d, 1.4, signal=1.0, shift=0.6, noise_var=0.3)
    s, g, D = (np.asarray(x) for x in (mix.eigs, mix.signal, mix.shift))
    theta0 = brentq(lambda t: np.sum(s / (s + t)) - m, 1e-300, 1e6, xtol=1e-300, rtol=1e-15)
    p2 = 0.35
    limit = theta0 * np.sum(g * s / (s + theta0)) + p2**2 * np.sum(D * s**2 / (s + theta0))
    r = jc.theory.random_projections(mix, n=1e13, m=m, p2=p2, lam=0.0)
    np.testing.assert_allclose(float(r.total), limit, rtol=1e-9)


def test_isotropic_infinite_data_limit():
    """Isotropic: E → r²(1 − m/d) + p2² c² m/d, a wider model has a higher collapse floor."""
    d = 100
    mix = jc.isotropic(d, signal=1.0, shift=0.5)
    m = jnp.array([10.0, 50.0, 90.0])
    r = jc.theory.random_projections(mix, n=1e14, m=m, p2=0.3, lam=0.0)
    np.testing.assert_allclose(r.total, (1 - m / d) + 0.09 * 0.5 * m / d, rtol=1e-10)
    assert bool(jnp.all(jnp.diff(r.collapse) > 0))


def test_bigger_models_amplify_collapse_below_the_threshold_and_mitigate_above():
    """Isotropic ridgeless, d > n: ζ increases on m < n, decreases on m > n to c²p2(φ−p2)/(φ(φ−1)) > 0."""
    d, n, p2, c2 = 600, 200.0, 0.3, 0.8
    phi = d / n
    mix = jc.isotropic(d, signal=1.0, shift=c2, noise_var=0.5)
    below = n * jnp.linspace(0.05, 0.98, 40)
    above = n * jnp.linspace(1.02, 50.0, 40)
    zeta_of_m = lambda m: jc.theory.random_projections(mix, n=n, m=m, p2=p2, lam=0.0).collapse  # noqa: E731
    slope_below = jax.vmap(jax.grad(zeta_of_m))(below)
    slope_above = jax.vmap(jax.grad(zeta_of_m))(above)
    assert bool(jnp.all(slope_below > 0)) and bool(jnp.all(slope_above < 0))
    for field in ("bias", "variance"):  # every term rises then falls
        f = lambda m, field=field: getattr(jc.theory.random_projections(mix, n=n, m=m, p2=p2, lam=0.0), field)  # noqa: E731
        assert bool(jnp.all(jax.vmap(jax.grad(f))(below) > 0)) and bool(jnp.all(jax.vmap(jax.grad(f))(above) < 0))
    limit = c2 * p2 * (phi - p2) / (phi * (phi - 1))
    far = jc.theory.random_projections(mix, n=n, m=n * jnp.array([1e2, 1e4, 1e8]), p2=p2, lam=0.0).collapse
    assert bool(jnp.all(far > limit)) and bool(jnp.all(jnp.diff(far) < 0))
    np.testing.assert_allclose(float(far[-1]), limit, rtol=1e-6)


def test_without_excess_dimensions_there_is_no_peak():
    """d < n, ridgeless: the error is flat for m ≥ d (regime ii) and there is no interpolation peak."""
    d, n = 100, 300.0
    mix = jc.power_law(d, 1.0, signal=1.0, shift=0.5, noise_var=0.3)
    m = jnp.array([100.0, 150.0, 299.0, 300.0, 301.0, 3000.0])
    r = jc.theory.random_projections(mix, n=n, m=m, p2=0.4, lam=0.0)
    np.testing.assert_allclose(r.total, r.total[0], rtol=1e-12)
    np.testing.assert_allclose(float(r.total[0]), float(jc.theory.ridge(mix, n=n, p2=0.4, lam=0.0).total), rtol=1e-12)


def test_fixed_teachers_reduce_to_priors_when_averaged():
    """Averaging the fixed-teacher formula over w ~ N(0, Γ), δ ~ N(0, Δ) gives the prior formula:
    the quadratic terms are linear in w², δ², and the cross term is odd in δ."""
    d = 50
    rng = np.random.default_rng(0)
    s = np.linspace(0.2, 2.0, d)
    w = rng.normal(size=d) / np.sqrt(d)
    delta = rng.normal(size=d) * 0.7 / np.sqrt(d)
    kw = dict(n=35.0, m=jnp.array([20.0, 60.0]), p2=0.4, lam=jnp.array([0.0, 1e-2]))
    plus = jc.theory.random_projections(jc.fixed_teachers(s, w, w + delta, noise_var=0.2), **kw)
    minus = jc.theory.random_projections(jc.fixed_teachers(s, w, w - delta, noise_var=0.2), **kw)
    prior = jc.theory.random_projections(jc.Mixture(s, w**2, delta**2, noise_var=0.2), **kw)
    np.testing.assert_allclose(0.5 * (plus.total + minus.total), prior.total, rtol=1e-12)
    assert bool(jnp.all(jnp.abs(plus.total - minus.total) > 1e-4 * prior.total))  # the cross term is there


def test_different_covariances_are_refused():
    pl = jc.power_law(50, 1.0)
    shifted = jc.Mixture(pl.eigs, pl.signal, pl.shift, synthetic_eigs=pl.eigs * 2)
    with pytest.raises(ValueError, match="synthetic_eigs=None"):
        jc.theory.random_projections(shifted, n=20, m=10, p2=0.2, lam=0.1)
    with pytest.raises(ValueError, match="synthetic_eigs=None"):
        jc.simulate.random_projections(shifted, n=20, m=10, p2=0.2, lam=0.1, trials=2, key=jax.random.key(0))


def test_fixed_teachers_at_the_threshold_total_is_inf_not_nan():
    """A cross term of either sign diverges with the bias; the total still is +inf, flagged as such."""
    d = 60
    w = jnp.linspace(0.5, 1.5, d) / jnp.sqrt(d)
    for synthetic in (0.9 * w, 1.1 * w):  # δ = ∓0.1 w: cross term of opposite signs
        mix = jc.fixed_teachers(jnp.ones(d), w, synthetic, noise_var=0.1)
        r = jc.theory.random_projections(mix, n=30.0, m=30.0, p2=0.4, lam=0.0)
        assert float(r.total) == np.inf and int(r.status) == jc.Status.INFINITE
        c = jc.theory.ridge(mix, n=float(d), p2=0.4, lam=0.0)
        assert float(c.total) == np.inf and int(c.status) == jc.Status.INFINITE


def test_float32_keeps_its_digits_when_the_error_is_tiny():
    """Regression (found by tests/test_properties.py): with m, n ≫ d the error is ~1e-8 of the signal
    and 1 − ρ was formed as a difference, so float32 kept only 3 digits (1.7e-4 relative at
    m = n = 100d, λ = 0.01; 1.6e-3 at λ = 1e-3). It is now spread/(m − df2): float32 within 1e-6."""
    import equinox as eqx

    mix = jc.Mixture(jnp.ones(12), jnp.zeros(12).at[-1].set(1.0), jnp.zeros(12), 0.0)
    mix32 = jax.tree.map(lambda x: x.astype(jnp.float32) if eqx.is_array(x) else x, mix)
    n = jnp.array([1200.0, 1200.0, 1200.0, 120.0])
    m = jnp.array([1200.0, 2400.0, 12000.0, 1200.0])
    lam = jnp.array([1e-2, 1e-3, 1e-2, 1e-3])
    r64 = jc.theory.random_projections(mix, n=n, m=m, p2=0.0, lam=lam)
    r32 = jc.theory.random_projections(
        mix32, n=n.astype(jnp.float32), m=m.astype(jnp.float32), p2=jnp.float32(0.0), lam=lam.astype(jnp.float32)
    )
    assert np.all(np.asarray(r64.total) < 1e-7)
    np.testing.assert_allclose(np.asarray(r32.total, np.float64), np.asarray(r64.total), rtol=1e-6)
