r"""Generations of self-training (*Model Collapse Demystified*, Dohmatob, Feng, Kempe, NeurIPS 2024).

The chain of *Model Collapse Demystified* (Dohmatob, Feng, Kempe, NeurIPS 2024): $\hat w_0 = w_0 \sim N(0, \Gamma)$; generation $k$ draws
$n_0$ fresh covariates $x \sim N(0, \Sigma)$, labels them $x^\top\hat w_k + N(0, \sigma_0^2)$ and fits
$\hat w_{k+1}$ by OLS ($n_0 \ge d$) or the min-norm interpolator ($n_0 < d$). The downstream model
fits ridge ($\frac1n\|Xw - y\|^2 + \lambda\|w\|^2$) on $n$ samples labelled by $\hat w_G$ plus
$N(0, \sigma^2)$ noise; the error is $E\|\hat w - w_0\|^2_\Sigma$.

With $A = \hat\Sigma(\hat\Sigma + \lambda)^{-1}$ and the generator $\hat w_G$ independent of the
downstream data, every case is $E = b\,S_G - 2a\,M_G + R + V$ with $R = \mathrm{tr}\,\Sigma\Gamma$,
$S_G = E\|\hat w_G\|^2_\Sigma$-type second moment, $M_G$ the overlap with $w_0$, $V$ the downstream
variance, and $a$, $b$ the deterministic equivalents of $\mathrm{tr}A/d$ and $\mathrm{tr}(\Sigma^{-1}A\Sigma A)/d$
(§3.2–3.3 of the notes).
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax.numpy as jnp

from .._batch import block_for, broadcast_map
from .._buckets import call_bucketed
from .._problem import Mixture
from .._results import Risk
from .._types import Scalars
from .._validate import check_broadcast, check_mixture, check_scalar, require_same_covariance, valid_mask
from ._common import exact_at_zero, finish, grid_table, mixture_valid, moments, times
from ._ridge import _same_covariance


def retraining(
    mix: Mixture, *, n: Scalars, n0: Scalars, generations: Scalars, lam: Scalars, generator_noise_var: Scalars
) -> Risk:
    r"""Test error of ridge trained on data labelled by the `generations`-th model of a self-training chain.

    **Arguments:**

    - `mix`: the `Mixture`; its `eigs` are $\Sigma$, `signal` is $\Gamma$ (the prior of $w_0$), and
      `noise_var` is the downstream label noise $\sigma^2$. `shift` is not used here.
    - `n`: downstream sample size, `> 0` (real-valued).
    - `n0`: samples per generation, `> 0` (real-valued in theory).
    - `generations`: number of synthetic generations $G \ge 0$ between the truth and the training
      data; `0` is clean training. Real values interpolate ($G$ enters as $G$ and $\psi^G$).
    - `lam`: downstream ridge $\lambda \ge 0$.
    - `generator_noise_var`: label noise $\sigma_0^2 \ge 0$ added at every generation.

    **Returns:** a `Risk`: `bias` and `variance` of the downstream fit on clean labels, `collapse`
    the term the generations add, `kappa` the downstream effective ridge.

    - Under-parameterised generators ($n_0 \ge d$): `collapse` $= G\sigma_0^2/(n_0-d-1)\cdot\rho$,
      exact in $G$ (inverse-Wishart mean), with $\rho \simeq \mathrm{df}_2 + \kappa^2\mathrm{tr}(\Sigma+\kappa)^{-2}
      \,\mathrm{df}_2/(n-\mathrm{df}_2)$. At $\lambda = 0$ and $n \ge d$ everything is exact:
      $E = \sigma^2 d/(n-d-1) + G\sigma_0^2 d/(n_0-d-1)$ (`+inf` where a "−1" denominator is $\le 0$);
      for an isotropic $\Sigma$ at $\lambda = 0$, $n < d$ the min-norm variance is the exact
      $\sigma^2 n/(d-n-1)$ as well. Elsewhere the downstream terms are deterministic equivalents
      (finite-$d$ deviations of order $1/d$).
    - Over-parameterised generators ($n_0 < d$) with an isotropic $\Sigma$ (all eigenvalues equal):
      the exact chain moments $M_G = \psi^G R$, $S_G = \psi^G R + \sigma_0^2 n_0/(d-n_0-1)\cdot(1-\psi^G)/(1-\psi)$,
      $\psi = n_0/d$: without noise the error rises exponentially fast to $R$, the null predictor's.
    - Over-parameterised generators with an anisotropic $\Sigma$ and $G > 0$: no verified formula;
      NaN with `Status.NO_THEORY` — use `jc.simulate.retraining`.
    """
    check_mixture(mix)
    require_same_covariance(mix, "retraining")
    n = check_scalar("n", n, low=0.0, strict=True)
    n0 = check_scalar("n0", n0, low=0.0, strict=True)
    generations = check_scalar("generations", generations, low=0.0)
    lam = check_scalar("lam", lam, low=0.0)
    generator_noise_var = check_scalar("generator_noise_var", generator_noise_var, low=0.0)
    check_broadcast(n=n, n0=n0, generations=generations, lam=lam, generator_noise_var=generator_noise_var)
    return call_bucketed(_retraining_jit, mix, n=n, n0=n0, generations=generations, lam=lam, s0=generator_noise_var)


@eqx.filter_jit
def _retraining_jit(mix, n, n0, generations, lam, s0):
    table = grid_table(mix, n, n0, generations, lam, s0)
    point = functools.partial(_point, mix, table)
    return broadcast_map(point, block=block_for(mix.eigs.shape[0]), n=n, n0=n0, generations=generations, lam=lam, s0=s0)


def downstream_moments(mix: Mixture, kappa, n):
    r"""$(a, b, \rho)$ at the downstream root $\kappa$: $a = \mathrm{df}_1/d$, $\rho \simeq E\,\mathrm{tr}(\Sigma^{-1}A\Sigma A)$, $b = \rho/d$."""
    s, mu, d = mix.eigs, mix.multiplicity, mix.d
    rr, rq, qq = moments(s, kappa, ((None, "rr"), (None, "rq"), (None, "qq")), mu)
    df2 = exact_at_zero(rr, kappa, d)
    df1 = df2 + rq
    slack = n - df2
    infinite = ~(slack > 0)
    v = jnp.where(infinite, jnp.inf, df2 / jnp.where(infinite, 1.0, slack))
    rho = df2 + times(qq, v)
    return df1 / d, rho / d, rho


def _point(mix: Mixture, table, n, n0, generations, lam, s0) -> Risk:
    valid = valid_mask(
        (n, 0.0, None, True),
        (n0, 0.0, None, True),
        (generations, 0.0, None, False),
        (lam, 0.0, None, False),
        (s0, 0.0, None, False),
    )
    valid &= mixture_valid(mix)
    n = jnp.where(valid, n, 1.0)
    n0 = jnp.where(valid, n0, 1.0)
    generations = jnp.where(valid, generations, 0.0)
    lam = jnp.where(valid, lam, 1.0)
    s0 = jnp.where(valid, s0, 0.0)
    d = mix.d
    bias, variance, _, kappa, converged, infinite = _same_covariance(mix, n, 0.0, lam, 1.0, table)
    a, b, rho = downstream_moments(mix, kappa, n)

    # λ = 0 with n ≥ d: the downstream fit is OLS, whose variance has the exact inverse-Wishart form.
    ols = (lam == 0) & (n >= d)
    variance = jnp.where(ols, _over(mix.noise_var * d, n - d - 1.0), variance)
    # λ = 0 with n < d and an isotropic Σ: the min-norm fit's variance is exact too,
    # σ² E tr (XXᵀ)⁻¹ Σ-scaled = σ² n/(d - n - 1) (the deterministic equivalent has d - n).
    isotropic = jnp.all(mix.eigs == mix.eigs[0])
    variance = jnp.where((lam == 0) & (n < d) & isotropic, _over(mix.noise_var * n, d - n - 1.0), variance)

    noise = generations * s0  # G σ0²
    energy = jnp.sum(mix.eigs * mix.signal)  # R = tr ΣΓ

    # under-parameterised generators: exact in G
    collapse_under = _over(times(noise, rho), jnp.where(n0 >= d, n0 - d - 1.0, 1.0))

    # over-parameterised generators, isotropic Σ: exact chain moments
    psi = jnp.minimum(n0 / d, 1.0)
    decay = psi**generations
    geometric = jnp.where(psi < 1, (1.0 - decay) / jnp.where(psi < 1, 1.0 - psi, 1.0), generations)
    over = n0 < d
    over_noise = jnp.where(over, _over(s0 * n0 * geometric, d - n0 - 1.0), 0.0)  # no inf on the branch not taken
    collapse_over = times(b, over_noise - (1.0 - decay) * energy) + 2.0 * a * energy * (1.0 - decay)
    collapse_over = jnp.where(generations == 0, 0.0, collapse_over)

    under = n0 >= d
    collapse = jnp.where(under, collapse_under, collapse_over)
    supported = under | (generations == 0) | isotropic
    infinite = infinite | jnp.isinf(variance) | jnp.isinf(collapse)
    return finish(
        bias, variance, collapse, kappa, valid=valid, converged=converged, infinite=infinite, supported=supported
    )


def _over(num, den):
    """num / den for den > 0; +inf for den ≤ 0 (0 if num = 0), with finite gradients on the branch not taken."""
    positive = den > 0
    value = num / jnp.where(positive, den, 1.0)
    return jnp.where(positive, value, jnp.where(num == 0, 0.0, jnp.inf))
