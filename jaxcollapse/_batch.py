"""Broadcasting of scalar kernels: any mix of scalars and arrays in, the broadcast shape out."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ._validate import as_float, check_broadcast

_BLOCK = 512  # points per vmapped block (cache-resident temporaries, few loop trips)


def block_for(d: int) -> int:
    """Points per block for kernels with length-d temporaries: about 4 MiB of them per array."""
    return int(max(1, min(_BLOCK, 2**19 // max(d, 1))))


def broadcast_map(point_fn, *, block=_BLOCK, **scalars):
    """Evaluate `point_fn(**scalars)` elementwise over the broadcast of its keyword arrays.

    The arguments are broadcast against each other, flattened, and mapped in blocks of `_BLOCK`
    points (`lax.map` of a `vmap`), so a grid of any shape costs one compiled kernel; every leaf of the result gets the
    broadcast shape (plus whatever trailing axes the point function returns).
    """
    arrays = {k: as_float(v) for k, v in scalars.items()}
    shape = check_broadcast(**arrays)
    flat = {k: jnp.broadcast_to(a, shape).reshape(-1) for k, a in arrays.items()}
    # Blocks of points keep each point's length-d temporaries in cache; one block is one vmap.
    out = jax.lax.map(lambda kw: point_fn(**kw), flat, batch_size=min(block, max(1, math.prod(shape))))
    return jax.tree.map(lambda x: x.reshape(shape + x.shape[1:]), out)
