"""Eager validation of the tails API's arguments (a ValueError naming the argument and its range)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._validate import is_concrete


def check(name, value, *, low=None, high=None, strict=False, integer=False, allow_inf=False):
    """ValueError for a bad concrete value; tracers pass through (checked by `_valid`)."""
    if not is_concrete(value):
        return jnp.asarray(value, dtype=float)
    arr = np.asarray(value, dtype=float) if np.asarray(value).dtype != object else np.asarray(value)
    if np.asarray(value).dtype == bool or not np.issubdtype(np.asarray(value).dtype, np.number):
        raise ValueError(f"{name} must be numeric, got {value!r}")
    rng = describe(low, high, strict, integer, allow_inf)
    if np.any(np.isnan(arr)) or (not allow_inf and np.any(np.isinf(arr))):
        raise ValueError(f"{name} must be {rng}, got {value!r}")
    finite = arr[np.isfinite(arr)]
    if low is not None and (np.any(arr <= low) if strict else np.any(arr < low)):
        raise ValueError(f"{name} must be {rng}, got {show(arr)}")
    if high is not None and np.any(arr > high):
        raise ValueError(f"{name} must be {rng}, got {show(arr)}")
    if integer and np.any(finite != np.floor(finite)):
        raise ValueError(f"{name} must be {rng}, got {show(arr)}")
    return jnp.asarray(arr, dtype=float)


def describe(low, high, strict, integer, allow_inf):
    kind = "an integer" if integer else "a number"
    if high is not None:
        lo_bracket = "(" if strict else "["
        text = f"{kind} in {lo_bracket}{low:g}, {high:g}]"
    elif low is not None:
        text = f"{kind} {'>' if strict else '≥'} {low:g}"
    else:
        text = f"finite {kind}"
    return text + (" (inf allowed)" if allow_inf else "")


def show(arr):
    arr = np.asarray(arr)
    return repr(arr.item()) if arr.size == 1 else np.array2string(arr, threshold=6)
