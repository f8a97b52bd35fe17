"""Safeguarded root finding for the fixed-point equations of the theory modules.

Two solvers, both pure JAX (`lax.while_loop`), vmappable, and differentiated implicitly
(the derivative of a root is obtained from the implicit-function theorem at the root, never by
differentiating through the iterations):

* `bracketed_root` — a scalar root of a function that changes sign from negative to positive
  on a bracket `[lo, hi]`: Newton steps safeguarded by bisection (geometric bisection when the
  bracket spans orders of magnitude), so every step stays inside the shrinking bracket.
* `monotone_fixed_point` — the largest fixed point `x = T(x)` of a small system whose map `T` is
  increasing in every coordinate, started from a point `x0 ≥ T(x0)`: Newton steps accepted only
  while they stay above the fixed point, plain iteration (monotone, always safe) otherwise.

Both return the solution and a boolean `converged`; the caller turns a non-converged lane into
NaN with a status code (see `jaxcollapse.Status`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._linalg import solve_small

_MAX_STEPS = 200  # bracketed Newton/bisection: ~60 halvings reach float64 resolution
_MAX_FIXED_POINT_STEPS = 2000  # monotone iteration is linear where Newton steps are refused

# The step limits are read when a program is traced. `step_limits` lowers them for a block of code
# (to exercise the non-converged path); the override is a JAX user context, part of every jit and
# trace cache key, so programs traced under it are never reused outside it, and programs traced
# before it are not reused inside it. No cache is cleared. (Older JAX has no user contexts: the
# library works as before there, and only `step_limits` is unavailable.)
_LIMITS = jax.make_user_context(default_value=None) if hasattr(jax, "make_user_context") else None


@contextlib.contextmanager
def step_limits(bracketed: int, fixed_point: int):
    """Within the block, the solvers stop after `bracketed` (scalar) and `fixed_point` (system) steps."""
    if _LIMITS is None:
        raise RuntimeError(f"step_limits needs jax.make_user_context, which jax {jax.__version__} lacks")
    with _LIMITS((int(bracketed), int(fixed_point))):
        yield


def _limits() -> tuple[int, int]:
    override = None if _LIMITS is None else _LIMITS.value
    return (_MAX_STEPS, _MAX_FIXED_POINT_STEPS) if override is None else override


def _float0_like(x):
    return np.zeros(jnp.shape(x), dtype=jax.dtypes.float0)


def _rtol(dtype) -> float:
    return 16 * float(jnp.finfo(dtype).eps)


# ---------------------------------------------------------------------------------------------
# Scalar: bracketed Newton / bisection
# ---------------------------------------------------------------------------------------------


def bracketed_root(fn: Callable[[Any, Any], Any], args: Any, lo, hi, x0=None, value_and_derivative=None):
    """Root of `fn(x, args)` on `[lo, hi]`, where `fn(lo) ≤ 0 ≤ fn(hi)`.

    **Arguments:**

    - `fn`: scalar function `(x, args) -> f`, negative below the wanted root and positive above it
      (inside the bracket).
    - `args`: pytree of arrays the function depends on; derivatives with respect to them are
      obtained by implicit differentiation, `dx = -(∂f/∂args · dargs) / (∂f/∂x)`.
    - `lo`, `hi`: the bracket. `lo == hi` returns `lo` at once (used for roots known in closed
      form, such as `kappa = 0` in the ridgeless over-determined regime).
    - `x0`: first iterate inside the bracket (default `hi`); a good one (from `tabulated_bracket`)
      leaves two or three Newton steps.
    - `value_and_derivative`: optional `(x, args) -> (f, df/dx)` used by the iterations (a
      hand-fused one saves passes over the spectrum); default `jax.value_and_grad(fn)`. The
      implicit derivative always differentiates `fn` itself.

    **Returns:** `(x, converged)`.
    """
    return _bracketed_root(fn, value_and_derivative, args, lo, hi, hi if x0 is None else x0)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def _bracketed_root(fn, value_and_derivative, args, lo, hi, x0):
    x, converged, _ = _bracketed_root_impl(fn, args, lo, hi, x0, value_and_derivative)
    return x, converged


def bracketed_root_steps(fn, args, lo, hi, x0=None, value_and_derivative=None):
    """`bracketed_root` without derivatives, returning `(x, converged, steps)`: for diagnostics
    and benchmarks (iteration counts per lane)."""
    return _bracketed_root_impl(fn, args, lo, hi, hi if x0 is None else x0, value_and_derivative)


def _bracketed_root_impl(fn, args, lo, hi, x0, value_and_derivative=None):
    dtype = jnp.result_type(lo, hi)
    lo = jnp.asarray(lo, dtype)
    hi = jnp.asarray(hi, dtype)
    rtol = _rtol(dtype)
    tiny = jnp.finfo(dtype).tiny
    f_and_df = value_and_derivative or jax.value_and_grad(fn)
    max_steps = _limits()[0]

    def cond(state):
        _, _, _, _, step, done = state
        return (~done) & (step < max_steps)

    def body(state):
        lo, hi, x, f_prev, step, _ = state
        f, df = f_and_df(x, args)
        lo = jnp.where(f < 0, x, lo)
        hi = jnp.where(f > 0, x, hi)
        newton = x - f / df
        # Geometric bisection when the bracket spans orders of magnitude, arithmetic otherwise.
        mid = jnp.where((lo > 0) & (hi > 4 * lo), jnp.sqrt(lo * hi), 0.5 * (lo + hi))
        # Newton is accepted inside the bracket and while it makes progress on |f|.
        inside = jnp.isfinite(newton) & (newton >= lo) & (newton <= hi)
        ok = inside & (newton > lo) & (newton < hi) & (jnp.abs(f) <= 0.5 * f_prev)
        # A Newton step below the tolerance means x is a root to rounding level: stop there
        # (|f| cannot keep halving at rounding level, and bisecting on would only wander).
        small = inside & (jnp.abs(newton - x) <= rtol * jnp.abs(x) + tiny)
        x_new = jnp.where(small, newton, jnp.where(ok, newton, mid))
        done = (
            (f == 0)
            | small
            | (jnp.abs(x_new - x) <= rtol * jnp.abs(x_new) + tiny)
            | (hi - lo <= rtol * jnp.abs(hi) + tiny)
        )
        x_new = jnp.where(f == 0, x, x_new)
        return lo, hi, x_new, jnp.abs(f), step + 1, done

    x0 = jnp.clip(jnp.asarray(x0, dtype), lo, hi)
    init = (lo, hi, x0, jnp.asarray(jnp.inf, dtype), jnp.asarray(0), lo >= hi)
    lo_, hi_, x, _, steps, done = jax.lax.while_loop(cond, body, init)
    x = jnp.where(lo >= hi, lo, x)
    return x, done, steps


@_bracketed_root.defjvp
def _bracketed_root_jvp(fn, value_and_derivative, primals, tangents):
    args, lo, hi, x0 = primals
    t_args = tangents[0]
    x, converged = _bracketed_root(fn, value_and_derivative, args, lo, hi, x0)
    # x is not stop-gradiented: its own derivative (this rule) enters second derivatives.
    df_dx = jax.grad(fn)(x, args)
    _, df_dargs = jax.jvp(lambda a: fn(x, a), (args,), (t_args,))
    dx = -df_dargs / df_dx
    return (x, converged), (dx, _float0_like(converged))


def tabulated_bracket(node_fn, nodes, lo, hi, steps):
    """Narrow `[lo, hi]` to neighbouring `nodes` around the sign change of an increasing function.

    `node_fn(i)` must be cheap (it reads tabulated, spectrum-only quantities at `nodes[i]`), so
    that a grid of points pays the `O(d)` work of the table once and `log2(len(nodes))` cheap
    steps per point. Returns `(lo, hi, x0)`, with `x0` interpolated linearly in `log x`; when the
    sign change lies outside the table the original end is kept.
    """
    size = nodes.shape[0]
    f_first, f_last = node_fn(0), node_fn(size - 1)

    def body(_, ij):
        i, j = ij
        mid = (i + j) // 2
        neg = node_fn(mid) <= 0
        return jnp.where(neg, mid, i), jnp.where(neg, j, mid)

    i, j = jax.lax.fori_loop(0, steps, body, (jnp.asarray(0), jnp.asarray(size - 1)))
    below, above = f_first > 0, f_last <= 0
    f_i, f_j = node_fn(i), node_fn(j)
    new_lo = jnp.where(below, lo, jnp.where(above, nodes[-1], nodes[i]))
    new_hi = jnp.where(below, nodes[0], jnp.where(above, hi, nodes[j]))
    new_lo, new_hi = jnp.maximum(lo, new_lo), jnp.minimum(hi, new_hi)
    t = jnp.clip(f_i / jnp.where(f_i - f_j < 0, f_i - f_j, -1.0), 0.0, 1.0)
    inside = ~(below | above) & (new_lo > 0)
    x0 = jnp.where(
        inside,
        jnp.exp(jnp.log(jnp.where(inside, new_lo, 1.0)) * (1 - t) + t * jnp.log(jnp.where(inside, new_hi, 1.0))),
        new_hi,
    )
    return new_lo, new_hi, x0


# ---------------------------------------------------------------------------------------------
# Small systems: monotone iteration accelerated by safeguarded Newton
# ---------------------------------------------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def monotone_fixed_point(T: Callable[[Any, Any], Any], args: Any, x0):
    """Largest fixed point `x = T(x, args)` below `x0`, for `T` increasing in `x`.

    `x0` must satisfy `T(x0) ≤ x0` (a supersolution); then the plain iteration `x ← T(x)`
    decreases monotonically to the largest fixed point below `x0`. Newton steps on `x − T(x)`
    are taken instead whenever they land on another supersolution with `x ≥ 0`, which keeps the
    monotone guarantee and gives quadratic convergence near the root.

    **Arguments:**

    - `T`: map `(x, args) -> x'` on vectors of a small static size `G`.
    - `args`: pytree of arrays; derivatives by implicit differentiation,
      `dx = (I − ∂T/∂x)^{-1} ∂T/∂args · dargs`.
    - `x0`: starting supersolution, shape `(G,)`.

    **Returns:** `(x, converged)`.
    """
    return _monotone_fixed_point_impl(T, args, x0)


def _monotone_fixed_point_impl(T, args, x0):
    dtype = x0.dtype
    rtol = _rtol(dtype)
    slack = 64 * float(jnp.finfo(dtype).eps)
    eye = jnp.eye(x0.shape[0], dtype=dtype)
    jac = jax.jacfwd(T)
    max_steps = _limits()[1]

    def cond(state):
        _, step, done = state
        return (~done) & (step < max_steps)

    def body(state):
        x, step, _ = state
        tx = T(x, args)
        newton = x - solve_small(eye - jac(x, args), x - tx)
        t_newton = T(newton, args)
        ok = (
            jnp.all(jnp.isfinite(newton))
            & jnp.all(newton >= 0)
            & jnp.all(t_newton <= newton * (1 + slack))
            & jnp.all(newton <= x)
        )
        x_new = jnp.where(ok, newton, tx)
        scale = jnp.max(jnp.abs(x_new))
        done = jnp.max(jnp.abs(x_new - x)) <= rtol * scale + jnp.finfo(dtype).tiny
        return x_new, step + 1, done

    x, _, done = jax.lax.while_loop(cond, body, (x0, jnp.asarray(0), jnp.asarray(False)))
    return x, done


@monotone_fixed_point.defjvp
def _monotone_fixed_point_jvp(T, primals, tangents):
    args, x0 = primals
    t_args, _ = tangents
    x, converged = monotone_fixed_point(T, args, x0)
    eye = jnp.eye(x.shape[0], dtype=x.dtype)
    _, dT_dargs = jax.jvp(lambda a: T(x, a), (args,), (t_args,))
    dx = solve_small(eye - jax.jacfwd(T)(x, args), dT_dargs)
    return (x, converged), (dx, _float0_like(converged))
