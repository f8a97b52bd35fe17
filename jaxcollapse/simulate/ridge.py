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
import jax
import jax.numpy as jnp

from .._batch import broadcast_map
from .._linalg import eigh
from .._problem import Mixture
from .._results import Estimate
from .._validate import check_mixing, check_positive_int, require_directions

_MEMORY_BUDGET = 512 * 2**20  # bytes of working arrays per chunk of trials
_MAX_CHUNK = 64  # larger vmapped batches of small eigendecompositions do not run faster on CPU


def ridge(mix: Mixture, *, n, p2, lam, trials, key, weight=1.0, chunk_size=None) -> Estimate:
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
    require_directions(mix, "simulate.ridge")
    n = check_positive_int("n", n)
    trials = check_positive_int("trials", trials)
    _, p2, lam, weight = check_mixing(n=n, p2=p2, lam=lam, weight=weight)
    points = math.prod(jnp.broadcast_shapes(jnp.shape(p2), jnp.shape(lam), jnp.shape(weight)))
    if chunk_size is None:
        d = mix.eigs.shape[0]
        per_trial = 8 * (3 * n * d + 3 * min(n, d) ** 2) * points
        chunk_size = max(1, min(trials, _MAX_CHUNK, _MEMORY_BUDGET // per_trial))
    chunk_size = check_positive_int("chunk_size", chunk_size)
    samples = _simulate(mix, n, p2, lam, weight, trials, chunk_plan(trials, chunk_size), key)
    return Estimate.from_samples(samples)


def chunk_plan(trials: int, chunk_size: int) -> tuple[int, int]:
    """`(chunks, size)` with `chunks * size >= trials` and equal chunks; the surplus repeats trials and is dropped."""
    chunks = -(-trials // min(chunk_size, trials))
    return chunks, -(-trials // chunks)


@eqx.filter_jit
def _simulate(mix, n, p2, lam, weight, trials, plan, key):
    chunks, size = plan
    keys = jax.random.split(key, trials)
    keys = jnp.concatenate([keys, keys[: chunks * size - trials]])  # padding, discarded below

    def one_trial(k):
        return broadcast_map(functools.partial(_trial, mix, n, k), p2=p2, lam=lam, weight=weight)

    out = jax.lax.map(one_trial, keys, batch_size=size)
    return jnp.moveaxis(out[:trials], 0, -1)


def draw(mix: Mixture, n: int, n2, key):
    """One training set: rows `i < n2` synthetic. Returns `(X, y, synthetic_mask, w1)`."""
    d = mix.eigs.shape[0]
    kz, kt, ke = jax.random.split(key, 3)
    z = jax.random.normal(kz, (n, d))
    w1, delta = teachers(mix, kt)
    synthetic = jnp.arange(n) < n2
    X = z * jnp.where(synthetic[:, None], jnp.sqrt(mix.eigs2), jnp.sqrt(mix.eigs))
    noise_sd = jnp.where(synthetic, jnp.sqrt(mix.synthetic_noise_var), jnp.sqrt(mix.noise_var))
    y = X @ w1 + jnp.where(synthetic, X @ delta, 0.0) + noise_sd * jax.random.normal(ke, (n,))
    return X, y, synthetic, w1


def teachers(mix: Mixture, key):
    """`(w1*, delta)`: drawn from the priors N(0, Γ), N(0, Δ), or the mixture's fixed vectors."""
    if mix.teacher is not None:
        return mix.teacher, mix.teacher_shift
    kw, kd = jax.random.split(key)
    w1 = jnp.sqrt(mix.signal) * jax.random.normal(kw, (mix.eigs.shape[0],))
    delta = jnp.sqrt(mix.shift) * jax.random.normal(kd, (mix.eigs.shape[0],))
    return w1, delta


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


def pinv_diag(mu, lam):
    """1/(mu + lam), with numerically zero eigenvalues dropped when lam = 0 (pseudo-inverse)."""
    cutoff = mu.shape[0] * jnp.finfo(mu.dtype).eps * jnp.max(jnp.abs(mu))
    shifted = mu + lam
    keep = shifted > cutoff
    return jnp.where(keep, 1.0 / jnp.where(keep, shifted, 1.0), 0.0)


def _trial(mix, n, key, p2, lam, weight):
    n2 = jnp.round(p2 * n)
    X, y, synthetic, w1 = draw(mix, n, n2, key)
    w_hat = weighted_ridge(X, y, jnp.where(synthetic, weight, 1.0), lam)
    return jnp.sum(mix.eigs * (w_hat - w1) ** 2)


ridge.static_arguments = ("n",)  # sets array shapes: jc.sweep loops over it
