r"""Random-projection ridge of width $m$ on a real + synthetic mixture (*Strong Model Collapse*, §3 of the notes).

Model: $f(x) = v^\top S x$ with a frozen $S \in \mathbb R^{m\times d}$, $S_{ij} \sim N(0, 1/d)$, and
$\hat v = \arg\min_v \frac1n\sum_i (v^\top S x_i - y_i)^2 + \lambda\|v\|^2$ on $n_1 = p_1 n$ real and
$n_2 = p_2 n$ synthetic samples ($\Sigma_2 = \Sigma_1 = \Sigma$, label shift $\delta = w_2^* - w_1^*$).
Test error $\|S^\top\hat v - w_1^*\|^2_{\Sigma}$ on the real distribution, without label noise.

The deterministic equivalent has two scalars, $\kappa$ (data level) and $\theta$ (projection level):
$$\kappa - \lambda = \kappa\,\mathrm{df}_1(\theta)/n,\qquad \theta - \kappa d/m = \theta\,\mathrm{df}_1(\theta)/m.$$
Eliminating $\kappa$ leaves one equation in $\theta$. With $t = \mathrm{df}_1(\theta)$, $k = \min(m, n)$
and $K = \max(m, n)$ it is solved here in the form
$$k - t = \frac{\lambda d n}{\theta\,(K - t)},$$
whose right side is increasing in $\theta$ and whose $\lambda = 0$ version, $t = k$, is the ridgeless
limit itself. The gaps $m - t$ and $n - t$, which vanish at the interpolation threshold, are carried
exactly (never as differences of nearly equal numbers), so that $\lambda = 0$ is finite on both sides
of $m = n$ and $+\infty$ exactly at it.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax.numpy as jnp

from .._batch import block_for, broadcast_map
from .._buckets import call_bucketed
from .._problem import Mixture
from .._results import Risk
from .._solve import bracketed_root
from .._types import Scalars
from .._validate import check_mixing, check_mixture, check_scalar, require_same_covariance, valid_mask
from ._common import count, exact_at_zero, finish, grid_table, mixture_valid, moments, narrow_bracket, times


def random_projections(mix: Mixture, *, n: Scalars, m: Scalars, p2: Scalars, lam: Scalars) -> Risk:
    r"""Deterministic-equivalent test error of width-$m$ random-projection ridge on a mixture.

    With $r_j = s_j/(s_j+\theta)$, $q_j = 1 - r_j$, $F_1(A) = \sum_j A_j q_j$ and
    $F_2(A) = \sum_j A_j q_j(1 - \rho r_j)$, where $\rho = \kappa\theta'/\theta = (m - t)/(m - \mathrm{df}_2(\theta))$,
    and $u = \mathrm{df}_2^{RP}/(n - \mathrm{df}_2^{RP})$ with $\mathrm{df}_2^{RP} = t - \rho(t - \mathrm{df}_2(\theta))$:

    $$B = (1+u)F_2(\Sigma\Gamma),\qquad V = u\,\bar\sigma^2,\qquad
      \zeta = p_2^2(1 + p_1u)\,G(\Sigma\Delta) + p_2u\,[p_1^2\,\mathrm{tr}\,\Sigma\Delta + 2p_1p_2F_1(\Sigma\Delta) + p_2^2F_2(\Sigma\Delta)],$$
    $G(A) = \mathrm{tr}A - 2F_1(A) + F_2(A)$. For fixed teachers, $\Gamma \to w_1^{*2}$, $\Delta \to \delta^2$ and
    `collapse` gains the cross term $-2p_2[F_1(C) - (1+u)F_2(C)]$, $C_j = s_j w_{1j}^*\delta_j$.

    **Arguments:**

    - `mix`: the `Mixture`; it must have $\Sigma_2 = \Sigma_1$ (`synthetic_eigs=None`).
    - `n`: total sample size, real-valued, `> 0`.
    - `m`: width (number of random features), real-valued, `> 0`; the interpolation threshold is
      `m = n`.
    - `p2`: synthetic fraction in `[0, 1]`.
    - `lam`: ridge $\lambda \ge 0$ on $v$, for the loss $\frac1n\|XS^\top v - y\|^2 + \lambda\|v\|^2$;
      `0` is the ridgeless (min-norm) limit. Because $S$ has entries of variance $1/d$, a very wide
      model ($m \gg d$) behaves like ridge in $x$-space with penalty $\lambda d/m$.

    `n`, `m`, `p2`, `lam` broadcast against each other. Works under `jit`, `vmap` and `grad` (the
    $\theta$ root is differentiated implicitly; $\partial E/\partial m$ is the "bigger model helps or
    hurts" phase boundary). At $\lambda = 0$ derivatives are one-sided (from $\lambda > 0$).

    **Returns:** a `Risk` with `kappa` $= \kappa$ and `theta` $= \theta$. At $\lambda = 0$ and
    $m = n < d$ (or $d = n \le m$) the total is `+inf` with `Status.INFINITE`; invalid points inside a
    traced batch are NaN with `Status.INVALID_INPUT`.
    """
    check_mixture(mix)
    require_same_covariance(mix, "random_projections")
    n, p2, lam, _ = check_mixing(n=n, p2=p2, lam=lam, weight=1.0)
    m = check_scalar("m", m, low=0.0, strict=True)
    return call_bucketed(_random_projections_jit, mix, n=n, m=m, p2=p2, lam=lam)


@eqx.filter_jit
def _random_projections_jit(mix, n, m, p2, lam):
    table = grid_table(mix, n, m, p2, lam)
    return broadcast_map(
        functools.partial(_point, mix, table), block=block_for(mix.eigs.shape[0]), n=n, m=m, p2=p2, lam=lam
    )


def _theta_equation(theta, args):
    r"""$f(\theta) = k - t - \lambda d n/(\theta(K - t))$, increasing; $-\infty$ where $K - t \le 0$."""
    k, K, c, s, ms = args  # ms: direction counts times s, formed once outside the iteration
    return _theta_residual(theta, jnp.sum(ms / (s + theta), axis=-1), k, K, c)


def _theta_residual(theta, t, k, K, c):
    denom = theta * jnp.maximum(K - t, 0.0)
    safe = denom > 0
    term = jnp.where(safe, c / jnp.where(safe, denom, 1.0), jnp.where(c > 0, jnp.inf, 0.0))
    return k - t - term


def solve_theta(s, n, m, lam, table=None, mu=None, d=None):
    r"""$(\theta, k - t, \text{converged})$ for eigenvalues `s`, sample size `n`, width `m`, ridge `lam`.

    $k - t = \min(m,n) - \mathrm{df}_1(\theta)$ is returned in a cancellation-free form: from the
    equation, $g = k - t$ solves $g(K - k + g) = \lambda d n/\theta$.
    """
    d = s.shape[0] if d is None else d
    k = jnp.minimum(m, n)
    K = jnp.maximum(m, n)
    c = lam * d * n
    # Ridgeless with d ≤ min(m, n): the root is θ = 0 (no direction is left unfitted). Near it,
    # θ ≈ λ d n / ((k - d)(K - d)), which gives the one-sided derivative in λ.
    at_zero = (lam == 0) & (d <= k)
    hi = jnp.where(at_zero, 0.0, 2.0 * count(mu, s) / k + 4.0 * c / (m * n))
    lo, hi, x0 = narrow_bracket(table, lambda t, df1: _theta_residual(t, df1, k, K, c), jnp.zeros_like(hi), hi)
    ms = s if mu is None else mu * s
    theta, converged = bracketed_root(_theta_equation, (k, K, c, s, ms), lo, hi, x0, _theta_value_and_derivative)
    slope_ok = at_zero & (d < k)
    slope = jnp.where(slope_ok, d * n / jnp.where(slope_ok, (k - d) * (K - d), 1.0), 0.0)
    theta = jnp.where(at_zero, lam * slope, theta)

    b = K - k
    cq = jnp.where(theta > 0, c / jnp.where(theta > 0, theta, 1.0), 0.0)
    root = jnp.sqrt(b * b + 4.0 * cq)
    pos = (b + root) > 0
    gap = jnp.where(pos, 2.0 * cq / jnp.where(pos, b + root, 1.0), 0.0)
    return theta, gap, at_zero, converged


def _theta_value_and_derivative(theta, args):
    """`_theta_equation` and its derivative from one pass over the spectrum."""
    k, K, c, s, ms = args
    inv = 1.0 / (s + theta)
    t = jnp.sum(ms * inv, axis=-1)
    dt = -jnp.sum(ms * inv * inv, axis=-1)
    f = _theta_residual(theta, t, k, K, c)
    slack = K - t
    ok = (theta > 0) & (slack > 0)
    safe = jnp.where(ok, theta * slack, 1.0)
    return f, -dt + jnp.where(ok, c * (slack - theta * dt) / (safe * safe), 0.0)


def _point(mix: Mixture, table, n, m, p2, lam) -> Risk:
    valid = valid_mask((n, 0.0, None, True), (m, 0.0, None, True), (p2, 0.0, 1.0, False), (lam, 0.0, None, False))
    valid &= mixture_valid(mix)
    n = jnp.where(valid, n, 1.0)
    m = jnp.where(valid, m, 1.0)
    p2 = jnp.where(valid, p2, 0.0)
    lam = jnp.where(valid, lam, 1.0)
    p1 = 1.0 - p2
    s, mu, d = mix.eigs, mix.multiplicity, mix.d

    theta, gap, at_zero, converged = solve_theta(s, n, m, lam, table, mu, d)
    ab, az = mix.signal * s, mix.shift * s
    wanted = ((None, "rr"), (None, "rq"), (ab, "rq"), (ab, "qq"), (az, "rr"), (az, "rq"), (az, "qq"))
    if mix.cross is not None:
        wanted += ((mix.cross * s, "rq"), (mix.cross * s, "qq"))
    sums = moments(s, theta, wanted, mu)
    t2, spread = sums[0], sums[1]  # df2(theta) and t - t2, without cancellation
    t2 = exact_at_zero(t2, theta, d)
    t = t2 + spread
    gap = jnp.where(at_zero, jnp.minimum(m, n) - t, gap)
    m_gap = jnp.where(m <= n, gap, gap + (m - jnp.minimum(m, n)))  # m - t
    n_gap = jnp.where(m <= n, gap + (n - m), gap)  # n - t
    mt2 = m_gap + spread  # m - df2(theta) > 0 unless theta = 0 and m = d
    rho = jnp.where(mt2 > 0, m_gap / jnp.where(mt2 > 0, mt2, 1.0), 0.0)
    # 1 - rho: near 1 - rho is a good difference; near rho = 1 it lost every digit in float32 (errors
    # of 1e-9 of the signal were 1e-3 off), and spread / (m - df2), the same number, keeps them
    co_rho = jnp.where(rho > 0.5, spread / jnp.where(mt2 > 0, mt2, 1.0), 1.0 - rho)
    kappa = theta * m_gap / d

    df2_rp = t - rho * spread
    denom = n_gap + rho * spread
    infinite = ~(denom > 0)
    u = jnp.where(infinite, jnp.inf, df2_rp / jnp.where(infinite, 1.0, denom))

    # With moments (rr, rq, qq) of a weight A: F1 = rq + qq, F2 = (1 - rho) rq + qq,
    # G = tr A - 2 F1 + F2 = rr + (1 - rho) rq.
    f2_b = co_rho * sums[2] + sums[3]
    bias = f2_b + times(f2_b, u)
    sigma_bar2 = p1 * mix.noise_var + p2 * mix.synthetic_noise_var
    variance = times(sigma_bar2, u)
    z_rr, z_rq, z_qq = sums[4:7]
    g_z = z_rr + co_rho * z_rq
    h_z = p1**2 * jnp.sum(az) + 2.0 * p1 * p2 * (z_rq + z_qq) + p2**2 * (co_rho * z_rq + z_qq)
    zeta = p2**2 * g_z + times(p2**2 * p1 * g_z + p2 * h_z, u)
    cross = 0.0
    if mix.cross is not None:
        c_rq, c_qq = sums[7:9]
        f2_c = co_rho * c_rq + c_qq
        cross = -2.0 * p2 * (c_rq + c_qq - f2_c - times(f2_c, u))
    return finish(bias, variance, zeta + cross, kappa, valid=valid, converged=converged, infinite=infinite, theta=theta)
