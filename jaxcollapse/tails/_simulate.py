r"""Monte Carlo of the Hutter models: sample ranks, mark what training saw, weigh what it missed.

Ranks are drawn by inverse CDF on a truncated support 1..N (`support`, a table of cumulative
probabilities) and, beyond N, by inverting the Hurwitz tail ζ(b, x+1)/ζ(b) ≈ (x + ½)^{1−b}/((b−1)ζ(b))
(relative error O(x⁻²), below 1e-12 at N = 2^20), so no probability mass is dropped. The test error
of one trial is Σ_{i ≤ N} p_i 1{i unseen} + ζ(β, N+1)/ζ(β) − Σ_{distinct seen ranks r > N} p_r, exact
for that trial; recording when each rank is first drawn gives it at every prefix of the stream. Trials are independent (`jax.random.split`) and mapped in chunks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import zeta

from .._results import Estimate
from .._trials import chunk_size_for, run_trials
from .._types import Counts, Key
from .._validate import check_scalar as check

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


def _first_seen(ranks, N, stop):
    """Per rank ≤ N, the index of its first draw (`stop` if never); and, for draws beyond N, the
    sorted ranks, their first-draw indices and a mask of first occurrences."""
    idx = jnp.arange(ranks.shape[0])
    head = jnp.full(N, stop, jnp.int32).at[(ranks - 1).astype(jnp.int32)].min(idx.astype(jnp.int32), mode="drop")
    beyond = jnp.where(ranks > N, ranks, jnp.inf)
    order = jnp.lexsort((idx, beyond))
    s, t = beyond[order], idx[order]
    first = jnp.isfinite(s) & jnp.concatenate([jnp.array([True]), s[1:] != s[:-1]])
    return head, s, t, first


class _Error:
    """The error of one trial at each sample count T' of `Ts` (prefixes of one stream of draws)."""

    def __init__(self, beta, N, Ts):
        self.beta, self.N = float(beta), N
        self.zb = float(zeta(self.beta, 1.0))
        self.p = jnp.arange(1, N + 1, dtype=float) ** -self.beta / self.zb
        self.tail = float(zeta(self.beta, N + 1.0)) / self.zb
        self.Ts = jnp.asarray(Ts, jnp.int32)

    def __call__(self, head_time, beyond_sorted, beyond_time, beyond_first):
        """head_time: first index at which each rank ≤ N was learned; beyond: learned ranks > N."""
        unseen = head_time[None, :] >= self.Ts[:, None]
        missed = jnp.sum(jnp.where(unseen, self.p, 0.0), axis=1) + self.tail
        mass = (
            jnp.where(beyond_first, jnp.where(jnp.isfinite(beyond_sorted), beyond_sorted, 1.0) ** -self.beta, 0.0)
            / self.zb
        )
        revealed = jnp.sum(jnp.where(beyond_time[None, :] < self.Ts[:, None], mass, 0.0), axis=1)
        return missed - revealed


def _member(sorted_set, x):
    """x in sorted_set (elementwise; sorted_set padded with inf)."""
    i = jnp.clip(jnp.searchsorted(sorted_set, x), 0, sorted_set.shape[0] - 1)
    return sorted_set[i] == x


def _int(name, value, low):
    if isinstance(value, (bool, np.bool_)) or not np.isscalar(value) or float(value) != int(value) or value < low:
        raise ValueError(
            f"{name} must be an integer ≥ {low} (a Python number: sample counts are static shapes), got {value!r}"
        )
    return int(value)


def _counts(T):
    """T as a tuple of sample counts (a scalar gives one) and whether it was a scalar."""
    if np.ndim(T) == 0:
        return (_int("T", T, 0),), True
    values = tuple(_int("T", t, 0) for t in np.asarray(T).ravel().tolist())
    if not values:
        raise ValueError("T must hold at least one sample count")
    return values, False


def simulate(
    model: str,
    beta: float,
    *,
    T: Counts | Sequence[int],
    key: Key,
    trials: int = 100,
    support: int = 2**20,
    k: float | None = None,
    beta_narrow: float | None = None,
    p1: float | None = None,
    sampling: str = "fixed",
    k_tail: int | None = None,
    T0: int | None = None,
    generations: int | None = None,
    chain: str = "known",
    p_nuc: float | None = None,
    chunk_size: int | None = None,
) -> Estimate:
    r"""Monte Carlo of `jc.tails.<model>`: `trials` independent training sets.

    `model` is one of "clean", "cut", "narrow", "mix", "acquire_tail", "generations", with the same
    parameters as the theory function of that name (`k`, `beta_narrow`, `p1` and `sampling`,
    `k_tail` and `p1`, `T0`, `generations`, `chain` and `p_nuc`). `chunk_size`: trials evaluated at
    once (default: a memory budget).

    `T` is a sample count or a sequence of them (Python integers: static shapes). A sequence gives a
    learning curve in one pass: each trial draws one stream of max(T) samples and its error at T' is
    that of the first T' samples (each point is an exact Monte Carlo estimate; the points of one
    trial are correlated). With two kinds of samples (fixed-count mixing, tail acquisition) the
    stream interleaves them so that every prefix of T' samples holds exactly ⌊πT'⌋ of the kind with
    fraction π (clean samples, tail samples); pick T' with πT' an integer to match the theory's πT.

    Chains are simulated as defined, not approximated: "known" draws n + 1 independent real samples
    (T0 for each generator, T for the final model) and a rank is right only if all saw it;
    "empirical" resamples counts T0 at a time for n generations (exact multinomial resampling);
    "top_p" finds the cut k_n on the cumulative table and trains on p cut there.

    `support` = N is the table size; ranks beyond it are drawn and weighed exactly (module
    docstring). Returns an `Estimate` (samples of shape (len(T), trials), or (trials,) for one T).
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    check("beta", beta, low=1.0, strict=True)
    beta = float(beta)
    Ts, scalar = _counts(T)
    stop = max(Ts)
    trials = _int("trials", trials, 1)
    N = _int("support", support, 16)
    error = _Error(beta, N, Ts)
    p = _Law(beta, N)
    pick = None  # for two kinds of samples: which stream each position takes

    if model == "clean":
        laws = [p]
    elif model == "cut":
        laws = [_Law(beta, N, 0, _rank("k", k))]
    elif model == "narrow":
        check("beta_narrow", beta_narrow, low=1.0, strict=True)
        laws = [_Law(float(beta_narrow), N)]
    elif model in ("mix", "acquire_tail"):
        kk = _rank("k", k)
        if model == "mix":
            check("p1", p1, low=0.0, high=1.0)
            pi = float(p1)
            if sampling not in ("fixed", "iid"):
                raise ValueError(f"sampling must be 'fixed' or 'iid', got {sampling!r}")
            laws = [p, _Law(beta, N, 0, kk)]
            pick = "iid" if sampling == "iid" else "fixed"
        else:
            check("k_tail", k_tail, low=0.0, integer=True)
            check("p1", p1, low=0.0, high=1.0)
            pi = float(p1)
            laws = [_Law(beta, N, float(k_tail), math.inf), _Law(beta, N, 0, kk)]
            pick = "fixed"
    else:
        n_gen = _int("generations", generations, 0)
        if chain == "top_p":
            check("p_nuc", p_nuc, low=0.0, high=1.0, strict=True)
            laws = [_Law(beta, N, 0, _top_p_cut(p, float(p_nuc), n_gen))]
        elif chain in ("known", "empirical"):
            T0 = _int("T0", T0, 1)
            fn = _known if chain == "known" else _empirical
            return _run(fn(p, stop, T0, n_gen, error), key, trials, chunk_size, stop + T0 * max(n_gen, 1), scalar)
        else:
            raise ValueError(f"chain must be one of ('known', 'empirical', 'top_p'), got {chain!r}")

    def one(key):
        keys = jax.random.split(key, len(laws) + 1)
        streams = [law.draw(kk, stop) for law, kk in zip(laws, keys)]
        if pick is None:
            ranks = streams[0]
        elif pick == "iid":
            ranks = jnp.where(jax.random.bernoulli(keys[-1], pi, (stop,)), streams[0], streams[1])
        else:
            j = jnp.arange(stop, dtype=float)
            before = jnp.floor(j * pi)  # first-kind samples among the first j
            first_kind = jnp.floor((j + 1) * pi) > before
            i0 = before.astype(jnp.int32)
            i1 = (j - before).astype(jnp.int32)
            ranks = jnp.where(first_kind, streams[0][i0], streams[1][jnp.minimum(i1, stop - 1)])
        return error(*_first_seen(ranks, N, stop))

    return _run(one, key, trials, chunk_size, stop * len(laws), scalar)


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


def _known(p, stop, T0, n, error):
    N = p.N

    def one(key):
        keys = jax.random.split(key, n + 1)
        head, s, t, first = _first_seen(p.draw(keys[0], stop), N, stop)
        for g in range(n):
            gen = p.draw(keys[g + 1], T0)
            saw = jnp.zeros(N, bool).at[(gen - 1).astype(jnp.int32)].set(True, mode="drop")
            head = jnp.where(saw, head, stop)  # never right on a rank this generator missed
            first &= _member(jnp.sort(jnp.where(gen > N, gen, jnp.inf)), s)
        return error(head, s, t, first)

    return one


def _empirical(p, stop, T0, n, error):
    """Chain W: generation 1 draws T0 ranks from p; each later one resamples T0 of the previous ones."""
    N = p.N

    def one(key):
        keys = jax.random.split(key, n + 1)
        if n == 0:
            return error(*_first_seen(p.draw(keys[0], stop), N, stop))
        first_gen = p.draw(keys[1], T0)
        # Slots: ranks 1..N, then one slot per beyond-N draw of generation 1 (its rank in `extra`).
        extra = jnp.where(first_gen > N, first_gen, jnp.inf)
        slot = jnp.where(first_gen > N, N + jnp.arange(T0), first_gen - 1).astype(jnp.int32)
        counts = jnp.zeros(N + T0, jnp.int32).at[slot].add(1)
        for g in range(2, n + 1):
            counts = jnp.zeros_like(counts).at[_draw_slots(keys[g], counts, T0)].add(1)
        idx = _draw_slots(keys[0], counts, stop)
        when = jnp.full(N + T0, stop, jnp.int32).at[idx].min(jnp.arange(stop, dtype=jnp.int32))
        # Beyond N: a rank is learned at the earliest time any of its slots is drawn.
        order = jnp.lexsort((when[N:], extra))
        s, t = extra[order], when[N:][order]
        first = jnp.isfinite(s) & jnp.concatenate([jnp.array([True]), s[1:] != s[:-1]])
        return error(when[:N], s, t, first)

    return one


def _draw_slots(key, counts, size):
    """`size` slot indices drawn from the empirical law counts/Σcounts."""
    cum = jnp.cumsum(counts)
    u = jax.random.randint(key, (size,), 0, cum[-1])
    return jnp.searchsorted(cum, u, side="right")


def _run(one, key, trials, chunk, per_trial, scalar):
    # about 8 float64 working arrays the length of one trial's stream
    chunk = chunk_size_for(chunk, trials, bytes_per_trial=64 * per_trial, max_chunk=trials)
    samples = jax.jit(lambda k: run_trials(one, k, trials, chunk))(key)  # (trials, len(T))
    samples = samples[:, 0] if scalar else samples.T
    return Estimate.from_samples(samples)
