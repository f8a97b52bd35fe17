r"""The asymptotic (≍) laws of *A Tale of Tails*, with their constants.

Each is the large-T (or large-k) form of an exact sum in `_models`; the tests measure how close
they come. c = 1 − 1/β is the clean data-scaling exponent and β − 1 the tail-mass exponent.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import gammaln, zeta

from .._types import Scalars, Values
from .._validate import check_int, check_scalar as _check


def exponent(beta: Scalars) -> Values:
    """c = 1 − 1/β: E_clean ∝ T^-c."""
    beta = _check("beta", beta, low=1.0, strict=True)
    return 1.0 - 1.0 / beta


def clean_constant(beta: Scalars) -> Values:
    r"""C_β = ζ(β)^{-1/β} Γ(1 − 1/β)/β, so that E_clean(T) ≃ C_β T^{-(1−1/β)}."""
    beta = _check("beta", beta, low=1.0, strict=True)
    return jnp.exp(-jnp.log(zeta(beta, 1.0)) / beta + gammaln(1.0 - 1.0 / beta)) / beta


def clean_law(beta: Scalars, *, T: Scalars) -> Values:
    """C_β T^{-c}: the clean scaling law (within 0.05 % of the exact sum for T ≥ 10³, β ∈ {1.5, 2})."""
    T = _check("T", T, low=0.0, strict=True)
    return clean_constant(beta) * T ** (-exponent(beta))


def tail_mass_law(beta: Scalars, *, k: Scalars) -> Values:
    r"""k^{1−β}/((β − 1) ζ(β)): the asymptotic mass beyond rank k (the exact one is `tail_mass`)."""
    beta = _check("beta", beta, low=1.0, strict=True)
    k = _check("k", k, low=1.0)
    return k ** (1.0 - beta) / ((beta - 1.0) * zeta(beta, 1.0))


def transition(beta: Scalars, *, k: Scalars) -> Values:
    r"""T_k = [C_β (β − 1) ζ(β)]^{β/(β−1)} k^β: where C_β T^{-c} meets the plateau k^{1−β}/((β−1)ζ(β))."""
    beta = _check("beta", beta, low=1.0, strict=True)
    k = _check("k", k, low=1.0)
    return (clean_constant(beta) * (beta - 1.0) * zeta(beta, 1.0)) ** (beta / (beta - 1.0)) * k**beta


def cut_law(beta: Scalars, *, T: Scalars, k: Scalars) -> Values:
    r"""Theorem 2.1 with constants: max(C_β T^{-c}, k^{1−β}/((β−1)ζ(β))); the two meet at `transition`."""
    return jnp.maximum(clean_law(beta, T=T), tail_mass_law(beta, k=k))


def narrow_law(beta: Scalars, *, T: Scalars, beta_narrow: Scalars) -> Values:
    r"""E ≃ Γ((β−1)/β̃) (T/ζ(β̃))^{-(β−1)/β̃} / (β̃ ζ(β)): training on exponent β̃, testing on β."""
    beta = _check("beta", beta, low=1.0, strict=True)
    T = _check("T", T, low=0.0, strict=True)
    bn = _check("beta_narrow", beta_narrow, low=1.0, strict=True)
    a = (beta - 1.0) / bn
    return jnp.exp(gammaln(a)) * (T / zeta(bn, 1.0)) ** (-a) / (bn * zeta(beta, 1.0))


def grokking_times(beta: Scalars, *, k: Scalars, p1: Scalars) -> tuple[Values, Values]:
    r"""(T_k, T_k/π): where mixing's plateau starts, and where the error drops again ("grokking"); π = `p1`."""
    pi = _check("p1", p1, low=0.0, high=1.0, strict=True)
    t = transition(beta, k=k)
    return t, t / pi


def mix_law(beta: Scalars, *, T: Scalars, k: Scalars, p1: Scalars) -> Values:
    r"""The three regimes of mixing: max(C_β T^{-c}, min(plateau_k, C_β (πT)^{-c})).

    Clean-like decay for T ≲ T_k, the plateau k^{1−β}/((β−1)ζ(β)) up to T_k/π, then the clean curve at
    effective sample size πT (notes §5.1; the paper's Theorem 3.2, T^{-c} + min(k^{-(β−1)}, (πT)^{-c})).
    """
    pi = _check("p1", p1, low=0.0, high=1.0, strict=True)
    return jnp.maximum(clean_law(beta, T=T), jnp.minimum(tail_mass_law(beta, k=k), clean_law(beta, T=pi * T)))


def _g(c, n):
    """G_c(n) = Σ_{j=1}^n (−1)^{j+1} C(n, j) j^{-c} (n a concrete integer)."""
    from math import comb

    return sum((-1) ** (j + 1) * comb(int(n), j) * j ** (-c) for j in range(1, int(n) + 1))


def generations_law(
    beta: Scalars,
    *,
    T: Scalars,
    T0: Scalars | None,
    generations: int,
    chain: str = "known",
    p_nuc: Scalars | None = None,
) -> Values:
    r"""Large-T0 laws of the three chains (n = `generations`, a concrete integer):

    - `"known"`: C_β [T^{-c} + T0^{-c} G_c(n)], G_c(n) = Σ_{j=1}^n (−1)^{j+1} C(n, j) j^{-c} (sub-linear);
    - `"empirical"`: C_β [T^{-c} + ((n+1)/(2 T0))^c] (extinction of rare ranks, grows like n^c);
    - `"top_p"`: C_β T^{-c} + 1 − p_nuc^n (the lost tail mass grows linearly in n for p_nuc near 1).
    """
    beta = _check("beta", beta, low=1.0, strict=True)
    c = 1.0 - 1.0 / beta
    n = check_int("generations", generations, low=0)
    clean = clean_law(beta, T=T)
    if n == 0:
        return clean
    C = clean_constant(beta)
    if chain == "known":
        return clean + C * T0 ** (-c) * _g(c, n)
    if chain == "empirical":
        return clean + C * ((n + 1) / (2.0 * T0)) ** c
    if chain == "top_p":
        if p_nuc is None:
            raise ValueError("p_nuc is required for chain='top_p' (a number in (0, 1])")
        p_nuc = _check("p_nuc", p_nuc, low=0.0, high=1.0, strict=True)
        return clean + 1.0 - p_nuc**n
    raise ValueError(f"chain must be one of ('known', 'empirical', 'top_p'), got {chain!r}")
