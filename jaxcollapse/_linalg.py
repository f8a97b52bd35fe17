"""Dense linear algebra that is safe to batch on every backend.

jaxlib 0.10's CPU LAPACK kernels split a batched call across XLA's intra-op thread pool and then
block a pool thread until the pieces finish. When two such calls run at once (XLA runs
independent operations concurrently), every thread of a small pool can end up waiting and the
program deadlocks at 0 % CPU. `eigh` and `spd_solve` here keep each LAPACK call unbatched on the
CPU: under `vmap` it maps sequentially over the batch (`lax.map`), so no call ever waits on the
pool. Work inside one call and independent work around it still run in parallel. Other backends
(cuSOLVER on GPUs, TPUs) batch well and have no such pool, so there the batched call is used; the
choice is made when the program is traced (`sequential_lapack`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def sequential_lapack() -> bool:
    """Whether batched decompositions are mapped one at a time: on the CPU backend only."""
    return jax.default_backend() == "cpu"


@jax.custom_batching.custom_vmap
def eigh(a):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, like `jnp.linalg.eigh`."""
    w, v = jnp.linalg.eigh(a)
    return w, v


@eigh.def_vmap
def _eigh_vmap(axis_size, in_batched, a):
    (batched,) = in_batched
    if not batched:
        return eigh(a), (False, False)
    if not sequential_lapack():
        w, v = jnp.linalg.eigh(a)
        return (w, v), (True, True)
    return jax.lax.map(eigh, a), (True, True)


@jax.custom_batching.custom_vmap
def spd_solve(a, b):
    """Solve `a x = b` for a symmetric positive definite `a` (Cholesky; `b` may have many columns)."""
    return _cholesky_solve(a, b)


def _cholesky_solve(a, b):
    c = jax.scipy.linalg.cho_factor(a, lower=True)
    return jax.scipy.linalg.cho_solve(c, b)


@spd_solve.def_vmap
def _spd_solve_vmap(axis_size, in_batched, a, b):
    a_batched, b_batched = in_batched
    if not (a_batched or b_batched):
        return spd_solve(a, b), False
    a = a if a_batched else jnp.broadcast_to(a, (axis_size,) + a.shape)
    b = b if b_batched else jnp.broadcast_to(b, (axis_size,) + b.shape)
    if not sequential_lapack():
        return jax.vmap(_cholesky_solve)(a, b), True
    return jax.lax.map(lambda ab: spd_solve(*ab), (a, b)), True


def solve_small(a, b):
    """Solve `a x = b` for a small matrix of static size by unrolled elimination (no LAPACK call).

    Meant for the 2 x 2 systems of the theory kernels, whose matrices (`I - J` with `J` a
    non-negative contraction) are M-matrices, for which elimination without pivoting is stable.
    """
    size = a.shape[-1]
    a = [[a[..., i, j] for j in range(size)] for i in range(size)]
    b = [b[..., i] for i in range(size)]
    for k in range(size):
        for i in range(k + 1, size):
            f = a[i][k] / a[k][k]
            a[i] = [a[i][j] - f * a[k][j] for j in range(size)]
            b[i] = b[i] - f * b[k]
    x = [None] * size
    for i in reversed(range(size)):
        acc = b[i]
        for j in range(i + 1, size):
            acc = acc - a[i][j] * x[j]
        x[i] = acc / a[i][i]
    return jnp.stack(x, axis=-1)


def pinv_diag(mu, lam):
    """1/(mu + lam), with numerically zero eigenvalues dropped when lam = 0 (pseudo-inverse)."""
    cutoff = mu.shape[0] * jnp.finfo(mu.dtype).eps * jnp.max(jnp.abs(mu))
    shifted = mu + lam
    keep = shifted > cutoff
    return jnp.where(keep, 1.0 / jnp.where(keep, shifted, 1.0), 0.0)
