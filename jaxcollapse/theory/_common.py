"""Pieces every theory kernel shares: traced validity of a `Mixture`, and assembling a `Risk`."""

from __future__ import annotations

import jax.numpy as jnp

from .._problem import Mixture
from .._results import Risk, Status


def mixture_valid(mix: Mixture):
    """Traced check of a mixture's ranges (the constructor checks concrete ones eagerly)."""
    ok = jnp.all(mix.eigs > 0) & jnp.all(mix.eigs2 > 0) & jnp.all(mix.signal >= 0) & jnp.all(mix.shift >= 0)
    ok &= (mix.noise_var >= 0) & (mix.synthetic_noise_var >= 0)
    return ok & jnp.all(jnp.isfinite(mix.eigs * mix.eigs2 * mix.signal * mix.shift))


def finish(bias, variance, collapse, kappa, *, valid, converged, infinite, theta=None) -> Risk:
    """Assemble a `Risk`: status codes, NaN for invalid or non-converged points, +inf at thresholds."""
    total = bias + variance + collapse
    # Fixed teachers at a threshold: the cross term may be -inf against a +inf bias, but the
    # total's coefficient of the diverging factor is a non-negative quadratic form, so it is +inf.
    total = jnp.where(infinite & jnp.isnan(total), jnp.inf, total)
    # At a ridgeless threshold only the terms with a non-zero coefficient blow up; the status says
    # INFINITE exactly when the total does (a noiseless clean fit at n = d stays finite).
    infinite = infinite & jnp.isinf(total)
    status = jnp.where(
        ~valid,
        Status.INVALID_INPUT,
        jnp.where(~converged, Status.NOT_CONVERGED, jnp.where(infinite, Status.INFINITE, Status.OK)),
    ).astype(jnp.int32)
    bad = ~(valid & converged)

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
