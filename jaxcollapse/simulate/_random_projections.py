r"""Monte Carlo twin of `jaxcollapse.theory.random_projections`: width-$m$ random-projection ridge on sampled data.

One trial draws the design $X$ ($n \times d$, rows $N(0,\Sigma)$), the label noise, the teachers
$w_1^*, \delta$ and one projection $S$, then evaluates every requested (width, $p_2$, $\lambda$):

* **One decomposition per width and trial.** With $\Sigma_2 = \Sigma_1$ the design does not depend on
  which rows are synthetic, so the features $Z = XS^\top$ and the eigendecomposition of the Gram
  matrix ($Z^\top Z/n$, $m \times m$, when $m \le n$; the kernel $ZZ^\top/n$, $n \times n$, when
  $m > n$) are shared by every $p_2$ and every $\lambda$; each point then costs a few
  matrix-vector products. $\lambda = 0$ is the min-norm (pseudo-inverse) fit.
* **Nested widths.** Width $m$ uses the first $m$ rows of one projection. Row $i$ of $S$ is drawn
  from `fold_in(key, i)`, so the projection a width sees does not depend on which other widths are
  requested. Nesting correlates the errors of different widths within a trial (which makes
  differences between widths sharper); each width on its own is exactly the model's distribution, so
  expectations are unchanged. Each width is factored at its own size (the cheapest compute), so
  the program is compiled for the set of widths a call asks for: give every width of a study in
  one call (one compilation, about 0.15 s more per extra width) rather than one call per width.
  Padding every width to the widest of its group would compile once per group size but multiply
  the factorisation cost by up to k·M³/Σm³ (2.6× for widths n/4, n/2, 3n/4, n).
* Every point of one call sees the same draws in a given trial (common random numbers). Trials are
  evaluated in chunks that bound memory; results do not depend on the chunk size.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._linalg import eigh, pinv_diag, spd_solve
from .._problem import Mixture
from .._results import Estimate
from .._trials import chunk_size_for, run_trials, trials_last
from .._types import Counts, Key, Scalars
from .._validate import (
    check_int,
    check_mixing,
    check_mixture,
    concrete_ints,
    is_concrete,
    require_directions,
    require_same_covariance,
)

_MAX_CHUNK = 64


def random_projections(
    mix: Mixture,
    *,
    n: int,
    m: Counts,
    p2: Scalars,
    lam: Scalars,
    trials: int,
    key: Key,
    chunk_size: int | None = None,
) -> Estimate:
    r"""Simulate width-$m$ random-projection ridge on a real + synthetic mixture.

    $\hat v = (Z^\top Z/n + \lambda)^{-1}Z^\top y/n$ with $Z = XS^\top$, $S_{ij} \sim N(0, 1/d)$; the
    recorded error is $\|S^\top\hat v - w_1^*\|^2_\Sigma$.

    **Arguments:**

    - `mix`: the `Mixture`, with $\Sigma_2 = \Sigma_1$.
    - `n`: total sample size, a Python `int`; $n_2 = \mathrm{round}(p_2 n)$ rows are synthetic.
    - `m`: width, a positive `int` or an array of them (concrete: widths set array shapes).
    - `p2`, `lam`: as in `jaxcollapse.theory.random_projections`; may be traced.
    - `trials`, `key`: number of independent draws and a `jax.random` key.
    - `chunk_size`: trials evaluated at once (default: as many as fit in about 512 MiB).

    `m`, `p2` and `lam` broadcast against each other.

    **Returns:** an `Estimate` whose `samples` have the broadcast shape plus a trailing `trials` axis.
    """
    check_mixture(mix)
    require_same_covariance(mix, "simulate.random_projections")
    require_directions(mix, "simulate.random_projections")
    n = check_int("n", n)
    widths = check_widths(m)
    trials = check_int("trials", trials)
    _, p2, lam, _ = check_mixing(n=n, p2=p2, lam=lam, weight=1.0)
    point_shape = jnp.broadcast_shapes(jnp.shape(p2), jnp.shape(lam))
    shape = jnp.broadcast_shapes(widths.shape, point_shape)
    points = math.prod(point_shape)
    unique, inverse = np.unique(widths, return_inverse=True)
    primal = tuple(int(w) for w in unique if w <= n)
    dual = tuple(int(w) for w in unique if w > n)
    chunk_size = chunk_size_for(
        chunk_size,
        trials,
        bytes_per_trial=_bytes_per_trial(mix.eigs.shape[0], n, primal, dual, points),
        max_chunk=_MAX_CHUNK,
    )
    p2_flat = jnp.broadcast_to(p2, point_shape).reshape(-1)
    lam_flat = jnp.broadcast_to(lam, point_shape).reshape(-1)
    # One ridge for the whole call: a Cholesky factor per width serves every p2 (a third of the
    # work of an eigendecomposition); several (or traced, or zero) ridges: one eigendecomposition.
    method = "cholesky" if is_concrete(lam) and np.ndim(lam) == 0 and float(lam) > 0 else "eigh"
    table = _simulate(mix, n, primal, dual, p2_flat, lam_flat, trials, chunk_size, key, method)
    idx_w = np.broadcast_to(inverse.reshape(widths.shape), shape)
    idx_p = np.broadcast_to(np.arange(points).reshape(point_shape), shape)
    return Estimate.from_samples(table[idx_w, idx_p])


def check_widths(m) -> np.ndarray:
    """Concrete positive integer widths (an int or an array of them)."""
    return concrete_ints("m", m, low=1, why="widths set array shapes")


def _bytes_per_trial(d, n, primal, dual, points):
    m_max = max(primal + dual)
    words = n * d + m_max * d + n * m_max + points * n
    if primal:
        mp = max(primal)
        words += mp * mp + len(primal) * (3 * mp * mp + 3 * mp * points + 2 * d * points)
    if dual:
        md = max(dual)
        words += len(dual) * (3 * n * n + 3 * n * points + md * points + 2 * d * points + d * md)
    return 8 * words


@eqx.filter_jit
def _simulate(mix, n, primal, dual, p2, lam, trials, chunk_size, key, method):
    def one_trial(k):
        return trial_errors(mix, n, primal, dual, p2, lam, k, method)

    return trials_last(run_trials(one_trial, key, trials, chunk_size))


def projection(key, m: int, d: int):
    """`(m, d)` with entries N(0, 1/d); row `i` comes from `fold_in(key, i)`, so the rows a width
    sees do not depend on how many others are drawn."""
    return jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (d,)))(jnp.arange(m)) / jnp.sqrt(d)


def trial_errors(mix: Mixture, n: int, primal: tuple, dual: tuple, p2, lam, key, method="eigh"):
    """Test errors `(widths, points)` of one trial, widths in the order `primal + dual`: one sample
    (`Mixture.sample`: Σ2 = Σ1, so its design serves every p2) and one projection."""
    k_data, k_proj = jax.random.split(key)
    data = mix.sample(k_data, n)
    S = projection(k_proj, max(primal + dual), mix.eigs.shape[0])
    Z = data.X @ S.T
    Y = data.labels(jnp.round(p2 * n))  # (P, n)
    parts = []
    if primal:
        parts.append(group_errors(Z, S, Y, lam, primal, mix.eigs, data.teacher, method, dual=False))
    if dual:
        parts.append(group_errors(Z, S, Y, lam, dual, mix.eigs, data.teacher, method, dual=True))
    return jnp.concatenate(parts)


def group_errors(Z, S, Y, lam, widths: tuple, s, w1, method="eigh", *, dual: bool):
    r"""Errors `(len(widths), P)` for nested widths that all use the primal or all the dual form.

    Nested widths share their matrices: the Gram matrix of width m is the leading m x m block of
    the widest one's (primal), and the n x n kernels are running sums over blocks of features
    (dual), so forming them costs as much as for the widest width alone. Each width is then
    factored at its own size.
    """
    n = Z.shape[0]
    M = max(widths)
    Z, S = Z[:, :M], S[:M]
    if not dual:
        G = Z.T @ Z / n
        rhs = Z.T @ Y.T / n
        return jnp.stack([fit_primal(G[:m, :m], rhs[:m], S[:m], lam, s, w1, method) for m in widths])
    errors, K, start = [], jnp.zeros((n, n), Z.dtype), 0
    for m in widths:
        block = Z[:, start:m]
        K = K + block @ block.T / n
        errors.append(fit_dual(K, Z[:, :m], S[:m], Y, lam, s, w1, method))
        start = m
    return jnp.stack(errors)


def fit_primal(G, rhs, S, lam, s, w1, method="eigh"):
    r"""Fit from the width's Gram matrix `G` ($Z^\top Z/n$) and `rhs` ($Z^\top Y^\top/n$), one column per point."""
    if method == "cholesky":  # one ridge > 0 for all points
        v = spd_solve(G + lam[0] * jnp.eye(G.shape[0]), rhs)
    else:
        mu, V = eigh(G)
        v = V @ ((V.T @ rhs) * pinv_diag(mu[:, None], lam[None, :]))
    return _errors(S.T @ v, s, w1)


def fit_dual(K, Z, S, Y, lam, s, w1, method="eigh"):
    r"""Fit through the width's $n\times n$ kernel `K` ($ZZ^\top/n$), for widths $m > n$."""
    n = K.shape[0]
    if method == "cholesky":
        alpha = spd_solve(K + lam[0] * jnp.eye(n), Y.T)
    else:
        mu, U = eigh(K)
        alpha = U @ ((U.T @ Y.T) * pinv_diag(mu[:, None], lam[None, :]))
    return _errors(S.T @ (Z.T @ alpha / n), s, w1)


def _errors(w_hat, s, w1):
    return jnp.sum(s[:, None] * (w_hat - w1[:, None]) ** 2, axis=0)


random_projections.static_arguments = ("n", "m")  # set array shapes: jc.sweep loops over them
