"""Pieces every theory kernel shares: traced validity of a `Mixture`, and assembling a `Risk`."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .._problem import Mixture
from .._results import Risk, Status
from .._solve import tabulated_bracket


def mixture_valid(mix: Mixture):
    """Traced check of a mixture's ranges (the constructor checks concrete ones eagerly)."""
    ok = jnp.all(mix.eigs > 0) & jnp.all(mix.eigs2 > 0) & jnp.all(mix.signal >= 0) & jnp.all(mix.shift >= 0)
    ok &= (mix.noise_var >= 0) & (mix.synthetic_noise_var >= 0)
    return ok & jnp.all(jnp.isfinite(mix.eigs * mix.eigs2 * mix.signal * mix.shift))


def finish(bias, variance, collapse, kappa, *, valid, converged, infinite, theta=None, supported=True) -> Risk:
    """Assemble a `Risk`: status codes, NaN for invalid or non-converged points, +inf at thresholds."""
    total = bias + variance + collapse
    supported = jnp.asarray(supported, dtype=bool)
    # Fixed teachers at a threshold: the cross term may be -inf against a +inf bias, but the
    # total's coefficient of the diverging factor is a non-negative quadratic form, so it is +inf.
    total = jnp.where(infinite & jnp.isnan(total), jnp.inf, total)
    # At a ridgeless threshold only the terms with a non-zero coefficient blow up; the status says
    # INFINITE exactly when the total does (a noiseless clean fit at n = d stays finite).
    infinite = infinite & jnp.isinf(total)
    status = jnp.where(
        ~valid,
        Status.INVALID_INPUT,
        jnp.where(
            ~supported,
            Status.NO_THEORY,
            jnp.where(~converged, Status.NOT_CONVERGED, jnp.where(infinite, Status.INFINITE, Status.OK)),
        ),
    ).astype(jnp.int32)
    bad = ~(valid & converged & supported)

    def mask(x):
        return None if x is None else jnp.where(bad, jnp.nan, x)

    return Risk(
        total=mask(total),
        bias=mask(bias),
        variance=mask(variance),
        collapse=mask(collapse),
        kappa=mask(kappa),
        status=status,
        theta=mask(theta),
    )


def times(coef, v):
    """coef · v with 0 · inf = 0: a term with a zero coefficient stays zero at a threshold."""
    return jnp.where(coef == 0, 0.0, coef * v)


# Grids of many points share the spectrum: df1 tabulated once on a log grid narrows each point's
# root bracket to two neighbouring nodes (TABLE_STEPS cheap halvings), leaving a few exact Newton
# steps. Up to TABLE_ABOVE points the table would cost more than it saves (256 is also a point
# bucket of `_buckets`, so a padded call makes the same choice as an unpadded one).
TABLE_STEPS = 11
TABLE_NODES = 2**TABLE_STEPS
TABLE_ABOVE = 256
TABLE_DECADES = 8.0  # the table spans [min(s) 1e-8, max(s) 1e8]; roots outside keep the full bracket


def count(mu, values):
    r"""$\sum_j$ `values[j]` over directions: entry j counts `mu[j]` times (`mu = None`: once)."""
    return jnp.sum(values, axis=-1) if mu is None else jnp.sum(mu * values, axis=-1)


def exact_at_zero(df2, x, d):
    """df2 at x, made exactly d where x = 0 (a compressed spectrum's counts sum to d only up to
    rounding, and thresholds compare n with d), keeping df2's derivative there."""
    return df2 + jnp.where(x == 0, d - jax.lax.stop_gradient(df2), 0.0)


def df1_table(s, mu=None):
    """`(nodes, df1(nodes))` on `TABLE_NODES` log-spaced nodes, computed in blocks (O(d) memory)."""
    span = TABLE_DECADES * jnp.log(10.0)
    nodes = jnp.exp(jnp.linspace(jnp.log(jnp.min(s)) - span, jnp.log(jnp.max(s)) + span, TABLE_NODES, dtype=s.dtype))
    df1 = jax.lax.map(lambda x: count(mu, s / (s + x)), nodes, batch_size=64)
    return nodes, df1


def grid_table(mix: Mixture, *scalars):
    """The df1 table when a call evaluates enough points to pay for it, else `None` (static)."""
    points = math.prod(jnp.broadcast_shapes(*(jnp.shape(x) for x in scalars)))
    return df1_table(mix.eigs, mix.multiplicity) if points > TABLE_ABOVE else None


def narrow_bracket(table, residual, lo, hi):
    """`(lo, hi, x0)`: the root bracket narrowed by the table, `residual(node, df1_at_node)` being the
    equation at a node. Without a table, or for a degenerate bracket `lo >= hi` (a root known in
    closed form), the bracket is returned as is."""
    if table is None:
        return lo, hi, None
    nodes, df1 = table
    t_lo, t_hi, x0 = tabulated_bracket(lambda i: residual(nodes[i], df1[i]), nodes, lo, hi, TABLE_STEPS)
    fixed = lo >= hi
    return jnp.where(fixed, lo, t_lo), jnp.where(fixed, hi, t_hi), x0


_POWER_OF_S = {"rr": 2, "rq": 1, "qq": 0}


def moments(s, x, wanted, mu=None):
    r"""Moment sums $\sum_j w_j b_j$ with $b \in \{r^2, rq, q^2\}$, $r_j = s_j/(s_j+x)$, $q_j = x/(s_j+x)$.

    `wanted` is a tuple of `(weights, basis)` pairs (`basis` one of `"rr"`, `"rq"`, `"qq"`; `weights`
    a length-d vector or `None` for the direction count: `mu`, or ones). Since $r^2 = s^2/(s+x)^2$, $rq = x\,s/(s+x)^2$ and
    $q^2 = x^2/(s+x)^2$, all of them are one matrix-vector product of point-independent rows
    $w\,s^k$ with $1/(s+x)^2$ — one division per direction and point, no cancellation (every term
    is non-negative, which matters as $x \to 0$).
    """
    ones = jnp.ones_like(s) if mu is None else mu
    rows = jnp.stack([(ones if w is None else w) * s ** _POWER_OF_S[b] for w, b in wanted])
    inv = 1.0 / (s + x)
    sums = rows @ (inv * inv)
    return tuple(sums[i] * x ** (2 - _POWER_OF_S[b]) for i, (_, b) in enumerate(wanted))
