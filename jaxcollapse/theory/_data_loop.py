r"""Self-consuming data loops: replace, accumulate, accumulate-subsample (exact where it is known, a
deterministic equivalent everywhere else).

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
- *Accumulate, fresh design.* With $M_g = \sum_{k\le g}X_k^\top X_k$ the normal equations of
  generation $g \ge 1$ read $M_g\hat w_g = M_{g-1}\hat w_{g-1} + X_g^\top(X_g\hat w_{g-1} + \varepsilon_g)
  = M_g\hat w_{g-1} + X_g^\top\varepsilon_g$, so $\hat w_g = \hat w_{g-1} + M_g^{-1}X_g^\top\varepsilon_g$:
  no bias is added after generation 0 and the generations' noises are uncorrelated. The $g + 1$
  blocks of $M_g$ are exchangeable, so $E\,\mathrm{tr}(\Sigma M_g^{-1}X_g^\top X_gM_g^{-1}) =
  E\,\mathrm{tr}(\Sigma M_g^{-1})/(g+1)$, and $M_g$ is Wishart with $(g+1)n_0$ rows:
  $E\,\mathrm{tr}(\Sigma M_g^{-1}) = d/((g+1)n_0 - d - 1)$ (any $\Sigma$).
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
| accumulate, fresh | $c\sigma_1^2 + \sigma_0^2\sum_{k=2}^{G+1}\frac{d}{k(kn_0 - d - 1)}$ | $R(1-\psi) + c\sigma_1^2 +$ the same sum (if $2n_0 \ge d + 2$) |

(the fresh over-parameterised row: independent projections with $E P_g = \psi I$ shrink older noise
by $\psi$ per generation and $E\|P_G\cdots P_0w^* - w^*\|^2 = R(1 - \psi^{G+1})$). All are exact for
integer $n_0$ (and real $G$: $\sum_{k=2}^{G+1}k^{-2} = \psi_1(2) - \psi_1(G+2)$ with the trigamma
$\psi_1$). So replace grows linearly, $c\sigma_0^2$ per generation (`data_loop_growth`), and
accumulate stays bounded, by $c(\sigma_1^2 + \sigma_0^2(\pi^2/6 - 1))$ (`data_loop_bound`), as
Gerstgrasser et al. prove. With a fresh design each term of the sum is at most the fixed design's
$c/k^2$ (fresh rows never do worse); in closed form, with $a = (d+1)/n_0$ and the digamma $\psi$,
$\sum_{k=2}^{G+1}\frac{d}{k(kn_0-d-1)} = \frac{d}{d+1}[\psi(G+2-a) - \psi(2-a) - \psi(G+2) + \psi(2)]$
(real $G$ works), tending to $\frac{d}{d+1}(\psi(2) - \psi(2-a))$ as $G \to \infty$
(`data_loop_bound(..., design="fresh")`); for $n_0 \gg d$ it is $(d/n_0)\sum 1/k^2$ again. For $d - 1 \le n_0 \le d + 1$ the trace is infinite: `+inf`
(`Status.INFINITE`) unless the noise is zero.

"replace" with a fresh design at $\lambda = 0$ and $n_0 \ge d + 2$ is `jc.theory.retraining` with
$n = n_0$, $\lambda = 0$: both are $G + 1$ unbiased OLS steps whose noises add, so their order does
not matter, and the two kernels agree exactly (tested). They differ otherwise (retraining fits
its last step with $n$ rows and $\lambda$; over-parameterised, the order of the noises matters).

**Ridge, fixed design ($\lambda > 0$).** With $\hat\Sigma = X_0^\top X_0/n_0$, $Q = (\hat\Sigma + \lambda)^{-1}$,
$T = Q\hat\Sigma$ and $u_j = QX_0^\top\varepsilon_j/n_0$ (covariance $\sigma_j^2Q\hat\Sigma Q/n_0$), every model is
$\hat w_G = \alpha_G(T)w^* + \sum_{j\le G}\beta_{G,j}(T)u_j$ with scalar functions of $T$:

- *Replace:* $\hat w_g = T\hat w_{g-1} + u_g$, so $\alpha_G = t^{G+1}$, $\beta_{G,j} = t^{G-j}$.
- *Accumulate:* the $g+1$ stacked copies of $X_0$ have the normal equations of $X_0$ with the mean
  label and the same $\lambda$ (the loss is an average over rows), so
  $(g+1)\hat w_g = T(w^* + \sum_{i<g}\hat w_i) + \sum_{j\le g}u_j$. Subtracting consecutive
  generations, each coefficient obeys $c_{g+1} = c_g\,(g+1+t)/(g+2)$, whence
  $\alpha_G = tP_G$, $\beta_{G,j} = P_G/((j+1)P_j)$ with $P_j = \prod_{g<j}(g+1+t)/(g+2)$
  (at $t = 1$: $\alpha = 1$, $\beta_{G,j} = 1/(j+1)$, the OLS case above).

So the error is $\mathrm{tr}\,\Gamma\Sigma - 2\,\mathrm{tr}\,\Gamma\Sigma\,\alpha(\hat\Sigma) + \mathrm{tr}\,\Gamma\alpha(\hat\Sigma)\Sigma\alpha(\hat\Sigma)
+ \mathrm{tr}\,\Sigma\,\nu(\hat\Sigma)$ with $\nu = \sum_j\sigma_j^2\beta_{G,j}^2\,s/(n_0(s+\lambda)^2)$: single and
two-sided traces of functions of the one sample covariance, which `_resolvent` evaluates by contour
integrals of their deterministic equivalents (the only approximation; its relative error is
$O(1/n_0)$ and it is exact as $n_0, d \to \infty$ together; measured against Monte Carlo below).

**With a ridge, neither law of the ridgeless case holds.** Every eigenvalue $t = s/(s+\lambda)$ of $T$
is below 1, so replace forgets $w^*$ geometrically ($\alpha_G = t^{G+1}$) and its error saturates
(near $\mathrm{tr}\,\Sigma\Gamma$ plus a stationary noise); accumulate forgets it as a power of $G$,
$\alpha_G = \Gamma(G+1+t)/(\Gamma(t)\Gamma(G+2)) \sim G^{t-1}/\Gamma(t)$, while its noise dies out, so it
drifts slowly to the null predictor's error $\mathrm{tr}\,\Sigma\Gamma$ instead of staying below the
π²/6 bound (power law d = 20, n0 = 80, λ = 0.05, tr ΣΓ = 1: 0.32 at G = 20, 0.46 at 500, 0.51 at
2000; simulation at G = 200: 0.437 ± 0.009 against 0.425).

**Ridge, fresh design, "replace" ($\lambda > 0$).** $\hat w_g = A_g\hat w_{g-1} + u_g$ with independent
$A_g = \hat\Sigma_g(\hat\Sigma_g + \lambda)^{-1}$. By sign symmetry the diagonal of $E[A D A]$ depends only on
the diagonal of $D$, and its deterministic equivalent (Bach 2024, with $R = (\Sigma + \kappa)^{-1}$,
$\lambda = \kappa(1 - \mathrm{df}_1(\kappa)/n_0)$, $\mathrm{df}_2 = \mathrm{tr}\,\Sigma^2R^2$) is
$E[ADA] \simeq (\Sigma R)^2D + \frac{\kappa^2}{n_0 - \mathrm{df}_2}\mathrm{tr}(\Sigma R^2D)\,\Sigma R^2$, with
$E[A] \simeq \Sigma R$ and $E[u_gu_g^\top] \simeq \sigma_g^2\Sigma R^2/(n_0 - \mathrm{df}_2)$. The diagonal second
moments and the overlap with $w^*$ then follow a linear recursion over the generations, run for a
static number of steps (`HORIZONS`). At $\lambda = 0$ the exact formulas above are used instead.

**Ridge, fresh design, "accumulate" ($\lambda > 0$): the stacked fits.** Fit $g$ sees the rows of
blocks $0..g$, block $b$ labelled by model $b - 1$ (by $w^*$ for $b = 0$), so every fit depends on
every earlier one through shared rows. Treat the fits $0..H-1$ jointly: each block is a *row type*
with $P_b = \sum_{g \ge b} e_g(e_g - e_{b-1})^\top$ ($e_g$ the unit vectors of $\mathbb R^H$, no
$e_{-1}$: how the row's residual enters each fit) and noise vector $u_b = (1[g \ge b])_g$; fit g has
$N_g = (g+1)n_0$ rows and ridge $N_g\lambda$ ($\nu = (N_g\lambda)_g$, $\Lambda = \mathrm{diag}\,\nu$). A
leave-one-row-out (cavity) argument gives, with $H \times H$ lower-triangular matrices:

1. $\chi = \sum_j s_jK_j$, $K_j = (s_jA + \Lambda)^{-1}$, $A = n_0\sum_b(I + P_b\chi)^{-1}P_b$ (solved by
   damped iteration);
2. $Q_b = (I + P_b\chi)^{-1}P_b$, $\mathcal M(\Omega) = n_0\sum_b Q_b\big(\sum_j s_j^2K_j\Omega K_j^\top\big)Q_b^\top$;
3. $\Omega = (I - \mathcal M)^{-1}\big(\Omega_w + \sigma_1^2\Omega_1 + \sigma_0^2\Omega_0\big)$ with
   $\Omega_w = n_0\sum_bQ_b\big(\sum_js_j\Gamma_jK_j\nu\nu^\top K_j^\top\big)Q_b^\top$ and
   $\Omega_1$, $\Omega_0$ the sums of $n_0T_bu_bu_b^\top T_b^\top$ ($T_b = (I + P_b\chi)^{-1}$) over
   block 0 and over blocks $\ge 1$;
4. $E_g = \sum_js_j\Gamma_j(K_j\nu)_g^2 + \sum_js_j^2(K_j\Omega K_j^\top)_{gg}$ for every $g < H$ at once.

With one row type per policy the same equations give the replace and fixed-design chains above to
rounding (the tests hold them together, 1e-10); as $\lambda \to 0$ they give the OLS formula with
$d/(N - d)$ for $d/(N - d - 1)$, the usual shift of a deterministic equivalent. Everything is
causal, so $\mathcal M$ is triangular in the order of $(g, h)$: its eigenvalues are its diagonal (a
spectral radius of 1 or more would mean no finite error: `NOT_CONVERGED`), and its off-diagonal
part is nilpotent: $2H - 1$ rounds of $\Omega \leftarrow (\text{sources} + \mathcal N\Omega)/(1 -
\mathcal D)$ solve exactly, each one application of $\mathcal M$ ($O(dH^3)$, never an $H^2 \times H^2$
matrix). Horizons are `BLOCK_HORIZONS` (G ≤ 31 for now, NaN with `NO_THEORY`
beyond; a traced G takes the largest). Against Monte Carlo (d = 20, 30, 50; n0/d = 1.2–2;
λ ∈ {0.01, 0.1, 0.5}; G ≤ 20; 2000 trials): within 2.6 %, a little low as every equivalent here.

**Agreement with Monte Carlo** (`scripts/data_loop_vs_simulation.py`, the table in docs/guides/generations.md): the
ridge equivalents sit within max(3 s.e., 3 %) of `jc.simulate.data_loop` on isotropic and power-law
spectra, $n_0/d$ from 0.6 to 4, $\lambda \ge 10^{-2}$, $G \le 20$; being deterministic equivalents they
are a little low at small $n_0$ (about 1–2 % at $d = 20$, $n_0 = 80$), as for `jc.theory.ridge`.
They do not reduce to the exact ridgeless formulas as $\lambda \to 0$, but to their deterministic
equivalents (e.g. $d/(n_0 - d)$ for $d/(n_0 - d - 1)$).

**Subsampling ("accumulate-subsample", λ ≥ 0): the same equations with random row patterns.** Fit $g$
draws $n_0$ of the $(g+1)n_0$ pooled rows; the equivalent treats each pooled row as used independently
with probability $1/(g+1)$ (the proportional limit does not see the difference). A row then enters the
stacked fits through a random pattern $\delta$: with a fresh design, a row of block $b$ has one copy
(labelled by model $b - 1$) and $P = \sum_{g \ge b}\delta_g e_g(e_g - e_{b-1})^\top$; with a fixed
design, each row of $X_0$ has a copy per generation $k$ (labelled by model $k - 1$, a candidate of every
fit $g \ge k$) and $P = \sum_{k \le g}\delta_{gk}e_g(e_g - e_{k-1})^\top$, every fit having $N_g = n_0$
rows. The equations above hold with $n_0\sum_b(\cdot)$ replaced by $n_0$ times the sum over row types of
the *average over patterns* of $(I + P\chi)^{-1}P$, of $Q\,\Omega\,Q^\top$ and of the noise terms.
Because fit $g$'s pattern is independent of the earlier rows of $(I + P\chi)^{-1}P$, these averages
follow row by row from binomial averages of $\delta/(1 + c\chi_{gg})$ and $\delta\delta'/(1 + c\chi_{gg})^2$
($c$ the copies fit $g$ uses): exact, with no sampling (`_patterns`, tested against enumeration of
every pattern). ℳ's diagonal is $n_0 E[Q_{gg}Q_{hh}]\sum_j s_j^2K_{j,gg}K_{j,hh}$ with
$Q_{gg} = c_g/(1 + c_g\chi_{gg})$. Fits after G cannot change G's error, so they are given a unit ridge.

Where it is approximate, and where there is no answer:

- At λ = 0 the equivalent is asymptotically right but has large finite-size errors when $n_0$ is
  close to $d$ (d = 50, $n_0$ = 1.5d: 4–9 % low at G = 1–20; 3d: 1–3 %), and at λ = 0.01 with
  $n_0$ = 1.5d up to 4 % (`scripts/data_loop_subsample_vs_simulation.py`, docs/guides/generations.md).
- A ridgeless fit of the fixed design sees only the distinct rows of its draw, Binomial($n_0$, $q_g$)
  of them with $q_g = 1 - (1 - 1/(g+1))^{g+1}$ (→ 1 − 1/e). The mean error is infinite wherever that
  number can be $d + 1$ or fewer (the inverse-Wishart mean diverges); we report +inf
  (`Status.INFINITE`) where that chance exceeds `NEGLIGIBLE` = 1e-6 for some fit up to G — at
  $n_0 \lesssim d/(1 - 1/e)$ it is near one — and otherwise the equivalent, the error of fits that see
  enough rows. When ℳ's spectral radius over the fits up to G reaches 1 the second moments have no
  finite solution: +inf at λ = 0, `NOT_CONVERGED` at λ > 0.
- At λ = 0 with $n_0 \le d - 2$ there is no theory (`NO_THEORY`); $d - 1 \le n_0 \le d + 1$ is +inf
  (fit 0 at its threshold). Horizons are `BLOCK_HORIZONS` (G ≤ 31), and G must be an integer.

**No theory (NaN, `Status.NO_THEORY`; use `jc.simulate.data_loop`):** "accumulate" with a fresh
design at $\lambda = 0$ with $2n_0 < d + 2$, or at $\lambda > 0$ beyond 31 generations;
"accumulate-subsample" beyond 31 generations, or at λ = 0 with $n_0 \le d - 2$; $n_0 \le d - 2$ with an
anisotropic $\Sigma$ at $\lambda = 0$; a traced `generations` above 512 (`TRACED_HORIZON`; concrete ones
up to 2048).
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import polygamma

from .._batch import block_for, broadcast_map
from .._problem import Mixture
from .._results import Risk
from .._solve import bracketed_root
from .._types import Scalars, Values
from .._validate import (
    LOOP_DESIGNS as DESIGNS,
    LOOP_POLICIES as POLICIES,
    _show,
    check_broadcast,
    check_loop,
    check_mixture,
    check_scalar,
    is_concrete,
    require_same_covariance,
    valid_mask,
)
from . import _patterns
from ._common import finish, mixture_valid, times
from ._resolvent import contour, nodes_for
from ._ridge import _kappa_equation, _kappa_value_and_derivative, kappa_bracket

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
    `generations` $G \ge 0$ (real values interpolate at $\lambda = 0$; at $\lambda > 0$ they must be
    integers); `lam` $\ge 0$; `generator_noise_var` $\sigma_0^2 \ge 0$; `policy` in `POLICIES`,
    `design` in `DESIGNS` (static). They broadcast.

    **Returns:** a `Risk`: `bias` the part from $w^*$, `variance` the generation-0 noise $\sigma_1^2$,
    `collapse` what the synthetic generations add, `kappa` the effective ridge $\kappa$ of one fit on
    $n_0$ rows ($\lambda$ at $\lambda = 0$). NaN with `Status.NO_THEORY` where no formula is known
    (module docstring).
    """
    check_mixture(mix)
    check_loop(policy, design)
    require_same_covariance(mix, "data_loop")
    # sized from the inputs as given: under an outer jit, check_scalar's arrays are tracers even for constants
    given = dict(n0=n0, lam=lam, generations=generations)
    n0 = check_scalar("n0", n0, low=0.0, strict=True)
    generations = check_scalar("generations", generations, low=0.0)
    lam = check_scalar("lam", lam, low=0.0)
    generator_noise_var = check_scalar("generator_noise_var", generator_noise_var, low=0.0)
    check_broadcast(n0=n0, generations=generations, lam=lam, generator_noise_var=generator_noise_var)
    if is_concrete(generations) and is_concrete(lam):
        G, L = np.broadcast_arrays(np.asarray(generations), np.asarray(lam))
        if policy == "accumulate-subsample" and np.any(G != np.floor(G)):
            raise ValueError(f"generations must be integers for accumulate-subsample, got {_show(G)}")
        if np.any((L > 0) & (G != np.floor(G))):
            raise ValueError(
                f"generations must be integers where lam > 0 (the ridge chains have no real-G form), got {_show(G)}"
            )
    horizon = 0
    if (policy, design) == ("accumulate", "fresh"):
        ridgeless = is_concrete(given["lam"]) and not np.any(np.asarray(given["lam"]) > 0)
        if not ridgeless:  # (only a ridge needs the block equivalent: no program for it at λ = 0)
            horizon = _block_horizon(given["generations"])
    elif policy == "accumulate-subsample":  # the block equivalent at every λ
        horizon = _block_horizon(given["generations"])
    elif _needs_horizon(policy, design):
        horizon = _horizon(given["generations"])
    sized = design == "fixed" and policy != "accumulate-subsample"
    if sized:  # λ = 0 points take the exact formulas, not the contour: size for the ridges only
        lam_given = (
            given["lam"] if not is_concrete(given["lam"]) else np.where(np.asarray(given["lam"]) > 0, given["lam"], 1.0)
        )
        nodes = nodes_for(mix.eigs, mix.d, given["n0"], lam_given)
    else:
        nodes = 0
    shared = None
    if policy == "accumulate-subsample" and is_concrete(n0) and is_concrete(lam):
        # one block solve per distinct (n0, λ) serves every G and σ0² (a curve over G is one solve)
        pairs = np.stack(np.broadcast_arrays(np.asarray(n0, float), np.asarray(lam, float)), axis=-1)
        unique, index = np.unique(pairs.reshape(-1, 2), axis=0, return_inverse=True)
        shared = (jnp.asarray(unique[:, 0]), jnp.asarray(unique[:, 1]), jnp.asarray(index.reshape(pairs.shape[:-1])))
    return _data_loop_jit(mix, n0, generations, lam, generator_noise_var, policy, design, horizon, nodes, shared)


# At λ > 0 "accumulate" (fixed design) and "replace" (fresh design) run their recursions over a static
# number of generations: the smallest of these buckets that holds the largest G of the call (one
# compiled program per bucket), or 512 for a traced G (larger G: NaN, `Status.NO_THEORY`).
HORIZONS = (32, 128, 512, 2048)
TRACED_HORIZON = 512


# "accumulate" with a fresh design at λ > 0 solves all generations up to a horizon jointly (the block
# equivalent below): fits 0..H-1 in one H² × H² solve, so its buckets are small; a larger G is NaN
# with `Status.NO_THEORY` for now.
BLOCK_HORIZONS = (8, 16, 32)


def _block_horizon(generations) -> int:
    """The block equivalent's horizon H: the smallest bucket with G ≤ H - 1 (the largest for a traced G)."""
    return _horizon(generations, tuple(h - 1 for h in BLOCK_HORIZONS), BLOCK_HORIZONS[-1] - 1) + 1


def _block_n0(n0, lam, d):
    """The n0 a subsample block solve is given: below the threshold at λ = 0 it is not used (d + 2)."""
    return jnp.where((lam > 0) | (n0 > d + 1), n0, d + 2.0)


def _needs_horizon(policy, design) -> bool:
    return policy == "accumulate-subsample" or (policy, design) in (
        ("accumulate", "fixed"),
        ("replace", "fresh"),
        ("accumulate", "fresh"),
    )


def _horizon(generations, buckets=HORIZONS, traced=TRACED_HORIZON) -> int:
    if not is_concrete(generations):
        return traced
    top = float(np.max(np.asarray(generations), initial=0.0))
    return next((h for h in buckets if top <= h), buckets[-1])


@eqx.filter_jit
def _data_loop_jit(mix, n0, generations, lam, s0, policy, design, horizon, nodes, shared=None):
    if shared is not None:
        pn0, plam, index = shared
        d = jnp.asarray(mix.d, pn0.dtype)
        usable = (pn0 > 0) & jnp.isfinite(pn0) & (plam >= 0) & jnp.isfinite(plam)
        safe_lam = jnp.where(usable, plam, 1.0)
        safe_n0 = jnp.where(usable, _block_n0(pn0, safe_lam, d), d + 2.0)
        table = jax.vmap(lambda a, b: _subsample_solve(mix, a, b, horizon=horizon, design=design))(safe_n0, safe_lam)

        def point(n0, generations, lam, s0, row):
            solved = jax.tree.map(lambda x: x[row.astype(jnp.int32)], table)
            return _point(
                mix,
                n0,
                generations,
                lam,
                s0,
                policy=policy,
                design=design,
                horizon=horizon,
                nodes=nodes,
                prepared=None,
                solved=solved,
            )

        return broadcast_map(
            point, block=block_for(mix.eigs.shape[0]), n0=n0, generations=generations, lam=lam, s0=s0, row=index
        )
    prepared = None
    if nodes and jnp.ndim(n0) == 0:  # one n0: the contour and its nodes² × d kernels serve every point
        ridges = jnp.where(lam > 0, lam, jnp.inf)
        floor = jnp.where(jnp.isfinite(jnp.min(ridges)), jnp.min(ridges), 1.0)  # the smallest ridge's floor
        prepared = _prepare(mix, jnp.where(n0 > 0, n0, 1.0), floor, nodes)
    point = functools.partial(
        _point, mix, policy=policy, design=design, horizon=horizon, nodes=nodes, prepared=prepared
    )
    block = block_for(max(nodes, 1) * mix.eigs.shape[0])
    return broadcast_map(point, block=block, n0=n0, generations=generations, lam=lam, s0=s0)


def _point(mix, n0, generations, lam, s0, *, policy, design, horizon, nodes, prepared, solved=None) -> Risk:
    valid = valid_mask((n0, 0.0, None, True), (generations, 0.0, None, False), (lam, 0.0, None, False))
    valid &= valid_mask((s0, 0.0, None, False)) & mixture_valid(mix)
    ridge = lam > 0
    integer = generations == jnp.floor(generations)
    valid &= (~ridge | integer) if policy != "accumulate-subsample" else integer
    d = jnp.asarray(mix.d, n0.dtype)
    G = jnp.where(valid, generations, 0.0)
    n0 = jnp.where(valid, n0, d + 2.0)
    bias, variance, collapse, infinite = _ols(mix, n0, G, s0, policy=policy, design=design)
    supported = _ols_supported(mix, n0, policy=policy, design=design)
    kappa = jnp.asarray(lam)
    converged = jnp.asarray(True)
    chains = (("replace", "fixed"), ("accumulate", "fixed"), ("replace", "fresh"))
    if (policy, design) in chains or ((policy, design) == ("accumulate", "fresh") and horizon > 0):
        lam_r = jnp.where(ridge, lam, 1.0)  # the ridge branch never sees λ = 0 (no NaN in its gradient)
        if design == "fixed":
            terms, ok = _fixed_ridge(
                mix, n0, G, lam_r, s0, policy=policy, horizon=horizon, nodes=nodes, prepared=prepared
            )
        elif policy == "replace":
            terms, ok = _fresh_ridge(mix, n0, G, lam_r, s0, horizon=horizon)
        else:
            terms, ok = _block_ridge(mix, n0, G, lam_r, s0, horizon=horizon)
        last = horizon - 1 if policy == "accumulate" and design == "fresh" else horizon
        k_r, within = terms[3], (G <= last) | (horizon == 0)
        bias, variance, collapse = (jnp.where(ridge, r, o) for r, o in zip(terms[:3], (bias, variance, collapse)))
        kappa = jnp.where(ridge, k_r, kappa)
        converged = ~ridge | ok
        supported = jnp.where(ridge, within, supported)
        infinite = infinite & ~ridge
    elif policy == "accumulate-subsample" and horizon > 0:
        under = n0 > d + 1
        n0_b = _block_n0(n0, lam, d)
        if solved is None:
            solved = _subsample_solve(mix, n0_b, lam, horizon=horizon, design=design)
        (b_all, v_all, c_all), k_r, ok, finite = solved
        pick = jnp.clip(G, 0, horizon - 1).astype(jnp.int32)
        diverges = ~finite[pick]  # no finite second moment: +inf at λ = 0, no answer at λ > 0
        r_bias, r_var, r_col = b_all[pick], mix.noise_var * v_all[pick], s0 * c_all[pick]
        blown = diverges & ~ridge  # ridgeless fits are unbiased: only the noise terms blow up
        r_bias = jnp.where(blown, 0.0, r_bias)
        r_var = jnp.where(blown, jnp.where(mix.noise_var > 0, jnp.inf, 0.0), r_var)  # (no inf · 0 in a gradient)
        r_col = jnp.where(blown, jnp.where((s0 > 0) & (G > 0), jnp.inf, 0.0), r_col)
        use = ridge | under
        bias, variance, collapse = (
            jnp.where(use, r, o) for r, o in zip((r_bias, r_var, r_col), (bias, variance, collapse))
        )
        kappa = jnp.where(use, k_r, kappa)
        converged = ~use | jnp.where(ridge, ok & ~diverges, ok | diverges)
        # λ = 0 at d - 1 ≤ n0 ≤ d + 1: fit 0 is at its threshold (the exact terms above, +inf); below: no theory
        supported = (G <= horizon - 1) & (ridge | under | infinite)
        infinite = (infinite & ~ridge) | (diverges & ~ridge & under)
    else:
        supported &= ~ridge
    return finish(
        bias, variance, collapse, kappa, valid=valid, converged=converged, infinite=infinite, supported=supported
    )


def _ols(mix, n0, G, s0, *, policy, design):
    """The exact λ = 0 terms (module docstring) and where they are infinite."""
    d = jnp.asarray(mix.d, n0.dtype)
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
    elif policy == "accumulate" and design == "fresh":
        bias = jnp.where(below, R * (1.0 - psi), 0.0)
        variance = times(s1, c)
        collapse = s0 * _fresh_accumulate_sum(d, n0, G)
    else:
        bias = jnp.where(below, R * (1.0 - psi), 0.0)
        variance = times(s1, c)
        weight = G if policy == "replace" else polygamma(1, 2.0) - polygamma(1, G + 2.0)  # Σ_{k=2}^{G+1} 1/k²
        collapse = times(s0 * weight, c)
    return bias, variance, collapse, ~under & ~over


def _fresh_accumulate_sum(d, n0, G):
    r"""$\sum_{k=2}^{G+1} \frac{d}{k(kn_0 - d - 1)} = \frac{d}{d+1}\big[\psi(G+2-a) - \psi(2-a) - \psi(G+2) + \psi(2)\big]$,
    $a = (d+1)/n_0$ (real G; finite where $2n_0 \ge d + 2$, which `_ols_supported` requires)."""
    ok = 2.0 * n0 > d + 1.0
    a = jnp.where(ok, (d + 1.0) / n0, 0.5)
    psi = functools.partial(polygamma, 0)
    return jnp.where(ok, d / (d + 1.0) * (psi(G + 2.0 - a) - psi(2.0 - a) - psi(G + 2.0) + psi(2.0)), jnp.inf)


def _ols_supported(mix, n0, *, policy, design):
    isotropic = jnp.all(mix.eigs == mix.eigs[0])
    known = jnp.asarray(policy != "accumulate-subsample") & ((n0 >= mix.d) | isotropic)
    if policy == "accumulate" and design == "fresh":  # generations ≥ 1 fit ≥ 2n0 rows: invertible if 2n0 ≥ d + 2
        known &= 2.0 * n0 >= mix.d + 2.0
    return known


def _prepare(mix, n0, lam, nodes):
    """What a fixed-design point needs that depends on n0 (and λ's floor) only: the contour, the
    two-point kernels and the traces through it, shared by a grid with one n0."""
    s, mu = mix.eigs, mix.multiplicity
    path = contour(s, mu, n0, lam, nodes)
    weighted = mix.signal * s  # diag(ΓΣ), masses
    kernels = path.pair_kernels(weighted, _counted(mu, s**2), n0)
    return path, kernels, path.R @ weighted, path.R @ _counted(mu, s)


def _fixed_ridge(mix, n0, G, lam, s0, *, policy, horizon, nodes, prepared=None):
    r"""Fixed design, λ > 0: $\hat w_G = \alpha(T)w^* + \sum_j \beta_j(T)Q X_0^\top\varepsilon_j/n_0$ with
    $T = \hat\Sigma(\hat\Sigma + \lambda)^{-1}$, $Q = (\hat\Sigma + \lambda)^{-1}$ (module docstring), by contour."""
    s = mix.eigs
    kappa, ok = _kappa(mix, n0, lam)
    path, kernels, through_signal, through_s = _prepare(mix, n0, lam, nodes) if prepared is None else prepared
    z = path.z
    t = z / (z + lam)
    noise = z / ((z + lam) ** 2 * n0)  # Q Σ̂ Q / n0: the covariance of one u_j per unit noise
    if policy == "replace":
        log_t = -jnp.log1p(lam / z)
        alpha = jnp.exp((G + 1.0) * log_t)
        first = jnp.exp(2.0 * G * log_t)
        later = jnp.expm1(2.0 * G * log_t) / jnp.expm1(2.0 * log_t)  # Σ_{k<G} t^{2k}
    else:
        g = jnp.arange(horizon, dtype=s.dtype)
        factor = jnp.where(g[None, :] < G, (g[None, :] + 1.0 + t[:, None]) / (g[None, :] + 2.0), 1.0)  # nodes × horizon
        P = jnp.cumprod(factor, axis=1)  # P[:, j-1] = Π_{g<j} (g+1+t)/(g+2)
        PG = P[:, -1]  # the factors beyond G are 1
        alpha = t * PG
        first = PG**2
        j = g + 1.0
        later = PG**2 * jnp.sum(jnp.where(j[None, :] <= G, 1.0 / ((j[None, :] + 1.0) * P) ** 2, 0.0), axis=1)
    cross = path.integrate(alpha * path.scale * through_signal)  # tr(ΓΣ α(Σ̂))
    quad = path.two_sided(alpha, kernels)  # tr(Γ α(Σ̂) Σ α(Σ̂))
    base = path.scale * through_s * noise  # tr(Σ (z - Σ̂)^{-1}) · the noise weight
    R = jnp.sum(s * mix.signal)
    bias = jnp.maximum(R - 2.0 * cross + quad, 0.0)
    variance = mix.noise_var * path.integrate(first * base)
    collapse = s0 * path.integrate(later * base)
    return (bias, variance, collapse, kappa), path.converged & ok


def _fresh_ridge(mix, n0, G, lam, s0, *, horizon):
    r"""Fresh design, "replace", λ > 0: the chain of independent ridge maps $A_g$ on diagonal second moments,
    $E[A D A] \simeq (\Sigma R)^2 D + \frac{\kappa^2}{n_0 - \mathrm{df}_2}\langle \Sigma R^2, D\rangle\,\Sigma R^2$
    (module docstring)."""
    s, mu = mix.eigs, mix.multiplicity
    k, ok = _kappa(mix, n0, lam)
    r = 1.0 / (s + k)
    a = s * r
    v = s * r * r
    df2 = jnp.sum(_counted(mu, s * v))
    c = k**2 / (n0 - df2)
    inject = v / (n0 - df2)  # E[u uᵀ] diagonal per unit noise (a density per direction)

    def step(state, g):
        S, m = state  # S: (d, 3) second moments [from w*, from σ1², from σ0²] (masses); m: Γ-overlap
        live = g <= G
        new = a[:, None] ** 2 * S + c * _counted(mu, v)[:, None] * jnp.sum(v[:, None] * S, axis=0)[None, :]
        noise = jnp.stack([0.0 * inject, jnp.where(g == 0, 1.0, 0.0) * inject, jnp.where(g > 0, 1.0, 0.0) * inject], 1)
        new = new + (noise if mu is None else mu[:, None] * noise)
        return (jnp.where(live, new, S), jnp.where(live, a * m, m)), None

    S0 = jnp.stack([mix.signal, jnp.zeros_like(s), jnp.zeros_like(s)], axis=1)
    (S, m), _ = jax.lax.scan(step, (S0, mix.signal), jnp.arange(horizon + 1, dtype=s.dtype))
    second = s @ S
    R = jnp.sum(s * mix.signal)
    bias = jnp.maximum(second[0] - 2.0 * jnp.sum(s * m) + R, 0.0)
    return (bias, mix.noise_var * second[1], s0 * second[2], k), ok & (n0 > df2)


def _block_ridge(mix, n0, G, lam, s0, *, horizon):
    r"""Fresh design, "accumulate", λ > 0: the block equivalent over the stacked fits $0..H-1$
    (module docstring, "Ridge, fresh design, accumulate"), its error at generation G (< H).

    Every matrix here is lower triangular (causal: fit g sees only models before it), and so is the
    H² × H² map ℳ in the order of (g, h): inverses are forward substitutions written out (no LAPACK
    call, see `_linalg`), ℳ's eigenvalues are its diagonal, and its solve is `_nilpotent_solve`."""
    s, mu = mix.eigs, mix.multiplicity
    H = horizon
    dtype = s.dtype
    g = jnp.arange(H, dtype=dtype)
    eye = jnp.eye(H, dtype=dtype)
    # block b: rows drawn at generation b, labelled by model b - 1, used by every fit g >= b:
    # P_b = Σ_{g>=b} e_g (e_g - e_{b-1})ᵀ (no e_{-1}), noise vector u_b = 1[g >= b]
    used = (g[None, :] >= g[:, None]).astype(dtype)  # [b, g]
    P = jnp.einsum("bg,gh->bgh", used, eye) - jnp.einsum("bg,bh->bgh", used, jnp.eye(H, k=-1, dtype=dtype))
    nu = n0 * (g + 1.0) * lam  # N_g λ
    s_mass, s2_mass = _counted(mu, s), _counted(mu, s * s)

    def blocks(chi):
        T = _lower_inverse(eye[None] + P @ chi[None])  # (b, H, H)
        A = n0 * jnp.sum(T @ P, axis=0)
        K = _lower_inverse(s[:, None, None] * A[None] + jnp.diag(nu)[None])  # (d, H, H)
        return T, K

    def update(chi):
        return jnp.einsum("j,jab->ab", s_mass, blocks(chi)[1])

    # χ = update(χ) by damped iteration; its derivatives by the implicit function theorem, the
    # linearised equation solved by the same damped iteration (no matrix is formed or factorised)
    chi = jax.lax.custom_root(
        lambda c: update(c) - c, jnp.zeros((H, H), dtype), lambda f, c0: _damped(f, c0), _damped_linear
    )
    T, K = blocks(chi)
    change = jnp.max(jnp.abs(jnp.einsum("j,jab->ab", s_mass, K) - chi))
    converged = change <= 1e-9 * (1.0 + jnp.max(jnp.abs(chi)))
    Q = T @ P
    # Ω = (I - ℳ)⁻¹ sources, ℳ(Ω) = Σ_b n0 Q_b (Σ_j s_j² K_j Ω K_jᵀ) Q_bᵀ

    def calM(omega):  # (3, H, H) -> (3, H, H), never formed as an H² × H² matrix
        inner = jnp.einsum("j,jac,ycd,jbd->yab", s2_mass, K, omega, K)
        return n0 * jnp.einsum("xac,ycd,xbd->yab", Q, inner, Q)

    # ℳ's diagonal (its eigenvalues): the diagonals of triangular products multiply
    qd, kd = jnp.diagonal(Q, axis1=1, axis2=2), jnp.diagonal(K, axis1=1, axis2=2)
    diag = n0 * jnp.einsum("xg,xh->gh", qd, qd) * jnp.einsum("j,jg,jh->gh", s2_mass, kd, kd)
    radius = jnp.max(jnp.abs(diag))
    Kn = jnp.einsum("jab,b->ja", K, nu)
    bias_source = n0 * jnp.einsum("xac,cd,xbd->ab", Q, jnp.einsum("j,ja,jb->ab", mix.signal * s, Kn, Kn), Q)
    TU = jnp.einsum("bgh,bh->bg", T, used)  # T_b u_b
    first = n0 * jnp.outer(TU[0], TU[0])
    later = n0 * jnp.einsum("bg,bh->gh", TU[1:], TU[1:])
    sources = jnp.stack([bias_source, first, later])
    omega = _nilpotent_solve(calM, diag, sources, 2 * H - 1)
    spread = jnp.einsum("j,jac,xcd,jad->xa", s2_mass, K, omega, K)  # Σ_j s_j² (K_j Ω K_jᵀ)_gg
    bias_all = jnp.einsum("j,ja->a", mix.signal * s, Kn**2) + spread[0]
    pick = jnp.clip(G, 0, H - 1).astype(jnp.int32)
    kappa, ok = _kappa(mix, n0, lam)
    terms = (bias_all[pick], mix.noise_var * spread[1][pick], s0 * spread[2][pick], kappa)
    return terms, ok & converged & (radius < 1.0)


# Ridgeless fixed-design subsampling: a chance of a fit seeing too few distinct rows below this counts
# as none (module docstring, "Subsampling"); a Monte Carlo of a million trials would rarely meet it.
NEGLIGIBLE = 1e-6


def _subsample_solve(mix, n0, lam, *, horizon, design):
    r""" "accumulate-subsample", λ ≥ 0: the block equivalent with random row patterns (module docstring,
    "Subsampling"), its error at generation G (< H). Fit g draws $n_0$ of the $(g+1)n_0$ pooled rows, each
    with probability $1/(g+1)$; the averages over these patterns are exact (`_patterns`). One solve gives
    every generation g < H (causality):

    `(bias, variance per unit σ1², collapse per unit σ0²)` as (H,) arrays, κ, whether χ converged, and
    per g: whether the fits up to g have a finite error (ℳ's spectral radius over them below 1 and, at
    λ = 0, enough distinct rows)."""
    s, mu = mix.eigs, mix.multiplicity
    H = horizon
    dtype = s.dtype
    g = jnp.arange(H, dtype=dtype)
    eye = jnp.eye(H, dtype=dtype)
    p = 1.0 / (g + 1.0)
    if design == "fresh":  # type r: the rows of block r, one copy (labelled by model r - 1), used by fits g >= r
        cand = ((g[None, None, :] == g[:, None, None]) & (g[None, :, None] >= g[:, None, None])).astype(dtype)
    else:  # one type: every row of X0, copy k (labelled by model k - 1) a candidate of every fit g >= k
        cand = (g[None, :] <= g[:, None]).astype(dtype)[None]
    # the rows of P: b[g, k] = e_g - e_{k-1} (no e_{-1}); of a noise vector u_k: [k' = k]
    shifted = jnp.concatenate([jnp.zeros((1, H), dtype), eye[:-1]])  # e_{k-1}
    b = eye[:, None, :] - shifted[None, :, :]
    unit = eye[:, None, :, None] * jnp.ones((1, H, 1, 1), dtype)  # [k0, g, k, 0] = [k = k0]
    counts = jnp.sum(cand, axis=2)  # (types, H)
    # every fit has n0 rows. A ridgeless fit expects n0 P(c ≥ 1) distinct rows (summed over the types);
    # its equation has a solution only if they exceed d. The fits after the first one without cannot
    # change the earlier ones (causality): they get a unit ridge, so that they never stall the solve.
    seen = n0 * jnp.sum(1.0 - (1.0 - p[None, :]) ** counts, axis=0)
    solvable = (jnp.cumprod(seen > mix.d) > 0) | (lam > 0)
    nu = n0 * jnp.where(solvable, lam, 1.0)
    s_mass, s2_mass = _counted(mu, s), _counted(mu, s * s)

    def stats_of(chi):
        return jax.vmap(lambda c: _patterns.row_stats(jnp.diagonal(chi), c, p))(counts)

    def kernels(chi):
        stats = stats_of(chi)
        geom = jax.vmap(_patterns.geometry, in_axes=(None, 0))(b @ chi, cand)
        src = jax.vmap(_patterns.sources, in_axes=(None, 0, 0))(b, cand, geom)
        means = jax.vmap(_patterns.mean)(stats, src, geom)
        A = n0 * jnp.sum(means, axis=0)
        K = _lower_inverse(s[:, None, None] * A[None] + jnp.diag(nu)[None])
        return K, stats, geom, src, means

    def update(chi):
        return jnp.einsum("j,jab->ab", s_mass, kernels(chi)[0])

    chi = jax.lax.custom_root(
        lambda c: update(c) - c, jnp.zeros((H, H), dtype), lambda f, c0: _damped(f, c0), _damped_linear
    )
    K, stats, geom, src, means = kernels(chi)
    geom = jax.vmap(_patterns.pairs)(geom, cand)
    change = jnp.max(jnp.abs(jnp.einsum("j,jab->ab", s_mass, K) - chi))
    converged = change <= 1e-9 * (1.0 + jnp.max(jnp.abs(chi)))

    def average(W):  # n0 Σ_types E[Q W Qᵀ]
        return n0 * jnp.sum(jax.vmap(_patterns.two_sided, in_axes=(0, 0, 0, 0, None))(stats, src, geom, means, W), 0)

    def calM(omega):
        inner = jnp.einsum("j,jac,ycd,jbd->yab", s2_mass, K, omega, K)
        return jax.vmap(average)(inner)

    # ℳ's diagonal: E[Q_gg Q_hh] (Q_gg = c_g / (1 + c_g χ_gg), independent across fits) times the K's
    ec, ec2 = stats[3], stats[4]
    qq = jnp.einsum("rg,rh->gh", ec, ec) + jnp.diag(jnp.sum(ec2 - ec**2, axis=0))
    kd = jnp.diagonal(K, axis1=1, axis2=2)
    diag = n0 * qq * jnp.einsum("j,jg,jh->gh", s2_mass, kd, kd)
    # the spectral radius over the fits up to g: the largest |diag| in the leading block
    radius = jax.lax.cummax(jnp.max(jnp.where(g[None, :] <= g[:, None], jnp.abs(diag), 0.0), axis=1))
    finite = (radius < 1.0) & solvable
    if design == "fixed":
        # Exactly, a ridgeless fit g ≥ 1 of the fixed design sees a random number of distinct rows,
        # Binomial(n0, q_g) with q_g = 1 - (1 - 1/(g+1))^(g+1); where that can be d + 1 or fewer the mean
        # error is infinite (the inverse-Wishart mean is). Where the chance is below `NEGLIGIBLE` for
        # every fit up to g we report the error of the fits that do see enough rows (the typical one).
        q = 1.0 - (1.0 - p) ** (g + 1.0)
        a = jnp.maximum(n0 - mix.d - 1.0, 1e-3)
        few = jax.scipy.special.betainc(a, mix.d + 2.0, 1.0 - q)  # P(Binomial(n0, q) ≤ d + 1)
        finite &= (jnp.cumprod(few <= NEGLIGIBLE) > 0) | (lam > 0)
    Kn = jnp.einsum("jab,b->ja", K, nu)
    bias_source = average(jnp.einsum("j,ja,jb->ab", mix.signal * s, Kn, Kn))
    one = jnp.ones((1, 1), dtype)

    def noise(st, c, geo):  # E[T u_k u_kᵀ Tᵀ] for every copy k of one type: (H, H, H)
        def copy(bu):
            su = _patterns.sources(bu, c, geo)
            return _patterns.two_sided(st, su, geo, _patterns.mean(st, su, geo), one)

        return jax.vmap(copy)(unit)

    per_copy = n0 * jnp.sum(jax.vmap(noise)(stats, cand, geom), axis=0)
    sources = jnp.stack([bias_source, per_copy[0], jnp.sum(per_copy[1:], axis=0)])
    # an entry with a diagonal of 1 or more has no finite Ω (reported through `finite`); a finite
    # stand-in keeps NaN out of the entries before it (0 · NaN would reach them through the causal sums)
    omega = _nilpotent_solve(calM, jnp.where(diag < 1.0, diag, 0.0), sources, 2 * H - 1)
    spread = jnp.einsum("j,jac,xcd,jad->xa", s2_mass, K, omega, K)
    bias_all = jnp.einsum("j,ja->a", mix.signal * s, Kn**2) + spread[0]
    kappa, ok = _kappa(mix, n0, lam)
    return (bias_all, spread[1], spread[2]), kappa, ok & converged, finite


_BLOCK_STEPS = 5000  # damped steps at most (typically 40–100); a point that needs more is NOT_CONVERGED


def _damped(f, x0):
    """x with f(x) = 0 for f(x) = F(x) - x, by x ← x + f(x)/2."""

    def more(state):
        x, change, k = state
        return (change > 1e-15 * (1.0 + jnp.max(jnp.abs(x)))) & (k < _BLOCK_STEPS)

    def body(state):
        x, _, k = state
        step = 0.5 * f(x)
        return x + step, jnp.max(jnp.abs(step)), k + 1

    return jax.lax.while_loop(more, body, (x0, jnp.asarray(jnp.inf, x0.dtype), 0))[0]


def _damped_linear(g, y):
    """x with g(x) = y for the linearised equation g(x) = J x - x, by the same damped iteration (and
    its transpose the same way: `custom_linear_solve` supplies the reverse-mode rule)."""

    def solve(matvec, b):
        return _damped(lambda x: matvec(x) - b, jnp.zeros_like(b))

    return jax.lax.custom_linear_solve(g, y, solve, transpose_solve=solve)


def _lower_inverse(L):
    """Inverse of lower-triangular matrices (..., H, H) by forward substitution, row by row."""
    H = L.shape[-1]
    eye = jnp.broadcast_to(jnp.eye(H, dtype=L.dtype), L.shape)

    def row(i, X):
        r = (eye[..., i, :] - jnp.einsum("...k,...kh->...h", L[..., i, :], X)) / L[..., i, i, None]
        return X.at[..., i, :].set(r)

    return jax.lax.fori_loop(0, H, row, jnp.zeros_like(L))


def _nilpotent_solve(calM, diag, sources, steps):
    r"""Ω = (I − ℳ)⁻¹ sources for a map ℳ that sends entry (g′, h′) only to entries (g, h) with g′ ≤ g,
    h′ ≤ h (the causal blocks), whose diagonal is `diag`: with ℳ = 𝒟 + 𝒩, iterating
    Ω ← (sources + 𝒩Ω)/(1 − 𝒟) is exact after `steps` = 2H − 1 rounds (𝒩 is nilpotent: every round
    settles one more anti-diagonal g + h)."""

    diag = jnp.broadcast_to(diag, sources.shape)

    def round_(_, omega):
        return (sources + calM(omega) - diag * omega) / (1.0 - diag)

    return jax.lax.fori_loop(0, steps, round_, sources / (1.0 - diag))


def _counted(mu, x):
    return x if mu is None else mu * x


def _kappa(mix, n0, lam):
    r"""The effective ridge of one fit on $n_0$ rows: the root of $\lambda = \kappa(1 - \mathrm{df}_1(\kappa)/n_0)$."""
    s, mu = mix.eigs, mix.multiplicity
    lo, hi = kappa_bracket(s, n0, 0.0, lam, 1.0, mu, mix.d)
    ms = s if mu is None else mu * s
    args = (n0, 0.0, lam, 1.0, s, ms)
    return bracketed_root(_kappa_equation, args, lo, hi, None, _kappa_value_and_derivative)


def data_loop_growth(mix: Mixture, *, n0: Scalars, generator_noise_var: Scalars) -> Values:
    r"""The error "replace" adds per generation at $\lambda = 0$, $n_0 \ge d + 2$: $\sigma_0^2 d/(n_0 - d - 1)$
    (both designs; over-parameterised fresh chains instead saturate)."""
    check_mixture(mix)
    n0 = check_scalar("n0", n0, low=0.0, strict=True)
    s0 = check_scalar("generator_noise_var", generator_noise_var, low=0.0)
    d = mix.d
    return jnp.where(n0 > d + 1, s0 * d / jnp.where(n0 > d + 1, n0 - d - 1, 1.0), jnp.nan)


def data_loop_bound(mix: Mixture, *, n0: Scalars, generator_noise_var: Scalars, design: str = "fixed") -> Values:
    r"""The $G \to \infty$ limit of "accumulate" at $\lambda = 0$, $n_0 \ge d + 2$.

    `design="fixed"`: $\frac{d}{n_0 - d - 1}\big(\sigma_1^2 + \sigma_0^2(\pi^2/6 - 1)\big)$ (Gerstgrasser
    et al.'s bound); `design="fresh"`: $\frac{d}{n_0 - d - 1}\sigma_1^2 + \sigma_0^2\frac{d}{d+1}
    \big(\psi(2) - \psi(2 - a)\big)$, $a = (d+1)/n_0$ (module docstring), never above the fixed one.
    NaN for $n_0 < d + 2$."""
    check_mixture(mix)
    check_loop("accumulate", design)
    n0 = check_scalar("n0", n0, low=0.0, strict=True)
    s0 = check_scalar("generator_noise_var", generator_noise_var, low=0.0)
    d = mix.d
    under = n0 > d + 1
    c = jnp.where(under, d / jnp.where(under, n0 - d - 1, 1.0), jnp.nan)
    if design == "fixed":
        return c * (mix.noise_var + s0 * (jnp.pi**2 / 6 - 1.0))
    a = (d + 1.0) / jnp.where(under, n0, 2.0 * d)
    tail = d / (d + 1.0) * (polygamma(0, 2.0) - polygamma(0, 2.0 - a))
    return c * mix.noise_var + jnp.where(under, s0 * tail, jnp.nan)
