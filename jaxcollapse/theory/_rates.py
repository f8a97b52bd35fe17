r"""Power-law rates of *Model Collapse Demystified* (Dohmatob, Feng, Kempe, NeurIPS 2024, §5).

Capacity $s_j \asymp j^{-\beta}$ ($\beta > 1$), source $r > 0$ (signal energy $s_j w_j^2 \asymp
j^{-(1+2\beta r)}$: `jc.power_law(d, beta, source=r)`), $\bar r = \min(r, 1)$, ridge
$\lambda = T^{-\ell}$. Up to constants of order one:

$$E \asymp T^{-2\ell\bar r} + \Big(\sigma^2 + \frac{G\sigma_0^2\,T/T_0}{1-\phi_0}\Big)T^{-(1-\ell/\beta)},
\qquad \ell_{crit} = \frac{\beta}{1 + 2\beta\bar r}.$$

These are asymptotic laws (exponents exact, constants not); `jc.theory.retraining` is the full
deterministic equivalent they are tested against.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._types import Scalars, Values
from .._validate import check_broadcast, check_scalar


def _common(beta, source):
    beta = check_scalar("beta", beta, low=1.0, strict=True)
    source = check_scalar("source", source, low=0.0, strict=True)
    return beta, source, jnp.minimum(source, 1.0)


def critical_exponent(beta: Scalars, source: Scalars) -> Values:
    r"""$\ell_{crit} = \beta/(1 + 2\beta\bar r)$: with $\lambda = T^{-\ell_{crit}}$ the error decays at the
    optimal rate $T^{-2\beta\bar r/(2\beta\bar r + 1)}$ (adaptive regularisation)."""
    beta, _, rbar = _common(beta, source)
    return beta / (1.0 + 2.0 * beta * rbar)


def rate_exponents(beta: Scalars, source: Scalars, ell: Scalars) -> tuple[Values, Values, Values]:
    r"""`(bias, variance, fake)` exponents at $\lambda = T^{-\ell}$, $0 \le \ell < \beta$: the bias decays like
    $T^{-2\ell\bar r}$, the variance like $T^{-(1-\ell/\beta)}$, and the fake-data term with a fixed
    generator sample size $T_0$ grows like $T^{+\ell/\beta}$ (it decays like $T^{-(1-\ell/\beta)}$
    when $T_0 = T$)."""
    beta, _, rbar = _common(beta, source)
    ell = check_scalar("ell", ell, low=0.0)
    check_broadcast(beta=beta, source=source, ell=ell)
    return 2.0 * ell * rbar, 1.0 - ell / beta, ell / beta


def retraining_scaling_law(
    T: Scalars,
    *,
    beta: Scalars,
    source: Scalars,
    ell: Scalars,
    noise_var: Scalars,
    generations: Scalars,
    generator_noise_var: Scalars,
    T0: Scalars | None = None,
    phi0: Scalars = 0.0,
) -> Values:
    r"""The scaling law $T^{-2\ell\bar r} + (\sigma^2 + G\sigma_0^2 (T/T_0)/(1-\phi_0))\,T^{-(1-\ell/\beta)}$
    (constants set to one; $T_0 = T$ when `T0` is `None`; $\phi_0 = d/T_0 < 1$)."""
    beta, _, rbar = _common(beta, source)
    T = check_scalar("T", T, low=0.0, strict=True)
    ell = check_scalar("ell", ell, low=0.0)
    noise_var = check_scalar("noise_var", noise_var, low=0.0)
    generations = check_scalar("generations", generations, low=0.0)
    generator_noise_var = check_scalar("generator_noise_var", generator_noise_var, low=0.0)
    phi0 = check_scalar("phi0", phi0, low=0.0, high=1.0)
    ratio = 1.0 if T0 is None else T / check_scalar("T0", T0, low=0.0, strict=True)
    effective = noise_var + generations * generator_noise_var * ratio / (1.0 - phi0)
    return T ** (-2.0 * ell * rbar) + effective * T ** (-(1.0 - ell / beta))


def crossover_sample_size(
    *,
    beta: Scalars,
    source: Scalars,
    ell: Scalars,
    generations: Scalars,
    generator_noise_var: Scalars,
    phi0: Scalars = 0.0,
) -> Values:
    r"""$T^* \approx (G\sigma_0^2/(1-\phi_0))^{-1/(2\ell\bar r - 1 + \ell/\beta)}$: where, with $T_0 = T$ and
    $\ell > \ell_{crit}$, the observed slope turns from the fast $-2\ell\bar r$ (bias) to the slow
    $-(1-\ell/\beta)$ (fake data)."""
    beta, _, rbar = _common(beta, source)
    ell = check_scalar("ell", ell, low=0.0)
    noise = check_scalar("generations", generations, low=0.0) * check_scalar(
        "generator_noise_var", generator_noise_var, low=0.0
    )
    phi0 = check_scalar("phi0", phi0, low=0.0, high=1.0)
    return (noise / (1.0 - phi0)) ** (-1.0 / (2.0 * ell * rbar - 1.0 + ell / beta))
