r"""Monte Carlo of the Hutter models: sample ranks, mark what training saw, weigh what it missed.

Ranks are drawn by inverse CDF on a truncated support 1..N (`support`, a table of cumulative
probabilities) and, beyond N, by inverting the Hurwitz tail ζ(b, x+1)/ζ(b) ≈ (x + ½)^{1−b}/((b−1)ζ(b))
(relative error O(x⁻²), below 1e-12 at N = 2^20), so no probability mass is dropped. The test error
of one trial is Σ_{i ≤ N} p_i 1{i unseen} + ζ(β, N+1)/ζ(β) − Σ_{distinct seen ranks r > N} p_r, exact
for that trial. Trials are independent (`jax.random.split`) and mapped in chunks.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import zeta

from .._results import Estimate
from ._input import check

MODELS = ("clean", "cut", "narrow", "mix", "acquire_tail", "generations")


class _Law:
    """Zipf(b) on the ranks (lo, hi] (renormalised): a cumulative table on 1..N and the tail beyond."""

    def __init__(self, b, N, lo=0.0, hi=math.inf):
        self.b, self.N = float(b), N
        self.zb = float(zeta(self.b, 1.0))
        self.cdf = jnp.cumsum(jnp.arange(1, N + 1, dtype=float) ** -self.b) / self.zb
        self.lo, self.hi = self.F(lo), self.F(hi)

    def F(self, x):
        """P(rank ≤ x) under the un-truncated law, in float64 (x an integer or inf; concrete)."""
        if math.isinf(x):
            return 1.0
        return 1.0 - float(zeta(self.b, x + 1.0)) / self.zb

    def draw(self, key, size):
        u = jax.random.uniform(key, (size,), minval=self.lo, maxval=self.hi, dtype=float)
        head = jnp.searchsorted(self.cdf, u, side="left") + 1.0
        # Beyond N: the rank x with tail mass 1 − u, by the continuous Hurwitz asymptotics.
        r = jnp.maximum(1.0 - u, 1e-300)
        x = jnp.ceil((r * (self.b - 1.0) * self.zb) ** (-1.0 / (self.b - 1.0)) - 0.5)
        return jnp.where(u <= self.cdf[-1], head, jnp.maximum(x, self.N + 1.0))


def _seen_head(ranks, N):
    return jnp.zeros(N, bool).at[(ranks - 1).astype(jnp.int32)].set(True, mode="drop")


def _distinct_beyond(ranks, N, keep=None):
    """Sorted ranks > N (inf elsewhere) and a mask of their first occurrences (and `keep`)."""
    beyond = jnp.where((ranks > N) & (True if keep is None else keep), ranks, jnp.inf)
    s = jnp.sort(beyond)
    first = jnp.isfinite(s) & jnp.concatenate([jnp.array([True]), s[1:] != s[:-1]])
    return s, first


class _Error:
    def __init__(self, beta, N):
        self.beta, self.N = float(beta), N
        self.zb = float(zeta(self.beta, 1.0))
        self.p = jnp.arange(1, N + 1, dtype=float) ** -self.beta / self.zb
        self.tail = float(zeta(self.beta, N + 1.0)) / self.zb

    def __call__(self, seen_head, beyond_sorted, beyond_first):
        missed = jnp.sum(jnp.where(seen_head, 0.0, self.p)) + self.tail
        revealed = jnp.sum(jnp.where(beyond_first, jnp.where(jnp.isfinite(beyond_sorted), beyond_sorted, 1.0) ** -self.beta, 0.0))
        return missed - revealed / self.zb


def _member(sorted_set, x):
    """x in sorted_set (elementwise; sorted_set padded with inf)."""
    i = jnp.clip(jnp.searchsorted(sorted_set, x), 0, sorted_set.shape[0] - 1)
    return sorted_set[i] == x


def _int(name, value, low):
    if isinstance(value, (bool, np.bool_)) or not np.isscalar(value) or float(value) != int(value) or value < low:
        raise ValueError(f"{name} must be an integer ≥ {low} (a Python number: the sample count is a static shape), got {value!r}")
    return int(value)


def simulate(
    model: str,
    beta,
    T,
    *,
    key,
    trials: int = 100,
    support: int = 2**20,
    k=None,
    beta_narrow=None,
    clean_fraction=None,
    sampling: str = "fixed",
    k_tail=None,
    fraction=None,
    T0=None,
    n=None,
    chain: str = "known",
    p_nuc=None,
    chunk: int | None = None,
) -> Estimate:
    r"""Monte Carlo of `jc.tails.<model>`: `trials` independent training sets of T samples each.

    `model` is one of "clean", "cut", "narrow", "mix", "acquire_tail", "generations", with the same
    parameters as the theory function of that name (`k`, `beta_narrow`, `clean_fraction` and
    `sampling`, `k_tail` and `fraction`, `T0`, `n`, `chain` and `p_nuc`). Sample counts are static
    Python integers: `T`, and for mixing and tail acquisition round(πT) samples of the first kind;
    `T0`, `n` for generations. Chains are simulated as defined, not approximated: "known" draws n + 1
    independent real samples (T0 for each generator, T for the final model) and keeps a rank right
    only if all saw it; "empirical" resamples counts T0 at a time for n generations (exact
    multinomial resampling); "top_p" finds the cut k_n on the cumulative table and trains on p cut
    there. `support` = N is the table size; ranks beyond it are drawn and weighed exactly (see the
    module docstring). Returns an `Estimate` (per-trial errors, mean, standard error).
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    check("beta", beta, low=1.0, strict=True)
    beta = float(beta)
    T = _int("T", T, 0)
    trials = _int("trials", trials, 1)
    N = _int("support", support, 16)
    error = _Error(beta, N)
    p = _Law(beta, N)
    draws = []  # (law, count) per source

    if model == "clean":
        draws = [(p, T)]
    elif model == "cut":
        kk = _rank("k", k)
        draws = [(_Law(beta, N, 0, kk), T)]
    elif model == "narrow":
        check("beta_narrow", beta_narrow, low=1.0, strict=True)
        draws = [(_Law(float(beta_narrow), N), T)]
    elif model == "mix":
        kk = _rank("k", k)
        check("clean_fraction", clean_fraction, low=0.0, high=1.0)
        pi = float(clean_fraction)
        if sampling not in ("fixed", "iid"):
            raise ValueError(f"sampling must be 'fixed' or 'iid', got {sampling!r}")
        if sampling == "fixed":
            m = int(round(pi * T))
            draws = [(p, m), (_Law(beta, N, 0, kk), T - m)]
        else:
            return _run(_iid_mix(p, _Law(beta, N, 0, kk), pi, T, error), key, trials, chunk, T)
    elif model == "acquire_tail":
        kk = _rank("k", k)
        check("k_tail", k_tail, low=0.0)
        kt = float(k_tail)
        check("fraction", fraction, low=0.0, high=1.0)
        m = int(round(float(fraction) * T))
        draws = [(_Law(beta, N, 0, kk), T - m), (_Law(beta, N, kt, math.inf), m)]
    else:
        n_gen = _int("n", n, 0)
        if chain == "top_p":
            check("p_nuc", p_nuc, low=0.0, high=1.0, strict=True)
            kk = _top_p_cut(p, float(p_nuc), n_gen)
            draws = [(_Law(beta, N, 0, kk), T)]
        elif chain in ("known", "empirical"):
            T0 = _int("T0", T0, 1)
            fn = _known if chain == "known" else _empirical
            return _run(fn(p, T, T0, n_gen, error), key, trials, chunk, T + T0 * n_gen)
        else:
            raise ValueError(f"chain must be one of ('known', 'empirical', 'top_p'), got {chain!r}")

    def one(key):
        keys = jax.random.split(key, len(draws))
        ranks = jnp.concatenate([law.draw(kk, count) for (law, count), kk in zip(draws, keys)])
        s, first = _distinct_beyond(ranks, N)
        return error(_seen_head(ranks, N), s, first)

    return _run(one, key, trials, chunk, T)


def _rank(name, k):
    check(name, k, low=1.0, integer=True, allow_inf=True)
    return float(k)


def _top_p_cut(p: _Law, p_nuc, n):
    """k_n on the cumulative table (independent of the theory's Hurwitz bisection)."""
    cdf = np.asarray(p.cdf)
    k, mass = math.inf, 1.0
    for _ in range(n):
        target = p_nuc * mass
        if target > cdf[-1]:
            raise ValueError(f"support = {p.N} is too small for top-p cuts at p_nuc = {p_nuc}: raise support")
        k = int(np.searchsorted(cdf, target, side="left")) + 1
        mass = cdf[k - 1]
    return k


def _iid_mix(p, q, pi, T, error):
    def one(key):
        k1, k2, k3 = jax.random.split(key, 3)
        ranks = jnp.where(jax.random.bernoulli(k3, pi, (T,)), p.draw(k1, T), q.draw(k2, T))
        s, first = _distinct_beyond(ranks, p.N)
        return error(_seen_head(ranks, p.N), s, first)

    return one


def _known(p, T, T0, n, error):
    N = p.N

    def one(key):
        keys = jax.random.split(key, n + 1)
        final = p.draw(keys[0], T)
        head = _seen_head(final, N)
        s, first = _distinct_beyond(final, N)
        for g in range(n):
            gen = p.draw(keys[g + 1], T0)
            head &= _seen_head(gen, N)
            gs = jnp.sort(jnp.where(gen > N, gen, jnp.inf))
            first &= _member(gs, s)
        return error(head, s, first)

    return one


def _empirical(p, T, T0, n, error):
    """Chain W: generation 1 draws T0 ranks from p; each later one resamples T0 of the previous ones."""
    N = p.N

    def one(key):
        keys = jax.random.split(key, n + 1)
        if n == 0:
            final = p.draw(keys[0], T)
            s, first = _distinct_beyond(final, N)
            return error(_seen_head(final, N), s, first)
        first_gen = p.draw(keys[1], T0)
        # Slots: ranks 1..N, then one slot per beyond-N draw of generation 1 (its rank in `extra`).
        extra = jnp.where(first_gen > N, first_gen, jnp.inf)
        slot = jnp.where(first_gen > N, N + jnp.arange(T0), first_gen - 1).astype(jnp.int32)
        counts = jnp.zeros(N + T0, jnp.int32).at[slot].add(1)
        for g in range(2, n + 1):
            counts = _resample(keys[g], counts, T0)
        seen = _resample(keys[0], counts, T) > 0
        s, first = _distinct_beyond(extra, N, keep=seen[N:])
        return error(seen[:N], s, first)

    return one


def _resample(key, counts, size):
    """Counts of `size` draws from the empirical law counts/Σcounts."""
    cum = jnp.cumsum(counts)
    u = jax.random.randint(key, (size,), 0, cum[-1])
    idx = jnp.searchsorted(cum, u, side="right")
    return jnp.zeros_like(counts).at[idx].add(1)


def _run(one, key, trials, chunk, per_trial):
    keys = jax.random.split(key, trials)
    if chunk is None:
        chunk = max(1, min(trials, (1 << 23) // max(per_trial, 1)))
    samples = jax.jit(lambda ks: jax.lax.map(one, ks, batch_size=chunk))(keys)
    return Estimate.from_samples(samples)
