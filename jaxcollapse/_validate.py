"""Input validation.

Concrete values (Python numbers, NumPy arrays, concrete JAX arrays) are checked eagerly and a bad
one raises a `ValueError` naming the argument and the allowed range, before anything compiles.
Traced values (inside `jit`, `vmap`, `grad`) cannot raise: the kernels instead mark such points
invalid (`Status.INVALID_INPUT`, NaN result) with `valid_mask`.
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x) -> bool:
    """True for values whose numbers are known now (not JAX tracers)."""
    return not isinstance(x, jax.core.Tracer)


def _describe(low, high, strict, integer=False, allow_inf=False) -> str:
    kind = "an integer" if integer else "a number"
    if high is None:
        text = f"{kind} {'>' if strict else '≥'} {low:g}"
    else:
        text = f"{kind} in {'(' if strict else '['}{low:g}, {high:g}]"
    return text + (" (or inf)" if allow_inf else "")


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says which extra installs it."""


def check_scalar(name, value, *, low=None, high=None, strict=False, integer=False, allow_inf=False, scalar=False):
    """Validate a concrete scalar or array of scalars (all entries); tracers pass through.

    `integer`: every finite entry must be a whole number; `allow_inf`: +inf passes (a rank "no cut");
    `scalar`: one number, not an array. Complex numbers and empty arrays are refused.
    """
    if not is_concrete(value):
        return value
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got {value!r}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real, got the complex {_show(arr)}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty (an empty grid has no point to compute), got shape {arr.shape}")
    if scalar and arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, got an array of shape {arr.shape}")
    allowed = _describe(low, high, strict, integer, allow_inf) if low is not None else "a finite number"
    finite = np.isfinite(arr)
    if not np.all(finite | (allow_inf & (arr == np.inf))):
        raise ValueError(
            f"{name} must be finite ({allowed}), got {value!r}"
            if not allow_inf
            else f"{name} must be {allowed}, got {_show(arr)}"
        )
    if low is not None and (np.any(arr <= low) if strict else np.any(arr < low)):
        raise ValueError(f"{name} must be {allowed}, got {_show(arr)}")
    if high is not None and np.any(arr > high):
        raise ValueError(f"{name} must be {allowed}, got {_show(arr)}")
    if integer and np.any(arr[finite] != np.floor(arr[finite])):
        raise ValueError(f"{name} must be {allowed}, got {_show(arr)}")
    return as_float(value)


def as_float(value):
    """A JAX array of a floating dtype: floats keep theirs (float32 stays float32), the rest become float.

    Concrete values are converted on the host and moved with `jax.device_put`, which compiles
    nothing (`jnp.asarray` of a NumPy array compiles a small copy program per new shape); Python
    numbers stay weakly typed, as with `jnp.asarray`."""
    if isinstance(value, (jax.Array, jax.core.Tracer)):
        return value if jnp.issubdtype(value.dtype, jnp.floating) else value.astype(float)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return jax.device_put(float(value))
    arr = np.asarray(value)
    return jax.device_put(arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(float))


def check_vector(name, value, *, size=None, positive=False, nonnegative=True):
    """Validate a 1-D vector of finite numbers; returns it as a float JAX array."""
    if not is_concrete(value):
        return value
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must have length d = {size} (the length of eigs), got {arr.shape[0]}")
    if not np.issubdtype(arr.dtype, np.number) or arr.dtype == bool:
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got NaN or inf at index {int(np.argmin(np.isfinite(arr)))}")
    if positive and np.any(arr <= 0):
        raise ValueError(
            f"{name} must be > 0 everywhere, got {_show(arr[arr <= 0])} at index {int(np.argmax(arr <= 0))}"
        )
    if nonnegative and not positive and np.any(arr < 0):
        raise ValueError(f"{name} must be ≥ 0 everywhere, got {_show(arr[arr < 0])} at index {int(np.argmax(arr < 0))}")
    return as_float(value)


def check_mixing(*, n, p2, lam, weight):
    """The scalars every mixture kernel takes: `n > 0`, `p2` in [0, 1], `lam ≥ 0`, `weight ≥ 0`."""
    n = check_scalar("n", n, low=0.0, strict=True)
    p2 = check_scalar("p2", p2, low=0.0, high=1.0)
    lam = check_scalar("lam", lam, low=0.0)
    weight = check_scalar("weight", weight, low=0.0)
    if is_concrete(p2) and is_concrete(weight) and np.any((np.asarray(p2) == 1) & (np.asarray(weight) == 0)):
        raise ValueError("weight must be > 0 when p2 = 1 (otherwise no sample carries any weight)")
    return n, p2, lam, weight


LOOP_POLICIES = ("replace", "accumulate", "accumulate-subsample")
LOOP_DESIGNS = ("fixed", "fresh")


def check_loop(policy, design) -> None:
    """A data loop's `policy` and `design` (`jc.theory.data_loop`, `jc.simulate.data_loop`): one of
    `LOOP_POLICIES` and `LOOP_DESIGNS`, or a `ValueError` that lists them."""
    if policy not in LOOP_POLICIES:
        raise ValueError(f"policy must be one of {LOOP_POLICIES}, got {policy!r}")
    if design not in LOOP_DESIGNS:
        raise ValueError(f"design must be one of {LOOP_DESIGNS}, got {design!r}")


def check_chain(*, n0, trials, generations, lam, generator_noise_var, why: str):
    """The arguments every self-training simulator takes: `(n0, trials, generations, lam, σ0²)` with
    `n0` and `trials` positive ints, `generations` concrete ints ≥ 0 (`why` says what 0 means),
    `lam` ≥ 0 and `generator_noise_var` a scalar ≥ 0."""
    n0 = check_int("n0", n0, why="it sets array shapes")
    trials = check_int("trials", trials)
    gens = concrete_ints("generations", generations, low=0, why=f"{why}; they set the chain length")
    lam = check_scalar("lam", lam, low=0.0)
    s0 = check_scalar("generator_noise_var", generator_noise_var, low=0.0)
    if np.ndim(s0) != 0:
        raise ValueError("generator_noise_var must be a scalar in simulation")
    return n0, trials, gens, lam, s0


class Float32Warning(UserWarning):
    """A theory kernel or simulator ran in float32 (JAX's default) although nobody asked for it."""


_PRECISION = {"warned": False, "asked": False}


def allow_float32() -> None:
    """Say float32 is wanted (the command line's `--float32`): no `Float32Warning` then."""
    _PRECISION["asked"] = True


def check_mixture(mix, name: str = "mix") -> None:
    """A `TypeError` naming the argument unless `mix` is a `jc.Mixture`; and, once per process, a
    `Float32Warning` when JAX computes in float32 without `allow_float32` (every public theory and
    simulation function with a mixture passes here, so this is where precision is noticed)."""
    from ._problem import Mixture

    if not isinstance(mix, Mixture):
        raise TypeError(
            f"{name} must be a jc.Mixture (made by jc.isotropic, jc.power_law, jc.fixed_teachers or "
            f"jc.Mixture(...)), got {type(mix).__name__}"
        )
    if not jax.config.jax_enable_x64 and not _PRECISION["warned"] and not _PRECISION["asked"]:
        _PRECISION["warned"] = True
        warnings.warn(
            "JAX computes in float32 here (jax_enable_x64 is off): theory results agree with float64 to "
            "about 1e-4 relative away from ridgeless thresholds and can lose all accuracy near them. Call "
            "jax.config.update('jax_enable_x64', True) before computing for float64, or silence this with "
            "warnings.filterwarnings('ignore', category=jc.Float32Warning).",
            Float32Warning,
            stacklevel=3,
        )


def require_same_covariance(mix, name: str) -> None:
    """Models solved only in the label-shift setting Σ2 = Σ1 refuse other mixtures."""
    if not mix.same_covariance:
        raise ValueError(f"{name} needs the label-shift setting Σ2 = Σ1: build the Mixture with synthetic_eigs=None")


def require_directions(mix, name: str) -> None:
    """Simulators draw one coordinate per direction: a compressed mixture has none to draw."""
    if mix.compressed:
        raise ValueError(
            f"{name} needs a mixture with one entry per direction, not a compressed one (mix.compressed): "
            "simulate the original mixture"
        )


def _integers(low: int) -> str:
    return "positive integers" if low == 1 else f"integers ≥ {low}"


def check_int(name, value, *, low: int = 1, why: str = "") -> int:
    """A concrete integer ≥ `low` — a Python or NumPy integer, or a float with a whole value — as a
    Python `int`: for the arguments that set array shapes or loop lengths (sample sizes, widths,
    trials, generations, chunk sizes); `why` (optional) says which, in the error message."""
    reason = f" ({why})" if why else ""
    if not is_concrete(value):
        raise ValueError(f"{name} must be a concrete integer ≥ {low}{reason}, got a traced value")
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not number or not math.isfinite(value) or value != int(value) or value < low:
        kind = "a positive integer" if low == 1 else f"an integer ≥ {low}"
        raise ValueError(f"{name} must be {kind}{reason}, got {value!r}")
    return int(value)


def concrete_ints(name, value, *, low: int, why: str) -> np.ndarray:
    """Concrete integers ≥ `low` (an int or an array of them), for simulation arguments that set
    array shapes or loop lengths (`why` says which)."""
    if not is_concrete(value):
        raise ValueError(f"{name} must be concrete {_integers(low)} ({why}), got a traced value")
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or arr.size == 0 or np.iscomplexobj(arr):
        raise ValueError(f"{name} must be {_integers(low)} (one or an array of them), got {value!r}")
    if not np.all(np.isfinite(arr)) or np.any(arr < low) or np.any(arr != np.round(arr)):
        raise ValueError(f"{name} must be {_integers(low)} ({why}), got {value!r}")
    return arr.astype(np.int64)


def check_broadcast(**arrays) -> tuple[int, ...]:
    """The common shape of the named arrays, or a `ValueError` naming them and their shapes."""
    shapes = {k: np.shape(v) for k, v in arrays.items()}
    try:
        return tuple(np.broadcast_shapes(*shapes.values()))
    except ValueError:
        listed = ", ".join(f"{k} {shape}" for k, shape in shapes.items())
        raise ValueError(f"{', '.join(shapes)} must broadcast against each other, got shapes {listed}") from None


def _show(arr) -> str:
    arr = np.ravel(arr)
    return f"{arr[0].item()!r}" if arr.size == 1 else f"{arr[:3].tolist()}{'...' if arr.size > 3 else ''}"


def valid_mask(*checks):
    """Combine traced `(value, low, high, strict)` range checks into one boolean mask."""
    ok = True
    for value, low, high, strict in checks:
        value = jnp.asarray(value)
        cond = jnp.isfinite(value)
        if low is not None:
            cond &= (value > low) if strict else (value >= low)
        if high is not None:
            cond &= value <= high
        ok = ok & cond
    return ok
