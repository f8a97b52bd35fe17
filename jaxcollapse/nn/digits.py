"""Real images, synthetic labels: scikit-learn's bundled 8×8 digits (1,797 images, shipped inside the
package, nothing downloaded) as the real data, labels from a weaker generator as the synthetic data.

Each trial shuffles the images and splits them into a real test split, a real validation split (for
early stopping), the generator's own real subset of `generator_size` images, and a training pool.
The generator is a ridge classifier on one-hot targets fitted to its subset (its size is the
quality knob: fewer images, worse labels). A training set of n pool images carries the generator's
argmax labels on its first round(p2·n) rows and the true labels on the rest; the images are real
either way, so the synthetic data differ from the real only through their labels (the
label-shift model of the linear theory). Two-layer networks are trained on the squared loss to
one-hot targets, as in *Strong Model Collapse* §5; accuracy and squared error are measured on the
real test split.

Needs the optional extra: `pip install 'jaxcollapse[images]'`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from .._activations import check_activation
from .._results import Estimate
from .._types import Counts, Key, Scalars
from .._validate import MissingExtra, check_int, check_scalar
from ._mlp import cast, check_grid, run_grid, two_layer
from ._train import History, fit

__all__ = ["CLASSES", "IMAGES", "DigitsRun", "load", "ridge_generator", "train_on_digits"]


class DigitsRun(NamedTuple):
    """What `train_on_digits` returns (a tuple: it unpacks in this order)."""

    accuracy: Estimate
    squared_error: Estimate
    generator_accuracy: jax.Array
    history: History


CLASSES = 10
IMAGES = 1797


def load() -> tuple[Float[np.ndarray, "1797 64"], Int[np.ndarray, " 1797"]]:
    """The digits as (images (1797, 64) float, centred per pixel, unit overall variance; labels (1797,) int)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise MissingExtra(
            "the digits experiment needs scikit-learn (its bundled 8×8 digits): pip install 'jaxcollapse[images]'"
        ) from None
    X, y = load_digits(return_X_y=True)
    # centred per pixel, one global scale: per-pixel scaling would blow up the rarely inked border
    # pixels into outliers that dominate a test split's squared error
    X = X.astype(np.float64) - X.mean(0)
    X = X / X.std()
    return X, y.astype(np.int32)


def ridge_generator(
    X: Float[Array, "n features"], labels: Int[Array, " n"], lam: float = 1.0
) -> Callable[[Float[Array, "m features"]], Int[Array, " m"]]:
    """A ridge classifier (one-hot targets, bias column, ridge `lam`) fitted to (X, labels); returns
    the function images ↦ argmax labels."""
    A = jnp.concatenate([X, jnp.ones((X.shape[0], 1), X.dtype)], 1)
    Y = jax.nn.one_hot(labels, CLASSES, dtype=X.dtype)
    W = jnp.linalg.solve(A.T @ A + lam * jnp.eye(A.shape[1], dtype=X.dtype), A.T @ Y)
    return lambda Z: jnp.argmax(jnp.concatenate([Z, jnp.ones((Z.shape[0], 1), Z.dtype)], 1) @ W, axis=1)


def train_on_digits(
    *,
    n: Counts,
    m: int,
    p2: Scalars,
    trials: int,
    key: Key,
    generator_size: int = 40,
    generator_lam: float = 1.0,
    test_size: int = 397,
    n_val: int = 200,
    activation: str = "relu",
    steps: int = 600,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    eval_every: int = 25,
    patience: int | None = 8,
) -> DigitsRun:
    """Train two-layer networks of width `m` on n digit images (round(p2·n) generator-labelled).

    `n` and `p2` broadcast (n concrete integers, at most the pool size 1797 − test_size − n_val −
    generator_size). Returns a `DigitsRun(accuracy, squared_error, generator_accuracy, history)`:
    the first two are `Estimate`s over trials of the real test accuracy and of the mean
    Σ_c (f_c(x) − 1[y = c])², shape broadcast(n, p2); the third is the generator's test accuracy per
    trial; the last the training `History`.
    """
    check_activation(activation)
    m = check_int("width", m)
    trials = check_int("trials", trials)
    generator_size = check_int("generator_size", generator_size)
    test_size = check_int("test_size", test_size)
    n_val = check_int("n_val", n_val)
    check_scalar("generator_lam", generator_lam, low=0.0, strict=True)
    n_arr, p2_arr = check_grid(n, p2)
    pool = IMAGES - test_size - n_val - generator_size
    if pool < 1:
        raise ValueError(f"test_size + n_val + generator_size must be below {IMAGES}, got {IMAGES - pool}")
    if n_arr.max() > pool:
        raise ValueError(f"n must be at most the training pool ({pool} images), got {int(n_arr.max())}")
    images, labels = load()
    dtype = jnp.zeros(()).dtype
    images, labels = jnp.asarray(images, dtype), jnp.asarray(labels)
    n_max = int(n_arr.max())

    def trial(n_, p2_, k):
        kperm, kinit, ktrain = jax.random.split(k, 3)
        order = jax.random.permutation(kperm, IMAGES)
        X, y = images[order], labels[order]
        test, val = slice(0, test_size), slice(test_size, test_size + n_val)
        gen = slice(test_size + n_val, test_size + n_val + generator_size)
        train = slice(gen.stop, gen.stop + n_max)
        generator = ridge_generator(X[gen], y[gen], generator_lam)
        Xtr = X[train]
        rows = jnp.arange(n_max)
        y_train = jnp.where(rows < jnp.round(p2_ * n_), generator(Xtr), y[train])
        weight = (rows < n_) / n_
        onehot = jax.nn.one_hot(y_train, CLASSES, dtype=dtype)
        val_batch = (X[val], jax.nn.one_hot(y[val], CLASSES, dtype=dtype), jnp.full((n_val,), 1.0 / n_val, dtype))
        model = cast(two_layer(X.shape[1], m, out=CLASSES, key=kinit, activation=activation), dtype)
        best, hist = fit(
            model,
            _weighted_sq,
            (Xtr, onehot, weight),
            val_batch,
            steps=steps,
            key=ktrain,
            lr=lr,
            weight_decay=weight_decay,
            eval_every=eval_every,
            patience=patience,
        )
        out = jax.vmap(best)(X[test])
        accuracy = jnp.mean(jnp.argmax(out, 1) == y[test])
        sq = jnp.mean(jnp.sum((out - jax.nn.one_hot(y[test], CLASSES, dtype=dtype)) ** 2, 1))
        return accuracy.astype(dtype), sq, jnp.mean(generator(X[test]) == y[test]).astype(dtype), hist

    acc, sq, gen_acc, hist = run_grid(trial, n_arr, p2_arr, trials, key)
    return DigitsRun(Estimate.from_samples(acc), Estimate.from_samples(sq), gen_acc.reshape(-1, trials)[0], hist)


def _weighted_sq(model, batch):
    X, Y, w = batch
    return jnp.sum(w * jnp.sum((jax.vmap(model)(X) - Y) ** 2, 1))
