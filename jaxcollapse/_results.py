"""Result containers: `Risk` (theory), `Estimate` (simulation) and the `Status` codes."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int


class Status:
    """Per-point status codes carried by every theory result (`Risk.status`).

    Codes are plain integers so that they batch, sweep and serialise like any other array.
    """

    OK = 0
    INVALID_INPUT = 1
    NOT_CONVERGED = 2
    INFINITE = 3
    NO_THEORY = 4

    messages = {
        OK: "ok",
        INVALID_INPUT: "invalid input (outside the allowed range, or not finite): result is NaN",
        NOT_CONVERGED: "the fixed-point solver did not converge: result is NaN",
        INFINITE: "interpolation threshold of a ridgeless fit: the error is +inf",
        NO_THEORY: "no verified deterministic equivalent for this configuration: result is NaN (use the simulator)",
    }


def status_message(code: int | Int[ArrayLike, ""]) -> str:
    """Human-readable meaning of a `Status` code."""
    return Status.messages.get(int(code), f"unknown status {int(code)}")


_SHOWN = 16  # arrays with at most this many entries print their values, larger ones their shape


def _field(value) -> str:
    """One field of a result as it prints: its values when small and concrete (like NumPy), else
    its dtype and shape (a large grid, or a tracer inside a transformation)."""
    import numpy as np

    if value is None:
        return "None"
    try:
        array = np.asarray(value)
    except Exception:  # a tracer: no values to show
        return f"{value.dtype}{list(value.shape)}"
    if array.size > _SHOWN:
        return f"{array.dtype}{list(array.shape)}"
    if array.dtype.kind in "iu":
        return np.array2string(array, separator=", ") if array.ndim else str(int(array))
    return np.array2string(array, precision=6, separator=", ") if array.ndim else f"{float(array):.6g}"


def _repr(result) -> str:
    parts = [f"{name}={_field(getattr(result, name))}" for name in result.__dataclass_fields__]
    return f"{type(result).__name__}({', '.join(parts)})"


class Risk(eqx.Module):
    """Deterministic-equivalent test error on the real distribution, and its decomposition.

    `total = bias + variance + collapse` (B + V + ζ of *Strong Model Collapse*). `kappa` is the
    effective regularisation of the fixed point; `theta` is the projection-level scalar of
    width-m models (absent for classical ridge). `status` holds a `Status` code per point.
    """

    total: Float[Array, "*points"]
    bias: Float[Array, "*points"]
    variance: Float[Array, "*points"]
    collapse: Float[Array, "*points"]
    kappa: Float[Array, "*points"]
    status: Int[Array, "*points"]
    theta: Float[Array, "*points"] | None = None

    def __repr__(self) -> str:
        return _repr(self)


class Estimate(eqx.Module):
    """Monte Carlo estimate of a test error: per-trial `samples` (last axis) and their summary."""

    samples: Float[Array, "*points trials"]
    mean: Float[Array, "*points"]
    sem: Float[Array, "*points"]

    def __repr__(self) -> str:
        return _repr(self)

    @classmethod
    def from_samples(cls, samples) -> Estimate:
        """The estimate of `samples` (trials on the last axis): their mean and its standard error
        (the sample standard deviation over √trials; NaN with a single trial)."""
        trials = samples.shape[-1]
        mean = jnp.mean(samples, axis=-1)
        sem = jnp.std(samples, axis=-1, ddof=1) / jnp.sqrt(trials) if trials > 1 else jnp.full_like(mean, jnp.nan)
        return cls(samples=samples, mean=mean, sem=sem)
