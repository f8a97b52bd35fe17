"""Monte Carlo trials: one way to map a per-trial function over independent draws, memory-bounded.

Every simulator (`jc.simulate.*`, `jc.tails.simulate`, `jc.nn`) is a function of one PRNG key —
one trial — that `run_trials` maps over `trials` keys split from the caller's key. Trial `t` always
gets `jax.random.split(key, trials)[t]`, whatever the chunking, so results do not depend on the
chunk size (nor on the order in which chunks run) beyond rounding: a batch of another size may
be computed in another order.

On a terminal each trial reports itself to a progress bar on standard error (`_progress`; the
same bar as the sweep's). Chunks: `chunk_size` trials are vmapped at once and the chunks run one after another (`lax.map`),
so memory is bounded by one chunk. The trials are padded to a whole number of equal chunks (the
padding repeats the first trials and is dropped), so any number of trials compiles one vmapped
trial, never a second one for a remainder. `chunk_size_for` picks the default from a memory budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from ._progress import trial_callback
from ._validate import check_int

MEMORY_BUDGET = 512 * 2**20  # bytes of working arrays per chunk of trials


def chunk_plan(trials: int, chunk_size: int) -> tuple[int, int]:
    """`(chunks, size)`: the fewest equal chunks of at most `chunk_size` trials that hold `trials`
    (`chunks * size >= trials`; the surplus repeats trials and is dropped)."""
    chunks = -(-trials // min(chunk_size, trials))
    return chunks, -(-trials // chunks)


def chunk_size_for(chunk_size, trials: int, *, bytes_per_trial: int, max_chunk: int) -> int:
    """The trials per chunk: `chunk_size` checked (a positive integer) when given, else as many as
    fit in `MEMORY_BUDGET` at `bytes_per_trial`, at most `max_chunk` and at most `trials`."""
    if chunk_size is None:
        return max(1, min(trials, max_chunk, MEMORY_BUDGET // max(bytes_per_trial, 1)))
    return check_int("chunk_size", chunk_size, low=1)


def run_trials(trial_fn: Callable[[Any], Any], key, trials: int, chunk_size: int):
    """`trial_fn(k)` for the `trials` keys `jax.random.split(key, trials)`, `chunk_size` at a time.

    **Arguments:**

    - `trial_fn`: one trial, `key -> pytree of arrays`; it must be vmappable (pure JAX).
    - `key`: a `jax.random` key; `trials`, `chunk_size`: Python ints (they set shapes).

    **Returns:** the pytree of `trial_fn`'s outputs with a leading `trials` axis on every leaf.
    Traceable: simulators call it inside their own `jit`, with the sizes static.
    """
    chunks, size = chunk_plan(trials, chunk_size)
    keys = jax.random.split(key, trials)
    keys = jnp.concatenate([keys, keys[: chunks * size - trials]])  # padding, dropped below

    def one(k):  # a trial, reported to the progress bar when there is a terminal to show it
        out = trial_fn(k)
        trial_callback(chunks * size, out)
        return out

    out = jax.lax.map(one, keys, batch_size=size)
    return jax.tree.map(lambda x: x[:trials], out)


def trials_last(tree):
    """Move the leading trials axis of every leaf to the end (the layout of `Estimate.samples`)."""
    return jax.tree.map(lambda x: jnp.moveaxis(x, 0, -1), tree)
