r"""Nonlinear random features of width m through Gaussian equivalence, on any diagonal spectrum.

Model: $f(x) = v^\top(\sigma(Sx) - \mu_0)$ with a frozen $S \in \mathbb R^{m\times d}$, $S_{ij} \sim
N(0, 1/d)$, inputs $x \sim N(0, \Sigma)$ (Σ diagonal, the same for real and synthetic data), and $v$
fitted by ridge on $n$ real + synthetic samples (loss $\frac1n\|Fv - y\|^2 + \lambda\|v\|^2$; test error
$E(f(x) - x^\top w_1^*)^2$ on real data). Each pre-activation $s_i^\top x$ is $N(0, s_i^\top\Sigma s_i)$, of
mean variance $\tau^2 = \mathrm{tr}\,\Sigma/d$ ($\tau = 1$ for $\Sigma = I$).

**Gaussian equivalence.** The features are replaced by $\mu_0 + \mu_1 Sx + \mu_* z$, $z \sim N(0, I_m)$
independent, with the Hermite constants at the common scale τ (`constants_at`): $\mu_0 = E\sigma(\tau g)$,
$\mu_1 = E[g\sigma(\tau g)]/\tau$, $\mu_*^2 = \mathrm{Var}\,\sigma(\tau g) - \mu_1^2\tau^2$ (relu is homogeneous:
$\mu_1 = 1/2$, $\mu_*^2 \propto \tau^2$; tanh and erf are not). Given S, those features are Gaussian with
covariance $K = \mu_1^2 S\Sigma S^\top + \mu_*^2 I_m$, and a linear teacher becomes a linear teacher in
feature space plus independent noise: $y = \beta^\top\phi + e$, $\beta = \mu_1 K^{-1}S\Sigma w$,
$\mathrm{Var}\,e = \sigma^2 + \|w\|_\Sigma^2 - \mu_1^2 w^\top\Sigma S^\top K^{-1}S\Sigma w$. So ridge on the
features is classical ridge (Theorem 1 of `jc.theory.ridge`, same formulas) on the spectrum of K, with
the teacher seen through it and the part of the teacher the features cannot express added to the
label noise (synthetic: of $w_1^* + \delta$, cross terms of fixed teachers included) and to the test
error (in `bias`).

**Where it is exact, and where it stops** (`scripts/random_features_any_spectrum.py`, d = n = 400,
100 trials, relu and tanh, m/n ∈ {0.3, 0.9, 1.1, 3}, p2 ∈ {0, 0.5}, λ ∈ {1e-3, 1e-2, 0.1}). One common
τ is the limit when the spectrum's effective rank $(\mathrm{tr}\Sigma)^2/\mathrm{tr}\Sigma^2$ grows like d:
then $s_i^\top\Sigma s_i$ concentrates and the nonlinear part of different features decorrelates. Measured
on a power law with β = 0.5 and on a two-level spectrum (effective ranks 226 and 258): every point
within max(3 s.e., 3 %), worst 2.8 %. On steep power laws (β > 1) the effective rank stays
$O(1)$ as d grows ($\approx 12$ for β = 1.2): the pre-activation scales spread by about 30 % and,
more importantly, the second Hermite part of the features is a structured (low effective rank)
function of x rather than white noise. Then the equivalent is an approximation that over-estimates
the error where the ridge is small against the features' scale: relu at λ = 1e-3 is 5–12 % high for
β = 1.2 and up to 28–38 % for β = 2 (15 of 32 points outside the band); at λ ≥ 1e-2 (and for tanh and
erf at small τ, nearly linear) it is within max(3 s.e., 3 %) at β = 1.2. Per-feature scales
(a diagonal $\mu_*^2(\tau_i)$) do not help; keeping the relu kernel's second Hermite term with
per-feature normalisation, averaged over drawn S, brings the same points within about 2 %
(`scripts/rf_power_law_equivalence.py`), so a deterministic equivalent of that lifted kernel is what
an exact theory needs.

**The operator equivalent** (`equivalent="operator"`; relu, erf and linear). The features enter the test
error through the eigenvalues of their kernel operator; `_operator` computes them for relu exactly in
Hermite degrees 0 and 2 at each feature's own scale, degrees 4 and 6 on the ten largest single
coordinates (`order=6`, the default; `order=4` stops at 4, `order=2` leaves all of degree ≥ 4
white), the rest white, and this kernel
solves the augmented spectrum unchanged (the Gaussian equivalent is the case "all but chaos 1
white"). Measured (`scripts/rf_operator_vs_simulation.py`, d = n = 300, m/n ∈ {0.5, 0.9, 2, 3},
λ ∈ {1e-3, 1e-2, 0.1}, p2 ∈ {0, 0.3}, 100 trials; points within max(3 s.e., 3 %)): on s_j = j^{-β},
β ∈ {1.2, 1.5, 2}, 72 of 72 with every order (Gaussian: 51); scaled to tr Σ = d, 24, 23 and 19 of 24
with order 6 (order 4: 24, 23, 16; order 2: 24, 19, 11; Gaussian: 6, 4, 3), worst 18 % at β = 2,
m = 3n, λ = 1e-3
(docs, "Model size"). For erf, degree 1 is exact at each feature's own scale and degrees 3 and 5 on
the top coordinates; at d = n = 200 scaled to tr Σ = d (40 trials) 22 and 19 of 24 points for
β = 1.5 and 2 (Gaussian: 18 and 10), worst 28 % at β = 2, m = 3n, λ = 1e-3. On Σ = I the two differ
by O(1/d).

**Every trace by one contour, m real.** With $Y = S\Sigma^{1/2}$ the matrices $C = YY^\top$ ($m\times m$)
and $Y^\top Y = \frac md\hat\Sigma_m$ ($d\times d$, $\hat\Sigma_m$ the sample covariance of m rows
$N(0, \Sigma)$) share their non-zero eigenvalues, so a sum over the m feature eigenvalues
$k = \mu_1^2c + \mu_*^2$ is $\sum_j g(k_j) = \mathrm{tr}_d[g(k(\hat\Sigma_m)) - g(\mu_*^2)] + m\,g(\mu_*^2)$, and a
teacher's energy through the features is, by push-through ($Y^\top\psi(YY^\top)Y = Y^\top Y\psi(Y^\top Y)$),
$E\,\beta^\top K g(K)\beta = \mu_1^2\,\mathrm{tr}\big(\Sigma\Gamma\,c\,g(k)/k\big)$ at $\hat\Sigma_m$. Both are single
traces of functions of one sample covariance, evaluated as contour sums (`_resolvent`) in which m
is a traced real number: one compiled program serves every width and $\partial E/\partial m$ comes by
implicit differentiation. The data-level $\kappa$ is one scalar root whose evaluations reuse the
contour. With a linear activation ($\mu_* = 0$) this is the random-projection theory
(`jc.theory.random_projections`, its θ equation) computed another way; the tests hold the two
together to 1e-10, and the nonlinear case to Mei–Montanari's closed form.

**What it is, and how close finite d comes** (`scripts/random_features_vs_simulation.py`, 200
trials). This is the high-dimensional limit d, m, n → ∞ at fixed ratios (exact at any size for the
linear activation). With a linear teacher and p2 = 0 it equals the Mei–Montanari limit of
random-features ridge (*The generalization error of random features regression*, 2019, arXiv
1908.05355; their ψ1 = m/d, ψ2 = n/d, ζ = μ1/μ*, ridge λ·d/m) to about 1e-14 relative, for relu and
tanh, n/d ∈ {0.5, 1.5}, m/n from 0.3 to 3 with m = n included, λ from 1e-4 to 0.1
(`tests/test_random_features_mm.py`). Measured against `jc.simulate.random_features` (relu, tanh,
erf; p2 ∈ {0, 0.5}): away from the threshold, or with λ ≥ 1e-2, within about 1 % at d = 200 and 5 %
at d = 100 (relu at m = 3d is the worst, +4.6 % at d = 100, +1.1 % at d = 200: a finite-d effect
that shrinks with d). Within 10 % of the interpolation threshold m = n with a small ridge
(λ = 1e-4) the simulated peak lies 5–13 % above the theory at d = 100 and 200: the finite-d
corrections there are of order 1/|n − m|, not a failure of the limit, and they vanish as d grows —
relu, n = d/2, λ = 1e-4, m = 0.9n: +19.6 ± 2.3 % at d = 100, +8.1 ± 1.2 % at 200, +5.9 ± 0.8 % at
400, +2.1 ± 0.6 % at 800 (1600 trials; the excess times n − m stays between 0.8 and 1.2). At λ = 0
and m = n the error is +inf for every activation (the Gram matrix is square), as in simulation.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp

from .._activations import check_activation, constants_at
from .._batch import block_for, broadcast_map
from .._problem import Mixture
from .._results import Risk
from .._solve import bracketed_root
from .._types import Scalars
from .._validate import check_mixing, check_mixture, check_scalar, is_concrete, valid_mask
from ._common import TABLE_NODES, finish, mixture_valid, narrow_bracket
from ._operator import ORDERS, augmented
from ._resolvent import NODES, contour
from ._ridge import _a_of_delta, ridgeless_a, theorem_one

EQUIVALENTS = ("gaussian", "operator")
OPERATOR_ACTIVATIONS = ("relu", "erf", "linear")


def random_features(
    mix: Mixture,
    *,
    n: Scalars,
    m: Scalars,
    p2: Scalars,
    lam: Scalars,
    activation: str = "relu",
    equivalent: str = "gaussian",
    order: int = 6,
) -> Risk:
    r"""Gaussian-equivalence test error of ridge on nonlinear random features (module docstring).

    `mix`: any diagonal Σ with Σ2 = Σ1 (`synthetic_eigs=None`), Gaussian or fixed teachers,
    compressed or not. The Hermite constants are taken at the typical pre-activation scale
    $\tau^2 = \mathrm{tr}\,\Sigma/d$ (`constants_at`). Exact in the proportional limit when the
    spectrum's effective rank $(\mathrm{tr}\Sigma)^2/\mathrm{tr}\Sigma^2$ grows like d (Σ = I, bounded
    spectra); on steep power laws with a small ridge it is an approximation (module docstring, "Where
    it stops"). `n`, `m` (real-valued, `> 0`), `p2`, `lam` broadcast and may be traced; one compiled
    program serves every width. Returns a `Risk` (`bias` includes the part of the teacher the
    features cannot express).

    `equivalent`: `"gaussian"` (default) — the common-τ equivalent above; `"operator"` — the
    features' kernel operator (module docstring, "The operator equivalent"), for `"relu"`, `"erf"`
    and `"linear"` (not yet tanh): relu's even part exact in chaos 0 and 2, erf's chaos 1 exact, at
    each feature's own scale. It needs a concrete `mix` (its spectrum is built once, in NumPy, then
    every point of a batch is traced as usual).

    `order`: the operator equivalent's highest Hermite degree kept exactly, 2, 4 or 6 (default);
    beyond 2 (relu: degrees 4, 6; erf: 3, 5), on the ten largest eigenvalues that are single
    coordinates. Measured effect for relu (docs,
    "Model size"): none on s_j = j^{-β} (72 of 72 points within max(3 s.e., 3 %) with each); on
    spectra scaled to tr Σ = d, 11 → 16 → 19 of 24 points at β = 2 and 19 → 23 → 23 at β = 1.5 for
    orders 2 → 4 → 6, the worst gap 30 → 22 → 18 %. Building the spectrum costs about 0.3 s at order 6
    (0.1 s at order 4) for a compressed d = 10⁶ power law (`benchmarks/operator_build.py`).
    """
    check_mixture(mix)
    check_activation(activation)
    if equivalent not in EQUIVALENTS:
        raise ValueError(f"equivalent must be one of {EQUIVALENTS}, got {equivalent!r}")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    if equivalent == "operator" and activation not in OPERATOR_ACTIVATIONS:
        raise ValueError(
            f"activation: the operator equivalent supports {OPERATOR_ACTIVATIONS} so far, got {activation!r} "
            "(use equivalent='gaussian')"
        )
    if not mix.same_covariance:
        raise ValueError(
            "mix: random features need Σ2 = Σ1 (synthetic_eigs=None); a covariate shift is supported by "
            "jc.theory.ridge, not by random features"
        )
    n, p2, lam, _ = check_mixing(n=n, p2=p2, lam=lam, weight=1.0)
    m = check_scalar("m", m, low=0.0, strict=True)
    # One contour size for every width: a traced m (a sweep, grad in m) and a concrete one give the
    # same numbers; the largest, because m = d (the spectrum reaching zero) needs it.
    nodes = NODES[-1]
    constants = None
    if equivalent == "operator":
        if not is_concrete(mix.eigs):
            raise ValueError(
                "mix: the operator equivalent builds its spectrum from a concrete mixture, not a traced one"
            )
        mix, mu1, white = augmented(mix, activation, order)
        constants = (jnp.asarray(mu1, mix.eigs.dtype), jnp.asarray(white, mix.eigs.dtype))
    return _random_features_jit(mix, n, m, p2, lam, activation, nodes, constants)


@eqx.filter_jit
def _random_features_jit(mix, n, m, p2, lam, activation, nodes, constants=None):
    if constants is None:
        s, mu = mix.eigs, mix.multiplicity
        trace = jnp.sum(s) if mu is None else jnp.sum(mu * s)
        _, mu1, star2 = constants_at(activation, jnp.sqrt(trace / mix.d))  # at τ² = tr Σ / d
    else:
        mu1, star2 = constants
    # The contour depends on the width alone (its floor on a λ-free bound of the pole distance):
    # one width, as in a grid over (n, p2, λ), solves it once for every point.
    shared = table = None
    if jnp.ndim(m) == 0:
        shared = _contour(mix, m, mu1, star2, nodes)
        table = _delta_table(mix, m, mu1, star2, shared)
    point = functools.partial(_point, mix, mu1=mu1, star2=star2, nodes=nodes, shared=shared, table=table)
    return broadcast_map(point, block=block_for(nodes * mix.eigs.shape[0]), n=n, m=m, p2=p2, lam=lam)


def _contour(mix, m, mu1, star2, nodes):
    r"""The contour of $\hat\Sigma_m$ (m rows): its poles sit at $-(\kappa + \mu_*^2)d/(m\mu_1^2)$, $\kappa \ge \lambda \ge 0$."""
    s = mix.eigs
    d = jnp.asarray(mix.d, s.dtype)
    m = jnp.where(m > 0, m, 1.0)
    return contour(s, mix.multiplicity, m, star2 * d / (m * mu1**2), nodes)


def _delta_table(mix, m, mu1, star2, path):
    """`(κ nodes, Σ_j r_j(κ) at them)`: one width's df1 on a log grid (the bracket of every point)."""
    s = mix.eigs
    d = jnp.asarray(mix.d, s.dtype)
    inner = (path.z, path.w, path.scale, path.R @ _counts(mix), mu1, star2, m, d)
    top = mu1**2 * jnp.max(s) * (1.0 + jnp.sqrt(m / d)) ** 2 + star2
    grid = jnp.exp(jnp.linspace(jnp.log(top) - 12 * jnp.log(10.0), jnp.log(top) + 8 * jnp.log(10.0), TABLE_NODES))

    def df1(kappa):
        rr, rq, *_ = _feature_sums(inner, kappa)
        return rr + rq

    return grid, jax.lax.map(df1, grid, batch_size=64)


def _counts(mix):
    return jnp.ones_like(mix.eigs) if mix.multiplicity is None else mix.multiplicity


def _feature_sums(args, kappa):
    r"""`(rr, rq, teach)`: $\sum_j r_j^2$ and $\sum_j r_jq_j$ over the m feature eigenvalues
    $k_j$ ($r = k/(k+\kappa)$, $q = 1 - r$), and `teach(g, weights)` = $\mu_1^2\,\mathrm{tr}(W\,c\,g(k)/k)$ at
    $\hat\Sigma_m$ (a teacher's energy per feature direction times g), all as contour sums."""
    z, w, scale, counts, mu1, star2, m, d = args
    c = (m / d) * z  # the eigenvalues of C = SΣSᵀ at the node (C and (m/d)Σ̂_m share the non-zero ones)
    k = mu1**2 * c + star2
    r, q = k / (k + kappa), kappa / (k + kappa)
    noisy = star2 > 0
    r0 = jnp.where(noisy, star2 / jnp.where(noisy, star2 + kappa, 1.0), 0.0)  # C's zero eigenvalues
    q0 = jnp.where(noisy, kappa / jnp.where(noisy, star2 + kappa, 1.0), 1.0)

    def count(g, g0):  # Σ_j g(k_j) = tr_d[g(k(Σ̂_m)) - g(μ*²)] + m g(μ*²)
        return 2.0 * jnp.real(jnp.sum(w * scale * (g - g0) * counts)) + m * g0

    def teach(g, weights):
        return mu1**2 * 2.0 * jnp.real(jnp.sum(w * scale * (c * g / k) * weights))

    return count(r * r, r0 * r0), count(r * q, r0 * q0), teach, r, q


def _kappa_equation(kappa, args):
    n, p2, lam, inner = args
    rr, rq, *_ = _feature_sums(inner, kappa)
    return kappa * _a_of_delta((rr + rq) / n, p2, 1.0) - lam


def _point(mix, n, m, p2, lam, *, mu1, star2, nodes, shared, table) -> Risk:
    valid = valid_mask((n, 0.0, None, True), (m, 0.0, None, True), (p2, 0.0, 1.0, False), (lam, 0.0, None, False))
    valid &= mixture_valid(mix)
    n, m = jnp.where(valid, n, 2.0), jnp.where(valid, m, 1.0)
    p2, lam = jnp.where(valid, p2, 0.0), jnp.where(valid, lam, 1.0)
    s = mix.eigs
    d = jnp.asarray(mix.d, s.dtype)
    path = _contour(mix, m, mu1, star2, nodes) if shared is None else shared
    counts = path.R @ _counts(mix)
    inner = (path.z, path.w, path.scale, counts, mu1, star2, m, d)
    rank = jnp.where(star2 > 0, m, jnp.minimum(m, d))  # the rank of the feature covariance
    total = (mu1**2 * m * jnp.sum(s * _counts(mix)) / d + m * star2) / n  # tr K / n
    at_zero = (lam == 0) & (ridgeless_a(n, rank, p2, 1.0) >= 0)
    lo = jnp.where(at_zero, 0.0, lam)
    hi = jnp.where(at_zero, 0.0, lam + total)
    lo, hi, x0 = narrow_bracket(table, lambda k, df1: k * _a_of_delta(df1 / n, p2, 1.0) - lam, lo, hi)
    kappa, converged = bracketed_root(_kappa_equation, (n, p2, lam, inner), lo, hi, x0)
    rr, rq, teach, r, q = _feature_sums(inner, kappa)
    signal = path.R @ (mix.signal * s)  # ΓΣ, ΔΣ (and the fixed teachers' cross) through the nodes
    shift = path.R @ (mix.shift * s)
    m_b = teach(q * q, signal)
    m_z = (teach(r * r, shift), teach(r * q, shift), teach(q * q, shift))
    one = jnp.ones_like(r)
    # the part of a teacher the features cannot express: label noise in training, error at test
    # (the synthetic teacher w1* + δ: energies of Γ + Δ + 2 E[w1* δᵀ])
    floor = jnp.sum(s * mix.signal) - teach(one, signal)
    floor_synthetic = floor + jnp.sum(s * mix.shift) - teach(one, shift)
    m_c = (0.0, 0.0)
    if mix.cross is not None:
        cross = path.R @ (mix.cross * s)
        m_c = (teach(r * q, cross), teach(q * q, cross))
        floor_synthetic = floor_synthetic + 2.0 * (jnp.sum(s * mix.cross) - teach(one, cross))
    noise = mix.noise_var + floor
    synthetic_noise = mix.synthetic_noise_var + floor_synthetic
    bias, variance, zeta, infinite = theorem_one(
        rr, rq, m_b, m_z, m_c, kappa, n, p2, lam, 1.0, rank, noise, synthetic_noise
    )
    bias = bias + floor
    return finish(
        bias,
        variance,
        zeta,
        kappa,
        valid=valid,
        converged=converged & path.converged,
        infinite=infinite,
    )
