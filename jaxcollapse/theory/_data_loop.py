r"""Self-consuming data loops: replace, accumulate, accumulate-subsample (exact where it is known).

The model (as `jc.simulate.data_loop`; Gerstgrasser et al. 2024, arXiv 2404.01413; Kazdan,
Schaeffer et al. 2024, *Collapse or Thrive?*). Generation 0 fits ridge on $n_0$ real rows:
$X_0 \sim N(0, \Sigma)$, $y_0 = X_0 w^* + \varepsilon_0$, $\varepsilon_0 \sim N(0, \sigma_1^2)$
(`mix.noise_var`), $w^*$ from the mixture's prior. Generation $g \ge 1$ labels covariates $X_g$ with
the previous model: $y_g = X_g \hat w_{g-1} + \varepsilon_g$, $\varepsilon_g \sim N(0, \sigma_0^2)$
(`generator_noise_var`). `design="fixed"`: $X_g = X_0$ for every $g$ (Gerstgrasser et al.'s
setting); `design="fresh"`: new $X_g \sim N(0, \Sigma)$ each generation (Demystified's). Policies:
`"replace"`: $\hat w_g$ = ridge on $(X_g, y_g)$ only; `"accumulate"`: $\hat w_g$ = ridge on all rows of
generations $0..g$; `"accumulate-subsample"`: $\hat w_g$ = ridge on $n_0$ rows drawn uniformly without
replacement from all rows of generations $0..g$. Ridge: $\arg\min_w \frac1N\|Xw - y\|^2 + \lambda\|w\|^2$
over the $N$ rows used (min-norm at $\lambda = 0$). The error: $E\|\hat w_G - w^*\|^2_\Sigma$.

**Derivation at $\lambda = 0$.** Write $A_g = X_g^\dagger$ (the min-norm solution map) and
$P_g = A_gX_g$ (the projector on the row space of $X_g$; $P_g = I$ when $n_0 \ge d$), $u_g = A_g\varepsilon_g$.

- *Replace.* $\hat w_g = A_g(X_g\hat w_{g-1} + \varepsilon_g) = P_g\hat w_{g-1} + u_g$ with $\hat w_{-1} = w^*$.
- *Accumulate, fixed design.* The stack of $g + 1$ copies of $X_0$ with labels $y_0..y_g$ has the
  normal equations of $X_0$ with the mean label: $\hat w_g = A\bar y_g$. With $e_g = \hat w_g - Pw^*$,
  $(g+1)e_g = \sum_{j<g} e_j + \sum_{j\le g} u_j$ (using $PA = A$), whose solution is
  $e_g = \sum_{j=0}^g u_j/(j+1)$ (by induction: the coefficient of $u_j$ in $\sum_{i<g}e_i$ is $(g-j)/(j+1)$).
- The noises are independent of each other and of the designs, so the error is the bias plus
  $\sum_j c_j^2\sigma_j^2\,E\,\mathrm{tr}(\Sigma A A^\top)$ (fixed design) with
  $E\,\mathrm{tr}(\Sigma(X^\top X)^{-1}) = d/(n_0 - d - 1)$ for $n_0 \ge d + 2$ (inverse-Wishart mean,
  any $\Sigma$) and, for an isotropic $\Sigma$ and $n_0 \le d - 2$, $E\,\mathrm{tr}(\Sigma A A^\top) =
  n_0/(d - n_0 - 1)$, $E P = \psi I$ with $\psi = n_0/d$.

Hence, with $R = \mathrm{tr}(\Sigma\Gamma)$ and $c$ the trace above:

| | $n_0 \ge d + 2$ (any $\Sigma$) | $n_0 \le d - 2$, isotropic $\Sigma$ |
|---|---|---|
| replace, fixed | $c(\sigma_1^2 + G\sigma_0^2)$ | $R(1-\psi) + c(\sigma_1^2 + G\sigma_0^2)$ |
| accumulate, fixed | $c(\sigma_1^2 + \sigma_0^2\sum_{k=2}^{G+1}k^{-2})$ | $R(1-\psi) + c(\ldots)$, the same sum |
| replace, fresh | $c(\sigma_1^2 + G\sigma_0^2)$ | $R(1-\psi^{G+1}) + c(\sigma_1^2\psi^G + \sigma_0^2(1-\psi^G)/(1-\psi))$ |

(the fresh over-parameterised row: independent projections with $E P_g = \psi I$ shrink older noise
by $\psi$ per generation and $E\|P_G\cdots P_0w^* - w^*\|^2 = R(1 - \psi^{G+1})$). All are exact for
integer $n_0$ (and real $G$: $\sum_{k=2}^{G+1}k^{-2} = \psi_1(2) - \psi_1(G+2)$ with the trigamma
$\psi_1$). So replace grows linearly, $c\sigma_0^2$ per generation (`data_loop_growth`), and
accumulate stays bounded, by $c(\sigma_1^2 + \sigma_0^2(\pi^2/6 - 1))$ (`data_loop_bound`), as
Gerstgrasser et al. prove. For $d - 1 \le n_0 \le d + 1$ the trace is infinite: `+inf`
(`Status.INFINITE`) unless the noise is zero.

"replace" with a fresh design at $\lambda = 0$ and $n_0 \ge d + 2$ is `jc.theory.retraining` with
$n = n_0$, $\lambda = 0$: both are $G + 1$ unbiased OLS steps whose noises add, so their order does
not matter, and the two kernels agree exactly (tested). They differ otherwise (retraining fits
its last step with $n$ rows and $\lambda$; over-parameterised, the order of the noises matters).

**No theory (NaN, `Status.NO_THEORY`; use `jc.simulate.data_loop`):** $\lambda > 0$;
"accumulate" with a fresh design; "accumulate-subsample"; $n_0 \le d - 2$ with an anisotropic $\Sigma$.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax.numpy as jnp
from jax.scipy.special import polygamma

from .._batch import broadcast_map
from .._problem import Mixture
from .._results import Risk
from .._types import Scalars, Values
from .._validate import (
    LOOP_DESIGNS as DESIGNS,
    LOOP_POLICIES as POLICIES,
    check_loop,
    check_scalar,
    require_same_covariance,
    valid_mask,
)
from ._common import finish, mixture_valid, times

__all__ = ["DESIGNS", "POLICIES", "data_loop", "data_loop_bound", "data_loop_growth"]


def data_loop(
    mix: Mixture,
    *,
    n0: Scalars,
    generations: Scalars,
    lam: Scalars,
    generator_noise_var: Scalars,
    policy: str = "replace",
    design: str = "fresh",
) -> Risk:
    r"""Error $E\|\hat w_G - w^*\|^2_\Sigma$ of generation $G$ = `generations` of a data loop (module docstring).

    **Arguments:** `mix` ($\Sigma_2 = \Sigma_1$: `eigs` $\Sigma$, `signal` the prior $\Gamma$ of $w^*$,
    `noise_var` $\sigma_1^2$); `n0` rows per generation (> 0; the formulas are exact for integers);
    `generations` $G \ge 0$ (real values interpolate); `lam` $\ge 0$; `generator_noise_var`
    $\sigma_0^2 \ge 0$; `policy` in `POLICIES`, `design` in `DESIGNS` (static). They broadcast.

    **Returns:** a `Risk`: `bias` the part from $w^*$ (non-zero only over-parameterised),
    `variance` the generation-0 noise $\sigma_1^2$, `collapse` what the synthetic generations add,
    `kappa` = $\lambda$. NaN with `Status.NO_THEORY` where no exact formula is known (module docstring).
    """
    check_loop(policy, design)
    require_same_covariance(mix, "data_loop")
    n0 = check_scalar("n0", n0, low=0.0, strict=True)
    generations = check_scalar("generations", generations, low=0.0)
    lam = check_scalar("lam", lam, low=0.0)
    generator_noise_var = check_scalar("generator_noise_var", generator_noise_var, low=0.0)
    return _data_loop_jit(mix, n0, generations, lam, generator_noise_var, policy, design)


@eqx.filter_jit
def _data_loop_jit(mix, n0, generations, lam, s0, policy, design):
    point = functools.partial(_point, mix, policy=policy, design=design)
    return broadcast_map(point, n0=n0, generations=generations, lam=lam, s0=s0)


def _point(mix, n0, generations, lam, s0, *, policy, design) -> Risk:
    valid = valid_mask((n0, 0.0, None, True), (generations, 0.0, None, False), (lam, 0.0, None, False))
    valid &= valid_mask((s0, 0.0, None, False)) & mixture_valid(mix)
    d = jnp.asarray(mix.d, n0.dtype)
    G = jnp.where(valid, generations, 0.0)
    n0 = jnp.where(valid, n0, d + 2.0)
    isotropic = jnp.all(mix.eigs == mix.eigs[0])
    under = n0 > d + 1  # n0 ≥ d + 2 for integers: an inverse-Wishart mean
    over = n0 < d - 1  # n0 ≤ d - 2
    below = n0 < d  # min-norm interpolation: part of w* is never reached
    c = jnp.where(
        under, d / jnp.where(under, n0 - d - 1, 1.0), jnp.where(over, n0 / jnp.where(over, d - n0 - 1, 1.0), jnp.inf)
    )
    psi = jnp.where(below, n0 / d, 1.0)
    R = jnp.sum(mix.eigs * mix.signal)  # tr(ΣΓ) (a compressed mixture's signal holds masses)
    s1 = mix.noise_var
    if policy == "replace" and design == "fresh":
        bias = jnp.where(below, R * (1.0 - psi ** (G + 1.0)), 0.0)
        geo = jnp.where(over, (1.0 - psi**G) / jnp.where(over, 1.0 - psi, 1.0), G)  # Σ_{k<G} ψ^k
        variance = times(s1 * jnp.where(over, psi**G, 1.0), c)
        collapse = times(s0 * geo, c)
    else:
        bias = jnp.where(below, R * (1.0 - psi), 0.0)
        variance = times(s1, c)
        weight = G if policy == "replace" else polygamma(1, 2.0) - polygamma(1, G + 2.0)  # Σ_{k=2}^{G+1} 1/k²
        collapse = times(s0 * weight, c)
    supported = (lam == 0) & (policy != "accumulate-subsample") & ~((policy == "accumulate") & (design == "fresh"))
    supported &= ~below | isotropic
    infinite = ~under & ~over
    return finish(
        bias,
        variance,
        collapse,
        jnp.asarray(lam),
        valid=valid,
        converged=jnp.asarray(True),
        infinite=infinite,
        supported=supported,
    )


def data_loop_growth(mix: Mixture, *, n0: Scalars, generator_noise_var: Scalars) -> Values:
    r"""The error "replace" adds per generation at $\lambda = 0$, $n_0 \ge d + 2$: $\sigma_0^2 d/(n_0 - d - 1)$
    (both designs; over-parameterised fresh chains instead saturate)."""
    n0 = check_scalar("n0", n0, low=0.0, strict=True)
    s0 = check_scalar("generator_noise_var", generator_noise_var, low=0.0)
    d = mix.d
    return jnp.where(n0 > d + 1, s0 * d / jnp.where(n0 > d + 1, n0 - d - 1, 1.0), jnp.nan)


def data_loop_bound(mix: Mixture, *, n0: Scalars, generator_noise_var: Scalars) -> Values:
    r"""The $G \to \infty$ limit of "accumulate" with a fixed design at $\lambda = 0$, $n_0 \ge d + 2$:
    $\frac{d}{n_0 - d - 1}\big(\sigma_1^2 + \sigma_0^2(\pi^2/6 - 1)\big)$ (Gerstgrasser et al.'s bound)."""
    n0 = check_scalar("n0", n0, low=0.0, strict=True)
    s0 = check_scalar("generator_noise_var", generator_noise_var, low=0.0)
    d = mix.d
    c = jnp.where(n0 > d + 1, d / jnp.where(n0 > d + 1, n0 - d - 1, 1.0), jnp.nan)
    return c * (mix.noise_var + s0 * (jnp.pi**2 / 6 - 1.0))
