r"""Exact expected test errors of the Hutter memorisation model (*A Tale of Tails*, §§1–5).

Test inputs follow the Zipf law p_i = i^-β/ζ(β), β > 1. The model memorises: it answers rank i
correctly exactly when i occurred in its training set, so its test error is the p-mass of the ranks
training never showed, E = Σ_i p_i P(i unseen) (eq. 9 of the paper). Each function below is the exact
expectation for its training distribution, summed by `_sums.piece_sum` (exact head, Euler–Maclaurin
middle, Hurwitz-zeta far tail) in float64 at any T.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.scipy.special import zeta
from jaxtyping import Array, Float, Int

from .._results import Status
from .._types import Scalars, Values
from .._validate import check_broadcast, check_scalar as _check
from ._sums import far_rank, log_survival, piece_sum, tail_mass as _tail_mass

INF = float("inf")


class Tail(eqx.Module):
    """Expected test error of a Hutter model, with the floor it tends to as T → ∞.

    `total` is E(T) (the headline field, named as in every result of the library); `plateau` is E(∞), the p-mass that the training distribution never reaches
    (0 when it reaches every rank); `status` is a `jc.Status` code per point (NaN error and
    `INVALID_INPUT` for an invalid point inside a traced batch).
    """

    total: Float[Array, "*points"]
    plateau: Float[Array, "*points"]
    status: Int[Array, "*points"]


# ----------------------------------------------------------------------------- validation


def _integer(x):
    return jnp.isinf(x) | (x == jnp.floor(x))


@functools.cache
def _compiled(one, **static):
    kernel = functools.partial(one, **static)

    @jax.jit
    def call(*args):
        args = jnp.broadcast_arrays(*args)
        shape = args[0].shape
        out = jax.vmap(kernel)(*(a.reshape(-1) for a in args))
        return jax.tree.map(lambda x: x.reshape(shape), out)

    return call


def _finish(error, plateau, valid):
    status = jnp.where(valid, Status.OK, Status.INVALID_INPUT).astype(jnp.int32)
    nan = jnp.nan
    return Tail(total=jnp.where(valid, error, nan), plateau=jnp.where(valid, plateau, nan), status=status)


def _run(call, **args):
    """`call(*args)` once the named arguments are known to broadcast (else a `ValueError` naming them)."""
    check_broadcast(**args)
    return call(*args.values())


# ----------------------------------------------------------------------------- sums over pieces


def _p(beta):
    zb = zeta(beta, 1.0)
    return lambda x: jnp.exp(-beta * jnp.log(x)) / zb


def _source_error(beta, sources, breaks):
    r"""Σ_i p_i Π_s (1 − q_s(i))^{T_s}, sources s = (T_s, a_s, b_s, lo_s, hi_s): q_s(x) = a_s x^-b_s on (lo_s, hi_s].

    Returns (error, plateau): the plateau is the mass of the pieces no source with T_s > 0 reaches.
    """
    p = _p(beta)
    inner = list(jnp.sort(jnp.stack([jnp.asarray(b, float) for b in breaks]))) if breaks else []
    edges = [jnp.asarray(0.0)] + inner + [jnp.asarray(INF)]
    error, plateau = 0.0, 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        active = [(s_lo <= lo) & (hi <= s_hi) & (t > 0) for (t, _, _, s_lo, s_hi) in sources]

        def log_s(x, active=active):
            total = 0.0
            for on, (t, a, b, _, _) in zip(active, sources):
                total = total + log_survival(jnp.where(on, t, 0.0), a * jnp.exp(-b * jnp.log(x)))
            return total

        def summand(x, log_s=log_s):
            return p(x) * jnp.exp(log_s(x))

        def seen(x, log_s=log_s):
            return -p(x) * jnp.expm1(log_s(x))

        far = 1.0
        for on, (t, a, b, _, _) in zip(active, sources):
            far = jnp.maximum(far, far_rank(jnp.where(on, t * a * len(sources), 0.0), b))
        error = error + piece_sum(summand, seen, lo, hi, far, beta)
        reached = jnp.any(jnp.stack(active)) if active else False
        mass = jnp.where(hi > lo, _tail_mass(beta, lo) - _tail_mass(beta, hi), 0.0)
        plateau = plateau + jnp.where(reached, 0.0, mass)
    return error, plateau


def tail_mass(beta: Scalars, *, k: Scalars) -> Values:
    r"""Σ_{i > k} p_i = ζ(β, k+1)/ζ(β), exactly: the plateau of a tail cut at rank k (0 at k = inf)."""
    beta = _check("beta", beta, low=1.0, strict=True)
    k = _check("k", k, low=0.0, allow_inf=True)
    return _tail_mass(beta, k)


def _cut_fraction(beta, k):
    """P_k = Σ_{i ≤ k} p_i (1 at k = inf), as 1 − tail mass."""
    return 1.0 - _tail_mass(beta, k)


# ----------------------------------------------------------------------------- public kernels


def _clean_one(beta, T):
    valid = (beta > 1) & (T >= 0) & jnp.isfinite(T)
    beta_s, T_s = jnp.where(valid, beta, 2.0), jnp.where(valid, T, 1.0)
    zb = zeta(beta_s, 1.0)
    error, plateau = _source_error(beta_s, [(T_s, 1.0 / zb, beta_s, 0.0, INF)], [])
    return _finish(error, plateau, valid)


def clean(beta: Scalars, *, T: Scalars) -> Tail:
    r"""Hutter model trained on T samples of p_i ∝ i^-β and tested on p: E = Σ_i p_i (1 − p_i)^T.

    Exact in float64 for any T ≥ 0 (T may be real: the exposure), with a fixed cost per point: the
    first 1024 ranks are summed directly, the ranks up to N(T, β) = (ζ(β)⁻¹ T / 1e-7)^{1/β} (where
    T p_N = 1e-7) by Euler–Maclaurin with Gauss–Legendre quadrature in log-rank, and beyond N the
    Hurwitz-zeta tail mass ζ(β, N+1)/ζ(β) minus the O(T p_N) revealed mass. Asymptotically
    E ≃ C_β T^{-(1−1/β)} (`clean_law`). `beta` > 1 and `T` ≥ 0 broadcast.
    """
    beta = _check("beta", beta, low=1.0, strict=True)
    T = _check("T", T, low=0.0)

    return _run(_compiled(_clean_one), beta=beta, T=T)


def _cut_one(beta, T, k):
    valid = (beta > 1) & (T >= 0) & jnp.isfinite(T) & (k >= 1) & _integer(k)
    beta_s, T_s, k_s = jnp.where(valid, beta, 2.0), jnp.where(valid, T, 1.0), jnp.where(valid, k, 1.0)
    zb = zeta(beta_s, 1.0)
    a = 1.0 / (zb * _cut_fraction(beta_s, k_s))
    error, plateau = _source_error(beta_s, [(T_s, a, beta_s, 0.0, k_s)], [k_s])
    return _finish(error, plateau, valid)


def cut(beta: Scalars, *, T: Scalars, k: Scalars) -> Tail:
    r"""Trained on T samples of p cut at rank k and renormalised: q_i = p_i/P_k (i ≤ k), 0 beyond.

    E = Σ_{i ≤ k} p_i (1 − p_i/P_k)^T + (1 − P_k) exactly (Theorem 2.1's model); the plateau is the
    tail mass 1 − P_k = ζ(β, k+1)/ζ(β). `k` ≥ 1 is an integer rank (inf: no cut). Summed as in
    `clean` on the two pieces i ≤ k and i > k.
    """
    beta = _check("beta", beta, low=1.0, strict=True)
    T = _check("T", T, low=0.0)
    k = _check("k", k, low=1.0, integer=True, allow_inf=True)

    return _run(_compiled(_cut_one), beta=beta, T=T, k=k)


def _narrow_one(beta, T, bn):
    valid = (beta > 1) & (T >= 0) & jnp.isfinite(T) & (bn > 1)
    beta_s, T_s, bn_s = jnp.where(valid, beta, 2.0), jnp.where(valid, T, 1.0), jnp.where(valid, bn, 2.0)
    error, plateau = _source_error(beta_s, [(T_s, 1.0 / zeta(bn_s, 1.0), bn_s, 0.0, INF)], [])
    return _finish(error, plateau, valid)


def narrow(beta: Scalars, *, T: Scalars, beta_narrow: Scalars) -> Tail:
    r"""Trained on T samples of a Zipf law with exponent β̃ = `beta_narrow`, tested on p (exponent β).

    E = Σ_i p_i (1 − q_i)^T with q_i = i^-β̃/ζ(β̃), exactly. β̃ > β narrows the tail (temperature
    τ = β/β̃ < 1): the error still vanishes, but as T^{-(β−1)/β̃} (`narrow_law`). Any β̃ > 1 is
    accepted (β̃ < β widens the tail). Summed as in `clean`, with N from T and β̃.
    """
    beta = _check("beta", beta, low=1.0, strict=True)
    T = _check("T", T, low=0.0)
    beta_narrow = _check("beta_narrow", beta_narrow, low=1.0, strict=True)

    return _run(_compiled(_narrow_one), beta=beta, T=T, beta_narrow=beta_narrow)


def _mix_one(beta, T, k, pi, *, sampling):
    valid = (beta > 1) & (T >= 0) & jnp.isfinite(T) & (k >= 1) & _integer(k) & (pi >= 0) & (pi <= 1)
    beta_s, T_s, k_s = jnp.where(valid, beta, 2.0), jnp.where(valid, T, 1.0), jnp.where(valid, k, 1.0)
    pi_s = jnp.where(valid, pi, 0.5)
    zb = zeta(beta_s, 1.0)
    a_cut = 1.0 / (zb * _cut_fraction(beta_s, k_s))
    if sampling == "fixed":
        sources = [(pi_s * T_s, 1.0 / zb, beta_s, 0.0, INF), ((1 - pi_s) * T_s, a_cut, beta_s, 0.0, k_s)]
    else:
        sources = [(T_s, pi_s / zb + (1 - pi_s) * a_cut, beta_s, 0.0, k_s), (T_s, pi_s / zb, beta_s, k_s, INF)]
    error, plateau = _source_error(beta_s, sources, [k_s])
    return _finish(error, plateau, valid)


def mix(beta: Scalars, *, T: Scalars, k: Scalars, p1: Scalars, sampling: str = "fixed") -> Tail:
    r"""Trained on a mix of clean samples (fraction `p1` = π) and tail-cut samples (cut at k, fraction 1 − π).

    `sampling="fixed"` (default): exactly πT clean and (1 − π)T cut samples,
    E = Σ_i p_i (1 − p_i)^{πT} (1 − q_i)^{(1−π)T} with q the cut law (§5.1 of the notes).
    `sampling="iid"`: T iid draws from the mixture πp + (1 − π)q, E = Σ_i p_i (1 − πp_i − (1−π)q_i)^T.
    Any π > 0 removes the plateau: after one at the tail mass of k, the error drops again along
    C_β (πT)^{-c} ("grokking", `mix_law`). π = 0 is `cut`, π = 1 is `clean`.
    """
    if sampling not in ("fixed", "iid"):
        raise ValueError(f"sampling must be 'fixed' or 'iid', got {sampling!r}")
    beta = _check("beta", beta, low=1.0, strict=True)
    T = _check("T", T, low=0.0)
    k = _check("k", k, low=1.0, integer=True, allow_inf=True)
    p1 = _check("p1", p1, low=0.0, high=1.0)

    return _run(_compiled(_mix_one, sampling=sampling), beta=beta, T=T, k=k, p1=p1)


def _acquire_tail_one(beta, T, k, kt, pi):
    valid = (beta > 1) & (T >= 0) & jnp.isfinite(T) & (k >= 1) & _integer(k) & (kt >= 0) & _integer(kt)
    valid &= jnp.isfinite(kt) & (pi >= 0) & (pi <= 1)
    beta_s, T_s, k_s = jnp.where(valid, beta, 2.0), jnp.where(valid, T, 1.0), jnp.where(valid, k, 1.0)
    kt_s, pi_s = jnp.where(valid, kt, 1.0), jnp.where(valid, pi, 0.5)
    zb = zeta(beta_s, 1.0)
    a_cut = 1.0 / (zb * _cut_fraction(beta_s, k_s))
    a_tail = 1.0 / (zb * _tail_mass(beta_s, kt_s))
    sources = [((1 - pi_s) * T_s, a_cut, beta_s, 0.0, k_s), (pi_s * T_s, a_tail, beta_s, kt_s, INF)]
    error, plateau = _source_error(beta_s, sources, [k_s, kt_s])
    return _finish(error, plateau, valid)


def acquire_tail(beta: Scalars, *, T: Scalars, k: Scalars, k_tail: Scalars, p1: Scalars) -> Tail:
    r"""Tail-cut AI data (cut at k, (1 − π)T samples) plus πT real samples from the ranks beyond k' only.

    E = Σ_i p_i (1 − q_i)^{(1−π)T} (1 − r_i)^{πT}, r_i = p_i 1{i > k'} / Σ_{j > k'} p_j (§5.2 of the
    notes; Theorem 3.1). k' = `k_tail` = k supplies exactly the missing tail; k' ≫ k leaves the floor
    Σ_{k < i ≤ k'} p_i (the `plateau`), so tail data drawn "too deep" is worthless. `k_tail` ≥ 0
    (0: the added data are clean), `p1` = π in [0, 1] (the real share).
    """
    beta = _check("beta", beta, low=1.0, strict=True)
    T = _check("T", T, low=0.0)
    k = _check("k", k, low=1.0, integer=True, allow_inf=True)
    k_tail = _check("k_tail", k_tail, low=0.0, integer=True)
    p1 = _check("p1", p1, low=0.0, high=1.0)

    return _run(_compiled(_acquire_tail_one), beta=beta, T=T, k=k, k_tail=k_tail, p1=p1)


# ----------------------------------------------------------------------------- generations

CHAINS = ("known", "empirical", "top_p")


def top_p_rank(beta: Scalars, *, threshold: Scalars) -> Values:
    r"""The smallest rank k with P_k = Σ_{i ≤ k} p_i ≥ `threshold` (inf at threshold 1), by bisection."""
    beta = _check("beta", beta, low=1.0, strict=True)
    threshold = _check("threshold", threshold, low=0.0, high=1.0, strict=True)
    return _run(_compiled(_top_p_rank_one), beta=beta, threshold=threshold)


def _top_p_rank_one(b, t):
    return _rank_for_tail(b, 1.0 - t)


def _rank_for_tail(beta, r):
    """Smallest integer k ≥ 1 with _tail_mass(β, k) ≤ r (r in [0, 1)); inf when r ≤ 0."""

    def body(_, bounds):
        lo, hi = bounds
        mid = jnp.floor((lo + hi) / 2)
        above = _tail_mass(beta, mid) > r
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    # tail(0) = 1 > r; tail(1e16) < r unless r is below ~1e-16·(tail exponent): then the cut is
    # beyond any rank a float64 can tell apart, i.e. no cut.
    top = 1e16
    lo, hi = jax.lax.fori_loop(0, 60, body, (jnp.asarray(0.0), jnp.asarray(top)))
    return jnp.where((r <= 0) | (_tail_mass(beta, top) > r), INF, hi)


def _top_p_chain(beta, n, p_nuc):
    """k_n of n repeated top-p cuts: k_m = min{k : P_k ≥ p_nuc · P_{k_{m−1}}}, k_0 = inf."""

    def body(_, k):
        r = (1.0 - p_nuc) + p_nuc * _tail_mass(beta, k)
        return _rank_for_tail(beta, r)

    return jax.lax.fori_loop(0, n.astype(jnp.int32), body, jnp.asarray(INF))


@jax.custom_jvp
def _branching(n, T, T0):
    r"""h_n = 1 − g_{n−1}(e^{−T/T0}), g_0(s) = s, g_m(s) = exp(g_{m−1}(s) − 1), kept as v = 1 − g.

    v_0 = 1 − e^{−T/T0}, v_m = 1 − e^{−v_{m−1}}. The loop runs a traced number of times, so its
    derivative is carried forward (dv_m = e^{−v_{m−1}} dv_{m−1}) by a custom JVP.
    """
    return _branching_loop(n, T, T0)[0]


def _branching_loop(n, T, T0):
    def body(_, state):
        v, dv = state
        return -jnp.expm1(-v), dv * jnp.exp(-v)

    x = T / T0
    v0 = -jnp.expm1(-x)
    d0 = jnp.where(jnp.isinf(x), 0.0, jnp.exp(-jnp.where(jnp.isinf(x), 0.0, x)))  # dv_0/dx
    return jax.lax.fori_loop(0, jnp.maximum(n - 1, 0).astype(jnp.int32), body, (v0, d0))


@_branching.defjvp
def _branching_jvp(primals, tangents):
    n, T, T0 = primals
    _, dT, dT0 = tangents
    v, dv_dx = _branching_loop(n, T, T0)
    dx = dT / T0 - T * dT0 / T0**2
    return v, dv_dx * dx


def _generations_one(beta, T, T0, n, p_nuc, *, chain):
    valid = (beta > 1) & (T >= 0) & jnp.isfinite(T) & (T0 > 0) & jnp.isfinite(T0) & (n >= 0) & _integer(n)
    valid &= jnp.isfinite(n) & (p_nuc > 0) & (p_nuc <= 1)
    beta_s, T_s, T0_s = jnp.where(valid, beta, 2.0), jnp.where(valid, T, 1.0), jnp.where(valid, T0, 1.0)
    n_s, pn_s = jnp.where(valid, n, 0.0), jnp.where(valid, p_nuc, 0.5)
    zb = zeta(beta_s, 1.0)
    if chain == "top_p":
        k_n = _top_p_chain(jax.lax.stop_gradient(beta_s), n_s, jax.lax.stop_gradient(pn_s))
        a = 1.0 / (zb * _cut_fraction(beta_s, k_n))
        error, plateau = _source_error(beta_s, [(T_s, a, beta_s, 0.0, k_n)], [k_n])
    elif chain == "empirical":
        h = _branching(n_s, T_s, T0_s)
        error_w, plateau_w = _source_error(beta_s, [(T0_s, h / zb, beta_s, 0.0, INF)], [])
        h_inf = _branching(n_s, jnp.asarray(INF), T0_s)
        plateau_w, _ = _source_error(beta_s, [(T0_s, h_inf / zb, beta_s, 0.0, INF)], [])
        error_c, _ = _source_error(beta_s, [(T_s, 1.0 / zb, beta_s, 0.0, INF)], [])
        error = jnp.where(n_s == 0, error_c, error_w)
        plateau = jnp.where(n_s == 0, 0.0, plateau_w)
    else:
        error = _known_chain(beta_s, T_s, T0_s, n_s, final=True)
        plateau = jnp.where(n_s == 0, 0.0, _known_chain(beta_s, T_s, T0_s, n_s, final=False))
    return _finish(error, plateau, valid)


def generations(
    beta: Scalars,
    *,
    T: Scalars,
    T0: Scalars | None,
    generations: Scalars,
    chain: str = "known",
    p_nuc: Scalars | None = None,
) -> Tail:
    r"""The Hutter model trained on T samples after n = `generations` generations of synthetic data (notes §4).

    `generations` = 0 is `clean`. Three chains (the paper's exact multi-generation model is not known; the
    three agree on the shape: the same slope −c, then a plateau rising with n):

    - `"known"` (chain K, exact): generation m, trained on T0 samples, labels fresh real inputs and is
      right only on the ranks it saw; a rank is right after n generations iff every generator saw it.
      E_n(T) = Σ_i p_i [1 − (1 − (1 − p_i)^{T0})^n (1 − (1 − p_i)^T)].
    - `"empirical"` (chain W: each generator emits the empirical law of its T0 samples). This has no
      closed form; we return the **Poisson-branching approximation**: the first generation's counts
      are exact binomials, each later resampling is replaced by a critical Galton–Watson step with
      Poisson(1) offspring, and (1 − c/T0)^T by e^{−Tc/T0}. Then
      E_n ≈ Σ_i p_i (1 − h_n p_i)^{T0},  h_n = 1 − g_{n−1}(e^{−T/T0}),  g_0(s) = s, g_m(s) = e^{g_{m−1}(s)−1}.
      It is exact in the limit of rare ranks, which carry the error; the tests measure it against
      `jc.tails.simulate` (chain W resampled exactly), which is the reference.
    - `"top_p"` (chain P, exact): each generation applies nucleus sampling with threshold `p_nuc` to
      the previous distribution, k_m = min{k : P_k ≥ p_nuc P_{k_{m−1}}}; the final model trains on p
      cut at k_n (T0 is not used). The plateau 1 − P_{k_n} ≈ 1 − p_nuc^n grows linearly in n.
    """
    if chain not in CHAINS:
        raise ValueError(f"chain must be one of {CHAINS}, got {chain!r}")
    beta = _check("beta", beta, low=1.0, strict=True)
    T = _check("T", T, low=0.0)
    n = _check("generations", generations, low=0.0, integer=True)
    if chain == "top_p":
        if p_nuc is None:
            raise ValueError("p_nuc is required for chain='top_p' (a number in (0, 1])")
        p_nuc = _check("p_nuc", p_nuc, low=0.0, high=1.0, strict=True)
        T0 = 1.0 if T0 is None else _check("T0", T0, low=0.0, strict=True)
    else:
        if p_nuc is not None:
            raise ValueError(f"p_nuc is only used by chain='top_p', not chain={chain!r}")
        T0 = _check("T0", T0, low=0.0, strict=True)
        p_nuc = 1.0

    return _run(_compiled(_generations_one, chain=chain), beta=beta, T=T, T0=T0, n=n, p_nuc=p_nuc)


def _known_chain(beta, T, T0, n, *, final):
    """Chain K: Σ p_i [1 − (1 − A_i)^n (1 − B_i)], A = (1−p)^{T0}, B = (1−p)^T (B = 0 if not `final`: T = ∞)."""
    p = _p(beta)

    def parts(x):
        q = p(x)
        missed_gen = -jnp.expm1(log_survival(T0, q))  # 1 − A: a generator saw the rank
        missed_fin = -jnp.expm1(log_survival(T, q)) if final else 1.0
        known = jnp.where(n > 0, jnp.exp(n * jnp.log(jnp.where(missed_gen > 0, missed_gen, 1.0))), 1.0)
        known = jnp.where((missed_gen > 0) | (n == 0), known, 0.0)
        return q, known * missed_fin

    def summand(x):
        q, right = parts(x)
        return q * (1.0 - right)

    def seen(x):
        q, right = parts(x)
        return q * right

    exposure = jnp.maximum(T0 if not final else jnp.maximum(T, T0), 1e-300) * 2.0 / zeta(beta, 1.0)
    # With n ≥ 1 the seen mass decays like x^-β(n+1); the exposure point of the larger sample bounds it.
    far = far_rank(exposure, beta)
    return piece_sum(summand, seen, 0.0, INF, far, beta)


__all__ = [
    "Tail",
    "clean",
    "cut",
    "narrow",
    "mix",
    "acquire_tail",
    "generations",
    "top_p_rank",
    "CHAINS",
    "tail_mass",
]
