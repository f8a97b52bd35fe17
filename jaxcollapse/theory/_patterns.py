r"""Exact averages over random row patterns, for the block equivalent of the subsample data loops.

A row of a subsampling loop enters fit $g$ through a random subset of its copies: copy $k$ (labelled
by model $k - 1$) is a candidate of fit $g$ where `cand[g, k]` is 1, and each candidate is used
independently with probability $p_g$ (a fit that draws $n_0$ of its $(g+1)n_0$ pooled rows uses each
with probability $1/(g+1)$). The block equivalent needs, for such a row, the mean and the two-sided
averages of $Y = (I + P\chi)^{-1}B$, where $P$ and $B$ have rows linear in the pattern,
$P_g = \sum_k \delta_{gk}\,(e_g - e_{k-1})^\top$, $B_g = \sum_k \delta_{gk}\, b_{gk}$, and $\chi$ is
lower triangular.

Row $g$ of $(I + P\chi)Y = B$ reads $(1 + c_g\chi_{gg})\,Y_g = \sum_k \delta_{gk}(b_{gk} - \ell_{gk} Y_{<g})$,
with $c_g = \sum_k \delta_{gk}$ the number of copies fit $g$ uses and $\ell_{gk}$ the part of
$(e_g - e_{k-1})^\top\chi$ left of the diagonal. Fit $g$'s pattern is independent of $Y_{<g}$, so
$E[Y_g]$ and $E[Y_g W Y_h^\top]$ follow row by row from earlier rows, with the pattern entering only
through binomial averages of $\delta/(1 + c\chi_{gg})$ and $\delta\delta'/(1 + c\chi_{gg})^2$ (by
exchangeability of the candidates). The recursion is exact: no sampling, $O(H^3)$ per average
(tests/test_data_loop.py holds it against enumeration of every pattern).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln, xlogy


def row_stats(chi_diag, count, p):
    r"""Per fit g, with $c \sim \mathrm{Binomial}(n_g, p_g)$ copies used and $f = 1 + c\chi_{gg}$:
    $E[\delta_k/f]$, $E[\delta_k/f^2]$, $E[\delta_k\delta_l/f^2]$ ($k \ne l$), $E[c/f]$, $E[c^2/f^2]$."""
    H = chi_diag.shape[0]
    j = jnp.arange(H + 1, dtype=chi_diag.dtype)

    def expect(m, shift, power):  # E[f(X + shift)^-power], X ~ Binomial(m, p), per g
        m = m[:, None]
        ok = (j[None, :] <= m) & (m >= 0)
        m_s = jnp.where(m >= 0, m, 0.0)
        j_s = jnp.where(ok, j[None, :], 0.0)
        q = p[:, None]
        log_pmf = gammaln(m_s + 1) - gammaln(j_s + 1) - gammaln(m_s - j_s + 1) + xlogy(j_s, q) + xlogy(m_s - j_s, 1 - q)
        pmf = jnp.where(ok, jnp.exp(log_pmf), 0.0)
        return jnp.sum(pmf / (1.0 + (j[None, :] + shift) * chi_diag[:, None]) ** power, axis=1)

    one = p * expect(count - 1.0, 1.0, 1)
    same = p * expect(count - 1.0, 1.0, 2)
    pair = p**2 * expect(count - 2.0, 2.0, 2)
    return one, same, pair, count * one, count * same + count * (count - 1.0) * pair


def geometry(ell, cand):
    r"""What every average shares for a given χ: with $\ell_{gk}$ cut left of the diagonal,
    and $\sum_k c_{gk}\ell_{gk}$ (H, H). `ell` (H, K, H) holds
    the rows $(e_g - e_{k-1})^\top\chi$, `cand` (H, K) the candidates."""
    H = ell.shape[0]
    h = jnp.arange(H)
    low = jnp.where(h[None, None, :] < h[:, None, None], ell, 0.0)
    return low, jnp.einsum("gk,gkh->gh", cand, low)


def pairs(geom, cand):
    r"""$\sum_k c_{gk}\ell_{gk}^\top\ell_{gk}$ (H, H, H): what the two-sided averages add to `geometry`."""
    return (*geom, jnp.einsum("gk,gkh,gkj->ghj", cand, geom[0], geom[0]))


def sources(b, cand, geom):
    r"""What the averages of one right-hand side B need: $\sum_k c_{gk}b_{gk}$, $\sum_k c_{gk}b_{gk}^\top b_{gk}$,
    $\sum_k c_{gk}\ell_{gk}^\top b_{gk}$; `b` (H, K, w) holds the rows $b_{gk}$."""
    low = geom[0]
    return (
        jnp.einsum("gk,gkw->gw", cand, b),
        jnp.einsum("gk,gkv,gkw->gvw", cand, b, b),
        jnp.einsum("gk,gkh,gkw->ghw", cand, low, b),
    )


def mean(stats, src, geom):
    r"""$E[Y]$, shape (H, w)."""
    one, Bs, ls = stats[0], src[0], geom[1]

    def row(g, m):
        return m.at[g].set(one[g] * (Bs[g] - ls[g] @ m))

    return jax.lax.fori_loop(0, Bs.shape[0], row, jnp.zeros(Bs.shape, Bs.dtype))


def two_sided(stats, src, geom, m, W):
    r"""$E[Y W Y^\top]$ (H, H) for a symmetric W (w, w), given $m = E[Y]$ (`mean`) and `geom` from `pairs`."""
    one, same, pair = stats[:3]
    Bs, Bb, Lb = src
    _, ls, Ll = geom
    H = Bs.shape[0]
    h = jnp.arange(H)
    mW = m @ W

    def row(g, S):
        bs, el = Bs[g], ls[g]
        off = jnp.where(h < g, one[g] * (mW @ bs - S @ el), 0.0)  # E[Y_g W Y_hᵀ], h < g
        # E[Y_g W Y_gᵀ]: the pairs of copies, summed over all (k, l) and over k = l
        full = bs @ W @ bs - 2.0 * el @ (mW @ bs) + el @ S @ el
        diag = jnp.sum(W * Bb[g]) - 2.0 * jnp.sum(Lb[g] * mW) + jnp.sum(Ll[g] * S)
        S = S.at[g].set(off).at[:, g].set(off)
        return S.at[g, g].set(same[g] * diag + pair[g] * (full - diag))

    return jax.lax.fori_loop(0, H, row, jnp.zeros((H, H), Bs.dtype))
