"""Random-projection theory against its Monte Carlo twin, and the simulator's own linear algebra."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse.simulate._random_projections import group_errors, projection

P2 = jnp.array([0.0, 0.2, 0.8])
LAM = jnp.array([0.0, 1e-3, 1e-1])


def _aligned(d):
    w = jnp.full(d, 1 / jnp.sqrt(d))
    return jc.fixed_teachers(jnp.linspace(0.3, 1.7, d), w, 1.5 * w, noise_var=0.1, synthetic_noise_var=0.4)


# Each group is one simulator call: every width × p2 × lam shares the draws of a trial.
GROUPS = {
    # d = 400 > n = 150: widths m < n < d, n < m < d, m > d
    "isotropic, n < d": (
        lambda: jc.isotropic(400, signal=1.0, shift=0.5, noise_var=0.25),
        150,
        [60, 300, 600],
        P2,
        LAM,
    ),
    # power-law spectrum, n < d
    "power law, n < d": (
        lambda: jc.power_law(300, 1.2, signal=1.0, shift=0.5, noise_var=0.1),
        100,
        [40, 200, 900],
        P2,
        LAM,
    ),
    # n > d: widths m < d < n, d < m < n, m > n > d
    "power law, n > d": (
        lambda: jc.power_law(200, 0.8, signal=1.0, shift=1.0, noise_var=0.2),
        400,
        [100, 300, 800],
        P2,
        LAM,
    ),
    # fixed, aligned teachers (cross term) and different noise levels
    "fixed teachers, σ1 ≠ σ2": (lambda: _aligned(300), 200, [100, 450], jnp.array([0.3, 0.7]), jnp.array([0.0, 0.05])),
}


@pytest.mark.parametrize("name", list(GROUPS))
def test_theory_matches_simulation(name, key):
    make, n, widths, p2, lam = GROUPS[name]
    mix = make()
    m = np.array(widths)[:, None, None]
    est = jc.simulate.random_projections(mix, n=n, m=m, p2=p2[:, None], lam=lam, trials=200, key=key)
    risk = jc.theory.random_projections(mix, n=n, m=m, p2=p2[:, None], lam=lam)
    assert est.mean.shape == risk.total.shape == (len(widths), p2.shape[0], lam.shape[0])
    assert bool(jnp.all(risk.status == jc.Status.OK))
    gap = jnp.abs(est.mean - risk.total)
    allowed = jnp.maximum(3 * est.sem, 0.04 * risk.total)
    worst = np.unravel_index(int(jnp.argmax(gap / allowed)), gap.shape)
    assert bool(jnp.all(gap <= allowed)), (
        worst,
        float(risk.total[worst]),
        float(est.mean[worst]),
        float(est.sem[worst]),
    )


def test_simulation_resolves_the_width_effect_on_collapse(key):
    """Below the threshold a wider model collapses more (ridgeless, d > n): visible in simulation."""
    mix = jc.isotropic(400, signal=1.0, shift=1.0, noise_var=0.0)
    m = np.array([20, 60, 100])
    kw = dict(n=200, m=m[:, None], p2=jnp.array([0.0, 0.5]), lam=0.0)
    est = jc.simulate.random_projections(mix, trials=100, key=key, **kw)
    zeta_mc = est.samples[:, 1] - est.samples[:, 0]  # same draws: the difference is the collapse term
    zeta = jc.theory.random_projections(mix, **kw).collapse[:, 1]
    mean = jnp.mean(zeta_mc, axis=-1)
    sem = jnp.std(zeta_mc, axis=-1, ddof=1) / 10
    assert bool(jnp.all(jnp.diff(mean) > 0))
    assert bool(jnp.all(jnp.abs(mean - zeta) <= jnp.maximum(3 * sem, 0.04 * zeta)))


@pytest.mark.parametrize("n, widths", [(40, (7, 25, 40)), (40, (41, 90, 200))])
def test_fits_match_a_direct_solve(n, widths):
    """The masked, shared-decomposition fits equal a plain NumPy ridge on the first m rows of S."""
    d = 60
    mix = jc.power_law(d, 1.0, signal=1.0, shift=0.5, noise_var=0.3)
    data = mix.sample(jax.random.key(3), n)
    X, w1 = data.X, data.teacher
    S = projection(jax.random.key(4), max(widths), d)
    p2 = jnp.array([0.0, 0.5, 0.5])
    lam = jnp.array([0.05, 0.0, 1e-3])
    Y = data.labels(jnp.round(p2 * n))
    Z = X @ S.T
    got = group_errors(Z, S, Y, lam, widths, mix.eigs, w1, "eigh", dual=max(widths) > n)
    # one positive ridge for all points: the Cholesky form
    chol = group_errors(Z, S, Y, jnp.full(3, 0.05), widths, mix.eigs, w1, "cholesky", dual=max(widths) > n)
    eig = group_errors(Z, S, Y, jnp.full(3, 0.05), widths, mix.eigs, w1, "eigh", dual=max(widths) > n)
    np.testing.assert_allclose(chol, eig, rtol=1e-9)
    Xn, Sn, Yn, s, w1n = (np.asarray(a) for a in (X, S, Y, mix.eigs, w1))
    for i, m in enumerate(widths):
        F = Xn @ Sn[:m].T
        for j in range(3):
            if lam[j] > 0:
                v = np.linalg.solve(F.T @ F / n + float(lam[j]) * np.eye(m), F.T @ Yn[j] / n)
            else:
                v = np.linalg.pinv(F) @ Yn[j]
            w_hat = Sn[:m].T @ v
            expected = np.sum(s * (w_hat - w1n) ** 2)
            np.testing.assert_allclose(float(got[i, j]), expected, rtol=1e-7)


def test_nested_widths_do_not_depend_on_the_other_widths_requested(key):
    mix = jc.power_law(80, 1.0, signal=1.0, shift=0.5, noise_var=0.2)
    kw = dict(n=50, p2=0.3, lam=jnp.array([0.0, 0.01]), trials=6, key=key)
    alone = jc.simulate.random_projections(mix, m=30, **kw)
    together = jc.simulate.random_projections(mix, m=np.array([30, 45, 70, 300])[:, None], **kw)
    np.testing.assert_allclose(together.samples[0], alone.samples, rtol=1e-8)
    wide = jc.simulate.random_projections(mix, m=300, **kw)
    np.testing.assert_allclose(together.samples[3], wide.samples, rtol=1e-8)


def test_results_do_not_depend_on_chunking(key):
    mix = jc.isotropic(40, signal=1.0, shift=0.5, noise_var=0.2)
    kw = dict(n=30, m=np.array([10, 50]), p2=0.4, lam=0.01, trials=7, key=key)
    a = jc.simulate.random_projections(mix, chunk_size=7, **kw)
    b = jc.simulate.random_projections(mix, chunk_size=3, **kw)
    np.testing.assert_allclose(a.samples, b.samples, rtol=1e-10)


def test_broadcasting_and_traced_scalars(key):
    mix = jc.isotropic(30, signal=1.0, shift=0.5, noise_var=0.2)
    est = jc.simulate.random_projections(
        mix, n=20, m=np.array([5, 40])[:, None], p2=jnp.array([0.0, 0.5, 1.0]), lam=0.1, trials=4, key=key
    )
    assert est.samples.shape == (2, 3, 4) and est.mean.shape == (2, 3)
    jitted = jax.jit(
        lambda p2, lam: (
            jc.simulate.random_projections(
                mix, n=20, m=np.array([5, 40])[:, None], p2=p2, lam=lam, trials=4, key=key
            ).mean
        )
    )(jnp.array([0.0, 0.5, 1.0]), 0.1)
    np.testing.assert_allclose(jitted, est.mean, rtol=1e-10)


def test_single_positive_ridge_takes_the_cholesky_path_with_the_same_result(key):
    mix = jc.power_law(50, 1.0, signal=1.0, shift=0.5, noise_var=0.2)
    kw = dict(n=40, m=np.array([10, 30, 90])[:, None], p2=jnp.array([0.0, 0.5]), trials=5, key=key)
    chol = jc.simulate.random_projections(mix, lam=0.05, **kw)  # one concrete ridge > 0
    eig = jc.simulate.random_projections(mix, lam=jnp.array([0.05]), **kw)  # an array: eigendecomposition
    np.testing.assert_allclose(chol.samples, eig.samples, rtol=1e-9)
