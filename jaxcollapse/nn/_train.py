"""One training loop for every network of `jc.nn`: AdamW with a warm-up + cosine schedule, full batch,
minibatch or streamed (fresh samples each step), early stopping on a held-out real split.

`fit` is a pure function of its arguments: jit it, or `eqx.filter_vmap` it over seeds (each member
keeps its own best checkpoint and its own stopping time; a vmapped `while_loop` runs until the last
member stops, members that stopped earlier stay frozen).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, PyTree

from .._types import Key
from .._validate import check_int, check_scalar


class History(NamedTuple):
    """What happened during `fit`, one entry per evaluation (every `eval_every` steps).

    `step`: the step count at each evaluation; `train_loss`: the mean training loss over the steps
    since the previous evaluation; `val_loss`: the loss on the held-out split. Evaluations after the
    stop are NaN. `best_step`: the step whose parameters were kept; `steps`: the steps actually taken.
    """

    step: jax.Array
    train_loss: jax.Array
    val_loss: jax.Array
    best_step: jax.Array
    steps: jax.Array

    def final_train_loss(self) -> np.ndarray:
        """The training loss at each run's last evaluation (runs that stop early end at different
        evaluations), as a NumPy array over the leading (vmapped) axes."""
        train = np.asarray(self.train_loss)
        finite = np.isfinite(train)
        last = finite.shape[-1] - 1 - np.argmax(finite[..., ::-1], axis=-1)
        return np.take_along_axis(train, last[..., None], -1)[..., 0]

    def trial_means(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first training loss, final training loss, steps taken), each averaged over the last
        leading axis (the trials of a vmapped run), as NumPy arrays."""
        first = np.asarray(self.train_loss)[..., 0]
        return first.mean(-1), self.final_train_loss().mean(-1), np.asarray(self.steps).mean(-1)


class Trained(NamedTuple):
    """What `fit` (and `jc.nn.gcd.train`) return: the kept model (best on the held-out split) and
    the training `History`. A tuple: `model, history = jc.nn.fit(...)` works too."""

    model: Any
    history: History


class _LoopState(NamedTuple):
    """The carry of `fit`'s loop over evaluations (`eval_every` optimizer steps each)."""

    evaluation: jax.Array  # evaluations done so far
    params: Any
    opt_state: Any
    best: Any  # the parameters with the lowest validation loss so far
    best_val: jax.Array
    best_step: jax.Array
    since_best: jax.Array  # evaluations since the best one (for `patience`)
    key: jax.Array
    step: jax.Array  # per evaluation: steps taken, mean training loss, validation loss
    train_loss: jax.Array
    val_loss: jax.Array


def schedule(lr: float, steps: int, warmup: float = 0.05) -> optax.Schedule:
    """Linear warm-up over a fraction `warmup` of `steps`, then cosine decay to lr/100."""
    n_warm = max(1, int(round(warmup * steps)))
    return optax.warmup_cosine_decay_schedule(0.0, lr, n_warm, max(steps, n_warm + 1), end_value=lr / 100)


def fit(
    model: PyTree,
    loss: Callable[[PyTree, PyTree], Float[Array, ""]],
    data: PyTree | Callable[[Key], PyTree],
    val: PyTree,
    *,
    steps: int,
    key: Key,
    lr: float = 1e-2,
    weight_decay: float = 1e-4,
    warmup: float = 0.05,
    batch_size: int | None = None,
    eval_every: int = 50,
    patience: int | None = None,
) -> Trained:
    """Train `model`; returns `Trained(model, history)`: the model kept (best on `val`) and its `History`.

    - `loss(model, batch) -> scalar` (a mean over the batch; a batch may carry its own weights).
    - `data`: a pytree of arrays with a leading example axis (full batch when `batch_size` is None,
      otherwise `batch_size` rows drawn without replacement each step), or a function
      `key -> batch` that streams fresh examples (online training: each step sees new data).
    - `val`: the held-out batch for early stopping (real data: the split the user cares about).
    - `patience`: stop after this many evaluations without a new best validation loss (None: train
      all `steps`). The returned model is the best one seen, so early stopping never loses ground.
    """
    steps = check_int("steps", steps)
    eval_every = check_int("eval_every", eval_every)
    check_scalar("lr", lr, low=0.0, strict=True)
    check_scalar("weight_decay", weight_decay, low=0.0)
    check_scalar("warmup", warmup, low=0.0, high=1.0)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size)
    if patience is not None:
        patience = check_int("patience", patience)
    chunks = -(-steps // eval_every)
    optimizer = optax.adamw(schedule(lr, steps, warmup), weight_decay=weight_decay)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    streamed = callable(data)
    if not streamed:
        n_rows = jax.tree_util.tree_leaves(data)[0].shape[0]
        if batch_size is not None and batch_size > n_rows:
            raise ValueError(f"batch_size must be at most the number of training rows ({n_rows}), got {batch_size}")

    def batch_at(k):
        if streamed:
            return data(k)
        if batch_size is None:
            return data
        rows = jax.random.choice(k, n_rows, (batch_size,), replace=False)
        return jax.tree_util.tree_map(lambda a: a[rows], data)

    def objective(p, batch):
        return loss(eqx.combine(p, static), batch)

    grad = jax.value_and_grad(objective)

    def step(carry, k):
        p, state = carry
        value, g = grad(p, batch_at(k))
        updates, state = optimizer.update(g, state, p)
        return (optax.apply_updates(p, updates), state), value

    def chunk(c: _LoopState) -> _LoopState:
        key, sub = jax.random.split(c.key)
        (params, opt_state), values = jax.lax.scan(step, (c.params, c.opt_state), jax.random.split(sub, eval_every))
        done = jnp.minimum((c.evaluation + 1) * eval_every, steps)
        v = objective(params, val)
        better = v < c.best_val  # a NaN loss never becomes the best
        i = c.evaluation
        return _LoopState(
            evaluation=i + 1,
            params=params,
            opt_state=opt_state,
            best=jax.tree_util.tree_map(lambda new, old: jnp.where(better, new, old), params, c.best),
            best_val=jnp.where(better, v, c.best_val),
            best_step=jnp.where(better, done, c.best_step),
            since_best=jnp.where(better, 0, c.since_best + 1),
            key=key,
            step=c.step.at[i].set(done),
            train_loss=c.train_loss.at[i].set(jnp.mean(values)),
            val_loss=c.val_loss.at[i].set(v),
        )

    def going(c: _LoopState):
        keep = c.evaluation < chunks
        if patience is not None:
            keep = keep & (c.since_best < patience)
        return keep

    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    nan = jnp.full((chunks,), jnp.nan, dtype)
    zero = jnp.int32(0)
    init = _LoopState(
        evaluation=zero,
        params=params,
        opt_state=optimizer.init(params),
        best=params,
        best_val=jnp.asarray(objective(params, val)),
        best_step=zero,
        since_best=zero,
        key=key,
        step=jnp.zeros((chunks,), jnp.int32),
        train_loss=nan,
        val_loss=nan,
    )
    end = jax.lax.while_loop(going, chunk, init)
    steps_taken = jnp.minimum(end.evaluation * eval_every, steps)
    history = History(end.step, end.train_loss, end.val_loss, end.best_step, steps_taken)
    return Trained(eqx.combine(end.best, static), history)
