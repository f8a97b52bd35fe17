r"""Classical ridge regression on a real + synthetic mixture (*Strong Model Collapse*, §2, §6.1).

Estimator: $\hat w = \arg\min_w \frac1n\sum_i \omega_{k(i)}(x_i^\top w - y_i)^2 + \lambda\|w\|^2$ on
$n_1 = p_1 n$ real and $n_2 = p_2 n$ synthetic samples, real weight $\omega_1 = 1$ and synthetic
weight $\omega_2$ = `weight`. Test error $\|\hat w - w_1^*\|^2_{\Sigma_1}$ (no label noise).

Two solvers, chosen by the structure of the `Mixture` (static, never by value):

* $\Sigma_2 = \Sigma_1$ (`synthetic_eigs=None`): one scalar equation for $\bar\kappa$ (Theorem 1
  form; with weights, see `_same_covariance`), exact at $\lambda = 0$ on both sides of $n = d$.
* $\Sigma_2 \ne \Sigma_1$: the coupled $(e_1, e_2)$ system of §2.3/§6.1, solved in the variables
  $\kappa_k = \lambda/e_k$ (finite at $\lambda = 0$ when $n < d$); at $\lambda = 0$ exactly it is
  evaluated at $\lambda = 10^{-12}\,\mathrm{mean}(\Sigma_1)$, a relative change of order $10^{-12}$.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp

from .._batch import block_for, broadcast_map
from .._buckets import call_bucketed
from .._linalg import solve_small
from .._problem import Mixture
from .._results import Risk
from .._solve import bracketed_root, monotone_fixed_point
from .._types import Scalars, Values
from .._validate import check_mixing, check_mixture, check_scalar, valid_mask
from ._common import count, exact_at_zero, finish, grid_table, mixture_valid, moments, narrow_bracket, times

_RIDGELESS_EPS = 1e-12
_SNAP = 4  # ulps of `ridgeless_a` that count as the threshold itself


def ridge(mix: Mixture, *, n: Scalars, p2: Scalars, lam: Scalars, weight: Scalars = 1.0) -> Risk:
    r"""Deterministic-equivalent test error of ridge trained on a real + synthetic mixture.

    For $\Sigma_1 = \Sigma_2 = \Sigma$ and `weight = 1` this is Theorem 1 of *Strong Model Collapse*:
    with $\kappa$ the positive root of $\kappa - \lambda = \kappa\,\mathrm{df}_1(\kappa)/n$ and
    $u = \mathrm{df}_2/(n - \mathrm{df}_2)$,

    $$B = \kappa^2(1+u)\,\mathrm{tr}\,\Gamma\Sigma(\Sigma+\kappa)^{-2},\qquad
      V = \bar\sigma^2 u,\qquad
      \zeta = p_2^2(1 + p_1 u)\,\mathrm{tr}\,\Delta\Sigma^3(\Sigma+\kappa)^{-2}
            + p_2 u\,\mathrm{tr}\,\Delta\Sigma(p_1\Sigma+\kappa)^2(\Sigma+\kappa)^{-2}.$$

    **Arguments:**

    - `mix`: the `Mixture`.
    - `n`: total sample size $n = n_1 + n_2$, real-valued, `> 0`.
    - `p2`: synthetic fraction in `[0, 1]`.
    - `lam`: ridge $\lambda \ge 0$ for the loss $\frac1n\|Xw - y\|^2 + \lambda\|w\|^2$; `0` is the
      ridgeless (min-norm) limit.
    - `weight`: loss weight of synthetic samples relative to real ones, $\omega_2/\omega_1 \ge 0$.

    `n`, `p2`, `lam`, `weight` broadcast against each other. Works under `jit`, `vmap` and `grad`
    (with respect to these and the spectra; the root is differentiated implicitly).

    **Returns:** a `Risk` of the broadcast shape; `collapse` includes the cross term of fixed
    teachers (§2.2). At the ridgeless interpolation threshold the total is `+inf`
    (`Status.INFINITE`); invalid points inside a traced batch are NaN (`Status.INVALID_INPUT`).
    """
    check_mixture(mix)
    n, p2, lam, weight = check_mixing(n=n, p2=p2, lam=lam, weight=weight)
    return call_bucketed(_ridge_jit, mix, n=n, p2=p2, lam=lam, weight=weight)


@eqx.filter_jit
def _ridge_jit(mix, n, p2, lam, weight):
    table = grid_table(mix, n, p2, lam, weight) if mix.same_covariance else None
    return broadcast_map(
        functools.partial(_ridge_point, mix, table),
        block=block_for(mix.eigs.shape[0]),
        n=n,
        p2=p2,
        lam=lam,
        weight=weight,
    )


def _ridge_point(mix: Mixture, table, n, p2, lam, weight) -> Risk:
    valid = valid_mask((n, 0.0, None, True), (p2, 0.0, 1.0, False), (lam, 0.0, None, False), (weight, 0.0, None, False))
    valid &= ~((p2 == 1) & (weight == 0)) & mixture_valid(mix)
    n = jnp.where(valid, n, 1.0)
    p2 = jnp.where(valid, p2, 0.0)
    lam = jnp.where(valid, lam, 1.0)
    weight = jnp.where(valid, weight, 1.0)
    if mix.same_covariance:
        bias, variance, collapse, kappa, converged, infinite = _same_covariance(mix, n, p2, lam, weight, table)
    else:
        bias, variance, collapse, kappa, converged, infinite = _general_covariance(mix, n, p2, lam, weight)
    return finish(bias, variance, collapse, kappa, valid=valid, converged=converged, infinite=infinite)


# ---------------------------------------------------------------------------------------------
# Same covariance: one scalar equation
# ---------------------------------------------------------------------------------------------


def _a_of_delta(delta, p2, weight, excess=None):
    r"""Positive root $a$ of $\sum_k p_k\omega_k/(a + \omega_k\delta) = 1$ ($\omega_1 = 1$, $\omega_2$ = weight).

    Multiplying out gives $a^2 + a((1+\omega)\delta - \bar\omega) - \omega\delta\epsilon = 0$
    with $\bar\omega = p_1 + p_2\omega$ and $\epsilon = 1 - \delta$ (`excess`, by default computed
    from `delta`; pass it when it is known exactly, e.g. $(n - d)/n$ at $\kappa = 0$, so that the
    root is exactly zero at the interpolation threshold); the larger root is taken in the
    cancellation-free form. For $\omega = 1$ it is $a = \epsilon$. The physical branch is the root
    with $a + \omega_k\delta > 0$ (the larger one); negative values (when $\delta$ exceeds the
    interpolation point) mark the region below the root.
    """
    excess = 1.0 - delta if excess is None else excess
    p1 = 1.0 - p2
    omega_bar = p1 + p2 * weight
    b = (1.0 + weight) * delta - omega_bar
    c = -weight * delta * excess
    sq = jnp.sqrt(jnp.maximum(b * b - 4.0 * c, 0.0))
    b_pos = b > 0
    denom = jnp.where(b_pos, sq + b, 1.0)
    larger = jnp.where(b_pos, -2.0 * c / denom, 0.5 * (sq - b))
    # With weight 0 the synthetic term vanishes and so does its pole; the quadratic keeps a
    # spurious root a = 0. The physical branch is then a = p1 - delta = excess - p2 (negative
    # past n1 = df1).
    return jnp.where(weight == 0, excess - p2, larger)


def ridgeless_a(n, d, p2, weight):
    r"""$a$ at $\bar\kappa = 0$ ($\delta = d/n$, $\epsilon = (n - d)/n$ exactly): $\ge 0$ exactly on the
    over-determined side of the ridgeless threshold, and exactly $0$ at it — $n = d$ for a positive
    synthetic weight, $n_1 = d$ (that is, $(n - d)/n = p_2$) for weight 0. Every solver decides the
    threshold with this one expression, so the decision never depends on rounding elsewhere.

    Within `_SNAP` = 4 ulps of zero it is zero: $n_1 = d$ is met only up to rounding when $n$ is not
    exact in binary ($n = d/(1 - p_2)$, e.g. 2000/0.75), and a value of $-10^{-16}$ left the root
    $\bar\kappa \approx 10^{-21}$ to the rounding of a spectral sum, which decided whether the root
    solve converged (it did not, on a compressed spectrum, with jaxlib 0.10.2). Such a point is the
    threshold to working precision: the exact error there is its limit (finite without noise,
    $+\infty$ with it)."""
    a = _a_of_delta(d / n, p2, weight, (n - d) / n)
    snap = _SNAP * jnp.finfo(jnp.result_type(a)).eps
    return jnp.where(jnp.abs(a) <= snap, 0.0, a)


def _kappa_equation(kappa, args):
    r"""$f(\bar\kappa) = \bar\kappa\, a(\mathrm{df}_1(\bar\kappa)/n) - \lambda$ (increasing where it matters).

    `args` carry the spectrum `s` and `ms`, the direction counts times `s` (`s` itself for a full
    spectrum), formed once outside the iteration: a multiplicity then costs nothing per step."""
    n, p2, lam, weight, s, ms = args
    delta = jnp.sum(ms / (s + kappa), axis=-1) / n
    return kappa * _a_of_delta(delta, p2, weight) - lam


def _kappa_value_and_derivative(kappa, args):
    """`_kappa_equation` and its derivative from one pass over the spectrum."""
    n, p2, lam, weight, s, ms = args
    inv = 1.0 / (s + kappa)
    delta = jnp.sum(ms * inv, axis=-1) / n
    ddelta = -jnp.sum(ms * inv * inv, axis=-1) / n
    a, da = jax.jvp(lambda x: _a_of_delta(x, p2, weight), (delta,), (jnp.ones_like(delta),))
    return kappa * a - lam, a + kappa * da * ddelta


def kappa_bracket(s, n, p2, lam, weight, mu=None, d=None):
    r"""Bracket $[\lambda/\bar\omega,\ (\sum_k p_k\omega_k/(\lambda + \omega_k\,\mathrm{tr}\Sigma/n))^{-1}]$ for $\bar\kappa$.

    In the ridgeless over-determined regime ($\lambda = 0$ and $a(d/n) \ge 0$) the root is
    $\bar\kappa = 0$ and the bracket collapses to `[0, 0]`.
    """
    d = s.shape[0] if d is None else d
    p1 = 1.0 - p2
    omega_bar = p1 + p2 * weight
    total = count(mu, s) / n
    syn = jnp.where(weight > 0, p2 * weight / (lam + jnp.where(weight > 0, weight, 1.0) * total), 0.0)
    hi = 1.0 / (p1 / (lam + total) + syn)
    lo = lam / omega_bar
    at_zero = (lam == 0) & (ridgeless_a(n, d, p2, weight) >= 0)
    return jnp.where(at_zero, 0.0, lo), jnp.where(at_zero, 0.0, hi)


def _same_covariance(mix, n, p2, lam, weight, table=None):
    r"""Theorem 1 with weights, in variables finite on both sides of the interpolation threshold.

    With $\bar\kappa$ the root of $\bar\kappa\,a(\delta) = \lambda$, $\delta = \mathrm{df}_1(\bar\kappa)/n$,
    $\eta_k = \omega_k/(a + \omega_k\delta)$, $\gamma = p_1\eta_1^2 + p_2\eta_2^2$,
    $v = \mathrm{df}_2/(n - \gamma\,\mathrm{df}_2)$, $r_j = s_j/(s_j+\bar\kappa)$, $q_j = 1 - r_j$:

    $B = (1 + \gamma v)\sum_j \Gamma_j s_j q_j^2$, $V = (p_1\sigma_1^2\eta_1^2 + p_2\sigma_2^2\eta_2^2)\,v$,
    $\zeta = \sum_j \Delta_j s_j\,[p_2^2\eta_2^2 r_j^2 + v\,p_2\eta_2^2((1 - p_2\eta_2 r_j)^2 + p_1p_2\eta_1^2 r_j^2)]$.
    For `weight = 1`: $\eta = \gamma = 1$, $v = u$ and this is Theorem 1 term by term.
    """
    s, mu = mix.eigs, mix.multiplicity
    lo, hi = kappa_bracket(s, n, p2, lam, weight, mu, mix.d)
    lo, hi, x0 = narrow_bracket(table, lambda k, df1: k * _a_of_delta(df1 / n, p2, weight) - lam, lo, hi)
    ms = s if mu is None else mu * s
    kappa, converged = bracketed_root(
        _kappa_equation, (n, p2, lam, weight, s, ms), lo, hi, x0, _kappa_value_and_derivative
    )

    # Every trace is a moment sum_j w_j b_j(kappa), b in (r², rq, q²) (r + q = 1 gives the rest).
    ws, wz = mix.signal * s, mix.shift * s
    wanted = ((None, "rr"), (None, "rq"), (ws, "qq"), (wz, "rr"), (wz, "rq"), (wz, "qq"))
    if mix.cross is not None:
        wanted += ((mix.cross * s, "rq"), (mix.cross * s, "qq"))
    sums = moments(s, kappa, wanted, mu)
    rr, rq, m_b = sums[0:3]
    m_z = sums[3:6]
    m_c = sums[6:8] if mix.cross is not None else (0.0, 0.0)
    bias, variance, collapse, infinite = theorem_one(
        rr, rq, m_b, m_z, m_c, kappa, n, p2, lam, weight, mix.d, mix.noise_var, mix.synthetic_noise_var
    )
    return bias, variance, collapse, kappa, converged, infinite


def theorem_one(rr, rq, m_b, m_z, m_c, kappa, n, p2, lam, weight, d, noise_var, synthetic_noise_var):
    r"""`(bias, variance, collapse, infinite)` of Theorem 1 from its moment sums at the root $\bar\kappa$:
    `rr`, `rq` the direction counts of $r^2$, $rq$; `m_b` = $\sum\Gamma_js_jq_j^2$; `m_z` the three
    $\Delta_js_j$ sums (rr, rq, qq); `m_c` the two cross sums (rq, qq) of fixed teachers (zeros
    otherwise); `d` the number of directions (the rank at the ridgeless threshold). Shared by every
    kernel that reduces to classical ridge on some spectrum (`_same_covariance`, random features)."""
    p1 = 1.0 - p2
    # df1 is exactly d at kappa = 0, also for a compressed spectrum (whose counts sum to d only up
    # to rounding). a = lam/kappa at the root; at kappa = 0 the value of its closed form (exactly 0
    # at the ridgeless threshold) with the derivative of a(delta(kappa)) (one-sided in lam).
    delta = exact_at_zero(rr + rq, kappa, d) / n
    positive = kappa > 0
    a_delta = _a_of_delta(delta, p2, weight)
    a_zero = a_delta + jax.lax.stop_gradient(ridgeless_a(n, d, p2, weight) - a_delta)
    a = jnp.where(positive, lam / jnp.where(positive, kappa, 1.0), a_zero)
    eta1 = 1.0 / (a + delta)
    syn = a + weight * delta
    eta2 = weight / jnp.where(weight == 0, 1.0, syn)
    gamma = p1 * eta1**2 + p2 * eta2**2
    # n - gamma df2 = n a (p1 eta1² + p2 eta2²/omega) + gamma (df1 - df2), from sum_k p_k eta_k = 1:
    # a sum of non-negative terms, exactly zero at the threshold (a = 0 and kappa = 0), never a
    # difference of nearly equal numbers.
    xi = p1 * eta1**2 + p2 * eta2 / jnp.where(weight == 0, 1.0, syn)  # eta2²/omega = eta2/syn, 0 at weight 0
    df2 = exact_at_zero(rr, kappa, d)
    denom = n * a * xi + gamma * rq
    infinite = ~(denom > 0)
    v = jnp.where(infinite, jnp.inf, df2 / jnp.where(infinite, 1.0, denom))

    bias = m_b + times(gamma * m_b, v)
    variance = times(p1 * noise_var * eta1**2 + p2 * synthetic_noise_var * eta2**2, v)
    c = 1.0 - p2 * eta2  # (1 - p2 eta2 r) = c r + q
    shifted = (c**2 + p1 * p2 * eta1**2) * m_z[0] + 2.0 * c * m_z[1] + m_z[2]
    zeta = p2**2 * eta2**2 * m_z[0] + times(p2 * eta2**2 * shifted, v)
    cross = -2.0 * p2 * (eta2 * m_c[0] + times(eta2 * gamma * m_c[0] - eta2**2 * (m_c[0] + m_c[1]), v))
    return bias, variance, zeta + cross, infinite


# ---------------------------------------------------------------------------------------------
# Different covariances: coupled system in kappa_k = lam / e_k
# ---------------------------------------------------------------------------------------------


def _kappa_map(kappa, args):
    r"""$\kappa_k \mapsto \lambda + \frac{\omega_k}{n}\mathrm{tr}\,\Sigma_k M^{-1}$, $M = I + \sum_j \frac{p_j\omega_j}{\kappa_j}\Sigma_j$."""
    n, pw, w, lam, S = args
    M = 1.0 + (pw / kappa) @ S
    return lam + w * jnp.sum(S / M[None, :], axis=1) / n


def _general_covariance(mix, n, p2, lam, weight):
    r"""§2.3 / §6.1 of the notes, rewritten with $K = \lambda M$ and $e_k = \lambda/\kappa_k$.

    $e'$ solves $e'_k = \frac{\omega_k}{\kappa_k^2}\big[\beta_k + \sum_j p_j\omega_j m_{kj}e'_j\big]$ with
    $\beta_k = \frac1n\mathrm{tr}\,\Sigma_kM^{-1}\Sigma_1M^{-1}$, $m_{kj} = \frac1n\mathrm{tr}\,\Sigma_kM^{-1}\Sigma_jM^{-1}$;
    $K' = \Sigma_1 + \sum_j p_j\omega_je'_j\Sigma_j$;
    $B = \mathrm{tr}\,\Gamma M^{-1}K'M^{-1}$, $V = \sum_k p_k\omega_k\sigma_k^2e'_k$,
    $\zeta = p_2\omega_2e'_2\,\mathrm{tr}\,\Delta\Sigma_2 + p_2^2\omega_2^2\big(\mathrm{tr}\,\Delta\Sigma_2^2M^{-2}K'/\kappa_2^2
    - 2e'_2\,\mathrm{tr}\,\Delta\Sigma_2^2M^{-1}/\kappa_2\big)$, and for fixed teachers the cross term
    $-2p_2\omega_2\sum_j w_j\delta_j s_{2j}(M_j^{-2}K'_j/\kappa_2 - e'_2M_j^{-1})$.
    """
    s1, s2 = mix.eigs, mix.eigs2
    S = jnp.stack([s1, s2])
    p = jnp.stack([1.0 - p2, p2])
    w = jnp.stack([jnp.ones_like(weight), weight])
    pw = p * w
    lam_e = lam + jnp.where(lam == 0, _RIDGELESS_EPS * jnp.mean(s1), 0.0)
    x0 = lam_e + w * jnp.sum(S, axis=1) / n
    kappa, converged = monotone_fixed_point(_kappa_map, (n, pw, w, lam_e, S), x0)

    minv = 1.0 / (1.0 + (pw / kappa) @ S)
    beta = (S * minv[None, :] ** 2) @ s1 / n
    m = (S * minv[None, :] ** 2) @ S.T / n
    D = w / kappa**2
    eprime = solve_small(jnp.eye(2) - D[:, None] * m * pw[None, :], D * beta)
    kprime = s1 + (pw * eprime) @ S

    bias = jnp.sum(mix.signal * minv**2 * kprime)
    variance = (pw * jnp.stack([mix.noise_var, mix.synthetic_noise_var])) @ eprime
    ds2 = mix.shift * s2
    zeta = pw[1] * eprime[1] * jnp.sum(ds2) + pw[1] ** 2 * (
        jnp.sum(ds2 * s2 * minv**2 * kprime) / kappa[1] ** 2 - 2.0 * eprime[1] * jnp.sum(ds2 * s2 * minv) / kappa[1]
    )
    cross = 0.0
    if mix.cross is not None:
        cross = -2.0 * pw[1] * jnp.sum(mix.cross * s2 * (minv**2 * kprime / kappa[1] - eprime[1] * minv))
    kappa_eff = 1.0 / jnp.sum(pw / kappa)
    infinite = ~jnp.all(jnp.isfinite(eprime))

    # At the ridgeless threshold the weighted rows form a square design X and w_hat = X^{-1} y
    # exactly: no bias, no cross term, and every noise-like term of positive weight diverges
    # (the lam_e evaluation above would give a huge finite number there). With p1 = 0 the fit is
    # w2* plus noise, so the shift costs exactly tr(Delta Sigma1).
    # (Only the sign of a coefficient decides +inf there: no derivative flows through it.)
    threshold = (lam == 0) & (ridgeless_a(n, mix.d, p2, weight) == 0)
    noise = jax.lax.stop_gradient(pw @ jnp.stack([mix.noise_var, mix.synthetic_noise_var]))
    mixed = jax.lax.stop_gradient(pw[1] * jnp.sum(ds2))
    shift = jnp.where(p2 == 1, jnp.sum(mix.shift * s1), jnp.where(mixed > 0, jnp.inf, 0.0))
    bias = jnp.where(threshold, 0.0, bias)
    variance = jnp.where(threshold, jnp.where(noise > 0, jnp.inf, 0.0), variance)
    collapse = jnp.where(threshold, shift, zeta + cross)
    return bias, variance, collapse, kappa_eff, converged, infinite | threshold


# ---------------------------------------------------------------------------------------------
# Closed forms and limits
# ---------------------------------------------------------------------------------------------


def ridge_floor(mix: Mixture, *, p2: Scalars, weight: Scalars = 1.0) -> Values:
    r"""The collapse floor: the limit of the test error as $n \to \infty$ and $\lambda \to 0$.

    $\lim = p_2^2\omega_2^2\,\mathrm{tr}\,\Delta\Sigma_2\bar M^{-1}\Sigma_1\bar M^{-1}\Sigma_2$ with
    $\bar M = p_1\Sigma_1 + p_2\omega_2\Sigma_2$; for $\Sigma_1 = \Sigma_2$ and unit weight this is
    $p_2^2\,\mathrm{tr}(\Sigma\Delta)$, the floor of *strong model collapse*.
    """
    check_mixture(mix)
    p2 = check_scalar("p2", p2, low=0.0, high=1.0)
    weight = check_scalar("weight", weight, low=0.0)

    def point(p2, weight):
        s1, s2 = mix.eigs, mix.eigs2
        mbar = (1.0 - p2) * s1 + p2 * weight * s2
        return (p2 * weight) ** 2 * jnp.sum(mix.shift * s2**2 * s1 / mbar**2)

    return broadcast_map(point, p2=p2, weight=weight)


def ridge_isotropic(
    *,
    phi: Scalars,
    p2: Scalars,
    lam: Scalars,
    signal: Scalars = 1.0,
    shift: Scalars = 1.0,
    noise_var: Scalars = 0.0,
    synthetic_noise_var: Scalars | None = None,
) -> Risk:
    r"""Closed form for $\Sigma = I$, $\mathrm{tr}\,\Gamma = r^2$ (`signal`), $\mathrm{tr}\,\Delta = c^2$ (`shift`), $\phi = d/n$.

    $\kappa = \tfrac12[\lambda + \phi - 1 + \sqrt{(\lambda+\phi-1)^2 + 4\lambda}]$,
    $u = \phi/((1+\kappa)^2 - \phi)$, $B = r^2\kappa^2(1+u)/(1+\kappa)^2$, $V = \bar\sigma^2u$,
    $\zeta = c^2[p_2^2(1 + p_1u) + p_2u(p_1+\kappa)^2]/(1+\kappa)^2$ (notes §2.4). At $\lambda = 0$ this is
    the ridgeless limit on both sides of $\phi = 1$, and `+inf` at $\phi = 1$.
    """
    phi = check_scalar("phi", phi, low=0.0, strict=True)
    p2 = check_scalar("p2", p2, low=0.0, high=1.0)
    lam = check_scalar("lam", lam, low=0.0)
    signal = check_scalar("signal", signal, low=0.0, scalar=True)
    shift = check_scalar("shift", shift, low=0.0, scalar=True)
    noise_var = check_scalar("noise_var", noise_var, low=0.0, scalar=True)
    noise2 = (
        noise_var
        if synthetic_noise_var is None
        else check_scalar("synthetic_noise_var", synthetic_noise_var, low=0.0, scalar=True)
    )

    def point(phi, p2, lam):
        p1 = 1.0 - p2
        t = lam + phi - 1.0
        kappa = 0.5 * (t + jnp.sqrt(t * t + 4.0 * lam))
        denom = (1.0 + kappa) ** 2 - phi
        infinite = ~(denom > 0)
        u = jnp.where(infinite, jnp.inf, phi / jnp.where(infinite, 1.0, denom))
        g = 1.0 / (1.0 + kappa) ** 2
        bias = signal * kappa**2 * g + times(signal * kappa**2 * g, u)
        variance = times(p1 * noise_var + p2 * noise2, u)
        collapse = shift * p2**2 * g + times(shift * g * (p2**2 * p1 + p2 * (p1 + kappa) ** 2), u)
        true = jnp.asarray(True)
        return finish(bias, variance, collapse, kappa, valid=true, converged=true, infinite=infinite)

    return broadcast_map(point, phi=phi, p2=p2, lam=lam)
