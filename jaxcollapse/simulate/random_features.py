r"""Monte Carlo twin of `jaxcollapse.theory.random_features`: ridge on σ(Sx) − μ0, sampled.

Each trial draws the teachers, n rows x ~ N(0, I_d) (rows i < round(p2 n) synthetic, labelled by
w1* + δ), a projection S (m × d, N(0, 1/d)), the features F = σ(XSᵀ) − μ0, and fits
$v = (F^\top F/n + \lambda)^{-1}F^\top y/n$ (min-norm at λ = 0; the dual n × n form when m > n). The
test error $E(f(x) - x^\top w_1^*)^2$ is averaged over `test_size` fresh real inputs. One
eigendecomposition per trial serves every (p2, λ) of the call (common random numbers).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .._batch import broadcast_map
from .._linalg import eigh
from .._problem import Mixture
from .._results import Estimate
from .._validate import check_mixing, check_positive_int, require_directions
from ..theory.random_features import ACTIVATIONS, FUNCTIONS, activation_constants
from .ridge import pinv_diag, teachers


def random_features(
    mix: Mixture, *, n, m, p2, lam, activation: str = "relu", trials, key, test_size: int = 1000
) -> Estimate:
    """Simulate ridge on nonlinear random features; `n`, `m`, `trials`, `test_size` are Python ints."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    n = check_positive_int("n", n)
    m = check_positive_int("m", m)
    trials = check_positive_int("trials", trials)
    test_size = check_positive_int("test_size", test_size)
    require_directions(mix, "random_features")
    _, p2, lam, _ = check_mixing(n=n, p2=p2, lam=lam, weight=1.0)
    keys = jax.random.split(key, trials)
    out = _trials(mix, n, m, activation, test_size, jnp.asarray(p2), jnp.asarray(lam), keys)
    return Estimate.from_samples(jnp.moveaxis(out, 0, -1))


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _trials(mix, n, m, activation, test_size, p2, lam, keys):
    """All trials, 16 at a time; compiled once per (sizes, activation, shapes) and reused across calls."""
    one = functools.partial(_trial, mix, n, m, activation, test_size, p2, lam)
    return jax.lax.map(one, keys, batch_size=min(keys.shape[0], 16))


def _trial(mix, n, m, activation, test_size, p2, lam, key):
    d = mix.eigs.shape[0]
    sigma = FUNCTIONS[activation]
    mu0 = activation_constants(activation)[0]
    kx, kt, ke, ks, kq = jax.random.split(key, 5)
    X = jax.random.normal(kx, (n, d)) * jnp.sqrt(mix.eigs)
    w1, delta = teachers(mix, kt)
    e = jax.random.normal(ke, (n,))
    y_real = X @ w1 + jnp.sqrt(mix.noise_var) * e
    y_syn = X @ (w1 + delta) + jnp.sqrt(mix.synthetic_noise_var) * e
    S = jax.random.normal(ks, (m, d)) / jnp.sqrt(d)
    F = sigma(X @ S.T) - mu0
    Xt = jax.random.normal(kq, (test_size, d)) * jnp.sqrt(mix.eigs)
    Ft = sigma(Xt @ S.T) - mu0
    target = Xt @ w1
    primal = m <= n
    mu, V = eigh(F.T @ F / n) if primal else eigh(F @ F.T / n)
    rows = jnp.arange(n)

    def point(p2, lam):
        y = jnp.where(rows < jnp.round(p2 * n), y_syn, y_real)
        if primal:
            v = V @ (pinv_diag(mu, lam) * (V.T @ (F.T @ y / n)))
        else:
            v = F.T @ (V @ (pinv_diag(mu, lam) * (V.T @ y))) / n
        return jnp.mean((Ft @ v - target) ** 2)

    return broadcast_map(point, p2=p2, lam=lam)


random_features.static_arguments = ("n", "m")  # set array shapes: jc.sweep loops over them
