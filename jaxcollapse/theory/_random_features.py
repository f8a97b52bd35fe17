r"""Nonlinear random features of width m through Gaussian equivalence (isotropic data).

Model: $f(x) = v^\top(\sigma(Sx) - \mu_0)$ with a frozen $S \in \mathbb R^{m\times d}$, $S_{ij} \sim
N(0, 1/d)$, inputs $x \sim N(0, I_d)$, and $v$ fitted by ridge on $n$ real + synthetic samples
(loss $\frac1n\|Fv - y\|^2 + \lambda\|v\|^2$; test error $E(f(x) - x^\top w_1^*)^2$ on real data).
Each pre-activation $s_i^\top x$ is $N(0, \|s_i\|^2) \approx N(0, 1)$.

**Gaussian equivalence.** The features are replaced by $\mu_0 + \mu_1 Sx + \mu_* z$, $z \sim N(0, I_m)$
independent, with $\mu_0 = E\sigma(g)$, $\mu_1 = E g\sigma(g)$, $\mu_*^2 = E\sigma(g)^2 - \mu_0^2 - \mu_1^2$
($g \sim N(0, 1)$; `activation_constants`). Given S, those features are Gaussian with covariance
$C = \mu_1^2 SS^\top + \mu_*^2 I_m$, and a linear teacher becomes a linear teacher in feature space
plus independent noise: $y = \beta^\top\phi + e$, $\beta = \mu_1 C^{-1}Sw$, $\mathrm{Var}\,e = \sigma^2 +
\|w\|^2 - \mu_1^2 w^\top S^\top C^{-1}Sw$. So ridge on the features is classical ridge on a mixture
(`jc.theory.ridge`) whose spectrum is that of C — $\mu_1^2 a + \mu_*^2$ over the Marchenko–Pastur
eigenvalues a of $SS^\top$ (ratio m/d), and $\mu_*^2$ on the $(m-d)_+$ directions S does not reach —
with teacher energies $\mu_1^2 (r^2/d)\, a/c^2$, shift energies $\mu_1^2 (\mathrm{tr}\Delta/d)\, a/c^2$,
and label noise raised by the part of the teacher the features cannot express,
$r^2(1 - q)$ (synthetic: $(r^2 + \mathrm{tr}\Delta)(1 - q)$), $q = \frac{\mu_1^2}{d}\sum_a a/c$. That same
part is added to the test error (in `bias`).

The Marchenko–Pastur law is integrated by Gauss–Legendre rules in the variables that make its
square-root edges smooth, graded towards the lower edge (`_marchenko_pastur`; the spectrum enters as
a compressed `Mixture` of about 17 × `nodes` entries). With a linear activation ($\mu_* = 0$) this is the random-projection theory
(`jc.theory.random_projections`) written differently; the tests check the two agree.

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

import math

import jax.numpy as jnp
import numpy as np

from .._activations import activation_constants, check_activation
from .._problem import Mixture
from .._results import Risk
from .._types import Scalars
from .._validate import check_int, check_scalar


def _marchenko_pastur(m: int, d: int, nodes: int):
    """Nodes a_i and multiplicities of the min(m, d) non-zero eigenvalues of SSᵀ (S: m × d, N(0, 1/d)).

    The Marchenko–Pastur density √((hi − a)(a − lo))/(2πγa) has square-root edges and, as m → d, its
    lower edge lo → 0 meets the 1/a (and the kernels' 1/(a + κ)) poles. So each half is integrated
    in the variable that removes its square root, v = √(a − lo) below the midpoint and
    w = √(hi − a) above it, and the lower half by Gauss–Legendre on segments graded geometrically
    towards v = 0 (`nodes` points per segment), which resolves poles at distance down to 1e-9.
    """
    k, big = min(m, d), max(m, d)
    gamma = k / big
    lo, hi = (1 - math.sqrt(gamma)) ** 2, (1 + math.sqrt(gamma)) ** 2
    mid = (lo + hi) / 2
    t, w = np.polynomial.legendre.leggauss(nodes)

    def rule(a, b):
        return (a + b) / 2 + (b - a) / 2 * t, (b - a) / 2 * w

    v_top = math.sqrt(mid - lo)
    edges = v_top * np.concatenate([[0.0], _GRADING ** np.arange(_SEGMENTS - 1, -1, -1)])
    parts = [rule(a, b) for a, b in zip(edges[:-1], edges[1:])]
    v = np.concatenate([p[0] for p in parts])
    wv = np.concatenate([p[1] for p in parts])
    a_low = lo + v**2
    dens_low = np.sqrt(np.maximum(hi - a_low, 0.0)) * v * 2 * v / (2 * np.pi * gamma * a_low)
    u, wu = rule(0.0, math.sqrt(hi - mid))
    a_high = hi - u**2
    dens_high = np.sqrt(np.maximum(a_high - lo, 0.0)) * u * 2 * u / (2 * np.pi * gamma * a_high)
    a = np.concatenate([a_low, a_high])
    weight = np.concatenate([wv * dens_low, wu * dens_high])
    weight = weight / weight.sum()
    scale = big / d  # m > d: the non-zero eigenvalues of SSᵀ are (m/d) × MP(d/m)
    return scale * a, k * weight


_GRADING = 0.25  # ratio of neighbouring segments towards the lower edge
_SEGMENTS = 16  # the smallest segment is 0.25^15 ≈ 1e-9 of the lower half


def random_features(
    mix: Mixture, *, n: Scalars, m: int, p2: Scalars, lam: Scalars, activation: str = "relu", nodes: int = 16
) -> Risk:
    r"""Gaussian-equivalence test error of ridge on nonlinear random features (module docstring).

    `mix` must be isotropic with unit variances (`jc.isotropic(d, ...)`: Σ = I, so every
    pre-activation is N(0, 1)); only tr ΣΓ, tr ΣΔ and the noise levels enter. `m` is a concrete
    integer (it sets the spectrum); `n`, `p2`, `lam` broadcast and may be traced. Returns a `Risk`
    (`bias` includes the part of the teacher the features cannot express).
    """
    from ._ridge import ridge

    check_activation(activation)
    m = check_int("m", m, why="a concrete width: it sets the spectrum")
    if mix.synthetic_eigs is not None or mix.compressed or not np.allclose(np.asarray(mix.eigs), 1.0):
        raise ValueError(
            "mix must be isotropic with unit variances (jc.isotropic(d, ...)): random features assume Σ = I"
        )
    check_scalar("nodes", nodes, low=1, integer=True)
    mu0, mu1, mu_star = activation_constants(activation)
    d, m = mix.d, int(m)
    r2, c2 = jnp.sum(mix.signal), jnp.sum(mix.shift)  # traceable: only the spectrum must be concrete
    a, mult = _marchenko_pastur(m, d, nodes)
    c = mu1**2 * a + mu_star**2
    q = mu1**2 / d * float(np.sum(mult * a / c))
    energy = mult * mu1**2 * a / c**2 / d  # a compressed mixture holds masses: multiplicity × per-direction value
    if m > d and mu_star > 0:  # directions S does not reach: pure noise features, no teacher
        c, energy, mult = np.append(c, mu_star**2), np.append(energy, 0.0), np.append(mult, m - d)
    eigs, signal, shift = c, r2 * energy, c2 * energy
    feature_mix = Mixture(
        eigs,
        signal,
        shift,
        noise_var=mix.noise_var + r2 * (1 - q),
        synthetic_noise_var=mix.synthetic_noise_var + (r2 + c2) * (1 - q),
        multiplicity=mult,
        dimension=m,
    )
    risk = ridge(feature_mix, n=n, p2=p2, lam=lam)
    floor = r2 * (1 - q)
    return Risk(
        total=risk.total + floor,
        bias=risk.bias + floor,
        variance=risk.variance,
        collapse=risk.collapse,
        kappa=risk.kappa,
        status=risk.status,
    )


random_features.static_arguments = ("m",)  # sets the spectrum (concrete): jc.sweep loops over it
