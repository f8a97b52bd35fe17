"""A small transformer learning greatest common divisors: a classifier whose labels follow a Zipf law.

The task (Charton 2023, used by *A Tale of Tails*, Dohmatob et al. 2024): operands a, b uniform in
[1, 9999], written in base 10 with four zero-padded digits, as the 9-token sequence "a ; b" (tokens
0–9 are digits, 10 is ';'); the label is gcd(a, b). With uniform operands P(gcd = k) ≈ 6/(π² k²): a
Zipf law with β = 2, so gcd 1 alone is 61 % of the data and the large GCDs are a long, rare tail.
Classes: gcd 1..K (class index k − 1) plus one class "other" (index K) for gcd > K.

- `sample`: fresh uniform pairs (tokens and the exact gcd, computed in JAX).
- `Transformer`: an encoder-only pre-LayerNorm transformer, mean-pooled, with a linear head over the
  K + 1 classes. Parameters and activations are float32 whatever `jax_enable_x64` says (a classifier
  needs no more, and float32 matrix products are twice as fast on CPU).
- `train`: streamed training through `jc.nn.fit` (each step draws a fresh batch) on real labels,
  tail-cut labels (pairs whose label exceeds a cut k get zero weight), or the argmax labels of a
  frozen earlier model (generations), optionally with a fraction π of each batch labelled by the
  true gcd (mixing). Early stopping scores a fixed batch of real pairs by its error rate.
- `evaluate`: test accuracy on uniform real pairs, accuracy per gcd k = 1..K on a stratified set
  (pairs k·(a', b') with gcd(a', b') = 1), and the number of GCDs learned (accuracy ≥ 90 %).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .._cache import execution_bound_jit
from .._types import Key, Scalars
from .._validate import check_int, check_scalar

# History is not defined here (it is jc.nn.History) but stays importable from this module.
from ._train import History as History, Trained, fit

VOCAB = 11  # digits 0-9 and the separator
SEP = 10  # the token of ';'
DIGITS = 4  # digits per operand (zero-padded)
LENGTH = 2 * DIGITS + 1  # "a ; b"
MAX_OPERAND = 10**DIGITS - 1
SOURCES = ("real", "cut", "model")
LEARNED = 0.9  # a gcd counts as learned when its accuracy is at least this
DTYPE = jnp.float32


# ----------------------------------------------------------------------------------------- data


def gcd(a: Int[ArrayLike, "*#batch"], b: Int[ArrayLike, "*#batch"]) -> Int[Array, "*batch"]:
    """gcd(a, b) elementwise (integer arrays that broadcast; gcd(a, 0) = |a|), by Euclid's algorithm.

    All entries step together in one `lax.while_loop` until every remainder is zero: at most 20
    steps for operands below 10^4 (Lamé), 46 for any int32.
    """
    a, b = jnp.broadcast_arrays(jnp.abs(jnp.asarray(a)), jnp.abs(jnp.asarray(b)))

    def step(state):
        x, y = state
        live = y != 0
        return jnp.where(live, y, x), jnp.where(live, x % jnp.where(live, y, 1), 0)

    return jax.lax.while_loop(lambda s: jnp.any(s[1] != 0), step, (a, b))[0]


def _check_max_operand(max_operand) -> int:
    max_operand = check_int("max_operand", max_operand)
    if max_operand > MAX_OPERAND:
        raise ValueError(f"max_operand must be an integer in [1, {MAX_OPERAND}] ({DIGITS} digits), got {max_operand}")
    return max_operand


def encode(a: Int[ArrayLike, "*#batch"], b: Int[ArrayLike, "*#batch"]) -> Int[Array, "*batch 9"]:
    """The token sequences "a ; b" (int32, shape (..., 9)): four digits each, most significant first."""
    powers = 10 ** jnp.arange(DIGITS - 1, -1, -1, dtype=jnp.int32)
    a, b = jnp.broadcast_arrays(jnp.asarray(a, jnp.int32), jnp.asarray(b, jnp.int32))
    digits = lambda x: (x[..., None] // powers.reshape((1,) * x.ndim + (DIGITS,))) % 10  # noqa: E731
    sep = jnp.full(a.shape + (1,), SEP, jnp.int32)
    return jnp.concatenate([digits(a), sep, digits(b)], axis=-1)


def decode(tokens: Int[ArrayLike, "*batch 9"]) -> tuple[Int[Array, "*batch"], Int[Array, "*batch"]]:
    """The operands (a, b) of token sequences made by `encode`."""
    tokens = jnp.asarray(tokens, jnp.int32)
    powers = 10 ** jnp.arange(DIGITS - 1, -1, -1, dtype=jnp.int32)
    return tokens[..., :DIGITS] @ powers, tokens[..., DIGITS + 1 :] @ powers


def sample(*, key: Key, size: int, max_operand: int = MAX_OPERAND) -> tuple[Int[Array, "size 9"], Int[Array, " size"]]:
    """`size` pairs with a, b uniform in [1, max_operand]: (tokens int32 (size, 9), gcd int32 (size,))."""
    size = check_int("size", size)
    max_operand = _check_max_operand(max_operand)
    ab = jax.random.randint(key, (2, size), 1, max_operand + 1, dtype=jnp.int32)
    return encode(ab[0], ab[1]), gcd(ab[0], ab[1]).astype(jnp.int32)


def label(g: Int[ArrayLike, "*batch"], classes: int = 100) -> Int[Array, "*batch"]:
    """Class index of gcd values: k − 1 for gcd k ≤ `classes`, `classes` ("other") beyond."""
    return (jnp.minimum(g, classes + 1) - 1).astype(jnp.int32)


def gcd_distribution(max_operand: int = MAX_OPERAND) -> np.ndarray:
    """Exact P(gcd(a, b) = k) for a, b uniform in [1, max_operand], k = 0..max_operand (entry 0 is 0).

    Counted, not approximated: ⌊M/k⌋² pairs have k | gcd; subtract those whose gcd is a larger
    multiple of k. As M grows P(gcd = k) → 6/(π² k²).
    """
    M = _check_max_operand(max_operand)
    count = np.zeros(M + 1)
    for k in range(M, 0, -1):
        count[k] = (M // k) ** 2 - count[2 * k :: k].sum()
    return count / M**2


def zipf(k: Scalars) -> Float[np.ndarray, "*points"]:
    """The large-operand law P(gcd = k) = 6/(π² k²) (β = 2)."""
    return 6.0 / (math.pi**2 * np.asarray(k, dtype=float) ** 2)


# ---------------------------------------------------------------------------------------- model


class Block(eqx.Module):
    """One pre-LayerNorm encoder block: x + attention(LN x), then x + MLP(LN x) (GELU, 4× width)."""

    norm1: eqx.nn.LayerNorm
    attention: eqx.nn.MultiheadAttention
    norm2: eqx.nn.LayerNorm
    up: eqx.nn.Linear
    down: eqx.nn.Linear

    def __init__(self, width: int, heads: int, *, key: Key) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        self.norm1 = eqx.nn.LayerNorm(width, dtype=DTYPE)
        self.attention = eqx.nn.MultiheadAttention(
            heads,
            width,
            use_query_bias=True,
            use_key_bias=True,
            use_value_bias=True,
            use_output_bias=True,
            dtype=DTYPE,
            key=k1,
        )
        self.norm2 = eqx.nn.LayerNorm(width, dtype=DTYPE)
        self.up = eqx.nn.Linear(width, 4 * width, dtype=DTYPE, key=k2)
        self.down = eqx.nn.Linear(4 * width, width, dtype=DTYPE, key=k3)

    def __call__(self, x: Float[Array, "9 width"]) -> Float[Array, "9 width"]:
        h = jax.vmap(self.norm1)(x)
        x = x + self.attention(h, h, h)
        h = jax.vmap(self.norm2)(x)
        return x + jax.vmap(self.down)(jax.nn.gelu(jax.vmap(self.up)(h)))


class Transformer(eqx.Module):
    """Encoder-only transformer: tokens (9,) ↦ logits over gcd classes 1..`classes` and "other".

    Token + learned position embeddings of size `width`, `layers` pre-LayerNorm blocks with `heads`
    attention heads, a final LayerNorm, mean-pooling over the 9 positions, a linear head. float32.
    """

    embed: eqx.nn.Embedding
    position: jax.Array
    blocks: tuple
    norm: eqx.nn.LayerNorm
    head: eqx.nn.Linear
    classes: int = eqx.field(static=True)

    def __init__(self, *, width: int = 64, heads: int = 4, layers: int = 2, classes: int = 100, key: Key) -> None:
        width = check_int("width", width)
        heads = check_int("heads", heads)
        layers = check_int("layers", layers)
        self.classes = check_int("classes", classes)
        if width % heads:
            raise ValueError(f"heads must divide width (width = {width}), got heads = {heads}")
        k_embed, k_pos, k_head, *k_blocks = jax.random.split(key, 3 + layers)
        self.embed = eqx.nn.Embedding(VOCAB, width, dtype=DTYPE, key=k_embed)
        self.position = 0.1 * jax.random.normal(k_pos, (LENGTH, width), DTYPE)
        self.blocks = tuple(Block(width, heads, key=k) for k in k_blocks)
        self.norm = eqx.nn.LayerNorm(width, dtype=DTYPE)
        self.head = eqx.nn.Linear(width, classes + 1, dtype=DTYPE, key=k_head)

    def __call__(self, tokens: Int[Array, " 9"]) -> Float[Array, " classes+1"]:
        x = jax.vmap(self.embed)(tokens) + self.position
        for block in self.blocks:
            x = block(x)
        return self.head(jnp.mean(jax.vmap(self.norm)(x), axis=0))


def predict(model: Transformer, tokens: Int[ArrayLike, "n 9"], *, chunk: int = 2048) -> Int[Array, " n"]:
    """Argmax class indices (int32) of `model` on token sequences (n, 9), `chunk` sequences at a time."""
    tokens = jnp.asarray(tokens, jnp.int32)
    n = tokens.shape[0]
    size = min(chunk, n)
    padded = jnp.concatenate([tokens, jnp.zeros((-n % size, LENGTH), jnp.int32)])  # whole chunks only
    out = jax.lax.map(lambda t: jnp.argmax(jax.vmap(model)(t), axis=-1), padded.reshape(-1, size, LENGTH))
    return out.reshape(-1)[:n].astype(jnp.int32)


# ------------------------------------------------------------------------------------- training


class Batch(NamedTuple):
    """A training batch: token sequences, class indices, and per-row weights (0 = dropped)."""

    tokens: jax.Array
    labels: jax.Array
    weight: jax.Array


class Holdout(NamedTuple):
    """A validation batch of real pairs: `loss` scores it by its error rate, not cross-entropy."""

    tokens: jax.Array
    labels: jax.Array


def loss(model: Transformer, batch: Batch | Holdout) -> Float[Array, ""]:
    """Weighted cross-entropy Σ w·CE / Σ w on a `Batch` (weights renormalised over the kept rows);
    the fraction misclassified on a `Holdout`."""
    logits = jax.vmap(model)(batch.tokens)
    if isinstance(batch, Holdout):
        return jnp.mean(jnp.argmax(logits, axis=-1) != batch.labels, dtype=logits.dtype)
    logp = jax.nn.log_softmax(logits)
    ce = -jnp.take_along_axis(logp, batch.labels[:, None], axis=-1)[:, 0]
    w = batch.weight.astype(logits.dtype)
    return jnp.sum(w * ce) / jnp.maximum(jnp.sum(w), 1.0)


def batch_source(
    *,
    batch: int,
    classes: int = 100,
    k: Float[ArrayLike, ""] = jnp.inf,
    p1: Float[ArrayLike, ""] = 0.0,
    teacher: Transformer | None = None,
    use_teacher: Bool[ArrayLike, ""] | None = None,
    max_operand: int = MAX_OPERAND,
) -> Callable[[Key], Batch]:
    """The streamed data, `key -> Batch`: `batch` fresh uniform pairs per call.

    The first round(`p1`·batch) rows carry the true gcd (the real share); the others carry the source's label: the
    teacher's argmax when `teacher` is given, the true gcd otherwise. A source row whose label
    (as a gcd, "other" counting as `classes` + 1) exceeds `k` gets weight 0. `k`, `p1` and
    `use_teacher` (default: whether a teacher is given) may be traced; `k = inf` keeps every row.
    """
    real_row = jnp.arange(batch) < jnp.round(jnp.asarray(p1) * batch)
    if use_teacher is None:
        use_teacher = teacher is not None

    def draw(key):
        tokens, g = sample(key=key, size=batch, max_operand=max_operand)
        true = label(g, classes)
        if teacher is None:
            source = true
        else:  # one branch runs (a traced flag lets real and generated sources share one compiled loop)
            source = jax.lax.cond(use_teacher, lambda: jax.lax.stop_gradient(predict(teacher, tokens)), lambda: true)
        kept = real_row | (source + 1 <= k)
        return Batch(tokens, jnp.where(real_row, true, source), kept.astype(DTYPE))

    return draw


def _check_source(source, teacher, k, p1, classes):
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if source == "cut" and k is None:
        raise ValueError("k must be given (the tail cut: an integer ≥ 1, or inf) when source = 'cut'")
    if source == "real" and k is not None:
        raise ValueError("k applies to source 'cut' or 'model', not to source = 'real' (real labels are never cut)")
    if source == "model":
        if not isinstance(teacher, Transformer):
            raise ValueError(f"teacher must be a Transformer when source = 'model', got {type(teacher).__name__}")
        if teacher.classes != classes:
            raise ValueError(f"classes must equal the teacher's ({teacher.classes}), got {classes}")
    elif teacher is not None:
        raise ValueError(f"teacher is only used with source = 'model', got source = {source!r}")
    if k is not None:
        check_scalar("k", k, low=1.0, integer=True, allow_inf=True)
    check_scalar("p1", p1, low=0.0, high=1.0)


def train(
    *,
    key: Key,
    source: str = "real",
    teacher: Transformer | None = None,
    k: Float[ArrayLike, ""] | None = None,
    p1: Float[ArrayLike, ""] = 0.0,
    steps: int = 3000,
    batch: int = 256,
    width: int = 64,
    heads: int = 4,
    layers: int = 2,
    classes: int = 100,
    lr: float = 1e-3,
    weight_decay: float = 1e-4,
    warmup: float = 0.05,
    eval_every: int = 100,
    patience: int | None = None,
    val_size: int = 2048,
    max_operand: int = MAX_OPERAND,
) -> Trained:
    """Train a fresh `Transformer` on streamed GCD data; returns `Trained(model, history)` (the best model).

    - `source`: "real" (true gcd), "cut" (true gcd, rows with gcd > `k` get zero weight), or
      "model" (the argmax labels of the frozen `teacher` on the fresh pairs: one generation; with
      `k`, teacher labels above it are dropped as well).
    - `p1`: the real share of every batch, labelled by the true gcd (never dropped): mixing.
    - Each step draws `batch` fresh pairs, so after s steps the model has seen s·`batch` examples.
    - Early stopping (and the choice of the returned model) scores a fixed batch of `val_size`
      real pairs by its error rate: `History.val_loss` is that real test error, every `eval_every`
      steps; `History.train_loss` is the mean weighted cross-entropy of the training batches.

    `k` and `p1` may be traced (vmap several data sources over one compiled loop); the sizes
    are static. Deterministic: the same arguments give the same model.
    """
    _check_source(source, teacher, k, p1, classes)
    steps = check_int("steps", steps)
    batch = check_int("batch", batch)
    val_size = check_int("val_size", val_size)
    max_operand = _check_max_operand(max_operand)
    if patience is not None:
        patience = check_int("patience", patience)
    check_scalar("lr", lr, low=0.0, strict=True)
    check_scalar("weight_decay", weight_decay, low=0.0)
    check_scalar("warmup", warmup, low=0.0, high=1.0)
    check_int("eval_every", eval_every)
    k_init, k_val, k_fit = jax.random.split(key, 3)
    model = Transformer(width=width, heads=heads, layers=layers, classes=classes, key=k_init)
    k = jnp.inf if k is None else k
    options = dict(
        steps=steps,
        batch=batch,
        classes=classes,
        lr=float(lr),
        weight_decay=float(weight_decay),
        warmup=float(warmup),
        eval_every=int(eval_every),
        patience=patience,
        val_size=val_size,
        max_operand=max_operand,
    )
    # Without a teacher the fresh model stands in for one (unused): every source then shares one
    # compiled loop for a given architecture (a teacher of another shape compiles its own).
    use_teacher = jnp.asarray(source == "model")
    teacher = model if teacher is None else teacher
    return _fit(model, teacher, use_teacher, jnp.asarray(k, DTYPE), jnp.asarray(p1, DTYPE), k_val, k_fit, **options)


@execution_bound_jit
def _fit(
    model,
    teacher,
    use_teacher,
    k,
    p1,
    k_val,
    k_fit,
    *,
    steps,
    batch,
    classes,
    lr,
    weight_decay,
    warmup,
    eval_every,
    patience,
    val_size,
    max_operand,
):
    tokens, g = sample(key=k_val, size=val_size, max_operand=max_operand)
    val = Holdout(tokens, label(g, classes))
    data = batch_source(
        batch=batch, classes=classes, k=k, p1=p1, teacher=teacher, use_teacher=use_teacher, max_operand=max_operand
    )
    return fit(
        model,
        loss,
        data,
        val,
        steps=steps,
        key=k_fit,
        lr=lr,
        weight_decay=weight_decay,
        warmup=warmup,
        eval_every=eval_every,
        patience=patience,
    )


# ----------------------------------------------------------------------------------- evaluation


class Evaluation(NamedTuple):
    """How well a model computes gcds on real data.

    `accuracy`: the fraction of uniform real test pairs classified right (gcd > K must be "other");
    `per_gcd`: accuracy on pairs whose gcd is k, for k = 1..K (shape (K,)); `learned`: how many k
    reach `LEARNED` = 90 % accuracy.
    """

    accuracy: jax.Array
    per_gcd: jax.Array
    learned: jax.Array


def stratified(
    *, key: Key, per_gcd: int, classes: int = 100, max_operand: int = MAX_OPERAND
) -> tuple[Int[Array, "classes per_gcd 9"], Bool[Array, "classes per_gcd"]]:
    """`per_gcd` pairs with gcd exactly k for each k = 1..`classes`: k·(a', b'), a', b' uniform in
    [1, ⌊max_operand/k⌋] and coprime (rejection from 4·per_gcd + 16 candidates).

    Returns (tokens (classes, per_gcd, 9), valid (classes, per_gcd) bool): `valid` is False where too
    few coprime candidates came up (astronomically rare) or no multiple of k is in range (k > max_operand).
    """
    per_gcd = check_int("per_gcd", per_gcd)
    classes = check_int("classes", classes)
    max_operand = _check_max_operand(max_operand)
    n_cand = 4 * per_gcd + 16

    def one(k, kk):
        top = jnp.maximum(max_operand // k, 1)
        ab = jax.random.randint(kk, (2, n_cand), 1, top + 1, dtype=jnp.int32)
        coprime = gcd(ab[0], ab[1]) == 1
        pick = jnp.argsort(~coprime, stable=True)[:per_gcd]
        ok = coprime[pick] & (k <= max_operand)
        return encode(k * ab[0, pick], k * ab[1, pick]), ok

    ks = jnp.arange(1, classes + 1, dtype=jnp.int32)
    return jax.vmap(one)(ks, jax.random.split(key, classes))


def evaluate(
    model: Transformer, *, key: Key, test_size: int = 8192, per_gcd: int = 256, max_operand: int = MAX_OPERAND
) -> Evaluation:
    """Test accuracy on `test_size` uniform real pairs, and accuracy per gcd k = 1..K (`per_gcd`
    stratified pairs each): an `Evaluation`."""
    test_size = check_int("test_size", test_size)
    per_gcd = check_int("per_gcd", per_gcd)
    max_operand = _check_max_operand(max_operand)
    return _evaluate(model, key, test_size=test_size, per_gcd=per_gcd, max_operand=max_operand)


@execution_bound_jit
def _evaluate(model, key, *, test_size, per_gcd, max_operand):
    K = model.classes
    k_test, k_strat = jax.random.split(key)
    tokens, g = sample(key=k_test, size=test_size, max_operand=max_operand)
    strat, valid = stratified(key=k_strat, per_gcd=per_gcd, classes=K, max_operand=max_operand)
    pred = predict(model, jnp.concatenate([tokens, strat.reshape(-1, LENGTH)]))  # one compiled forward pass
    accuracy = jnp.mean(pred[:test_size] == label(g, K))
    pred = pred[test_size:].reshape(K, per_gcd)
    right = (pred == jnp.arange(K)[:, None]) & valid
    per = jnp.sum(right, axis=1) / jnp.sum(valid, axis=1)  # NaN for a k with no pair in range
    return Evaluation(accuracy, per, jnp.sum(per >= LEARNED))


__all__ = [
    "DIGITS",
    "DTYPE",
    "LEARNED",
    "LENGTH",
    "MAX_OPERAND",
    "SEP",
    "SOURCES",
    "VOCAB",
    "Batch",
    "Block",
    "Evaluation",
    "Holdout",
    "Transformer",
    "batch_source",
    "decode",
    "encode",
    "evaluate",
    "gcd",
    "gcd_distribution",
    "label",
    "loss",
    "predict",
    "sample",
    "stratified",
    "train",
    "zipf",
]
