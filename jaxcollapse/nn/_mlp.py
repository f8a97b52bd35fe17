"""Fully trained two-layer networks on the real + synthetic Gaussian mixtures of `jc.theory.ridge`.

The data are those of the linear theory (see `jaxcollapse.simulate.ridge`): x ~ N(0, Σ), real labels
y = xᵀw1* + noise, synthetic labels y = xᵀ(w1* + δ) + noise, the first round(p2·n) training rows
synthetic. The model is f(x) = vᵀσ(Wx + b) + c (an `eqx.nn.MLP` of depth 1 and width m), every weight
trained by AdamW on the squared loss, with early stopping on a held-out *real* split. Test error is
the excess risk on the real distribution, E(f(x) − xᵀw1*)², as in the theory.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._activations import FUNCTIONS, check_activation
from .._problem import Mixture
from .._results import Estimate
from .._trials import run_trials
from .._types import Counts, Key, Scalars
from .._validate import check_int, check_scalar, concrete_ints
from ._train import History, fit


class MixtureRun(NamedTuple):
    """What `train_on_mixture` returns: the real test error over trials and the training histories."""

    error: Estimate
    history: History


def two_layer(d: int, m: int, *, key: Key, out: int | None = None, activation: str = "relu") -> eqx.nn.MLP:
    """A two-layer network x ↦ vᵀσ(Wx + b) + c of width `m` on `d` inputs (`out` outputs, or a scalar)."""
    d = check_int("d", d)
    m = check_int("width", m)
    check_activation(activation)
    return eqx.nn.MLP(
        d, "scalar" if out is None else check_int("out", out), m, 1, activation=FUNCTIONS[activation], key=key
    )


def train_on_mixture(
    mix: Mixture,
    *,
    n: Counts,
    m: int,
    p2: Scalars,
    trials: int,
    key: Key,
    activation: str = "relu",
    steps: int = 2000,
    lr: float = 1e-2,
    weight_decay: float = 1e-4,
    n_val: int = 200,
    test_size: int = 2000,
    eval_every: int = 50,
    patience: int | None = 8,
) -> MixtureRun:
    """Train two-layer networks of width `m` on n rows (round(p2·n) synthetic) and measure real test error.

    `n` and `p2` may be arrays (they broadcast; `n` must be concrete integers: the rows are drawn at
    max(n) and the loss is masked to the first n). Each trial draws its own teachers, data and
    initialisation; the whole (n, p2, trial) grid is trained at once by `eqx.filter_vmap`, and within
    a trial every (n, p2) shares the same draws (common random numbers). Full-batch training.

    Returns a `MixtureRun(error, history)`: `error` the `Estimate` of the test error
    E(f(x) − xᵀw1*)² on `test_size` fresh real inputs (shape broadcast(n, p2), statistics over
    trials), `history` the training `History` (leading axes broadcast(n, p2) + (trials,)).
    """
    check_activation(activation)
    m = check_int("width", m)
    trials = check_int("trials", trials)
    n_val = check_int("n_val", n_val)
    test_size = check_int("test_size", test_size)
    n_arr, p2_arr = check_grid(n, p2)
    n_max = int(n_arr.max())
    d = mix.eigs.shape[0]
    dtype = jnp.zeros(()).dtype

    def trial(n_, p2_, k):
        k_data, k_val, k_test, k_init, k_train = jax.random.split(k, 5)
        data = mix.sample(k_data, n_max, jnp.round(p2_ * n_))  # rows beyond n weigh zero
        weight = (jnp.arange(n_max) < n_) / n_
        val = mix.sample(k_val, n_val, teachers=(data.teacher, data.teacher_shift))  # real labels
        model = cast(two_layer(d, m, key=k_init, activation=activation), dtype)
        best, hist = fit(
            model,
            weighted_mse,
            (data.X, data.y, weight),
            (val.X, val.real, jnp.full((n_val,), 1.0 / n_val, dtype)),
            steps=steps,
            key=k_train,
            lr=lr,
            weight_decay=weight_decay,
            eval_every=eval_every,
            patience=patience,
        )
        Xt = mix.inputs(k_test, test_size)
        return jnp.mean((jax.vmap(best)(Xt) - Xt @ data.teacher) ** 2), hist

    err, hist = run_grid(trial, n_arr, p2_arr, trials, key)
    return MixtureRun(Estimate.from_samples(err), hist)


def check_grid(n, p2):
    """`n` (positive integers) and `p2` (in [0, 1]) checked and broadcast together, as float arrays."""
    n_arr = concrete_ints("n", n, low=1, why="the rows are drawn at max(n)")
    check_scalar("p2", p2, low=0.0, high=1.0)
    return np.broadcast_arrays(n_arr.astype(float), np.asarray(p2, dtype=float))


def run_grid(trial, n_arr, p2_arr, trials, key):
    """`trial(n, p2, key)` at every (n, p2) of the grid for each of the `trials` keys of
    `run_trials` (all trials vmapped at once); every (n, p2) of trial t shares its key (common
    random numbers). Outputs have shape broadcast(n, p2) + (trials,) + their own shape."""
    shape = n_arr.shape
    dtype = jnp.zeros(()).dtype
    ns = jnp.asarray(n_arr.ravel(), dtype)
    p2s = jnp.asarray(p2_arr.ravel(), dtype)

    def one_trial(k):
        return eqx.filter_vmap(trial, in_axes=(0, 0, None))(ns, p2s, k)

    out = eqx.filter_jit(lambda k: run_trials(one_trial, k, trials, trials))(key)  # (trials, points, ...)
    return jax.tree_util.tree_map(lambda a: jnp.moveaxis(a, 0, 1).reshape(shape + (trials,) + a.shape[2:]), out)


def cast(model, dtype):
    """The model's floating-point arrays in `dtype` (float64 when x64 is on: the house precision)."""
    return jax.tree_util.tree_map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, model)


def weighted_mse(model, batch):
    """Σ w (f(x) − y)², the weights summing to one (rows beyond n weigh zero)."""
    X, y, w = batch
    return jnp.sum(w * (jax.vmap(model)(X) - y) ** 2)
