r"""A tailed bigram world (*A Tale of Tails*, Dohmatob et al. 2024, §6: "Hutter++").

The world: contexts $i \in \{0..V-1\}$ are drawn from a Zipf law $p_i \propto (i+1)^{-\beta}$
(normalised over the $V$ contexts); given context $i$ the next token $j$ is drawn from
$p(j|i)$, itself a Zipf($\beta_{next}$) law over a context-dependent random ordering (a
permutation) of the vocabulary: the token of rank $r$ in context $i$ has probability
$\propto (r+1)^{-\beta_{next}}$.

The learner sees $T$ iid (context, next-token) pairs and estimates the conditionals by counting,
$\hat q(j|i) = n_T(i,j)/n_T(i)$. Its error is the total variation averaged over contexts,

$$E = \sum_i p_i\, \mathrm{TV}(\hat q(\cdot|i), p(\cdot|i)), \qquad \mathrm{TV} = \tfrac12\ell_1,$$

where a context never seen ($n_T(i) = 0$) counts $\mathrm{TV} = 1$: the learner knows nothing there.

Scaling law (`exponent`): $E \asymp T^{-c}$ with $c = \min(1-1/\beta,\ 1-1/\beta_{next},\ 1/2)$;
for $\beta_{next} = \beta$ this is $\min(1-1/\beta, 1/2)$ (a log factor where two of the terms tie).
AI data whose conditionals are narrowed (temperature $\tau<1$: $q \propto p^{1/\tau}$, tail
exponent $\beta_{next}/\tau$) or tail-cut (top-k, top-p) leave a floor: $E \to \sum_i p_i
\mathrm{TV}(q(\cdot|i), p(\cdot|i))$ (`limit_tv`), e.g. $\asymp k^{-(\beta_{next}-1)}$ for top-k.

Everything is float64 when the caller enables `jax_enable_x64` (the theory needs it). Sizes —
`vocab`, the number of samples `T`, sequence lengths, `top_k` — are static Python integers (they
set array shapes); sampling, fitting, `tv_error`, `generator` and `expected_context_tv` are
jittable and vmappable over keys and floats. `expected_tv` plans its summation window on the host
from the concrete `T` and context probabilities (it is not jittable; its kernel is).
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betainc, gammaln, xlog1py, xlogy
from jaxtyping import Array, ArrayLike, Float, Int

from .._types import Key, Scalars, Values
from .._validate import check_int, check_scalar, is_concrete

__all__ = [
    "World",
    "world",
    "zipf",
    "sample",
    "sample_sequence",
    "fit",
    "empirical",
    "tv_error",
    "generator",
    "abs_deviation",
    "expected_context_tv",
    "expected_tv",
    "limit_tv",
    "exponent",
]


# ---------------------------------------------------------------------------------------------
# the world
# ---------------------------------------------------------------------------------------------


class World(eqx.Module):
    """A bigram world: context law and per-context next-token law (build it with `world`).

    - `context_probs`: `(V,)` $p_i$, Zipf($\\beta$) over contexts $0..V-1$.
    - `conditionals`: `(V, V)` dense table, row $i$ = $p(\\cdot|i)$ (rows sum to 1).
    - `order`: `(V, V)` int, `order[i, r]` = the token of rank $r$ in context $i$.
    - `beta`, `beta_next`: the exponents (static).

    `generator(world, ...)` returns a World with the same contexts and new conditionals (and the
    same `order`, the true ranks).
    """

    context_probs: jax.Array
    conditionals: jax.Array
    order: jax.Array
    beta: float = eqx.field(static=True)
    beta_next: float = eqx.field(static=True)

    @property
    def vocab(self) -> int:
        """V, the number of contexts = the number of tokens (static)."""
        return self.context_probs.shape[0]


def zipf(size: int, beta: Float[ArrayLike, ""]) -> Float[Array, " size"]:
    """`(size,)` Zipf probabilities $\\propto r^{-\\beta}$, $r = 1..size$, normalised (exact)."""
    size = check_int("vocab", size, low=2)
    beta = check_scalar("beta", beta, low=0.0, strict=True)
    return _zipf(size, beta)


def _zipf(size, beta):
    return jax.nn.softmax(-beta * jnp.log(jnp.arange(1, size + 1, dtype=jnp.result_type(float))))


def world(*, vocab: int = 1000, beta: float = 1.5, beta_next: float | None = None, key: Key | None = None) -> World:
    """The tailed bigram world: Zipf(`beta`) contexts, Zipf(`beta_next`) next tokens over a random
    permutation of the vocabulary per context (drawn from `key`; `None` means `jax.random.key(0)`).

    `vocab` ≥ 2 (static); `beta`, `beta_next` > 1 (`beta_next=None`: equal to `beta`). The dense
    table takes 8·V² bytes (32 MB at V = 2000).
    """
    vocab = check_int("vocab", vocab, low=2)
    _check_beta("beta", beta)
    beta_next = beta if beta_next is None else beta_next
    _check_beta("beta_next", beta_next)
    key = jax.random.key(0) if key is None else key
    ctx, cond, order = _world_tables(key, float(beta), float(beta_next), vocab)
    return World(ctx, cond, order, float(beta), float(beta_next))


@functools.partial(jax.jit, static_argnums=3)
def _world_tables(key, beta, beta_next, vocab):
    ctx = _zipf(vocab, beta)
    nxt = _zipf(vocab, beta_next)
    keys = jax.random.split(key, vocab)
    order = jax.vmap(lambda k: jax.random.permutation(k, vocab))(keys)
    rows = jnp.arange(vocab)[:, None]
    cond = jnp.zeros((vocab, vocab), nxt.dtype).at[rows, order].set(jnp.broadcast_to(nxt, (vocab, vocab)))
    return ctx, cond, order


# ---------------------------------------------------------------------------------------------
# sampling, fitting, error
# ---------------------------------------------------------------------------------------------


def _flat_cdf(cond):
    """Row-offset cumulative table: `i + F_i(j)` flattened, non-decreasing over all rows. A row
    summing to 0 (an unseen context of a fitted model) is sampled uniformly."""
    cond = jnp.asarray(cond)
    v = cond.shape[-1]
    total = cond.sum(axis=-1, keepdims=True)
    cond = jnp.where(total > 0, cond, 1.0)
    cdf = jnp.cumsum(cond, axis=-1)
    cdf = cdf / cdf[:, -1:]
    return (cdf + jnp.arange(v, dtype=cdf.dtype)[:, None]).reshape(-1)


def _draw_tokens(flat, ctx, u, vocab):
    idx = jnp.searchsorted(flat, ctx.astype(flat.dtype) + u, side="right")
    return jnp.clip(idx - ctx * vocab, 0, vocab - 1)


def _table(source):
    return source.conditionals if isinstance(source, World) else jnp.asarray(source)


def sample(
    world: World, *, key: Key, T: int, conditionals: Float[ArrayLike, "vocab vocab"] | World | None = None
) -> tuple[Int[Array, " T"], Int[Array, " T"]]:
    """`T` iid (context, next-token) pairs: contexts from the world's context law $p$ (real
    contexts), tokens from `conditionals` (a `(V, V)` table or a World, e.g. from `generator`;
    default: the world's own). Returns `(contexts, tokens)`, two `(T,)` int arrays.

    Exact inverse-CDF sampling (`searchsorted` on cumulative sums, in float64: tokens of
    probability below ~1e-13·V are never drawn). `T` is a static int ≥ 0; jittable and vmappable
    over `key`. A table row summing to 0 is sampled uniformly.
    """
    T = check_int("T", T, low=0)
    cond = world.conditionals if conditionals is None else _table(conditionals)
    return _sample_pairs(world.context_probs, cond, key, T)


@functools.partial(jax.jit, static_argnums=3)
def _sample_pairs(context_probs, cond, key, T):
    v = context_probs.shape[0]
    k1, k2 = jax.random.split(key)
    cdf = jnp.cumsum(context_probs)
    ctx = jnp.searchsorted(cdf, jax.random.uniform(k1, (T,), cdf.dtype) * cdf[-1], side="right")
    ctx = jnp.clip(ctx, 0, v - 1)
    flat = _flat_cdf(cond)
    tok = _draw_tokens(flat, ctx, jax.random.uniform(k2, (T,), flat.dtype), v)
    return ctx, tok


def sample_sequence(
    conditionals: Float[ArrayLike, "vocab vocab"] | World, *, key: Key, length: int, start: int | Int[ArrayLike, ""] = 0
) -> Int[Array, " length"]:
    """A token sequence of `length` (static int ≥ 1) from the Markov chain
    $x_{t+1} \\sim q(\\cdot|x_t)$, $x_0$ = `start`: "text" from a bigram model (`conditionals`: a
    `(V, V)` table or a World). Returns a `(length,)` int array. Jittable, vmappable over `key`."""
    length = check_int("length", length, low=1)
    cond = _table(conditionals)
    v = cond.shape[-1]
    flat = _flat_cdf(cond)
    u = jax.random.uniform(key, (length - 1,), flat.dtype)

    def step(x, uu):
        y = _draw_tokens(flat, x, uu, v)
        return y, y

    x0 = jnp.asarray(start, dtype=jnp.int32 if not jax.config.jax_enable_x64 else jnp.int64)
    _, rest = jax.lax.scan(step, x0, u)
    return jnp.concatenate([x0[None], rest.astype(x0.dtype)])


def fit(pairs: tuple[Int[ArrayLike, " T"], Int[ArrayLike, " T"]], *, vocab: int) -> Int[Array, "vocab vocab"]:
    """The count learner: `(V, V)` table of counts $n_T(i, j)$ from `pairs = (contexts, tokens)`.
    `vocab` is a static int. Jittable, vmappable. Row sums are $n_T(i)$; see `empirical`."""
    vocab = check_int("vocab", vocab, low=2)
    ctx, tok = pairs
    flat = jnp.asarray(ctx) * vocab + jnp.asarray(tok)
    return jnp.zeros(vocab * vocab, dtype=flat.dtype).at[flat].add(1).reshape(vocab, vocab)


def empirical(counts: Int[ArrayLike, "*batch vocab vocab"]) -> Float[Array, "*batch vocab vocab"]:
    """Empirical conditionals $\\hat q(j|i) = n(i,j)/n(i)$; an unseen context ($n(i) = 0$) gets the
    uniform row $1/V$ (a convention, so that the table can be sampled; `tv_error` does not use it)."""
    counts = jnp.asarray(counts)
    n = counts.sum(axis=-1, keepdims=True)
    v = counts.shape[-1]
    return jnp.where(n > 0, counts / jnp.where(n > 0, n, 1), 1.0 / v).astype(jnp.result_type(float))


def tv_error(world: World, counts: Int[ArrayLike, "*batch vocab vocab"]) -> Float[Array, "*batch"]:
    """The count learner's error on the true world: $\\sum_i p_i \\mathrm{TV}(\\hat q(\\cdot|i),
    p(\\cdot|i))$ with $\\mathrm{TV} = \\frac12\\ell_1$, and $\\mathrm{TV} = 1$ for an unseen context
    ($n(i) = 0$). Exact. `counts`: from `fit` (leading batch axes allowed)."""
    counts = jnp.asarray(counts)
    n = counts.sum(axis=-1, keepdims=True)
    qhat = counts / jnp.where(n > 0, n, 1)
    tv = 0.5 * jnp.abs(qhat - world.conditionals).sum(axis=-1)
    tv = jnp.where(n[..., 0] > 0, tv, 1.0)
    return (world.context_probs * tv).sum(axis=-1)


# ---------------------------------------------------------------------------------------------
# generators (AI data)
# ---------------------------------------------------------------------------------------------


def generator(
    source: Float[ArrayLike, "vocab vocab"] | World,
    *,
    temperature: Float[ArrayLike, ""] = 1.0,
    top_p: Float[ArrayLike, ""] = 1.0,
    top_k: int | None = None,
) -> Float[Array, "vocab vocab"] | World:
    """Decoding-time distortion of a bigram model: per context, $q \\propto \\hat q^{1/\\tau}$
    (`temperature` τ > 0), then the nucleus cut (`top_p` in (0, 1]: keep tokens in decreasing
    probability until the cumulative mass of the tempered law reaches `top_p`, i.e. the smallest
    such top-ranked set; ties broken by token index), then optionally the `top_k` ≥ 1 most
    probable tokens (static int); renormalise.

    `source`: a `(V, V)` table (the true world's or a fitted model's conditionals, e.g.
    `empirical(counts)`) → a table; or a World → a World with the new conditionals (contexts
    unchanged). Zero rows stay zero. τ = 1, top_p = 1, top_k = None is the identity (up to the
    renormalisation's rounding). Exact up to rounding (the nucleus boundary compares float
    cumulative sums). Jittable and vmappable over `temperature`, `top_p`.
    """
    temperature = check_scalar("temperature", temperature, low=0.0, strict=True)
    if is_concrete(top_p):
        arr = np.asarray(top_p)
        if (
            arr.dtype == bool
            or not np.issubdtype(arr.dtype, np.number)
            or not np.all(np.isfinite(arr))
            or np.any(arr <= 0)
            or np.any(arr > 1)
        ):
            raise ValueError(f"top_p must be a number in (0, 1], got {top_p!r}")
    top_p = jnp.asarray(top_p, dtype=jnp.result_type(float))
    if top_k is not None:
        top_k = check_int("top_k", top_k, low=1)
    if isinstance(source, World):
        return eqx.tree_at(lambda w: w.conditionals, source, _distort(source.conditionals, temperature, top_p, top_k))
    return _distort(jnp.asarray(source), temperature, top_p, top_k)


@functools.partial(jax.jit, static_argnums=3)
def _distort(cond, temperature, top_p, top_k):
    cond = cond.astype(jnp.result_type(float))
    v = cond.shape[-1]
    pos = cond > 0
    logq = jnp.where(pos, jnp.log(jnp.where(pos, cond, 1.0)), -jnp.inf) / temperature
    top = jnp.max(logq, axis=-1, keepdims=True)
    q = jnp.where(pos, jnp.exp(logq - jnp.where(jnp.isfinite(top), top, 0.0)), 0.0)
    q = _renorm(q)
    order = jnp.argsort(-q, axis=-1, stable=True)
    qs = jnp.take_along_axis(q, order, axis=-1)
    before = jnp.cumsum(qs, axis=-1) - qs
    keep = (before < top_p) | (top_p >= 1.0)
    if top_k is not None:
        keep = keep & (jnp.arange(v) < top_k).reshape((1,) * (keep.ndim - 1) + (v,))
    keep = jnp.take_along_axis(keep, jnp.argsort(order, axis=-1), axis=-1)
    return _renorm(jnp.where(keep, q, 0.0))


def _renorm(q):
    s = q.sum(axis=-1, keepdims=True)
    return q / jnp.where(s > 0, s, 1.0)


# ---------------------------------------------------------------------------------------------
# theory
# ---------------------------------------------------------------------------------------------


def _log_binom_pmf(k, m, q):
    """log P(Bin(m, q) = k), 0 ≤ k ≤ m, in log space (gammaln; xlogy handles q ∈ {0, 1})."""
    return gammaln(m + 1.0) - gammaln(k + 1.0) - gammaln(m - k + 1.0) + xlogy(k, q) + xlog1py(m - k, -q)


def abs_deviation(m: Scalars, p: Scalars, q: Scalars | None = None) -> Values:
    r"""$E|X - mp|$ for $X \sim \mathrm{Bin}(m, q)$ (`q=None`: $q = p$), elementwise, exact.

    With $c = mp$, $k = \lfloor c \rfloor$, $F$ the Bin(m, q) CDF and $b$ its pmf:

    $$E|X - c| = (mq - c)\,(1 - 2F(k)) + 2(m-k)\,q\,b(k),$$

    from $\sum_{x \le k} (mq - x) b(x) = (m-k) q\, b(k)$ (telescoping). For $q = p$ the first term
    vanishes: de Moivre's mean absolute deviation $2(m-k)p\,b(k) = 2(k+1)(1-p)\,b(k+1)$
    $= 2(1-p)^{m-k}p^{k+1}(k+1)\binom{m}{k+1}$. The pmf is computed in log space with `gammaln`
    (relative rounding ≈ 1e-16·m); $F$ by `jax.scipy.special.betainc` (a continued fraction,
    ≈ 1e-9 absolute for m up to ~2e5), only when `q` is given. Jittable, vmappable.
    """
    m = jnp.asarray(m, dtype=jnp.result_type(float))
    p = jnp.asarray(p, dtype=m.dtype)
    if q is None:
        return _abs_dev_parts(m, p, p, clean=True)[0]
    value, hard = _abs_dev_parts(m, p, jnp.asarray(q, dtype=m.dtype), clean=False)
    return value + jnp.where(hard, _cdf_correction(m, p, jnp.asarray(q, dtype=m.dtype)), 0.0)


def _abs_dev_parts(m, p, q, *, clean):
    """`abs_deviation` split as (value with F(k) replaced by its limit 0/1, `hard`): `hard` marks the
    entries whose F(k) is not 0 or 1 to rounding (they need `_cdf_correction`)."""
    c = m * p
    k = jnp.clip(jnp.floor(c), 0.0, m)
    tail = 2.0 * (m - k) * q * jnp.exp(_log_binom_pmf(k, m, q))
    if clean:
        return tail, jnp.zeros(jnp.shape(tail), bool)
    # F(k) = P(X ≤ k) = I_{1-q}(m - k, k + 1); k = m or q = 0: F = 1; q = 1 (k < m): F = 0. Where
    # Bernstein's bound P(|X - mq| ≥ t) ≤ exp(-t²/(2(σ² + t/3))) < e^-80 (t = |c - mq|), F is 0 or 1
    # to far below rounding ("far"): only the rest need the continued fraction (the costly part).
    # For k < _SMALL_K, F(k) is summed directly (pmf recursion in log space): exact and cheap.
    inner = (k < m) & (q > 0) & (q < 1)
    small = inner & (k < _SMALL_K)
    hard = inner & ~small & ~_far(m, c, q)
    edge = jnp.where((k >= m) | (q <= 0) | (c >= m * q), 1.0, 0.0)
    cdf = jnp.where(small, _small_cdf(k, m, jnp.where(small, q, 0.5)), edge)
    return (m * q - c) * (1.0 - 2.0 * cdf) + tail, hard


_SMALL_K = 32


def _small_cdf(k, m, q):
    """P(Bin(m, q) ≤ k) = Σ_{x ≤ k} b(x) for k < _SMALL_K (0 < q < 1), summed term by term."""
    step = jnp.log(q) - jnp.log1p(-q)
    log_b = m * jnp.log1p(-q)
    total = jnp.zeros_like(log_b)
    for x in range(_SMALL_K):
        total = total + jnp.where(x <= k, jnp.exp(log_b), 0.0)
        log_b = log_b + jnp.log(jnp.maximum(m - x, 1.0)) - jnp.log(x + 1.0) + step
    return jnp.minimum(total, 1.0)


def _far(m, c, q):
    t = jnp.abs(c - m * q)
    return t * t > 160.0 * (m * q * (1.0 - q) + t / 3.0)


def _cdf_correction(m, p, q):
    """The term `abs_deviation` adds on `hard` entries: (mq - c)·(-2)(F(k) - edge), F by `betainc`."""
    c = m * p
    k = jnp.clip(jnp.floor(c), 0.0, m)
    ok = (k < m) & (q > 0) & (q < 1)
    cdf = betainc(jnp.where(ok, m - k, 1.0), jnp.where(ok, k + 1.0, 1.0), jnp.where(ok, 1.0 - q, 0.5))
    edge = jnp.where(c >= m * q, 1.0, 0.0)
    return jnp.where(ok, -2.0 * (m * q - c) * (cdf - edge), 0.0)


def expected_context_tv(
    probs: Float[ArrayLike, "*batch vocab"], *, m: Scalars, train_probs: Float[ArrayLike, "*batch vocab"] | None = None
) -> Float[Array, "*batch"]:
    r"""Exact $E\,\mathrm{TV}(\hat p_m, p)$ for one context: $\hat p_m$ the empirical law of `m` ≥ 1
    draws from `train_probs` (`None`: from `probs` itself, clean data), compared with the true
    `probs` (last axis: tokens). $= \frac1{2m}\sum_j E|X_j - m p_j|$, $X_j \sim \mathrm{Bin}(m, q_j)$
    (`abs_deviation`; marginals suffice, TV is a sum over tokens). Exact (de Moivre) for clean
    data; through `betainc` for `train_probs`. `m` may be an array (broadcast against the leading
    axes of `probs`); jittable, vmappable.

    Per-context law: for Zipf(β) tokens, $\asymp m^{-\min(1-1/\beta,\,1/2)}$ while
    $m \ll V^\beta$ (a log factor at β = 2), $\asymp m^{-1/2}$ beyond.
    """
    probs = jnp.asarray(probs, dtype=jnp.result_type(float))
    m = jnp.asarray(m, dtype=probs.dtype)[..., None]
    q = None if train_probs is None else jnp.asarray(train_probs, dtype=probs.dtype)
    return 0.5 * abs_deviation(m, probs, q).sum(axis=-1) / m[..., 0]


@functools.partial(jax.jit, static_argnames=("clean",))
def _window_kernel(p_rows, q_rows, zero_mass, pi, ctx, m, valid, T, clean):
    """Over one chunk of (context, m) pairs: weight·E TV given n_i = m (padding: `valid` false),
    with F(k) at its 0/1 limit; the binomial log-weights; and the mask of the (pair, token)
    entries that need `_cdf_correction`."""
    log_w = jnp.where(valid, _log_binom_pmf(m, T, pi[ctx]), -jnp.inf)
    dev, hard = _abs_dev_parts(m[:, None], p_rows[ctx], q_rows[ctx], clean=clean)
    g = 0.5 * dev.sum(axis=-1) / m + zero_mass[ctx]
    return jnp.exp(log_w) * g, hard & valid[:, None], log_w


@jax.jit
def _correction_kernel(m, p, q, log_w):
    return jnp.exp(log_w) * 0.5 * _cdf_correction(m, p, q) / m


def expected_tv(
    conditionals_true: Float[ArrayLike, "vocab vocab"] | World,
    context_probs: Float[ArrayLike, " vocab"],
    *,
    T: int,
    training_conditionals: Float[ArrayLike, "vocab vocab"] | World | None = None,
    width: float = 10.0,
) -> float:
    r"""Exact expected error $E\sum_i p_i \mathrm{TV}(\hat q(\cdot|i), p(\cdot|i))$ of the count
    learner trained on `T` pairs whose contexts follow `context_probs` $p_i$ and whose tokens follow
    `training_conditionals` (`None`: the true `conditionals_true`, clean data; else AI data,
    e.g. `generator(world.conditionals, ...)`), tested against `conditionals_true`.

    Per context, $n_i \sim \mathrm{Bin}(T, p_i)$: $n_i = 0$ has weight $(1-p_i)^T$ and
    $\mathrm{TV} = 1$; given $n_i = m \ge 1$ the error is `expected_context_tv` (exact: de Moivre
    for clean data, the `betainc` identity of `abs_deviation` for AI data; tokens the training law
    never emits contribute exactly $p(j|i)$). The sum over $m$ runs over
    $Tp_i \pm$ `width`·(sd + 1) (the binomial mass left out is below ~1e-20 at `width` = 10).

    Not jittable: `T` (a concrete int ≥ 0) and the concrete tables set the window, planned on the
    host; the summation kernel is jitted, in chunks. Cost ∝ (Σ_i window_i)·(largest support).
    """
    T = check_int("T", T, low=0)
    width = float(check_scalar("width", width, low=0.0, strict=True))
    P = np.asarray(_table(conditionals_true), dtype=np.float64)
    pi = np.asarray(context_probs, dtype=np.float64)
    v = P.shape[0]
    if P.shape != (v, v) or pi.shape != (v,):
        raise ValueError(f"conditionals_true must be (V, V) and context_probs (V,), got {P.shape} and {pi.shape}")
    clean = training_conditionals is None
    Q = P if clean else np.asarray(_table(training_conditionals), dtype=np.float64)
    if Q.shape != P.shape:
        raise ValueError(f"training_conditionals must have the shape of conditionals_true {P.shape}, got {Q.shape}")
    if T == 0:
        return float(pi.sum())
    p_rows, q_rows, zero_mass = _compact_rows(P, Q)
    ctx, m = _windows(T, pi, width)
    total, hard = _window_sums(p_rows, q_rows, zero_mass, pi, ctx, m, T, clean)
    if hard is not None:
        _add_corrections(total, *hard)
    unseen = np.where(pi >= 1.0, 0.0, np.exp(T * np.log1p(-np.minimum(pi, 1.0))))
    return float(np.sum(pi * (total + unseen)))


def _compact_rows(P, Q):
    """Each context's row restricted to the tokens the training law emits (first, in order; the
    rest add p(j|i) to the error for any m ≥ 1, kept as `zero_mass`): `(p_rows, q_rows, zero_mass)`."""
    emit = Q > 0
    zero_mass = 0.5 * np.where(emit, 0.0, P).sum(axis=1)
    order = np.argsort(~emit, axis=1, kind="stable")
    support = max(1, int(emit.sum(axis=1).max()))
    order = order[:, :support]
    p_rows = np.take_along_axis(P, order, axis=1)
    q_rows = np.take_along_axis(Q, order, axis=1)
    q_rows = np.where(np.take_along_axis(emit, order, axis=1), q_rows, 0.0)
    return p_rows, q_rows, zero_mass


def _windows(T, pi, width):
    """The counts m ∈ [Tp_i ± width·(sd + 1)] ∩ [1, T] of every context, flattened: `(context, m)`."""
    mean = T * pi
    sd = np.sqrt(T * pi * (1 - pi))
    lo = np.clip(np.floor(mean - width * (sd + 1)), 1, T).astype(np.int64)
    hi = np.clip(np.ceil(mean + width * (sd + 1)), 1, T).astype(np.int64)
    lens = np.where(pi > 0, hi - lo + 1, 0)
    ctx = np.repeat(np.arange(pi.shape[0]), lens)
    start = np.repeat(lo - np.cumsum(np.concatenate([[0], lens[:-1]])), lens)
    return ctx, (np.arange(lens.sum()) + start).astype(np.float64)


def _window_sums(p_rows, q_rows, zero_mass, pi, ctx, m, T, clean):
    """Σ over each context's window of P(n_i = m)·E[TV | m] by `_window_kernel`, in fixed chunks of
    ~2^20 (pair, token) entries (one compilation per (support, clean)): `(per-context totals,
    the (context, m, p, q, log weight) entries whose binomial CDF needs `betainc`, or None)`."""
    v, support = p_rows.shape
    chunk = max(64, 1 << int(np.log2(max(1, (1 << 20) // support))))
    total = np.zeros(v)
    pr, qr, zm, pj = (jnp.asarray(x) for x in (p_rows, q_rows, zero_mass, pi))
    hard_parts = []
    for s in range(0, m.size, chunk):
        n = m[s : s + chunk].size
        pad = chunk - n
        c_idx = np.pad(ctx[s : s + chunk], (0, pad))
        mm = np.pad(m[s : s + chunk], (0, pad), constant_values=1.0)
        valid = np.arange(chunk) < n
        out, hard, lw = _window_kernel(
            pr, qr, zm, pj, jnp.asarray(c_idx), jnp.asarray(mm), jnp.asarray(valid), float(T), clean
        )
        np.add.at(total, c_idx[:n], np.asarray(out)[:n])
        if not clean:
            rows, cols = np.nonzero(np.asarray(hard))
            lw = np.asarray(lw)
            hard_parts.append((c_idx[rows], mm[rows], p_rows[c_idx[rows], cols], q_rows[c_idx[rows], cols], lw[rows]))
    hard = tuple(np.concatenate(x) for x in zip(*hard_parts)) if hard_parts else None
    return total, hard


def _add_corrections(total, hc, hm, hp, hq, hw):
    """Add the `betainc` corrections of the binomial CDF, only where it is not 0/1 to rounding,
    in chunks of 4^k entries (256 to 65536: a few programs, and a small problem does not pay for
    65536 evaluations)."""
    size = next(b for b in (1 << 8, 1 << 10, 1 << 12, 1 << 14, 1 << 16) if b >= min(hc.size, 1 << 16))
    for s in range(0, hc.size, size):
        pad = size - hm[s : s + size].size
        args = (
            np.pad(hm[s : s + size], (0, pad), constant_values=1.0),
            np.pad(hp[s : s + size], (0, pad)),
            np.pad(hq[s : s + size], (0, pad)),
            np.pad(hw[s : s + size], (0, pad), constant_values=-np.inf),
        )
        corr = np.asarray(_correction_kernel(*map(jnp.asarray, args)))[: size - pad]
        np.add.at(total, hc[s : s + size], corr)


def limit_tv(
    conditionals_true: Float[ArrayLike, "vocab vocab"] | World,
    context_probs: Float[ArrayLike, " vocab"],
    *,
    training_conditionals: Float[ArrayLike, "vocab vocab"] | World,
) -> Float[Array, ""]:
    """The T → ∞ limit of `expected_tv` on AI data: $\\sum_i p_i \\mathrm{TV}(q(\\cdot|i), p(\\cdot|i))$
    (the floor; exact). For a top-k cut this is the tail mass $\\sum_i p_i \\sum_{r > k} p(r|i)
    \\asymp k^{-(\\beta_{next}-1)}$. Jittable."""
    P, Q = _table(conditionals_true), _table(training_conditionals)
    return jnp.sum(jnp.asarray(context_probs) * 0.5 * jnp.abs(Q - P).sum(axis=-1))


def exponent(beta: Scalars, beta_next: Scalars | None = None) -> Values:
    r"""Predicted decay exponent $c$ of `expected_tv` $\asymp T^{-c}$ on clean data:
    $c = \min(1 - 1/\beta,\ c_{next})$, $c_{next} = \min(1 - 1/\beta_{next}, 1/2)$
    (`beta_next=None`: $= \beta$, then $c = \min(1 - 1/\beta, 1/2)$).

    $c_{next}$ is the per-context part: $E\,\mathrm{TV}(\hat p_m, p) \asymp m^{-c_{next}}$ in the
    per-context count $m$ (head tokens: $\sum_{j \lesssim m^{1/\beta}} \sqrt{p_j/m}$; tail:
    $\sum_{j \gtrsim m^{1/\beta}} p_j$). The context-marginal part — the mass of unseen or rarely
    seen contexts, $\sum_i p_i (1-p_i)^T \asymp T^{-(1-1/\beta)}$ (Hutter's law) — caps $c$ at
    $1 - 1/\beta$. Asymptotic in $T$ with $V = \infty$; at finite $V$ the rate turns to $T^{-1/2}$
    once $T \gg V^{\beta}$; expect a log factor where two terms tie (e.g. β = 2).
    """
    beta = _check_beta("beta", beta)
    beta_next = beta if beta_next is None else _check_beta("beta_next", beta_next)
    return jnp.minimum(1.0 - 1.0 / beta, jnp.minimum(1.0 - 1.0 / beta_next, 0.5))


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


def _check_beta(name, value):
    if is_concrete(value):
        arr = np.asarray(value)
        if (
            arr.dtype == bool
            or not np.issubdtype(arr.dtype, np.number)
            or not np.all(np.isfinite(arr))
            or np.any(arr <= 1)
        ):
            raise ValueError(f"{name} must be > 1 (a finite number), got {value!r}")
    return value
