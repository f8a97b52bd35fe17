"""Monte Carlo twin of `jaxcollapse.theory.ridge`: the same estimator on sampled data.

Each trial draws $w_1^* \\sim N(0,\\Gamma)$ and $\\delta \\sim N(0,\\Delta)$ afresh (or uses the fixed
teachers of the mixture), $n_2 = \\mathrm{round}(p_2 n)$ synthetic and $n_1 = n - n_2$ real rows,
fits weighted ridge exactly, and records $\\|\\hat w - w_1^*\\|^2_{\\Sigma_1}$. Trials are vmapped and
processed in chunks so that memory stays bounded; every grid point of one call sees the same
draws in a given trial (common random numbers), so differences between points are sharp.
"""

from __future__ import annotations

import functools
import math

import equinox as eqx
import jax.numpy as jnp

from .._batch import broadcast_map
from .._linalg import eigh, pinv_diag
from .._problem import Mixture
from .._results import Estimate
from .._trials import chunk_size_for, run_trials, trials_last
from .._types import Key, Scalars
from .._validate import check_int, check_mixing, check_mixture, require_directions

_MAX_CHUNK = 64  # larger vmapped batches of small eigendecompositions do not run faster on CPU


def ridge(
    mix: Mixture,
    *,
    n: int,
    p2: Scalars,
    lam: Scalars,
    trials: int,
    key: Key,
    weight: Scalars = 1.0,
    chunk_size: int | None = None,
) -> Estimate:
    r"""Simulate ridge on a real + synthetic mixture; returns per-trial test errors.

    **Arguments:**

    - `mix`: the `Mixture` (rows are drawn in its eigenbasis: $x = \Sigma_k^{1/2} z$).
    - `n`: total sample size, a Python `int` (it sets array shapes).
    - `p2`, `lam`, `weight`: as in `jaxcollapse.theory.ridge`; they broadcast, and may be traced.
    - `trials`: number of independent draws; `key`: a `jax.random` key.
    - `chunk_size`: trials evaluated at once (default: as many as fit in about 512 MiB).

    The fit is $\hat w = (X^\top\Omega X/n + \lambda)^{-1}X^\top\Omega y/n$, computed in the primal
    ($d \times d$) form when $n \ge d$ and in the dual ($n \times n$) form when $n < d$, through an
    eigendecomposition so that $\lambda = 0$ gives the min-norm (pseudo-inverse) solution.

    **Returns:** an `Estimate` whose `samples` have the broadcast shape plus a trailing `trials` axis.
    """
    check_mixture(mix)
    require_directions(mix, "simulate.ridge")
    n = check_int("n", n, why="it sets array shapes")
    trials = check_int("trials", trials)
    _, p2, lam, weight = check_mixing(n=n, p2=p2, lam=lam, weight=weight)
    points = math.prod(jnp.broadcast_shapes(jnp.shape(p2), jnp.shape(lam), jnp.shape(weight)))
    d = mix.eigs.shape[0]
    chunk_size = chunk_size_for(
        chunk_size, trials, bytes_per_trial=8 * (3 * n * d + 3 * min(n, d) ** 2) * points, max_chunk=_MAX_CHUNK
    )
    return Estimate.from_samples(_simulate(mix, n, p2, lam, weight, trials, chunk_size, key))


@eqx.filter_jit
def _simulate(mix, n, p2, lam, weight, trials, chunk_size, key):
    def one_trial(k):
        return broadcast_map(functools.partial(_trial, mix, n, k), p2=p2, lam=lam, weight=weight)

    return trials_last(run_trials(one_trial, key, trials, chunk_size))


def weighted_ridge(X, y, omega, lam):
    r"""$(X^\top\Omega X/n + \lambda)^{-1}X^\top\Omega y/n$, min-norm at $\lambda = 0$; primal or dual by shape."""
    n, d = X.shape
    root = jnp.sqrt(omega)
    Xw, yw = X * root[:, None], y * root
    if n >= d:
        mu, V = eigh(Xw.T @ Xw / n)
        return V @ (pinv_diag(mu, lam) * (V.T @ (Xw.T @ yw / n)))
    mu, U = eigh(Xw @ Xw.T / n)
    alpha = U @ (pinv_diag(mu, lam) * (U.T @ yw)) / n
    return Xw.T @ alpha


def _trial(mix, n, key, p2, lam, weight):
    data = mix.sample(key, n, jnp.round(p2 * n))
    w_hat = weighted_ridge(data.X, data.y, jnp.where(data.is_synthetic(), weight, 1.0), lam)
    return jnp.sum(mix.eigs * (w_hat - data.teacher) ** 2)


ridge.static_arguments = ("n",)  # sets array shapes: jc.sweep loops over it
