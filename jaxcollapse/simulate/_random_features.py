r"""Monte Carlo twin of `jaxcollapse.theory.random_features`: ridge on σ(Sx) − μ0(τ), sampled.

Each trial draws the teachers, n rows x ~ N(0, Σ) (rows i < round(p2 n) synthetic, labelled by
w1* + δ), a projection S (m × d, N(0, 1/d)), the features F = σ(XSᵀ) − μ0(τ), and fits
$v = (F^\top F/n + \lambda)^{-1}F^\top y/n$ (min-norm at λ = 0; the dual n × n form when m > n). The
test error $E(f(x) - x^\top w_1^*)^2$ is averaged over `test_size` fresh real inputs. One
eigendecomposition per trial serves every (p2, λ) of the call (common random numbers).

The centring is the activation's mean at the typical pre-activation scale, τ² = tr Σ/d (the mean
of sᵢᵀΣsᵢ; τ = 1 for Σ = I): τ/√(2π) for relu, 0 for the odd activations (`mean_at`). So relu
features of a rescaled Σ are the same features rescaled, and the error scales with them.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp

from .._activations import FUNCTIONS, check_activation, mean_at
from .._batch import broadcast_map
from .._linalg import eigh, pinv_diag
from .._problem import Mixture
from .._results import Estimate
from .._trials import chunk_size_for, run_trials, trials_last
from .._types import Key, Scalars
from .._validate import check_int, check_mixing, check_mixture, require_directions
from ._random_projections import projection

_MAX_CHUNK = 16


def random_features(
    mix: Mixture,
    *,
    n: int,
    m: int,
    p2: Scalars,
    lam: Scalars,
    activation: str = "relu",
    trials: int,
    key: Key,
    test_size: int = 1000,
    chunk_size: int | None = None,
) -> Estimate:
    """Simulate ridge on nonlinear random features; `n`, `m`, `trials`, `test_size` are Python ints.

    `chunk_size`: trials evaluated at once (default: as many as fit in about 512 MiB, at most 16)."""
    check_mixture(mix)
    check_activation(activation)
    n = check_int("n", n, why="it sets array shapes")
    m = check_int("m", m, why="it sets array shapes")
    trials = check_int("trials", trials)
    test_size = check_int("test_size", test_size)
    require_directions(mix, "random_features")
    _, p2, lam, _ = check_mixing(n=n, p2=p2, lam=lam, weight=1.0)
    d = mix.eigs.shape[0]
    per_trial = 8 * (2 * n * d + m * d + 2 * (n + test_size) * m + 3 * min(n, m) ** 2 + test_size * d)
    chunk_size = chunk_size_for(chunk_size, trials, bytes_per_trial=per_trial, max_chunk=_MAX_CHUNK)
    samples = _simulate(mix, n, m, activation, test_size, jnp.asarray(p2), jnp.asarray(lam), trials, chunk_size, key)
    return Estimate.from_samples(samples)


@eqx.filter_jit
def _simulate(mix, n, m, activation, test_size, p2, lam, trials, chunk_size, key):
    """All trials, compiled once per (sizes, activation, shapes) and reused across calls."""
    one = functools.partial(_trial, mix, n, m, activation, test_size, p2, lam)
    return trials_last(run_trials(one, key, trials, chunk_size))


def _trial(mix, n, m, activation, test_size, p2, lam, key):
    sigma = FUNCTIONS[activation]
    mu0 = mean_at(activation, jnp.sqrt(jnp.mean(mix.eigs)))  # τ² = tr Σ / d
    k_data, k_proj, k_test = jax.random.split(key, 3)
    data = mix.sample(k_data, n)
    S = projection(k_proj, m, mix.eigs.shape[0])
    F = sigma(data.X @ S.T) - mu0
    Xt = mix.inputs(k_test, test_size)
    Ft = sigma(Xt @ S.T) - mu0
    target = Xt @ data.teacher
    primal = m <= n
    mu, V = eigh(F.T @ F / n) if primal else eigh(F @ F.T / n)

    def point(p2, lam):
        y = data.labels(jnp.round(p2 * n))
        if primal:
            v = V @ (pinv_diag(mu, lam) * (V.T @ (F.T @ y / n)))
        else:
            v = F.T @ (V @ (pinv_diag(mu, lam) * (V.T @ y))) / n
        return jnp.mean((Ft @ v - target) ** 2)

    return broadcast_map(point, p2=p2, lam=lam)


random_features.static_arguments = ("n", "m")  # set array shapes: jc.sweep loops over them
