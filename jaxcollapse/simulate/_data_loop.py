r"""Monte Carlo of self-consuming data loops (twin of `jc.theory.data_loop`).

The model (Gerstgrasser et al. 2024, *Is Model Collapse Inevitable?*; Kazdan, Schaeffer et al.
2024, *Collapse or Thrive?*). Generation 0 fits ridge on $n_0$ real rows: $X_0 \sim N(0, \Sigma)$,
$y_0 = X_0 w^* + \varepsilon_0$, $\varepsilon_0 \sim N(0, \sigma_1^2)$ (`mix.noise_var`), $w^*$ from
the mixture's prior. Generation $g \ge 1$ labels covariates $X_g$ with the previous model:
$y_g = X_g \hat w_{g-1} + \varepsilon_g$, $\varepsilon_g \sim N(0, \sigma_0^2)$ (`generator_noise_var`).
`design="fixed"`: $X_g = X_0$ for every $g$; `design="fresh"`: new $X_g \sim N(0, \Sigma)$ each
generation. Policies:

- `"replace"`: $\hat w_g$ = ridge on $(X_g, y_g)$ only;
- `"accumulate"`: $\hat w_g$ = ridge on all rows of generations $0..g$;
- `"accumulate-subsample"`: $\hat w_g$ = ridge on $n_0$ rows drawn uniformly without replacement
  from all rows of generations $0..g$.

Ridge: $\arg\min_w \frac1N\|Xw - y\|^2 + \lambda\|w\|^2$ over the $N$ rows used (min-norm at
$\lambda = 0$). The error: $E\|\hat w_G - w^*\|^2_\Sigma$ (no label noise).

One trial runs one chain to the largest requested generation and records the error of every
generation on the way (one chain serves every $G$ of a call); every $\lambda$ of the call runs its
own chain on the same draws (common random numbers). "accumulate" keeps sufficient statistics
(the running mean of the labels for a fixed design; $\sum_j X_j^\top X_j$ and $\sum_j X_j^\top y_j$
for a fresh one), never the growing stack of rows. Fits go through a $d \times d$
eigendecomposition of the Gram matrix, so $\lambda = 0$ is the min-norm (pseudo-inverse) fit; a fixed
design with "replace" or "accumulate" decomposes once per trial.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._batch import broadcast_map
from .._linalg import eigh, pinv_diag
from .._problem import Mixture
from .._results import Estimate
from .._trials import chunk_size_for, run_trials, trials_last
from .._types import Counts, Key, Scalars
from .._validate import (
    check_chain,
    check_loop,
    check_mixture,
    require_directions,
    require_same_covariance,
)

_MAX_CHUNK = 64


def data_loop(
    mix: Mixture,
    *,
    n0: int,
    generations: Counts,
    lam: Scalars,
    generator_noise_var: float,
    policy: str = "replace",
    design: str = "fresh",
    trials: int,
    key: Key,
    chunk_size: int | None = None,
) -> Estimate:
    r"""Simulate a self-consuming data loop (module docstring) and return the error of generation `generations`.

    **Arguments:**

    - `mix`: the `Mixture` ($\Sigma_2 = \Sigma_1$; `eigs` are $\Sigma$, `signal` the prior of
      $w^*$, `noise_var` $\sigma_1^2$; `shift` is not used).
    - `n0`: rows per generation, a Python `int` (it sets array shapes).
    - `generations`: $G \ge 0$, an int or an array of ints (concrete: the chain length).
    - `lam`: ridge $\lambda \ge 0$ of every generation's fit; an array broadcasts against `generations`.
    - `generator_noise_var`: $\sigma_0^2 \ge 0$, a scalar.
    - `policy`: `"replace"`, `"accumulate"` or `"accumulate-subsample"`; `design`: `"fixed"` or `"fresh"`.
    - `trials`, `key`: independent chains and a `jax.random` key; `chunk_size`: trials at once.

    **Returns:** an `Estimate` of shape broadcast(`generations`, `lam`) plus a trailing `trials` axis.
    """
    check_mixture(mix)
    check_loop(policy, design)
    require_same_covariance(mix, "simulate.data_loop")
    require_directions(mix, "simulate.data_loop")
    n0, trials, gens, lam, s0 = check_chain(
        n0=n0,
        trials=trials,
        generations=generations,
        lam=lam,
        generator_noise_var=generator_noise_var,
        why="0 = real data only",
    )
    shape = np.broadcast_shapes(gens.shape, np.shape(lam))
    lam_flat = jnp.broadcast_to(jnp.asarray(lam), shape).reshape(-1)
    length = int(gens.max())
    d = mix.eigs.shape[0]
    rows = (length + 1) * n0 if design == "fresh" and policy == "accumulate-subsample" else n0
    per_trial = 8 * lam_flat.size * (rows * d + 2 * n0 * d + 4 * d * d + (length + 1) * (n0 + 2))
    chunk_size = chunk_size_for(chunk_size, trials, bytes_per_trial=per_trial, max_chunk=_MAX_CHUNK)
    table = _simulate(mix, n0, length, lam_flat, s0, policy, design, trials, chunk_size, key)  # (G+1, points, trials)
    idx_g = np.broadcast_to(gens, shape).reshape(-1)
    samples = table[idx_g, np.arange(idx_g.size)]
    return Estimate.from_samples(samples.reshape(shape + (trials,)))


@eqx.filter_jit
def _simulate(mix, n0, length, lam, s0, policy, design, trials, chunk_size, key):
    def one_trial(k):
        errors = broadcast_map(functools.partial(_chain, mix, n0, length, s0, policy, design, k), lam=lam)
        return errors.T  # (generations, points)

    return trials_last(run_trials(one_trial, key, trials, chunk_size))


def _fit(gram, rhs, lam):
    r"""Ridge $(G + \lambda)^{-1}r$ through an eigendecomposition of the Gram matrix $G$ (min-norm at 0)."""
    mu, V = eigh(gram)
    return V @ (pinv_diag(mu, lam) * (V.T @ rhs))


def _chain(mix, n0, length, s0, policy, design, key, lam):
    """Errors of generations 0..`length` of one chain: `(length + 1,)`."""
    d = mix.eigs.shape[0]
    kt, kx, ke, ks = jax.random.split(key, 4)
    w_star, _ = mix.draw_teachers(kt)
    sd = jnp.concatenate([jnp.sqrt(mix.noise_var)[None], jnp.full((length,), jnp.sqrt(s0))])
    noise = sd[:, None] * jax.random.normal(ke, (length + 1, n0))  # ε_g, one row per generation
    fresh = design == "fresh"
    if fresh:
        X = jax.vmap(lambda k: mix.inputs(k, n0))(jax.random.split(kx, length + 1))  # (G+1, n0, d)
    else:
        X = jnp.broadcast_to(mix.inputs(kx, n0)[None], (length + 1, n0, d))

    def error(w):
        return jnp.sum(mix.eigs * (w - w_star) ** 2)

    if policy == "replace":
        if fresh:

            def step(w, g):
                y = X[g] @ w + noise[g]
                w_new = _fit(X[g].T @ X[g] / n0, X[g].T @ y / n0, lam)
                return w_new, error(w_new)
        else:
            X0 = X[0]
            mu, V = eigh(X0.T @ X0 / n0)
            inv = pinv_diag(mu, lam)

            def step(w, g):
                y = X0 @ w + noise[g]
                w_new = V @ (inv * (V.T @ (X0.T @ y / n0)))
                return w_new, error(w_new)

        # generation 0 labels with w* itself: the same step from w = w*
        _, errors = jax.lax.scan(step, w_star, jnp.arange(length + 1))
        return errors

    if policy == "accumulate":
        if fresh:

            def step(carry, g):
                w, gram, rhs = carry
                y = X[g] @ w + noise[g]
                gram, rhs = gram + X[g].T @ X[g], rhs + X[g].T @ y
                rows = (g + 1) * n0
                w_new = _fit(gram / rows, rhs / rows, lam)
                return (w_new, gram, rhs), error(w_new)

            init = (w_star, jnp.zeros((d, d)), jnp.zeros(d))
        else:
            X0 = X[0]
            mu, V = eigh(X0.T @ X0 / n0)
            inv = pinv_diag(mu, lam)

            def step(carry, g):
                w, total = carry
                total = total + X0 @ w + noise[g]  # Σ_j y_j: the stack's fit is the fit on the mean label
                w_new = V @ (inv * (V.T @ (X0.T @ total / ((g + 1) * n0))))
                return (w_new, total), error(w_new)

            init = (w_star, jnp.zeros(n0))
        _, errors = jax.lax.scan(step, init, jnp.arange(length + 1))
        return errors

    # accumulate-subsample: the pool holds every row of generations 0..g; n0 of them are drawn
    # uniformly without replacement (the n0 smallest of i.i.d. uniforms over the rows that exist)
    u = jax.random.uniform(ks, (length + 1, (length + 1) * n0))

    def step(carry, g):
        w, Y = carry
        y = X[g] @ w + noise[g]
        Y = Y.at[g].set(y)
        exists = jnp.arange((length + 1) * n0) < (g + 1) * n0
        _, pick = jax.lax.top_k(jnp.where(exists, -u[g], -jnp.inf), n0)
        gen, row = pick // n0, pick % n0
        Xs = X[gen, row]  # (n0, d)
        ys = Y[gen, row]
        w_new = _fit(Xs.T @ Xs / n0, Xs.T @ ys / n0, lam)
        return (w_new, Y), error(w_new)

    _, errors = jax.lax.scan(step, (w_star, jnp.zeros((length + 1, n0))), jnp.arange(length + 1))
    return errors


# n0 and generations set array shapes (and the chain length); generator_noise_var must be a
# scalar here. jc.sweep loops over them in Python.
data_loop.static_arguments = ("n0", "generations", "generator_noise_var")
