r"""Exact sums over Zipf ranks, at any T, with a fixed amount of work.

Every error of the Hutter model is a sum over ranks i = 1, 2, … of a summand `f(i) = p_i S(i)`:
the test probability of rank i times the probability that training never showed it. `S` is smooth
between a few breakpoints (a tail cut k, the start k' of acquired tail data), so the sum is split
into *pieces* (lo, hi] on which `f` is one analytic function of a real rank x. On each piece:

1. **Head.** The first `HEAD` ranks of the piece are summed term by term.
2. **Middle, Gregory's rule.** From A = lo + `HEAD` up to the rank B where the exposure
   y(x) = (T · q(x), summed over sources) has fallen to `EXPOSURE_FLOOR`, the sum is the integral
   of `f` plus Gregory's end corrections (f(A) + f(B))/2 + Σ_{j ≤ 4} c_j (differences of order j at
   A and B): the Euler–Maclaurin formula with derivatives replaced by finite differences, so it
   needs only values of f (and differentiates cheaply). The integral is taken in u = log x by
   `BLOCKS` equal blocks of `NODES`-point Gauss–Legendre rules. In u, f is analytic in the strip
   |Im u| < π/(2b) (b the exponent of q), so each rule converges geometrically; with A ≥ 1024,
   |f^(j)| ≲ f (j b/(e A))^j and the dropped fifth-order term is below 1e-12 f(A) for b ≤ 5.
3. **Far tail, exact mass.** Beyond B the summand is p_i minus the mass training would reveal,
   p_i (1 − S(i)) ≤ y(i) p_i. The first part is the Hurwitz-zeta tail mass ζ(β, B+1)/ζ(β), exactly.
   The second is a power law to relative O(y) and is summed as one (its local exponent and level at
   B + 1, then a Hurwitz zeta). Its error is O(y(B)²) = 1e-14 of the tail mass.

So the work is `HEAD + BLOCKS·NODES` evaluations of `f` whatever T, k or the cut; the truncation N of
a direct sum becomes the point B, chosen from T and β (where T·q falls to 1e-7), and the analytic tail
beyond it is kept. `log(1 − q)·T` is computed as `T·log1p(−q)`, and survival as its exponential.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import zeta

HEAD = 1024
BLOCKS = 128
NODES = 12
EXPOSURE_FLOOR = 1e-7
# NumPy float64, not jax arrays: a jax array made at import would take the precision of that
# moment (float32 when jax_enable_x64 is switched on after `import jaxcollapse`, as the command
# line does) and would start the backend on import.
_GAUSS_T, _GAUSS_W = np.polynomial.legendre.leggauss(NODES)
# Gregory's coefficients for end differences of order 1…4
_GREGORY = (1.0 / 12.0, 1.0 / 24.0, 19.0 / 720.0, 3.0 / 160.0)
_SHORT = 8  # a middle part needs this many ranks for its end differences


def zeta_tail(s, a):
    r"""$\sum_{i \ge a} i^{-s}$ (Hurwitz zeta ζ(s, a)); 0 at a = +inf."""
    finite = jnp.isfinite(a)
    return jnp.where(finite, zeta(s, jnp.where(finite, a, 1.0)), 0.0)


def tail_mass(beta, k):
    r"""$\sum_{i > k} p_i$ = ζ(β, k+1)/ζ(β), exactly (0 at k = inf)."""
    return zeta_tail(beta, k + 1.0) / zeta(beta, 1.0)


def piece_sum(summand, seen, lo, hi, far, beta):
    r"""$\sum_{i = lo+1}^{hi} f(i)$ for a summand smooth on the piece (scalars; `hi` may be inf).

    `summand(x) = p(x) S(x)` and `seen(x) = p(x) (1 − S(x))` are functions of a real rank x;
    `far` is a rank beyond which the exposure is below `EXPOSURE_FLOOR` (the far tail is then summed
    as exact mass minus a power law); `beta` is the test law's exponent (p_i = i^-β/ζ(β)).
    """
    lo = jnp.asarray(lo, float)
    empty = ~(hi > lo)
    first = jnp.where(empty, 1.0, lo + 1.0)
    last = jnp.where(empty, 1.0, hi)

    # Ranks first … first+HEAD−1 term by term, and up to _SHORT more when the piece ends before
    # a + _SHORT (too short for the end differences of the middle part).
    ranks = first + jnp.arange(HEAD + _SHORT, dtype=first.dtype)
    a = first + HEAD
    short = last < a + _SHORT
    in_head = (ranks <= last) & ((ranks < a) | short)
    head = jnp.sum(jnp.where(in_head, summand(ranks), 0.0))

    has_middle = ~short
    a_safe = jnp.where(has_middle, a, 1.0)
    b = jnp.clip(jnp.ceil(far), a_safe + _SHORT, jnp.where(has_middle, last, a_safe + _SHORT))
    ua, ub = jnp.log(a_safe), jnp.log(b)
    edges = ua + (ub - ua) * jnp.arange(BLOCKS + 1) / BLOCKS
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    u = mid[:, None] + half[:, None] * _GAUSS_T[None, :]
    x = jnp.exp(u)
    integral = jnp.sum(half[:, None] * _GAUSS_W[None, :] * summand(x) * x)
    # Gregory: Σ_{a..b} f = ∫ + (f_a + f_b)/2 + Σ_j c_j (∇^j f_b − (−1)^j ... ), with forward
    # differences Δ^j at a and backward differences ∇^j at b (no derivatives needed).
    fa = summand(a_safe + jnp.arange(5.0))
    fb = summand(b - jnp.arange(5.0))
    ends = (fa[0] + fb[0]) / 2
    for j, c in enumerate(_GREGORY, start=1):
        forward_a = jnp.diff(fa, n=j)[0]
        backward_b = (-1.0) ** j * jnp.diff(fb, n=j)[0]
        ends = ends + c * (backward_b - forward_a if j % 2 else backward_b + forward_a)
    middle = jnp.where(has_middle, integral + ends, 0.0)

    # Far tail: ranks b+1 … last, where it exists. The revealed mass there is a power law to
    # relative O(exposure); its exponent is read off between x0 and 2 x0.
    has_far = has_middle & (last > b)
    x0 = b + 1.0
    top = jnp.where(jnp.isfinite(last), last + 1.0, jnp.inf)
    mass = (zeta_tail(beta, x0) - zeta_tail(beta, top)) / zeta(beta, 1.0)
    g0, g2 = seen(x0), seen(2.0 * x0)
    positive = (g0 > 0) & (g2 > 0) & has_far
    g0s = jnp.where(positive, g0, 1.0)
    gamma = jnp.where(positive, jnp.log(g0s / jnp.where(positive, g2, 1.0)) / jnp.log(2.0), 2.0)
    gamma = jnp.maximum(gamma, 1.0 + 1e-6)
    revealed = g0s * jnp.exp(gamma * jnp.log(x0)) * (zeta_tail(gamma, x0) - zeta_tail(gamma, top))
    far_sum = jnp.where(has_far, mass - jnp.where(positive, revealed, 0.0), 0.0)
    return jnp.where(empty, 0.0, head + middle + far_sum)


def far_rank(scale, power):
    """The rank x where scale · x^-power = `EXPOSURE_FLOOR` (scale ≥ 0, power > 0); 1 at scale 0."""
    scale = jnp.maximum(scale, 0.0)
    return jnp.where(scale > 0, jnp.exp(jnp.log(jnp.where(scale > 0, scale, 1.0) / EXPOSURE_FLOOR) / power), 1.0)


def log_survival(exposure, q):
    """exposure · log(1 − q), with 0 where the exposure is 0 and −inf where q = 1."""
    q = jnp.clip(q, 0.0, 1.0)
    active = exposure > 0
    return jnp.where(active, jnp.where(active, exposure, 0.0) * jnp.log1p(-jnp.where(active, q, 0.0)), 0.0)
