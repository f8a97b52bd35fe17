"""Self-training chains (*Model Collapse Demystified*): theory against the notes' tables, closed
forms, simulation, and transforms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse._results import Status


def _retrain(mix, **kw):
    kw.setdefault("generator_noise_var", 1.0)
    return jc.theory.retraining(mix, **kw)


# demystified.md §6: κ and degrees of freedom (κ − λ = κ df1(κ)/T)
KAPPA_ROWS = [
    ("iso", 100, 200, 0.1, 0.1741657387, 85.16685226, 72.53392725),
    ("iso", 100, 200, 1.0, 1.2807764064, 43.84471872, 19.22359360),
    ("iso", 100, 50, 0.1, 1.1844288770, 45.77855615, 20.95676203),
    ("iso", 100, 50, 0.0, 1.0, 50.0, 25.0),
    ("iso", 100, 1000, 0.01, 0.0110975773, 98.90242272, 97.81689220),
    ("pl", 1000, 500, 1e-2, 0.0109363159, 42.80764711, 15.85800760),
    ("pl", 1000, 500, 1e-3, 0.001415956527, 146.88181419, 63.18745073),
    ("pl", 1000, 100, 0.0, 0.002739879414, 100.0, 40.60493183),
]


@pytest.mark.parametrize("row", KAPPA_ROWS)
def test_kappa_table(row):
    kind, d, T, lam, kappa, df1, df2 = row
    mix = jc.isotropic(d) if kind == "iso" else jc.power_law(d, 1.5)
    r = _retrain(mix, n=T, n0=2 * d, generations=0, lam=lam)
    assert float(r.kappa) == pytest.approx(kappa, rel=1e-8)
    s = np.asarray(mix.eigs)
    k = float(r.kappa)
    assert np.sum(s / (s + k)) == pytest.approx(df1, rel=1e-8)
    assert np.sum((s / (s + k)) ** 2) == pytest.approx(df2, rel=1e-8)


def test_exact_ols_chain():
    mix = jc.isotropic(10, signal=1.0, noise_var=1.0)
    r = _retrain(mix, n=50, n0=20, generations=3, lam=0.0)
    assert float(r.total) == pytest.approx(10 / 39 + 30 / 9, rel=1e-12)  # 3.5897436
    assert float(r.bias) == 0.0 and float(r.collapse) == pytest.approx(30 / 9, rel=1e-12)


# demystified.md §6: isotropic ridge, under-parameterised chain (d = 100, T = 200, T0 = 400, σ = 0.5, σ0 = 1)
ISO_ROWS = [
    (0, 0.1, 0.176784, 0.034522, 0.142261, 0.0),
    (0, 1.0, 0.375459, 0.348875, 0.026585, 0.0),
    (
        1,
        0.0,
        None,
        0.0,
        0.25 * 100 / 99,
        0.334448,
    ),  # λ = 0: the exact "−1" variance (the table prints 0.25 = σ²d/(T−d))
    (1, 0.1, 0.423559, 0.034522, 0.142261, 0.246776),
    (1, 1.0, 0.450968, 0.348875, 0.026585, 0.075508),
]


@pytest.mark.parametrize("row", ISO_ROWS)
def test_isotropic_table(row):
    G, lam, total, bias, var, fake = row
    mix = jc.isotropic(100, signal=1.0, noise_var=0.25)
    r = _retrain(mix, n=200, n0=400, generations=G, lam=lam)
    for value, expected in ((r.bias, bias), (r.variance, var), (r.collapse, fake), (r.total, total)):
        if expected is not None:
            assert abs(float(value) - expected) <= max(5e-7, 1e-6 * abs(expected))


def test_isotropic_closed_form_of_the_notes():
    """§3.2: E = [r²κ² + c d (1 − u + κ²u) + σ²φ] / [(1+κ)²(1 − u)], c = nσ0²/(T0−d−1), u = φ/(1+κ)²."""
    d, T, T0, s2, s02 = 60, 150, 130, 0.3, 0.7
    mix = jc.isotropic(d, signal=1.3, noise_var=s2)
    for G in (0, 2, 7):
        for lam in (0.01, 0.3, 2.0):
            phi = d / T
            kappa = ((lam + phi - 1) + np.sqrt((lam + phi - 1) ** 2 + 4 * lam)) / 2
            u = phi / (1 + kappa) ** 2
            c = G * s02 / (T0 - d - 1)
            expected = (1.3 * kappa**2 + c * d * (1 - u + kappa**2 * u) + s2 * phi) / ((1 + kappa) ** 2 * (1 - u))
            r = jc.theory.retraining(mix, n=T, n0=T0, generations=G, lam=lam, generator_noise_var=s02)
            assert float(r.total) == pytest.approx(expected, rel=1e-10)


def test_over_parameterised_isotropic_closed_forms():
    """§3.3: generator error r²(1 − ψ^G) + σ0² T0/(d−T0−1)(1 − ψ^G)/(1 − ψ) seen through a λ = 0, n ≥ d fit."""
    d, T0, s02 = 80, 30, 0.4
    mix = jc.isotropic(d, signal=1.0, noise_var=0.0)
    psi = T0 / d
    G = np.arange(0, 12)
    # downstream OLS with n → ∞ and no noise reproduces the generator's own error
    r = jc.theory.retraining(mix, n=1e12, n0=T0, generations=G.astype(float), lam=0.0, generator_noise_var=s02)
    expected = (1 - psi**G) + s02 * T0 / (d - T0 - 1) * (1 - psi**G) / (1 - psi)
    np.testing.assert_allclose(r.total, expected, rtol=1e-9)
    # noise-free: exponential saturation at the null predictor's error, Bias_G = r²(1 − ψ^G) + ψ^G Bias_0
    r0 = jc.theory.retraining(mix, n=60, n0=T0, generations=G.astype(float), lam=0.1, generator_noise_var=0.0)
    bias0 = float(r0.total[0])
    np.testing.assert_allclose(r0.total, (1 - psi**G) + psi**G * bias0, rtol=1e-10)
    assert np.all(np.diff(np.asarray(r0.total)) > 0) and float(r0.total[-1]) < 1.0


def test_linear_growth_under_and_saturation_over():
    mix = jc.isotropic(50, signal=1.0, noise_var=0.1)
    G = jnp.arange(0.0, 11.0)
    under = jc.theory.retraining(mix, n=120, n0=90, generations=G, lam=0.05, generator_noise_var=0.5).total
    steps = np.diff(np.asarray(under))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-10)  # exactly linear in G
    over = jc.theory.retraining(mix, n=120, n0=30, generations=G, lam=0.05, generator_noise_var=0.5).total
    inc = np.diff(np.asarray(over))
    assert np.all(inc > 0) and np.all(inc[1:] < inc[:-1])  # increasing, saturating


def test_thresholds_are_infinite_and_anisotropic_over_parameterised_is_refused():
    mix = jc.isotropic(40, signal=1.0, noise_var=0.2)
    r = _retrain(
        mix, n=jnp.array([41.0, 100.0, 100.0, 100.0]), n0=jnp.array([200.0, 40.0, 41.0, 39.0]), generations=2, lam=0.0
    )
    assert np.isinf(r.total[0]) and int(r.status[0]) == Status.INFINITE  # downstream OLS with n = d + 1
    assert np.isinf(r.total[1]) and np.isinf(r.total[2]) and np.isinf(r.total[3])  # generators at n0 ∈ {d−1, d, d+1}
    clean = _retrain(mix, n=100, n0=40, generations=2, lam=0.0, generator_noise_var=0.0)
    assert np.isfinite(clean.total)  # without generator noise nothing diverges
    pl = jc.power_law(40, 1.5)
    r = _retrain(pl, n=100, n0=jnp.array([20.0, 20.0, 60.0]), generations=jnp.array([0.0, 1.0, 1.0]), lam=0.1)
    assert np.isfinite(r.total[0]) and np.isfinite(r.total[2])
    assert np.isnan(r.total[1]) and int(r.status[1]) == Status.NO_THEORY


def test_bad_input():
    mix = jc.isotropic(10)
    for kw, name in (
        (dict(n0=0), "n0"),
        (dict(generations=-1), "generations"),
        (dict(generator_noise_var=-0.1), "generator_noise_var"),
        (dict(lam=-1.0), "lam"),
        (dict(n=0), "n"),
    ):
        args = dict(n=20, n0=30, generations=1, lam=0.1, generator_noise_var=1.0) | kw
        with pytest.raises(ValueError, match=name):
            jc.theory.retraining(mix, **args)
        with pytest.raises(ValueError, match=name):
            jc.simulate.retraining(
                mix,
                **{k: (int(v) if k in ("n", "n0") and v == int(v) else v) for k, v in args.items()},
                trials=2,
                key=jax.random.key(0),
            )
    with pytest.raises(ValueError, match="generations"):
        jc.simulate.retraining(
            mix, n=20, n0=30, generations=1.5, lam=0.1, generator_noise_var=1.0, trials=2, key=jax.random.key(0)
        )
    traced = jax.jit(
        lambda g: jc.theory.retraining(mix, n=20.0, n0=30.0, generations=g, lam=0.1, generator_noise_var=1.0)
    )(-1.0)
    assert np.isnan(traced.total) and int(traced.status) == Status.INVALID_INPUT


def test_grad_against_finite_differences():
    mix = jc.power_law(60, 1.4, signal=1.0, noise_var=0.2)

    def total(lam, n, s02):
        return jc.theory.retraining(mix, n=n, n0=150.0, generations=3.0, lam=lam, generator_noise_var=s02).total

    for lam, n in ((0.02, 80.0), (0.5, 300.0), (1e-3, 40.0)):
        g = jax.grad(total, argnums=(0, 1, 2))(lam, n, 0.6)
        for i, x in enumerate((lam, n, 0.6)):
            h = 1e-5 * x
            args = [lam, n, 0.6]
            hi, lo = list(args), list(args)
            hi[i] += h
            lo[i] -= h
            fd = (float(total(*hi)) - float(total(*lo))) / (2 * h)
            assert float(g[i]) == pytest.approx(fd, rel=1e-5)
    vm = jax.jit(jax.vmap(lambda lam: total(lam, 80.0, 0.6)))(jnp.array([0.01, 0.1]))
    assert float(vm[1]) == pytest.approx(float(total(0.1, 80.0, 0.6)), rel=1e-12)


SIM_CASES = [
    # name, mixture, n, n0, generations, λ, σ0²
    ("iso under, λ = 0", lambda: jc.isotropic(40, signal=1.0, noise_var=0.25), 80, 100, [0, 1, 4, 10], [0.0], 1.0),
    ("iso under, ridge", lambda: jc.isotropic(40, signal=1.0, noise_var=0.25), 200, 100, [0, 1, 4], [0.01, 1.0], 1.0),
    (
        "power law under",
        lambda: jc.power_law(40, 2.0, source=0.5, signal=1.0, noise_var=0.25),
        200,
        100,
        [0, 1, 4],
        [0.01, 0.3],
        1.0,
    ),
    ("power law under, n < d", lambda: jc.power_law(40, 1.5, signal=1.0, noise_var=0.1), 30, 100, [0, 2], [0.05], 1.0),
    (
        "iso under, min-norm downstream",
        lambda: jc.isotropic(40, signal=1.0, noise_var=0.25),
        30,
        100,
        [0, 1, 4],
        [0.0, 0.05],
        1.0,
    ),
    ("iso over, noisy", lambda: jc.isotropic(100, signal=1.0, noise_var=0.25), 200, 50, [0, 1, 2, 5, 10], [0.05], 0.25),
    ("iso over, noiseless", lambda: jc.isotropic(100, signal=1.0, noise_var=0.0), 60, 50, [0, 1, 2, 5, 10], [0.1], 0.0),
    ("iso over, λ = 0", lambda: jc.isotropic(60, signal=1.0, noise_var=0.1), 120, 20, [0, 1, 3], [0.0], 0.3),
]


@pytest.mark.parametrize("case", SIM_CASES, ids=[c[0] for c in SIM_CASES])
def test_theory_matches_simulation(case, key):
    name, make, n, n0, gens, lams, s02 = case
    mix = make()
    g = np.asarray(gens)[:, None]
    lam = np.asarray(lams)[None, :]
    est = jc.simulate.retraining(mix, n=n, n0=n0, generations=g, lam=lam, generator_noise_var=s02, trials=300, key=key)
    theory = np.asarray(
        jc.theory.retraining(mix, n=n, n0=n0, generations=g.astype(float), lam=lam, generator_noise_var=s02).total
    )
    gap = np.abs(np.asarray(est.mean) - theory)
    assert np.all(gap <= np.maximum(3 * np.asarray(est.sem), 0.03 * theory)), (gap, np.asarray(est.sem), theory)


def test_simulated_chain_of_exact_generators_keeps_the_clean_error():
    """σ0² = 0, n0 ≥ d: each generator's OLS returns w0 itself, so every G has the error of G = 0 (one
    downstream draw serves every G). G = 0 is clean training: σ0² does not touch it."""
    mix = jc.isotropic(10, signal=1.0, noise_var=0.25)
    kw = dict(n=30, n0=20, generations=np.array([0, 1, 3])[:, None], lam=np.array([[0.0, 0.1]]), trials=4)
    exact = np.asarray(jc.simulate.retraining(mix, generator_noise_var=0.0, key=jax.random.key(2), **kw).samples)
    assert exact.shape == (3, 2, 4) and np.all(np.isfinite(exact)) and np.all(exact > 0)
    np.testing.assert_allclose(exact, np.broadcast_to(exact[0], exact.shape), rtol=1e-9)
    assert np.all(exact[0, 0] != exact[0, 1])  # λ = 0.1 is another fit of the same draws
    noisy = np.asarray(jc.simulate.retraining(mix, generator_noise_var=0.5, key=jax.random.key(2), **kw).samples)
    np.testing.assert_array_equal(noisy[0], exact[0])
    assert np.all(noisy[1:] != noisy[0])


def test_simulated_min_norm_fits_are_the_ridgeless_limit():
    """n0 < d and n < d: min-norm generators and the downstream fit in the n × n form; λ = 0 is the
    limit of ridge as λ → 0 at every G."""
    mix = jc.isotropic(10, signal=1.0, noise_var=0.25)
    kw = dict(n=6, n0=5, generations=np.array([0, 2])[:, None], generator_noise_var=0.5, trials=4)
    few = np.asarray(jc.simulate.retraining(mix, lam=np.array([[0.0, 1e-9, 0.1]]), key=jax.random.key(2), **kw).samples)
    assert few.shape == (2, 3, 4) and np.all(np.isfinite(few)) and np.all(few > 0)
    np.testing.assert_allclose(few[:, 1], few[:, 0], rtol=1e-6)
    assert np.all(few[:, 2] != few[:, 0]) and np.all(few[1] != few[0])
