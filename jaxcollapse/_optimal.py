"""`jc.optimal`: minimise any scalar risk kernel over one keyword, pointwise over the others."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._types import Values
from ._validate import as_float, check_int

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def optimal(
    kernel: Callable[..., Any],
    over: str = "lam",
    bounds: tuple[float, float] = (1e-8, 1e3),
    *,
    grid: int = 64,
    xtol: float = 1e-9,
    **fixed: Any,
) -> tuple[Values, Values]:
    r"""Minimise `kernel(**fixed, over=x).total` over `x` in `bounds`, in log-space, for every point.

    **Arguments:**

    - `kernel`: any jaxcollapse theory kernel (or a function of keyword arrays returning a `Risk`
      or an array), e.g. `jc.theory.retraining` or `functools.partial(jc.theory.ridge, mix)`.
      Positional arguments such as the mixture are bound with `functools.partial` or passed in `fixed`
      if the kernel takes them by keyword.
    - `over`: the keyword to optimise (`"lam"`, `"weight"`, `"m"`, ...); it must be positive.
    - `bounds`: `(low, high)` with `0 < low < high`; the search is on $\log x$.
    - `grid`: log-spaced points of the first, global stage (default 64); the minimum of the grid
      brackets the optimum, which golden-section search then refines to `xtol` in $\log x$.
    - `fixed`: the kernel's other keywords; arrays broadcast, and every point of the broadcast
      shape gets its own optimum (one vectorised kernel call per search step).

    **Returns:** `(x_star, r_star)`: the minimiser and the minimum (`total`), of the broadcast shape.
    Both are differentiable with respect to the arrays in `fixed`: `r_star` by the envelope theorem
    ($\partial r^*/\partial\theta = \partial f/\partial\theta$ at $x^*$), `x_star` by the implicit
    function theorem on $\partial f/\partial\log x = 0$ (zero derivative when the optimum sits on a
    bound). Points whose kernel value is NaN everywhere return NaN. The optimum is global on the
    grid's resolution: a minimum narrower than one grid step may be missed.
    """
    if not isinstance(over, str) or not over:
        raise ValueError(f"over must be the name of a keyword of the kernel, got {over!r}")
    if over in fixed:
        raise ValueError(f"over={over!r} is also given as a fixed keyword")
    keywords = _keywords_of(kernel)
    if keywords is not None and over not in keywords:
        raise ValueError(f"over={over!r} is not a keyword of the kernel (it takes {sorted(keywords)})")
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be two numbers (low, high) with 0 < low < high, got {bounds!r}") from None
    if not (0.0 < lo < hi < math.inf):
        raise ValueError(f"bounds must satisfy 0 < low < high < inf, got {bounds!r}")
    grid = check_int("grid", grid, low=4)
    if not (0.0 < float(xtol) < 1.0):
        raise ValueError(f"xtol must be in (0, 1), got {xtol!r}")
    arrays = {k: v for k, v in fixed.items() if _array_like(v)}
    others = {k: v for k, v in fixed.items() if k not in arrays}  # a Mixture, say: bound, not optimised over
    kernel = _as_pytree(kernel)
    if others:
        kernel = jax.tree_util.Partial(kernel, **others)
    names = tuple(sorted(arrays))
    values = tuple(as_float(arrays[k]) for k in names)
    return _optimal(kernel, over, lo, hi, grid, float(xtol), names, *values)


def _as_pytree(kernel):
    """A `functools.partial` becomes a `jax.tree_util.Partial`, whose bound arrays (a mixture, say)
    are pytree leaves: the search is then compiled once per function and shapes, not once per call."""
    if isinstance(kernel, functools.partial) and not isinstance(kernel, jax.tree_util.Partial):
        return jax.tree_util.Partial(_as_pytree(kernel.func), *kernel.args, **kernel.keywords)
    return kernel


def _array_like(v) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, (int, float, list, tuple, np.ndarray, np.generic, jax.Array))


def _keywords_of(kernel):
    """The keywords `kernel` accepts (those a `functools.partial` binds included), or None when it
    takes any (`**kwargs`) or has no readable signature."""
    import inspect

    try:
        params = inspect.signature(kernel).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _objective(kernel, over, names, x, values):
    result = kernel(**dict(zip(names, values)), **{over: x})
    total = getattr(result, "total", result)
    return jnp.where(jnp.isnan(total), jnp.inf, total)


def _search(kernel, over, lo, hi, grid, xtol, names, values):
    # Every call site of `f` below inlines the whole kernel (a fixed-point solve) into the program,
    # so there are as few as possible (four): points evaluated together are stacked on a leading
    # axis, values already known are carried rather than recomputed, and the Newton refinement is
    # a loop. Compilation time follows the number of call sites.
    shape = jnp.broadcast_shapes(*(jnp.shape(v) for v in values)) if values else ()

    def f(u):  # u: (k,) + shape, k stacked points per lane
        k = u.shape[0]
        return _objective(kernel, over, names, jnp.exp(u), tuple(jnp.broadcast_to(v, (k,) + shape) for v in values))

    ulo, uhi = math.log(lo), math.log(hi)
    nodes = jnp.linspace(ulo, uhi, grid)
    f_grid = f(jnp.broadcast_to(nodes.reshape((grid,) + (1,) * len(shape)), (grid,) + shape))
    best = jnp.argmin(f_grid, axis=0)
    step = (uhi - ulo) / (grid - 1)
    a = jnp.maximum(nodes[best] - step, ulo)
    b = jnp.minimum(nodes[best] + step, uhi)
    a0, b0 = a, b  # the grid's bracket, kept to safeguard the final Newton steps
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    fa, fb, fc, fd = f(jnp.stack([a, b, c, d]))
    iterations = max(1, math.ceil(math.log(2 * step / xtol) / -math.log(_GOLDEN)))

    def golden(_, state):
        a, b, c, d, fa, fb, fc, fd = state
        left = fc <= fd  # the minimum is in [a, d]; the new ends are old interior points
        a2, fa2 = jnp.where(left, a, c), jnp.where(left, fa, fc)
        b2, fb2 = jnp.where(left, d, b), jnp.where(left, fd, fb)
        c2 = jnp.where(left, b2 - _GOLDEN * (b2 - a2), d)
        d2 = jnp.where(left, c, a2 + _GOLDEN * (b2 - a2))
        f_new = f(jnp.where(left, c2, d2)[None])[0]
        fc2 = jnp.where(left, f_new, fd)
        fd2 = jnp.where(left, fc, f_new)
        return a2, b2, c2, d2, fa2, fb2, fc2, fd2

    a, b, c, d, fa, fb, fc, fd = jax.lax.fori_loop(0, iterations, golden, (a, b, c, d, fa, fb, fc, fd))
    inner = jnp.minimum(fc, fd)
    u, fu = jnp.where(fc <= fd, c, d), inner
    # the bracket's ends can beat its interior when the optimum is on a bound
    u, fu = jnp.where(fa < inner, a, u), jnp.where(fa < inner, fa, fu)
    u, fu = jnp.where(fb < fu, b, u), jnp.minimum(fb, fu)

    # Golden section resolves u only to about sqrt(eps) (f is flat at its minimum); two safeguarded
    # Newton steps on df/du = 0, with exact derivatives, take it to rounding level.
    def slope(u):
        return jax.jvp(f, (u,), (jnp.ones_like(u),))[1]

    def newton(_, state):
        u, fu = state
        g, h = jax.jvp(slope, (u[None],), (jnp.ones_like(u)[None],))
        g, h = g[0], h[0]
        ok = jnp.isfinite(g) & jnp.isfinite(h) & (h > 0)
        trial = u - g / jnp.where(ok, h, 1.0)
        inside = ok & (trial >= a0) & (trial <= b0)
        f_trial = f(jnp.where(inside, trial, u)[None])[0]
        accept = inside & (f_trial <= fu * (1 + 1e-12))
        return jnp.where(accept, trial, u), jnp.where(accept, f_trial, fu)

    u, fu = jax.lax.fori_loop(0, 2, newton, (u, fu))
    hopeless = jnp.all(jnp.isinf(f_grid) & (f_grid > 0), axis=0) & jnp.isinf(fu)
    x = jnp.where(hopeless, jnp.nan, jnp.exp(u))
    return x, jnp.where(hopeless, jnp.nan, fu)


# Compiled once per kernel function and shapes (the kernel is a `jax.tree_util.Partial`, whose
# bound mixture is traced): repeated calls with other data of the same shapes reuse the program.
_search_jit = eqx.filter_jit(_search)


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2, 3, 4, 5, 6))
def _optimal(kernel, over, lo, hi, grid, xtol, names, *values):
    return _search_jit(kernel, over, lo, hi, grid, xtol, names, values)


@_optimal.defjvp
def _optimal_jvp(kernel, over, lo, hi, grid, xtol, names, primals, tangents):
    x, fx = _optimal(kernel, over, lo, hi, grid, xtol, names, *primals)
    u = jax.lax.stop_gradient(jnp.log(x))

    def F(u, vals):
        result = kernel(**dict(zip(names, vals)), **{over: jnp.exp(u)})
        return getattr(result, "total", result)

    def dF_du(u, vals):
        return jax.jvp(lambda uu: F(uu, vals), (u,), (jnp.ones_like(u),))[1]

    _, df = jax.jvp(lambda *v: F(u, v), primals, tangents)
    _, g_theta = jax.jvp(lambda *v: dF_du(u, v), primals, tangents)
    _, g_uu = jax.jvp(lambda uu: dF_du(uu, primals), (u,), (jnp.ones_like(u),))
    edge = 4 * xtol
    interior = (u > math.log(lo) + edge) & (u < math.log(hi) - edge) & (g_uu > 0)
    du = jnp.where(interior, -g_theta / jnp.where(interior, g_uu, 1.0), 0.0)
    return (x, fx), (x * du, df)
