r"""Monte Carlo of the self-training chain of *Model Collapse Demystified* (twin of `jc.theory.retraining`).

One trial draws $w_0$, runs the chain $\hat w_{k+1} = X_k^\dagger(X_k\hat w_k + \bar\varepsilon_k)$ for
$k < G_{\max}$ with fresh $X_k$ ($n_0 \times d$) every generation, then one downstream training set
$X$ ($n \times d$) and noise. Every requested generation count $G$ is labelled with the same $X$ and
noise (common random numbers across generations), and every $\lambda$ shares one eigendecomposition.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._linalg import eigh, pinv_diag, spd_solve
from .._problem import Mixture
from .._results import Estimate
from .._trials import chunk_size_for, run_trials, trials_last
from .._types import Counts, Key, Scalars
from .._validate import check_chain, check_int, check_mixture, require_directions, require_same_covariance

_MAX_CHUNK = 256


def retraining(
    mix: Mixture,
    *,
    n: int,
    n0: int,
    generations: Counts,
    lam: Scalars,
    generator_noise_var: float,
    trials: int,
    key: Key,
    chunk_size: int | None = None,
) -> Estimate:
    r"""Simulate ridge trained on the output of a `generations`-step self-training chain.

    **Arguments:** as `jaxcollapse.theory.retraining`, except that `n` and `n0` are Python ints
    (they set array shapes) and `generations` is a non-negative int or an array of them (concrete).
    `lam` may be an array (broadcast against `generations`); `generator_noise_var` a scalar.
    `trials`, `key`: number of independent chains and a `jax.random` key.

    Generation fits are OLS when $n_0 \ge d$ and min-norm interpolation when $n_0 < d$ (Cholesky on
    the smaller Gram matrix); the downstream fit is ridge through an eigendecomposition, so that
    $\lambda = 0$ gives the min-norm solution.

    **Returns:** an `Estimate` with the broadcast shape of `generations` and `lam` plus a trailing
    `trials` axis.
    """
    check_mixture(mix)
    require_same_covariance(mix, "simulate.retraining")
    require_directions(mix, "simulate.retraining")
    n = check_int("n", n)
    n0, trials, gens, lam, s0 = check_chain(
        n0=n0,
        trials=trials,
        generations=generations,
        lam=lam,
        generator_noise_var=generator_noise_var,
        why="0 = clean training",
    )
    shape = jnp.broadcast_shapes(gens.shape, jnp.shape(lam))
    unique, inverse = np.unique(gens, return_inverse=True)
    lam_b = jnp.broadcast_to(lam, shape).reshape(-1)
    d = mix.eigs.shape[0]
    per_trial = 8 * (
        2 * n0 * d + 2 * n * d + 2 * max(min(n, d), 1) ** 2 + min(n0, d) ** 2 + unique.size * (n + d) + lam_b.size * d
    )
    chunk_size = chunk_size_for(chunk_size, trials, bytes_per_trial=per_trial, max_chunk=_MAX_CHUNK)
    table = _simulate(mix, n, n0, tuple(int(g) for g in unique), lam_b, s0, trials, chunk_size, key)
    # table: (unique generations, points, trials); pick each point's generation
    idx_g = np.broadcast_to(inverse.reshape(gens.shape), shape).reshape(-1)
    samples = table[idx_g, np.arange(idx_g.size)]
    return Estimate.from_samples(samples.reshape(shape + (trials,)))


@eqx.filter_jit
def _simulate(mix, n, n0, gens, lam, s0, trials, chunk_size, key):
    def one_trial(k):
        return trial_errors(mix, n, n0, gens, lam, s0, k)

    return trials_last(run_trials(one_trial, key, trials, chunk_size))


def chain(mix: Mixture, n0: int, length: int, s0, w0, key):
    """`(length + 1, d)`: the chain's models ŵ_0 = w0, ŵ_1, …, ŵ_length."""
    d = mix.eigs.shape[0]

    def step(w, k):
        kx, ke = jax.random.split(k)
        X = mix.inputs(kx, n0)
        y = X @ w + jnp.sqrt(s0) * jax.random.normal(ke, (n0,))
        if n0 >= d:  # OLS
            w_next = spd_solve(X.T @ X, X.T @ y)
        else:  # min-norm interpolation
            w_next = X.T @ spd_solve(X @ X.T, y)
        return w_next, w_next

    if length == 0:
        return w0[None]
    _, ws = jax.lax.scan(step, w0, jax.random.split(key, length))
    return jnp.concatenate([w0[None], ws])


def trial_errors(mix: Mixture, n: int, n0: int, gens: tuple, lam, s0, key):
    """Errors `(len(gens), len(lam))` of one trial."""
    d = mix.eigs.shape[0]
    kw, kc, kx, ke = jax.random.split(key, 4)
    w0, _ = mix.draw_teachers(kw)
    models = chain(mix, n0, max(gens), s0, w0, kc)[jnp.asarray(gens)]  # (G, d)
    X = mix.inputs(kx, n)
    Y = models @ X.T + jnp.sqrt(mix.noise_var) * jax.random.normal(ke, (1, n))  # (G, n)
    if n >= d:
        mu, V = eigh(X.T @ X / n)
        proj = V.T @ (X.T @ Y.T / n)  # (d, G)
        w_hat = jnp.einsum("ij,jl,jg->lgi", V, pinv_diag(mu[:, None], lam[None, :]), proj)  # (L, G, d)
    else:
        mu, U = eigh(X @ X.T / n)
        proj = U.T @ Y.T  # (n, G)
        alpha = jnp.einsum("ij,jl,jg->lgi", U, pinv_diag(mu[:, None], lam[None, :]), proj) / n  # (L, G, n)
        w_hat = alpha @ X  # (L, G, d)
    err = jnp.sum(mix.eigs[None, None, :] * (w_hat - w0[None, None, :]) ** 2, axis=-1)  # (L, G)
    return err.T


# n, n0 and generations set array shapes (and the chain length); generator_noise_var must be a
# scalar here. jc.sweep loops over them in Python.
retraining.static_arguments = ("n", "n0", "generations", "generator_noise_var")
