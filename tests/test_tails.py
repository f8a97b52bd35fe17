"""jc.tails: the Hutter-model sums against the notes' tables, an independent NumPy/SciPy summation,
their asymptotic laws, Monte Carlo, and under jit/vmap/grad; bad input."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _tails_reference import reference
from scipy.special import zeta

import jaxcollapse as jc

tl = jc.tails
INF = math.inf


def P(b, k):
    return 1.0 - zeta(b, k + 1) / zeta(b)


# ----------------------------------------------------------------------------- tables (notes §8)

CLEAN_TABLE = {
    1.5: [0.094135, 0.0437023, 0.0202852, 0.00941559],
    2.0: [0.0218428, 0.00690962, 0.00218509, 0.000690988],
}
CUT_TABLE = {
    10: [0.076359, 0.0578665, 0.0578542, 0.0578542, 0.0578542, 0.0578542],
    100: [0.0686442, 0.0218965, 0.00791642, 0.00605007, 0.00604898, 0.00604898],
}


@pytest.mark.parametrize("beta", sorted(CLEAN_TABLE))
def test_clean_table(beta):
    r = tl.clean(beta, T=jnp.array([1e3, 1e4, 1e5, 1e6]))
    np.testing.assert_allclose(r.total, CLEAN_TABLE[beta], rtol=1e-5)
    assert np.all(np.asarray(r.status) == jc.Status.OK) and np.all(np.asarray(r.plateau) == 0)


def test_clean_constants():
    np.testing.assert_allclose(tl.clean_constant(1.5), 0.9415595, rtol=1e-7)
    np.testing.assert_allclose(tl.clean_constant(2.0), 0.6909883, rtol=1e-7)


@pytest.mark.parametrize("k", sorted(CUT_TABLE))
def test_cut_table(k):
    r = tl.cut(2.0, T=jnp.geomspace(1e2, 1e7, 6), k=k)
    np.testing.assert_allclose(r.total, CUT_TABLE[k], rtol=1e-5)
    np.testing.assert_allclose(r.plateau, {10: 0.0578542, 100: 0.00604898}[k], rtol=1e-6)


# ----------------------------------------------------------------------------- exact vs NumPy reference


def _sources(name, b, T, **a):
    zb = zeta(b)
    if name == "clean":
        return [(T, 1 / zb, b, 0, INF)], tl.clean(b, T=T)
    if name == "cut":
        k = a["k"]
        return [(T, 1 / (zb * P(b, k)), b, 0, k)], tl.cut(b, T=T, k=k)
    if name == "narrow":
        bn = a["bn"]
        return [(T, 1 / zeta(bn), bn, 0, INF)], tl.narrow(b, T=T, beta_narrow=bn)
    if name == "mix":
        k, pi = a["k"], a["pi"]
        return [(pi * T, 1 / zb, b, 0, INF), ((1 - pi) * T, 1 / (zb * P(b, k)), b, 0, k)], tl.mix(b, T=T, k=k, p1=pi)
    if name == "mix-iid":
        k, pi = a["k"], a["pi"]
        src = [(T, pi / zb + (1 - pi) / (zb * P(b, k)), b, 0, k), (T, pi / zb, b, k, INF)]
        return src, tl.mix(b, T=T, k=k, p1=pi, sampling="iid")
    if name == "acquire":
        k, kt, pi = a["k"], a["kt"], a["pi"]
        src = [((1 - pi) * T, 1 / (zb * P(b, k)), b, 0, k), (pi * T, 1 / (zb * (1 - P(b, kt))), b, kt, INF)]
        return src, tl.acquire_tail(b, T=T, k=k, k_tail=kt, p1=pi)
    raise AssertionError(name)


CASES = [
    ("clean", 2.0, 1e10, {}),
    ("clean", 3.0, 1e10, {}),
    ("clean", 1.2, 1e5, {}),
    ("clean", 1.5, 1e6, {}),
    ("clean", 1.7, 0.5, {}),
    ("clean", 4.5, 33.3, {}),
    ("cut", 1.5, 3e6, {"k": 5000}),
    ("cut", 1.5, 3e5, {"k": 1}),
    ("cut", 2.3, 1e9, {"k": 77}),
    ("cut", 1.3, 1e4, {"k": 3000}),
    ("narrow", 2.0, 1e8, {"bn": 3.0}),
    ("narrow", 1.5, 1e6, {"bn": 2.5}),
    ("narrow", 2.5, 1e5, {"bn": 1.8}),
    ("mix", 2.0, 1e7, {"k": 100, "pi": 0.01}),
    ("mix", 1.5, 1e5, {"k": 10, "pi": 0.1}),
    ("mix-iid", 2.0, 1e6, {"k": 1000, "pi": 1e-3}),
    ("mix-iid", 1.6, 2e4, {"k": 3, "pi": 0.4}),
    ("acquire", 2.0, 1e7, {"k": 100, "kt": 100, "pi": 0.01}),
    ("acquire", 2.0, 1e6, {"k": 100, "kt": 1000, "pi": 0.05}),
    ("acquire", 1.5, 1e5, {"k": 1000, "kt": 30, "pi": 0.2}),
]


@pytest.mark.parametrize("name,b,T,a", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]:g}" for c in CASES])
def test_exact_against_direct_summation(name, b, T, a):
    sources, result = _sources(name, b, T, **a)
    ref, n = reference(b, sources, floor=1e-4, n_max=1e7)
    assert n < 1e7  # the reference summed far enough for its O(floor²) bound
    np.testing.assert_allclose(float(result.total), ref, rtol=1e-9)


@pytest.mark.parametrize("b,T,T0,n", [(2.0, 1e5, 1e4, 3), (1.5, 1e3, 1e4, 1), (2.0, 1e6, 1e3, 6), (2.5, 1e2, 3e4, 2)])
def test_known_chain_against_direct_summation(b, T, T0, n):
    N = 10**7  # T0 p_N ≤ 1.2e-7: the mass revealed beyond N is below 1e-9 of the result
    i = np.arange(1, N + 1, dtype=float)
    p = i**-b / zeta(b)
    gen = -np.expm1(T0 * np.log1p(-p))
    fin = -np.expm1(T * np.log1p(-p))
    ref = np.sum(p * (1 - gen**n * fin)) + zeta(b, N + 1) / zeta(b)
    np.testing.assert_allclose(float(tl.generations(b, T=T, T0=T0, generations=n).total), ref, rtol=1e-9)
    plateau = np.sum(p * (1 - gen**n)) + zeta(b, N + 1) / zeta(b)
    np.testing.assert_allclose(float(tl.generations(b, T=T, T0=T0, generations=n).plateau), plateau, rtol=1e-9)


@pytest.mark.parametrize("b,p_nuc,n", [(2.0, 0.9, 1), (2.0, 0.9, 3), (1.5, 0.99, 2), (1.5, 0.5, 5), (3.0, 0.999, 3)])
def test_top_p_chain_against_cumulative_table(b, p_nuc, n):
    cdf = np.cumsum(np.arange(1, 10**7 + 1, dtype=float) ** -b) / zeta(b)
    k, mass = INF, 1.0
    for _ in range(n):
        k = int(np.searchsorted(cdf, p_nuc * mass, side="left")) + 1
        mass = cdf[k - 1]
    r = tl.generations(b, T=1e5, T0=None, generations=n, chain="top_p", p_nuc=p_nuc)
    np.testing.assert_allclose(float(r.total), float(tl.cut(b, T=1e5, k=k).total), rtol=1e-12)
    np.testing.assert_allclose(float(r.plateau), 1 - mass, rtol=1e-9)
    np.testing.assert_array_equal(tl.top_p_rank(b, threshold=np.array([p_nuc])), [int(np.searchsorted(cdf, p_nuc)) + 1])


def test_identities_between_models():
    T = jnp.geomspace(1.0, 1e9, 12)
    clean = tl.clean(1.7, T=T).total
    np.testing.assert_allclose(tl.mix(1.7, T=T, k=30, p1=1.0).total, clean, rtol=1e-12)
    np.testing.assert_allclose(tl.mix(1.7, T=T, k=30, p1=0.0).total, tl.cut(1.7, T=T, k=30).total, rtol=1e-12)
    np.testing.assert_allclose(tl.narrow(1.7, T=T, beta_narrow=1.7).total, clean, rtol=1e-12)
    # Tail data drawn from all ranks (k' = 0) is clean data: acquire_tail is then fixed-count mixing.
    np.testing.assert_allclose(
        tl.acquire_tail(1.7, T=T, k=30, k_tail=0, p1=0.2).total, tl.mix(1.7, T=T, k=30, p1=0.2).total, rtol=1e-12
    )
    # Monotone: more data never hurts; cutting never helps.
    assert np.all(np.diff(np.asarray(clean)) < 0)
    cut = tl.cut(1.7, T=T, k=30)
    assert np.all(np.asarray(cut.total) >= np.asarray(cut.plateau))  # the tail mass is a floor
    assert np.all(np.asarray(cut.total)[-4:] > np.asarray(clean)[-4:])  # …that clean data pass
    np.testing.assert_allclose(tl.clean(1.7, T=0.0).total, 1.0, rtol=1e-14)


def test_acquire_tail_depth():
    # k' = k supplies exactly the missing tail: no floor, better than mixing clean data.
    r = tl.acquire_tail(2.0, T=1e8, k=100, k_tail=100, p1=0.05)
    assert float(r.plateau) == 0.0
    assert float(r.total) < float(tl.mix(2.0, T=1e8, k=100, p1=0.05).total)
    # Too deep (k' = 10k): the ranks between k and k' stay unseen, whatever T.
    deep = tl.acquire_tail(2.0, T=jnp.array([1e8, 1e10]), k=100, k_tail=1000, p1=0.05)
    floor = (zeta(2.0, 101) - zeta(2.0, 1001)) / zeta(2.0)
    np.testing.assert_allclose(deep.plateau, floor, rtol=1e-10)
    assert floor < float(deep.total[-1]) < float(deep.total[0]) and float(deep.total[-1]) < 1.001 * floor


# ----------------------------------------------------------------------------- asymptotic laws


@pytest.mark.parametrize("beta", [1.1, 1.5, 2.0, 3.0])
def test_clean_law_at_large_T(beta):
    T = np.array([1e8, 1e10])
    ratio = np.asarray(tl.clean(beta, T=T).total / tl.clean_law(beta, T=T))
    assert np.all(np.abs(ratio - 1) < 2e-6)


@pytest.mark.parametrize("beta,bn", [(2.0, 3.0), (1.5, 2.5), (1.3, 4.0)])
def test_narrow_law(beta, bn):
    T = np.array([1e6, 1e8, 1e10])
    ratio = np.asarray(tl.narrow(beta, T=T, beta_narrow=bn).total / tl.narrow_law(beta, T=T, beta_narrow=bn))
    assert np.all(np.abs(ratio - 1) < 1e-4)
    # The slope is −(β−1)/β̃, slower than the clean −(1−1/β).
    slope = np.diff(np.log(np.asarray(tl.narrow(beta, T=T, beta_narrow=bn).total))) / np.diff(np.log(T))
    np.testing.assert_allclose(slope, -(beta - 1) / bn, atol=1e-3)


def test_cut_law_plateau_and_transition():
    for beta, k in [(2.0, 1000), (1.5, 10**4), (3.0, 300)]:
        np.testing.assert_allclose(tl.tail_mass_law(beta, k=1e6 * k), tl.tail_mass(beta, k=1e6 * k), rtol=1e-6)
        tk = float(tl.transition(beta, k=k))
        # Well before T_k: the clean law (plus a little tail mass); well after: the exact tail mass.
        ratio = float(tl.cut(beta, T=tk / 1e3, k=k).total / tl.cut_law(beta, T=tk / 1e3, k=k))
        assert 0.99 < ratio < 1.05
        np.testing.assert_allclose(tl.cut(beta, T=tk * 1e3, k=k).total, tl.tail_mass(beta, k=k), rtol=1e-9)
        # At T_k both terms are equal: the exact error sits between one and two plateaus.
        ratio = float(tl.cut(beta, T=tk, k=k).total / tl.tail_mass_law(beta, k=k))
        assert 1.0 < ratio < 2.0


@pytest.mark.parametrize("pi", [1e-3, 1e-2, 1e-1])
def test_mixing_grokking_regimes(pi):
    beta, k = 2.0, 100
    t_k, t_grok = (float(t) for t in tl.grokking_times(beta, k=k, p1=pi))
    T = np.array([t_k / 300, np.sqrt(t_k * t_grok) if pi < 0.05 else 3 * t_k, t_grok * 1e4])
    exact = np.asarray(tl.mix(beta, T=T, k=k, p1=pi).total)
    law = np.asarray(tl.mix_law(beta, T=T, k=k, p1=pi))
    assert np.all(np.abs(exact / law - 1) < np.array([0.02, 0.1, 0.02]))  # the law is ≍ on the plateau
    # After grokking the error follows the clean curve at πT (the constant worse by π^-c only).
    np.testing.assert_allclose(
        tl.mix(beta, T=1e4 * t_grok, k=k, p1=pi).total, tl.clean(beta, T=pi * 1e4 * t_grok).total, rtol=1e-3
    )
    # The plateau exists: between T_k and T_k/π the error changes by far less than the clean curve.
    if pi <= 1e-2:
        lo, hi = 3 * t_k, t_grok / 3
        drop = float(tl.mix(beta, T=lo, k=k, p1=pi).total / tl.mix(beta, T=hi, k=k, p1=pi).total)
        assert drop < 1.5 < (hi / lo) ** 0.5


@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_generation_laws(n):
    T, T0 = 1e12, 1e5
    known = float(
        tl.generations(1.5, T=T, T0=T0, generations=n).total / tl.generations_law(1.5, T=T, T0=T0, generations=n)
    )
    assert abs(known - 1) < 0.01
    w = float(
        tl.generations(2.0, T=1e10, T0=1e4, generations=n, chain="empirical").total
        / tl.generations_law(2.0, T=1e10, T0=1e4, generations=n, chain="empirical")
    )
    assert abs(w - 1) < 0.06  # the extinction heuristic: ~6 % (notes §9)
    p = float(tl.generations(2.0, T=1e10, T0=None, generations=n, chain="top_p", p_nuc=0.99).plateau)
    assert 0.85 * (1 - 0.99**n) < p <= 1 - 0.99**n  # discrete cuts keep a little more than p_nuc^n


def test_plateaus_rise_with_generations():
    n = jnp.arange(7)
    for chain, extra in (("known", {}), ("empirical", {}), ("top_p", {"p_nuc": 0.95})):
        r = tl.generations(1.5, T=1e9, T0=1e4, generations=n, chain=chain, **extra)
        np.testing.assert_allclose(r.total[0], tl.clean(1.5, T=1e9).total, rtol=1e-12)  # n = 0 is clean data
        assert np.all(np.diff(np.asarray(r.plateau)) > 0), chain
        assert np.all(np.diff(np.asarray(r.total)) > 0), chain
    # Chain P is linear in n to first order; chain K grows sub-linearly.
    k = np.asarray(tl.generations(1.5, T=1e12, T0=1e4, generations=n).plateau)
    assert k[6] / k[1] < 6 * 0.7


# ----------------------------------------------------------------------------- Monte Carlo

SIMULATIONS = [
    ("clean", 1.5, dict()),
    ("clean", 1.2, dict()),
    ("cut", 2.0, dict(k=100)),
    ("narrow", 1.5, dict(beta_narrow=2.5)),
    ("mix", 2.0, dict(k=10, p1=0.05)),
    ("mix", 2.0, dict(k=10, p1=0.05, sampling="iid")),
    ("acquire_tail", 2.0, dict(k=10, k_tail=30, p1=0.1)),
    ("generations", 1.5, dict(T0=1000, generations=2)),
    ("generations", 1.5, dict(T0=1000, generations=2, chain="top_p", p_nuc=0.99)),
]


def _theory(model, beta, T, a):
    a = dict(a)
    if model == "generations":
        return tl.generations(
            beta, T=T, T0=a.pop("T0", None), generations=a.pop("generations"), chain=a.pop("chain", "known"), **a
        )
    if model == "narrow":
        return tl.narrow(beta, T=T, beta_narrow=a["beta_narrow"])
    if model == "mix":
        return tl.mix(beta, T=T, k=a["k"], p1=a["p1"], sampling=a.get("sampling", "fixed"))
    if model == "acquire_tail":
        return tl.acquire_tail(beta, T=T, k=a["k"], k_tail=a["k_tail"], p1=a["p1"])
    return getattr(tl, model)(beta, T=T, **a)


@pytest.mark.parametrize("model,beta,a", SIMULATIONS, ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(SIMULATIONS)])
def test_simulation_agrees_with_exact_sums(model, beta, a):
    T = 4000
    est = tl.simulate(model, beta, T=T, key=jax.random.PRNGKey(7), trials=300, support=2**16, **a)
    exact = float(_theory(model, beta, T, a).total)
    assert abs(float(est.mean) - exact) < 3 * float(est.sem), (float(est.mean), exact, float(est.sem))


def test_simulation_draws_beyond_the_support():
    # With a tiny table most of the mass beyond the support is drawn by the Hurwitz inversion:
    # the estimate must still match the exact sum (β = 1.1: the tail beyond 256 holds 57 % of p).
    est = tl.simulate("clean", 1.1, T=3000, key=jax.random.PRNGKey(3), trials=300, support=256)
    assert abs(float(est.mean) - float(tl.clean(1.1, T=3000).total)) < 3 * float(est.sem)


def _tiny_curves(model, **a):
    """Errors of 16 trials at T' = 0, 1, 2, 8 on a 16-rank table (β = 2): checked for what every draw
    obeys (nothing learned at T' = 0, one sample reveals at most p_1, more samples never hurt)."""
    est = tl.simulate(model, 2.0, T=[0, 1, 2, 8], key=jax.random.PRNGKey(5), trials=16, support=16, **a)
    s = np.asarray(est.samples)
    assert s.shape == (4, 16) and np.all(np.isfinite(s))
    np.testing.assert_allclose(s[0], 1.0, rtol=1e-12)
    assert np.all(s[1] >= 1 - 1 / zeta(2.0) - 1e-12) and np.all(s >= -1e-12)
    assert np.all(np.diff(s, axis=0) <= 1e-15)
    return s


def test_simulated_models_on_tiny_streams():
    """Two kinds of samples, where the order of the stream fixes what the first samples can reveal."""
    p = np.arange(1, 3) ** -2.0 / zeta(2.0)
    _tiny_curves("narrow", beta_narrow=3.0)
    _tiny_curves("mix", k=10, p1=0.3, sampling="iid")
    # fixed counts: a prefix of T' samples holds ⌊πT'⌋ clean ones, so the first is from the cut at k = 1
    mix = _tiny_curves("mix", k=1, p1=0.5)
    np.testing.assert_allclose(mix[1], 1 - p[0], rtol=1e-12)
    tail = _tiny_curves("acquire_tail", k=1, k_tail=1, p1=0.5)
    np.testing.assert_allclose(tail[1], 1 - p[0], rtol=1e-12)
    assert np.all(tail[2] < 1 - p[0]) and np.all(tail[2] >= 1 - p[0] - p[1] - 1e-12)  # the second: a rank ≥ 2


def test_simulated_generation_chains_on_tiny_streams():
    """What a chain lets the final model learn, draw by draw; chain P against the cut it computes."""
    # Chain K with generators of T0 = 2 samples: at most two ranks can be right, whatever T.
    known = _tiny_curves("generations", T0=2, generations=2)
    assert np.all(known >= 1 - (1 + 1 / 4) / zeta(2.0) - 1e-12)
    # Chain W from one sample: every later generation and the final model only ever see that rank.
    empirical = _tiny_curves("generations", T0=1, generations=2, chain="empirical")
    np.testing.assert_allclose(empirical[1:], np.broadcast_to(empirical[1], (3, 16)), rtol=1e-12)
    # Chain P trains on p cut at k_n, found here on the cumulative table: the same draws as that cut.
    cdf = np.cumsum(np.arange(1, 17) ** -2.0) / zeta(2.0)
    k1 = int(np.searchsorted(cdf, 0.9)) + 1
    k2 = int(np.searchsorted(cdf, 0.9 * cdf[k1 - 1])) + 1
    assert (k1, k2) == (6, 3)
    top_p = _tiny_curves("generations", T0=None, generations=2, chain="top_p", p_nuc=0.9)
    cut = _tiny_curves("cut", k=k2)
    np.testing.assert_array_equal(top_p, cut)
    p = np.arange(1, 4) ** -2.0 / zeta(2.0)
    assert np.all(np.min(np.abs(cut[1][:, None] - (1 - p)[None, :]), axis=1) < 1e-12)  # one of ranks 1..3
    assert np.all(cut >= zeta(2.0, 4) / zeta(2.0) - 1e-12)  # ranks beyond the cut stay unseen
    with pytest.raises(ValueError, match="support"):  # p_nuc beyond the table's mass
        tl.simulate(
            "generations", 2.0, T=8, key=jax.random.PRNGKey(0), support=16, generations=1, chain="top_p", p_nuc=0.99
        )
    with pytest.raises(ValueError, match="chain"):
        tl.simulate("generations", 2.0, T=8, key=jax.random.PRNGKey(0), T0=4, generations=1, chain="other")


def test_empirical_chain_approximation_against_simulation():
    # Chain W has no closed form: the Poisson-branching value must be within 3 s.e. or 2 % of the
    # exact resampling chain.
    T0 = 1000
    for n, T in [(1, 3000), (3, 300), (3, 10_000)]:
        est = tl.simulate(
            "generations",
            1.5,
            T=T,
            T0=T0,
            generations=n,
            chain="empirical",
            key=jax.random.PRNGKey(n),
            trials=300,
            support=2**16,
        )
        approx = float(tl.generations(1.5, T=T, T0=T0, generations=n, chain="empirical").total)
        assert abs(float(est.mean) - approx) < max(3 * float(est.sem), 0.02 * approx), (n, T, float(est.mean), approx)


# ----------------------------------------------------------------------------- transforms


def test_grad_against_finite_differences():
    # One derivative per kind of argument (and per kind of sum: one piece, two sources, the
    # branching chain's custom JVP); each costs a compilation.
    cases = [
        (lambda x: tl.clean(x, T=1e7).total, 1.8),
        (lambda x: tl.mix(2.0, T=1e6, k=100, p1=x).total, 0.01),
        (lambda x: tl.generations(1.5, T=x, T0=1e4, generations=3, chain="empirical").total, 5e3),
    ]
    for f, x in cases:
        g = float(jax.grad(f)(x))
        h = 1e-5 * x
        fd = float((f(x + h) - f(x - h)) / (2 * h))
        np.testing.assert_allclose(g, fd, rtol=1e-5)


def test_jit_vmap_broadcast():
    T = jnp.geomspace(10.0, 1e9, 7)
    k = jnp.array([10.0, 100.0, 1000.0])
    grid = tl.cut(2.0, T=T[:, None], k=k[None, :]).total
    assert grid.shape == (7, 3)
    assert tl.cut(2.0, T=T[:1, None], k=k[None, :1]).plateau.shape == (1, 1)  # size-1 axes are kept
    by_vmap = jax.vmap(jax.vmap(lambda t, kk: tl.cut(2.0, T=t, k=kk).total, (None, 0)), (0, None))(T, k)
    np.testing.assert_allclose(by_vmap, grid, rtol=1e-13)
    jitted = jax.jit(lambda t: tl.mix(2.0, T=t, k=100, p1=0.01).total)(T)
    np.testing.assert_allclose(jitted, tl.mix(2.0, T=T, k=100, p1=0.01).total, rtol=1e-13)
    # generations vmapped over n (a traced integer loop count) and p_nuc
    n = jnp.arange(4)
    r = jax.vmap(lambda m: tl.generations(2.0, T=1e6, T0=None, generations=m, chain="top_p", p_nuc=0.9).total)(n)
    np.testing.assert_allclose(
        r, tl.generations(2.0, T=1e6, T0=None, generations=n, chain="top_p", p_nuc=0.9).total, rtol=1e-13
    )


def test_traced_invalid_points_are_nan_with_status():
    f = jax.jit(lambda b, t, k: tl.cut(b, T=t, k=k))
    r = f(jnp.array([2.0, 0.9, 2.0, 2.0]), jnp.array([1e3, 1e3, -1.0, 1e3]), jnp.array([10.0, 10.0, 10.0, 2.5]))
    np.testing.assert_array_equal(
        r.status, [jc.Status.OK, jc.Status.INVALID_INPUT, jc.Status.INVALID_INPUT, jc.Status.INVALID_INPUT]
    )
    assert np.isfinite(r.total[0]) and np.all(np.isnan(r.total[1:]))
    g = jax.jit(lambda pi: tl.mix(2.0, T=1e3, k=10, p1=pi).total)(jnp.array([0.5, 1.5]))
    assert np.isfinite(g[0]) and np.isnan(g[1])


def test_sweep_over_tails():
    ds = jc.sweep(lambda T, k: tl.cut(2.0, T=T, k=k), {"T": np.geomspace(1e2, 1e6, 5), "k": [10.0, 100.0]})
    np.testing.assert_allclose(ds["total"].sel(k=100.0).values, CUT_TABLE[100][:5], rtol=1e-5)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: tl.clean(1.0, T=10), "beta"),
        (lambda: tl.clean(0.5, T=10), "beta"),
        (lambda: tl.clean(2.0, T=-1), "T"),
        (lambda: tl.clean(2.0, T=np.nan), "T"),
        (lambda: tl.cut(2.0, T=10, k=0), "k"),
        (lambda: tl.cut(2.0, T=10, k=2.5), "k"),
        (lambda: tl.narrow(2.0, T=10, beta_narrow=1.0), "beta_narrow"),
        (lambda: tl.mix(2.0, T=10, k=5, p1=1.5), "p1"),
        (lambda: tl.mix(2.0, T=10, k=5, p1=-0.1), "p1"),
        (lambda: tl.mix(2.0, T=10, k=5, p1=0.1, sampling="other"), "sampling"),
        (lambda: tl.acquire_tail(2.0, T=10, k=5, k_tail=-1, p1=0.1), "k_tail"),
        (lambda: tl.acquire_tail(2.0, T=10, k=5, k_tail=10, p1=2.0), "p1"),
        (lambda: tl.generations(2.0, T=10, T0=100, generations=1, chain="top_p", p_nuc=0.0), "p_nuc"),
        (lambda: tl.generations(2.0, T=10, T0=100, generations=1, chain="top_p", p_nuc=1.2), "p_nuc"),
        (lambda: tl.generations(2.0, T=10, T0=100, generations=1, chain="top_p"), "p_nuc"),
        (lambda: tl.generations(2.0, T=10, T0=100, generations=1.5), "generations"),
        (lambda: tl.generations(2.0, T=10, T0=0, generations=1), "T0"),
        (lambda: tl.generations(2.0, T=10, T0=100, generations=1, chain="other"), "chain"),
        (lambda: tl.simulate("clean", 2.0, T=10.5, key=jax.random.PRNGKey(0)), "T"),
        (lambda: tl.simulate("other", 2.0, T=10, key=jax.random.PRNGKey(0)), "model"),
        (lambda: tl.simulate("cut", 2.0, T=10, k=0, key=jax.random.PRNGKey(0)), "k"),
    ],
)
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_simulated_learning_curves_in_one_pass():
    # One stream per trial, read at several prefixes: every point must match the exact sum, and a
    # fixed-count mixture must hold exactly πT' clean samples in each prefix.
    Ts = [100, 1000, 10_000]
    key = jax.random.PRNGKey(11)
    cases = [
        (dict(model="mix", k=10, p1=0.01), tl.mix(2.0, T=np.array(Ts, float), k=10, p1=0.01)),
        (
            dict(model="generations", T0=500, generations=2, chain="known"),
            tl.generations(2.0, T=np.array(Ts, float), T0=500, generations=2),
        ),
        (dict(model="generations", T0=500, generations=2, chain="empirical"), None),
    ]
    for params, exact in cases:
        est = tl.simulate(params.pop("model"), 2.0, T=Ts, key=key, trials=300, support=2**15, **params)
        assert est.mean.shape == (3,) and est.samples.shape == (3, 300)
        assert np.all(np.diff(np.asarray(est.samples), axis=0) <= 1e-15)  # each trial's curve only falls
        if exact is not None:
            z = np.abs(np.asarray(est.mean) - np.asarray(exact.total)) / np.asarray(est.sem)
            assert np.all(z < 3), (params, z)


def test_optimal_minimises_a_tail_like_any_kernel():
    """`jc.optimal` reads the headline field `total` of any result: here the best training exponent β̃
    for a finite budget T (a steeper law learns the head sooner and misses more of the tail)."""
    grid = np.linspace(1.2, 4.0, 561)
    values = np.asarray(tl.narrow(2.0, T=1e3, beta_narrow=grid).total)
    assert 0 < np.argmin(values) < grid.size - 1  # an interior optimum, not a bound
    x, r = jc.optimal(tl.narrow, over="beta_narrow", bounds=(1.2, 4.0), beta=2.0, T=1e3)
    assert float(r) <= values.min() * (1 + 1e-9)
    assert abs(float(x) - grid[np.argmin(values)]) <= 2 * (grid[1] - grid[0])
