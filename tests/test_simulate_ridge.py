"""Theory against the Monte Carlo twin, and the simulator's own linear algebra."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse._trials import chunk_plan
from jaxcollapse.simulate._ridge import weighted_ridge

D = 200


def _iso():
    return jc.isotropic(D, signal=1.0, shift=1.0, noise_var=0.5)


def _pl():
    return jc.power_law(D, 1.3, signal=1.0, shift=0.5, noise_var=0.1)


def _shifted():
    pl = _pl()
    return jc.Mixture(pl.eigs, pl.signal, pl.shift, 0.1, synthetic_eigs=jnp.sqrt(pl.eigs), synthetic_noise_var=0.3)


def _fixed():
    w = jnp.full(D, 1 / jnp.sqrt(D))
    return jc.fixed_teachers(jnp.ones(D), w, 1.5 * w, noise_var=0.1)


CASES = {
    "isotropic n<d ridgeless": (_iso, dict(n=120, p2=0.3, lam=0.0)),
    "isotropic n>d ridgeless": (_iso, dict(n=500, p2=0.3, lam=0.0)),
    "isotropic weight 0.3": (_iso, dict(n=300, p2=0.4, lam=0.05, weight=0.3)),
    "isotropic n<d weight 3": (_iso, dict(n=150, p2=0.4, lam=0.02, weight=3.0)),
    "power law n<d lam 0.01": (_pl, dict(n=100, p2=0.5, lam=0.01)),
    "power law n>d lam 1": (_pl, dict(n=400, p2=0.2, lam=1.0)),
    "power law all synthetic": (_pl, dict(n=300, p2=1.0, lam=1e-3)),
    "Σ1≠Σ2 n>d": (_shifted, dict(n=400, p2=0.3, lam=1e-3)),
    "Σ1≠Σ2 n<d ridgeless": (_shifted, dict(n=120, p2=0.3, lam=0.0)),
    "Σ1≠Σ2 n>d ridgeless weight 0.5": (_shifted, dict(n=400, p2=0.3, lam=0.0, weight=0.5)),
    "fixed teachers (D1)": (_fixed, dict(n=400, p2=0.3, lam=0.1)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_theory_matches_simulation(name, key):
    make, kwargs = CASES[name]
    mix = make()
    risk = jc.theory.ridge(mix, **kwargs)
    est = jc.simulate.ridge(mix, trials=200, key=key, **kwargs)
    gap = abs(float(risk.total) - float(est.mean))
    assert gap <= max(3 * float(est.sem), 0.03 * float(risk.total)), (
        float(risk.total),
        float(est.mean),
        float(est.sem),
    )


def test_simulation_resolves_the_collapse_term(key):
    """Same draws with and without the shift: the difference is the collapse term, sharply."""
    mix = _pl()
    est = jc.simulate.ridge(mix, n=400, p2=jnp.array([0.0, 0.4]), lam=1e-3, trials=200, key=key)
    risk = jc.theory.ridge(mix, n=400, p2=jnp.array([0.0, 0.4]), lam=1e-3)
    diff = est.samples[1] - est.samples[0]
    sem = np.std(diff, ddof=1) / np.sqrt(diff.size)
    assert abs(float(np.mean(diff)) - float(risk.total[1] - risk.total[0])) <= max(
        3 * sem, 0.03 * float(risk.collapse[1])
    )


@pytest.mark.parametrize("n, d", [(30, 12), (12, 30)])
@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_weighted_ridge_solves_the_normal_equations(n, d, lam):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    omega = rng.uniform(0.2, 2.0, size=n)
    got = np.asarray(weighted_ridge(jnp.asarray(X), jnp.asarray(y), jnp.asarray(omega), lam))
    if lam > 0:
        expected = np.linalg.solve(X.T @ (omega[:, None] * X) / n + lam * np.eye(d), X.T @ (omega * y) / n)
    elif n >= d:
        expected = np.linalg.solve(X.T @ (omega[:, None] * X), X.T @ (omega * y))
    else:  # min-norm interpolator (weights do not matter)
        expected = np.linalg.pinv(X) @ y
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_estimate_shapes_and_common_draws(key):
    mix = jc.isotropic(20, noise_var=0.1)
    est = jc.simulate.ridge(
        mix, n=30, p2=jnp.array([0.0, 0.5]), lam=jnp.array([[0.0], [0.1], [1.0]]), trials=5, key=key
    )
    assert est.samples.shape == (3, 2, 5) and est.mean.shape == (3, 2) and est.sem.shape == (3, 2)
    one = jc.simulate.ridge(mix, n=30, p2=0.5, lam=0.1, trials=5, key=key)
    np.testing.assert_allclose(one.samples, est.samples[1, 1], rtol=1e-12)
    np.testing.assert_allclose(est.mean, est.samples.mean(-1))
    other = jc.simulate.ridge(mix, n=30, p2=0.5, lam=0.1, trials=5, key=jax.random.key(1))
    assert not np.allclose(other.samples, one.samples)


def test_chunking_does_not_change_results(key):
    mix = jc.isotropic(20, noise_var=0.1)
    a = jc.simulate.ridge(mix, n=25, p2=0.3, lam=0.05, trials=7, key=key, chunk_size=7)
    b = jc.simulate.ridge(mix, n=25, p2=0.3, lam=0.05, trials=7, key=key, chunk_size=3)
    assert chunk_plan(7, 3) == (3, 3)
    assert b.samples.shape == (7,)
    np.testing.assert_allclose(a.samples, b.samples, rtol=1e-12)


def test_all_synthetic_noiseless_learns_the_synthetic_teacher_exactly(key):
    mix = jc.fixed_teachers(jnp.ones(10), jnp.ones(10), jnp.full(10, 0.5))
    est = jc.simulate.ridge(mix, n=40, p2=jnp.array([0.0, 1.0]), lam=0.0, trials=3, key=key)
    np.testing.assert_allclose(est.samples[0], 0.0, atol=1e-18)
    np.testing.assert_allclose(est.samples[1], 10 * 0.25, rtol=1e-10)  # ||w2* - w1*||^2_Σ
