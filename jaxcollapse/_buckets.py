"""Shape buckets: one compiled program per (kernel, problem structure, bucket), not per exact shape.

A theory kernel called with concrete inputs flattens its grid, pads it to a bucket of points by
repeating the last point, pads the spectrum to a bucket length with entries of multiplicity zero
(the last eigenvalue again, no signal, no shift), runs the compiled program, and slices the padded
lanes off on the host. So a notebook that evaluates grids of 100, 101 and 3000 points at d = 1000,
1001 and 900 compiles one program per point bucket, not nine.

* Points: `POINT_BUCKETS` = 64, 256, 512, 1024, 2048, 4096 per call (at most twice the points
  above 256); larger grids run as several calls of at most 4096 points. The df1 table of
  `theory._common` is used exactly above 256 points, a bucket boundary, so a padded call makes the
  same choice as an unpadded one.
* Spectrum: the next power of two of the number of entries, at least 16. The dimension d is a
  traced leaf of the `Mixture`, so it is not part of the program either.

A padded lane never reaches the user, and cannot change another lane's status: lanes are
independent, and zero-multiplicity entries add exact zeros to every trace. Results equal the
unpadded evaluation to rounding (sums over a longer axis may associate differently).
Traced points (inside `jit`, `vmap`, `grad`, or a `jc.sweep` chunk) are passed through unpadded —
there the shapes belong to the caller's program — but the spectrum is padded all the same, so that
every path sums the same entries in the same order: a point gives the same bits whether it is
evaluated alone, in a grid, in a bucket or in a sweep.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._problem import Mixture
from ._validate import check_broadcast, is_concrete

POINT_BUCKETS = (64, 256, 512, 1024, 2048, 4096)
SPECTRUM_FLOOR = 16


def spectrum_length(entries: int) -> int:
    """The bucket length of a spectrum with `entries` entries: a power of two, at least 16."""
    return max(SPECTRUM_FLOOR, 1 << (max(entries, 1) - 1).bit_length())


def point_bucket(points: int) -> int:
    """The bucket of a call with `points` points (at most the largest bucket: more run in chunks)."""
    return next(b for b in POINT_BUCKETS if b >= min(points, POINT_BUCKETS[-1]))


def pad_spectrum(mix: Mixture, length: int | None = None) -> Mixture:
    """The same problem with `spectrum_length` entries (or `length`, if that is longer), all of them
    carrying a multiplicity: a caller that pads every problem to one `length` gets one program.

    Padded entries repeat the last eigenvalue (so the spectrum's range, and the df1 table built on
    it, are unchanged) with multiplicity 0 and zero signal, shift and teachers. A mixture with
    Σ2 ≠ Σ1 is returned as it is (its solver takes no multiplicities)."""
    if not mix.same_covariance:
        return mix
    entries = mix.eigs.shape[0]
    extra = max(spectrum_length(entries), length or 0) - entries
    if extra == 0 and mix.multiplicity is not None:
        return mix

    concrete = all(is_concrete(x) for x in jax.tree.leaves(mix))
    xp = np if concrete else jnp  # concrete problems are padded on the host: no device op, no compilation

    def pad(x, value=0.0):
        if x is None:
            return None
        x = xp.asarray(x)
        padded = xp.concatenate([x, xp.full(extra, value, dtype=x.dtype)])
        return jax.device_put(padded) if concrete else padded

    eigs = xp.asarray(mix.eigs)
    multiplicity = xp.ones_like(eigs) if mix.multiplicity is None else mix.multiplicity
    return eqx.tree_at(
        lambda m: (m.eigs, m.signal, m.shift, m.multiplicity, m.teacher, m.teacher_shift, m.cross),
        mix,
        replace=(
            pad(eigs, eigs[-1]),
            pad(mix.signal),
            pad(mix.shift),
            pad(multiplicity),
            pad(mix.teacher),
            pad(mix.teacher_shift),
            pad(mix.cross),
        ),
        is_leaf=lambda x: x is None,
    )


def call_bucketed(jitted, mix: Mixture, **scalars):
    """`jitted(mix, **scalars)` over the broadcast of `scalars`, through buckets when every input is
    concrete (see the module docstring); the result has the broadcast shape (plus trailing axes)."""
    padded_mix = pad_spectrum(mix)
    shape = check_broadcast(**scalars)
    size = math.prod(shape)
    if size == 0 or not all(is_concrete(x) for x in jax.tree.leaves((mix, scalars))):
        return jitted(padded_mix, **scalars)
    # the dtype the kernel would compute in (weakly typed Python numbers do not promote float32)
    dtype = jnp.result_type(*scalars.values())
    flat = {k: np.broadcast_to(np.asarray(v, dtype=dtype), shape).reshape(-1) for k, v in scalars.items()}
    chunk = POINT_BUCKETS[-1]
    parts = []
    for start in range(0, size, chunk):
        stop = min(start + chunk, size)
        bucket = point_bucket(stop - start)
        lanes = {k: jax.device_put(_pad_edge(v[start:stop], bucket)) for k, v in flat.items()}
        out = jitted(padded_mix, **lanes)
        parts.append(jax.tree.map(lambda x, m=stop - start: np.asarray(x)[:m], out))
    # device_put, not jnp.asarray: moving a host array compiles nothing
    return jax.tree.map(lambda *xs: jax.device_put(np.concatenate(xs).reshape(shape + xs[0].shape[1:])), *parts)


def _pad_edge(values, length):
    """`values` followed by copies of its last entry, `length` in all."""
    return np.concatenate([values, np.repeat(values[-1:], length - values.shape[0])])
