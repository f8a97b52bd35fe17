"""jc.theory.ridge against independent references, closed forms, identities and limits."""

import jax.numpy as jnp
import numpy as np
import pytest
import reference

import jaxcollapse as jc

D = 150


def power(beta=1.3, **kw):
    return jc.power_law(D, beta, **{"signal": 1.0, "shift": 0.7, "noise_var": 0.2, **kw})


def covariate_shift(mix, power=0.5, noise2=0.4):
    return jc.Mixture(
        mix.eigs, mix.signal, mix.shift, mix.noise_var, synthetic_eigs=mix.eigs**power, synthetic_noise_var=noise2
    )


@pytest.mark.parametrize("n", [40.0, 150.0, 151.0, 600.0])
@pytest.mark.parametrize("lam", [0.0, 1e-6, 1e-2, 1.0])
@pytest.mark.parametrize("p2", [0.0, 0.35, 1.0])
def test_theorem1_form_against_scipy_reference(n, lam, p2):
    mix = power(source=0.7, noise_var=0.2, synthetic_noise_var=0.5)
    got = jc.theory.ridge(mix, n=n, p2=p2, lam=lam)
    if lam == 0 and n == D:  # the interpolation threshold: +inf, checked against no reference
        assert np.isposinf(got.total) and int(got.status) == jc.Status.INFINITE
        return
    expected = reference.theorem1(mix.eigs, mix.signal, mix.shift, n, p2, lam, 0.2, 0.5)
    np.testing.assert_allclose(got.total, expected, rtol=1e-9)


def test_fixed_teachers_against_reference():
    rng = np.random.default_rng(0)
    s = np.sort(rng.uniform(0.1, 3, D))[::-1]
    w1, w2 = rng.normal(size=D) / np.sqrt(D), rng.normal(size=D) / np.sqrt(D)
    mix = jc.fixed_teachers(s, w1, w2, noise_var=0.3)
    for n, lam, p2 in [(60.0, 0.05, 0.4), (400.0, 0.0, 0.2), (100.0, 0.0, 0.7)]:
        expected = reference.theorem1(s, w1**2, (w2 - w1) ** 2, n, p2, lam, 0.3, w=w1, delta=w2 - w1)
        np.testing.assert_allclose(jc.theory.ridge(mix, n=n, p2=p2, lam=lam).total, expected, rtol=1e-9)


@pytest.mark.parametrize(
    "n, lam, p2, weight", [(80.0, 0.03, 0.4, 0.25), (300.0, 0.5, 0.6, 3.0), (120.0, 1e-3, 0.2, 1.0)]
)
@pytest.mark.parametrize("shifted", [False, True])
def test_weighted_coupled_system_against_reference(n, lam, p2, weight, shifted):
    base = power(noise_var=0.2)
    mix = (
        covariate_shift(base)
        if shifted
        else jc.Mixture(base.eigs, base.signal, base.shift, 0.2, synthetic_eigs=base.eigs, synthetic_noise_var=0.4)
    )
    expected = reference.weighted_coupled(
        np.asarray(mix.eigs), np.asarray(mix.eigs2), mix.signal, mix.shift, n, p2, lam, weight, 0.2, 0.4
    )
    np.testing.assert_allclose(jc.theory.ridge(mix, n=n, p2=p2, lam=lam, weight=weight).total, expected, rtol=1e-8)
    if not shifted:  # the scalar (same-covariance) path must agree with the coupled one
        same = jc.Mixture(base.eigs, base.signal, base.shift, 0.2, synthetic_noise_var=0.4)
        np.testing.assert_allclose(jc.theory.ridge(same, n=n, p2=p2, lam=lam, weight=weight).total, expected, rtol=1e-8)


@pytest.mark.parametrize("phi", [0.3, 0.8, 1.25, 3.0])
@pytest.mark.parametrize("lam", [0.0, 1e-4, 0.3])
@pytest.mark.parametrize("p2", [0.0, 0.5, 1.0])
def test_isotropic_closed_form_against_solver(phi, lam, p2):
    mix = jc.isotropic(D, signal=1.3, shift=0.6, noise_var=0.4)
    closed = jc.theory.ridge_isotropic(phi=phi, p2=p2, lam=lam, signal=1.3, shift=0.6, noise_var=0.4)
    solved = jc.theory.ridge(mix, n=D / phi, p2=p2, lam=lam)
    for field in ["total", "bias", "variance", "collapse", "kappa"]:
        np.testing.assert_allclose(getattr(solved, field), getattr(closed, field), rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("phi", [0.25, 0.6, 1.7, 4.0])
@pytest.mark.parametrize("p2", [0.1, 0.5, 1.0])
def test_isotropic_ridgeless_formulas(phi, p2):
    r2, c2, s2 = 1.1, 0.7, 0.3
    p1 = 1 - p2
    if phi < 1:
        expected = (s2 + p1 * p2 * c2) * phi / (1 - phi) + p2**2 * c2
    else:
        expected = r2 * (1 - 1 / phi) + s2 / (phi - 1) + c2 * p2 * (phi - p2) / (phi * (phi - 1))
    risk = jc.theory.ridge(jc.isotropic(D, signal=r2, shift=c2, noise_var=s2), n=D / phi, p2=p2, lam=0.0)
    np.testing.assert_allclose(risk.total, expected, rtol=1e-10)
    # and lam -> 0+ is continuous
    np.testing.assert_allclose(
        jc.theory.ridge(jc.isotropic(D, signal=r2, shift=c2, noise_var=s2), n=D / phi, p2=p2, lam=1e-9).total,
        expected,
        rtol=1e-6,
    )


@pytest.mark.parametrize("coupled", [False, True])
def test_interpolation_threshold_is_infinite(coupled):
    mix = power()
    if coupled:
        mix = covariate_shift(mix, power=1.0)
    risk = jc.theory.ridge(mix, n=float(D), p2=0.3, lam=0.0)
    if coupled:  # evaluated at lam = 1e-12 * mean(eigs): finite but enormous, never a plausible number
        assert float(risk.total) > 1e4
    else:
        assert np.isposinf(risk.total) and int(risk.status) == jc.Status.INFINITE
    assert np.isfinite(jc.theory.ridge(mix, n=float(D), p2=0.3, lam=1e-3).total)


def test_noiseless_clean_interpolation_threshold_is_zero_not_nan():
    risk = jc.theory.ridge(jc.isotropic(D, signal=1.0, shift=1.0, noise_var=0.0), n=float(D), p2=0.0, lam=0.0)
    assert float(risk.total) == 0.0 and int(risk.status) == jc.Status.OK


def test_p2_zero_is_classical_ridge():
    mix = power()
    clean = jc.Mixture(mix.eigs, mix.signal, jnp.zeros(D), mix.noise_var)
    for n, lam in [(50.0, 0.01), (500.0, 0.0), (80.0, 0.0)]:
        a = jc.theory.ridge(mix, n=n, p2=0.0, lam=lam)
        b = jc.theory.ridge(clean, n=n, p2=0.4, lam=lam)  # no shift: synthetic = real
        assert float(a.collapse) == 0.0
        np.testing.assert_allclose(a.total, b.total, rtol=1e-12)


def test_floor_same_covariance_large_n():
    mix = power()
    for p2 in [0.01, 0.1, 0.5]:
        floor = float(jc.theory.ridge_floor(mix, p2=p2))
        np.testing.assert_allclose(floor, p2**2 * float(mix.quality), rtol=1e-12)
        risk = jc.theory.ridge(mix, n=1e14, p2=p2, lam=0.0)
        np.testing.assert_allclose(risk.total, floor, rtol=1e-6)
        # ... and with a ridge that shrinks with n
        np.testing.assert_allclose(jc.theory.ridge(mix, n=1e12, p2=p2, lam=1e-9).total, floor, rtol=1e-3)


def test_floor_general_covariance_and_weights():
    mix = covariate_shift(power())
    for p2, weight in [(0.2, 1.0), (0.5, 0.3), (0.3, 4.0)]:
        floor = float(jc.theory.ridge_floor(mix, p2=p2, weight=weight))
        s1, s2 = np.asarray(mix.eigs), np.asarray(mix.eigs2)
        m = (1 - p2) * s1 + p2 * weight * s2
        expected = (p2 * weight) ** 2 * np.sum(np.asarray(mix.shift) * s2**2 * s1 / m**2)
        np.testing.assert_allclose(floor, expected, rtol=1e-12)
        np.testing.assert_allclose(
            jc.theory.ridge(mix, n=1e10, p2=p2, lam=1e-12, weight=weight).total, floor, rtol=1e-5
        )
    same = power()
    for p2, weight in [(0.5, 0.3), (0.3, 4.0)]:
        expected = (p2 * weight / (1 - p2 + p2 * weight)) ** 2 * float(same.quality)
        np.testing.assert_allclose(
            jc.theory.ridge(same, n=1e10, p2=p2, lam=0.0, weight=weight).total, expected, rtol=1e-6
        )


def test_all_synthetic_learns_the_synthetic_teacher():
    mix = power()
    np.testing.assert_allclose(jc.theory.ridge(mix, n=1e10, p2=1.0, lam=0.0).total, mix.quality, rtol=1e-6)
    # finite n, isotropic: p2 = 1 sanity lines of §2.4
    r2, c2, s2, phi = 1.0, 0.5, 0.25, 0.5
    iso = jc.isotropic(D, signal=r2, shift=c2, noise_var=s2)
    np.testing.assert_allclose(
        jc.theory.ridge(iso, n=D / phi, p2=1.0, lam=0.0).total, s2 * phi / (1 - phi) + c2, rtol=1e-10
    )
    phi = 2.0
    np.testing.assert_allclose(
        jc.theory.ridge(iso, n=D / phi, p2=1.0, lam=0.0).total,
        r2 * (1 - 1 / phi) + s2 / (phi - 1) + c2 / phi,
        rtol=1e-10,
    )


def test_zero_weight_discards_synthetic_data():
    """weight = 0 is ridge on the n1 real samples alone, with penalty lam/p1 in that sample's convention."""
    mix = power()
    for n, lam, p2 in [(200.0, 0.02, 0.4), (400.0, 0.0, 0.3), (100.0, 0.0, 0.5)]:
        got = jc.theory.ridge(mix, n=n, p2=p2, lam=lam, weight=0.0)
        real_only = jc.theory.ridge(mix, n=n * (1 - p2), p2=0.0, lam=lam / (1 - p2))
        np.testing.assert_allclose(got.total, real_only.total, rtol=1e-9)


def test_collapse_vanishes_without_shift_and_grows_with_it():
    base = power()
    risks = [
        jc.theory.ridge(jc.Mixture(base.eigs, base.signal, c * base.shift, 0.2), n=100.0, p2=0.3, lam=0.01)
        for c in (0, 1, 2)
    ]
    assert float(risks[0].collapse) == 0.0
    assert 0 < float(risks[1].collapse) < float(risks[2].collapse)
    np.testing.assert_allclose(risks[2].collapse, 2 * risks[1].collapse, rtol=1e-12)  # linear in Δ


def test_broadcasting_shapes():
    mix = power()
    risk = jc.theory.ridge(mix, n=jnp.array([50.0, 100.0, 400.0])[:, None], p2=jnp.array([0.0, 0.1]), lam=0.01)
    assert risk.total.shape == (3, 2) and risk.status.shape == (3, 2)
    one = jc.theory.ridge(mix, n=100.0, p2=0.1, lam=0.01)
    assert float(risk.total[1, 1]) == pytest.approx(float(one.total), rel=1e-14)
    np.testing.assert_allclose(risk.total, risk.bias + risk.variance + risk.collapse, rtol=1e-13)
