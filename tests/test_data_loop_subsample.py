"""accumulate-subsample (`jc.theory.data_loop`): the block equivalent with random row patterns.

References held apart from the kernel: every pattern enumerated (NumPy, a dense solve per pattern)
for the pattern averages; generation 0 as one ridge fit (`jc.theory.ridge`); the binomial law of the
distinct rows a fixed-design fit sees; and Monte Carlo of the estimator (`jc.simulate.data_loop`,
slow tier)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse.theory import _patterns

H = 4
_G = np.arange(H)
CANDIDATES = {
    "fixed": (_G[None, :] <= _G[:, None]).astype(float),  # copy k of a row is a candidate of every fit g ≥ k
    **{f"fresh block {b}": ((_G[None, :] == b) & (_G[:, None] >= b)).astype(float) for b in range(H)},
}


def _enumerated(chi, cand, p, W, noise_copy=None):
    """E[Y], E[Y W Yᵀ] with Y = (I + Pχ)⁻¹P (or (I + Pχ)⁻¹u_k), summing over every pattern."""
    eye = np.eye(H)

    def e(k):
        return eye[k] if k >= 0 else np.zeros(H)

    used = [(g, k) for g in range(H) for k in range(H) if cand[g, k]]
    mean, quad = 0.0, 0.0
    for bits in itertools.product([0, 1], repeat=len(used)):
        weight, P, u = 1.0, np.zeros((H, H)), np.zeros((H, 1))
        for (g, k), bit in zip(used, bits):
            weight *= p[g] if bit else 1 - p[g]
            if bit:
                P[g] += e(g) - e(k - 1)
                u[g, 0] += float(k == noise_copy)
        if weight == 0.0:
            continue
        Y = np.linalg.solve(eye + P @ chi, P if noise_copy is None else u)
        mean = mean + weight * Y
        quad = quad + weight * Y @ W @ Y.T
    return mean, quad


@pytest.mark.parametrize("name", list(CANDIDATES))
@pytest.mark.parametrize("p", ["subsample", "all", "other"])
def test_pattern_averages_are_the_enumeration(name, p):
    rng = np.random.default_rng(len(name))
    chi = np.tril(rng.uniform(0.1, 0.7, (H, H)))
    cand = CANDIDATES[name]
    p = {"subsample": 1.0 / (_G + 1.0), "all": np.ones(H), "other": np.array([1.0, 0.3, 0.55, 0.8])}[p]
    W = rng.normal(size=(H, H))
    W = W @ W.T
    eye = np.eye(H)
    shifted = np.vstack([np.zeros(H), eye[:-1]])
    b = eye[:, None, :] - shifted[None, :, :]  # b[g, k] = e_g - e_{k-1}
    stats = _patterns.row_stats(jnp.diag(chi), jnp.sum(cand, 1), jnp.asarray(p))
    geom = _patterns.pairs(_patterns.geometry(b @ chi, cand), cand)
    rows = _patterns.sources(b, cand, geom)
    m = _patterns.mean(stats, rows, geom)
    S = _patterns.two_sided(stats, rows, geom, m, W)
    mean, quad = _enumerated(chi, cand, p, W)
    np.testing.assert_allclose(m, mean, atol=1e-13)
    np.testing.assert_allclose(S, quad, atol=1e-12 * np.abs(quad).max())
    for k in range(H):  # the noise of copy k: Y = (I + Pχ)⁻¹ u_k, u_k[g] = 1 where fit g uses copy k
        unit = np.broadcast_to((np.arange(H) == k).astype(float)[None, :, None], (H, H, 1))
        rows = _patterns.sources(unit, cand, geom)
        mk = _patterns.mean(stats, rows, geom)
        Sk = _patterns.two_sided(stats, rows, geom, mk, np.ones((1, 1)))
        mean, quad = _enumerated(chi, cand, p, np.ones((1, 1)), noise_copy=k)
        np.testing.assert_allclose(mk, mean, atol=1e-13)
        np.testing.assert_allclose(Sk, quad, atol=1e-13)


SUB = dict(policy="accumulate-subsample", generator_noise_var=1.0)
ISO = jc.isotropic(20, signal=1.0, noise_var=0.5)
PL = jc.power_law(20, 1.5, signal=1.0, shift=0.2, noise_var=0.5)


@pytest.mark.parametrize("design", ["fixed", "fresh"])
def test_generation_zero_is_one_ridge_fit(design):
    """Fit 0 of a subsample loop fits all n0 real rows: ridge theory (an independent kernel)."""
    lam = jnp.array([0.01, 0.1, 1.0])
    for mix, n0 in ((PL, 30.0), (ISO, 60.0), (PL, 12.0)):
        loop = jc.theory.data_loop(mix, n0=n0, generations=0, lam=lam, design=design, **SUB)
        ridge = jc.theory.ridge(mix, n=n0, p2=0.0, lam=lam)
        np.testing.assert_allclose(loop.total, ridge.total, rtol=1e-8)


def test_fixed_design_without_ridge_is_infinite_where_fits_see_too_few_distinct_rows():
    """A fixed-design fit g ≥ 1 sees Binomial(n0, 1 - (1 - 1/(g+1))^(g+1)) distinct rows (independent
    inclusion); where d + 1 or fewer have a chance above 1e-6 the mean error is infinite."""
    from scipy.stats import binom

    d = ISO.d
    G = np.arange(0, 16)  # one horizon bucket (16)
    for n0 in (1.5 * d, 2 * d, 3 * d):
        r = jc.theory.data_loop(ISO, n0=n0, generations=G, lam=0.0, design="fixed", **SUB)
        q = 1 - (1 - 1 / (G + 1.0)) ** (G + 1.0)
        chance = np.maximum.accumulate(binom.cdf(d + 1, int(n0), q))  # any fit up to G
        expected_inf = chance > 1e-6
        status = np.asarray(r.status)
        assert np.all(np.isinf(np.asarray(r.total)[expected_inf])), n0
        assert np.all(status[expected_inf] == jc.Status.INFINITE)
        assert np.all(status[~expected_inf] == jc.Status.OK) and np.all(np.isfinite(np.asarray(r.total)[~expected_inf]))
    assert int(r.status[5]) == jc.Status.OK  # n0 = 3d: finite at G = 5 (the chance is ~1e-11)
    # the fresh design's fits all see n0 distinct rows: finite at n0 = 1.5d
    fresh = jc.theory.data_loop(ISO, n0=1.5 * d, generations=G, lam=0.0, design="fresh", **SUB)
    assert np.all(np.asarray(fresh.status) == jc.Status.OK) and np.all(np.diff(np.asarray(fresh.total)) > 0)


def test_statuses_and_bad_input():
    d = ISO.d
    below = jc.theory.data_loop(ISO, n0=d - 5.0, generations=3, lam=0.0, design="fresh", **SUB)
    assert int(below.status) == jc.Status.NO_THEORY and np.isnan(float(below.total))
    at = jc.theory.data_loop(ISO, n0=float(d), generations=3, lam=0.0, design="fresh", **SUB)
    assert int(at.status) == jc.Status.INFINITE and np.isinf(float(at.total))
    ridge_below = jc.theory.data_loop(ISO, n0=d - 5.0, generations=3, lam=0.1, design="fresh", **SUB)
    assert int(ridge_below.status) == jc.Status.OK and np.isfinite(float(ridge_below.total))
    beyond = jc.theory.data_loop(ISO, n0=40.0, generations=40, lam=0.1, design="fixed", **SUB)
    assert int(beyond.status) == jc.Status.NO_THEORY
    with pytest.raises(ValueError, match="generations must be integers"):
        jc.theory.data_loop(ISO, n0=40.0, generations=2.5, lam=0.0, design="fixed", **SUB)
    traced = jax.jit(lambda G: jc.theory.data_loop(ISO, n0=40.0, generations=G, lam=0.1, design="fixed", **SUB).status)
    assert int(traced(2.5)) == jc.Status.INVALID_INPUT


@pytest.mark.parametrize("design", ["fixed", "fresh"])
def test_subsample_gradients_and_batches(design):
    """vmap over λ is the loop of single calls; grad in λ and σ0² against central differences; the
    error grows with the generator's noise, and more generations cost more."""

    def total(lam, s0, G=5):
        kw = dict(SUB, generator_noise_var=s0)
        return jc.theory.data_loop(PL, n0=30.0, generations=G, lam=lam, design=design, **kw).total

    lams = jnp.array([0.05, 0.2])
    batched = jax.vmap(lambda la: total(la, 1.0))(lams)
    np.testing.assert_allclose(batched, [float(total(la, 1.0)) for la in lams], rtol=1e-12)
    for argnum, x in ((0, 0.2), (1, 1.0)):
        grad = float(jax.grad(total, argnums=argnum)(0.2, 1.0))
        h = 1e-5 * x
        args = [0.2, 1.0]
        up, down = list(args), list(args)
        up[argnum] += h
        down[argnum] -= h
        fd = (float(total(*up)) - float(total(*down))) / (2 * h)
        assert grad == pytest.approx(fd, rel=1e-5), argnum
    assert float(jax.grad(total, argnums=1)(0.2, 1.0)) > 0
    assert float(total(0.2, 1.0, 3)) < float(total(0.2, 1.0, 5))


ISO50 = jc.isotropic(50, signal=1.0, noise_var=0.5)
PL50 = jc.power_law(50, 1.5, signal=1.0, noise_var=0.5)


@pytest.mark.parametrize(
    "mix, n0, lam, design",
    [(PL50, 150.0, 0.1, "fresh"), (ISO50, 75.0, 0.1, "fixed")],
    ids=["pl-150-0.1-fresh", "iso-75-0.1-fixed"],
)
def test_theory_against_simulation(mix, n0, lam, design):
    """The equivalent against the simulator, within max(3 s.e., 3 %) (slow tier; d = 50, where the
    equivalent's finite-size error at these ridges is about 1 %: scripts/data_loop_subsample_vs_simulation.py)."""
    G = np.array([1, 5, 20])
    kw = dict(n0=n0, lam=lam, design=design, **SUB)
    est = jc.simulate.data_loop(mix, generations=G, trials=1000, key=jax.random.key(5), **kw)
    risk = jc.theory.data_loop(mix, generations=G, **kw)
    assert np.all(np.asarray(risk.status) == jc.Status.OK)
    mean, sem, th = np.asarray(est.mean), np.asarray(est.sem), np.asarray(risk.total)
    assert np.all(np.abs(mean - th) <= np.maximum(3 * sem, 0.03 * th)), (mean, sem, th)
