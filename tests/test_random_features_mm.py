r"""`jc.theory.random_features` (p2 = 0) against the Mei–Montanari limit of random-features ridge.

Reference: S. Mei and A. Montanari, *The generalization error of random features regression:
precise asymptotics and double descent curve* (arXiv 1908.05355), Definition 1 / Theorem 2. The
closed form is re-implemented here from scratch in NumPy/SciPy (float64); nothing of jaxcollapse
is used for it.

**Their formula.** With $\zeta = \mu_1/\mu_*$, $\bar\lambda = \lambda_{MM}/\mu_*^2$ and
$\xi = i\sqrt{\psi_1\psi_2\bar\lambda}$, let $\nu_1, \nu_2$ solve

$$\nu_1 = \psi_1\Big(-\xi - \nu_2 - \frac{\zeta^2\nu_2}{1 - \zeta^2\nu_1\nu_2}\Big)^{-1},\qquad
  \nu_2 = \psi_2\Big(-\xi - \nu_1 - \frac{\zeta^2\nu_1}{1 - \zeta^2\nu_1\nu_2}\Big)^{-1}$$

on the branch analytic in the upper half plane with $\nu_j \approx -\psi_j/\xi$ as
$\mathrm{Im}\,\xi \to \infty$, and $\chi = \nu_1\nu_2$. Then, with the polynomials

$$\begin{aligned}
E_0 &= -\chi^5\zeta^6 + 3\chi^4\zeta^4 + (\psi_1\psi_2 - \psi_2 - \psi_1 + 1)\chi^3\zeta^6 - 2\chi^3\zeta^4
       - 3\chi^3\zeta^2 + (\psi_1 + \psi_2 - 3\psi_1\psi_2 + 1)\chi^2\zeta^4 + 2\chi^2\zeta^2 + \chi^2
       + 3\psi_1\psi_2\chi\zeta^2 - \psi_1\psi_2,\\
E_1 &= \psi_2\chi^3\zeta^4 - \psi_2\chi^2\zeta^2 + \psi_1\psi_2\chi\zeta^2 - \psi_1\psi_2,\\
E_2 &= \chi^5\zeta^6 - 3\chi^4\zeta^4 + (\psi_1 - 1)\chi^3\zeta^6 + 2\chi^3\zeta^4 + 3\chi^3\zeta^2
       - (\psi_1 + 1)\chi^2\zeta^4 - 2\chi^2\zeta^2 - \chi^2,
\end{aligned}$$

$B = E_1/E_0$, $V = E_2/E_0$ and the test error is $F_1^2 B + (\tau^2 + F_*^2)V + F_*^2$.
On the imaginary axis $\nu_j = i a_j$ with $a_j > 0$ real, so $\chi = -a_1a_2$ is real: the system is
solved in $(a_1, a_2)$ by continuation from large $\mathrm{Im}\,\xi$ (where $a_j \approx \psi_j/\mathrm{Im}\,\xi$)
down to the target, Newton (`scipy.optimize.root`) at every step, which follows exactly the branch
the definition selects.

**Their model against ours.**

- Their $x \sim \mathrm{Unif}(S^{d-1}(\sqrt d))$, features $\sigma(\langle\theta_a, x\rangle/\sqrt d)$ with
  $\theta_a \sim \mathrm{Unif}(S^{d-1}(\sqrt d))$, $a \le N$; ours $x \sim N(0, I_d)$ and $\sigma(s_a^\top x) - \mu_0$
  with $s_a \sim N(0, I_d/d)$. Either way each pre-activation is (asymptotically) $N(0, 1)$, so
  $\mu_0, \mu_1, \mu_*$ are the same constants (`jc.theory.activation_constants`); the centring by
  $\mu_0$ does not enter their formula, which only involves $\mu_1$ and $\mu_*$.
- $\psi_1 = N/d = m/d$ (features per dimension), $\psi_2 = n/d$ (samples per dimension).
- Ridge: theirs $\frac1n\sum_i(y_i - \sum_a a_a\sigma_a(x_i))^2 + \frac{N\lambda_{MM}}{d}\|a\|^2$, ours
  $\frac1n\|Fv - y\|^2 + \lambda\|v\|^2$, so $\lambda = \psi_1\lambda_{MM}$, i.e.
  $\lambda_{MM} = \lambda\,d/m$ and $\bar\lambda = \lambda d/(m\mu_*^2)$. (Checked: with
  $\lambda_{MM} = \lambda$ instead the two disagree by 1e-6 to O(1).)
- Teacher: ours $y = x^\top w + e$, $E\|w\|^2$ = `signal`, $\mathrm{Var}\,e$ = `noise_var`; theirs
  $y = \langle\beta_1, x\rangle + f^{NL}(x) + \varepsilon$ with $\|\beta_1\|^2 \to F_1^2$, $E\varepsilon^2 = \tau^2$.
  So $F_1^2$ = `signal`, $\tau^2$ = `noise_var`, $F_* = 0$ (no nonlinear part), and both test errors
  exclude label noise: risk = signal · B + noise_var · V.

Measured agreement over the grid below: about 5e-15 relative at worst (the test asks 1e-10). The
widths: d = 200, n ∈ {100, 300} (n/d ∈ {0.5, 1.5}) and m ∈ {30, 90, 110, 270, 300, 330, 900}; each
m is evaluated at both n, which covers m/n ∈ {0.3, 0.9, 1.1, 3} for both n/d (plus m/n = 1 at
n = m = 300 and other ratios). `m` is static (it sets the spectrum), so there is one compilation
per m; n and λ are arrays, and the activations and noise levels reuse it.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from scipy.optimize import root

import jaxcollapse as jc

jax.config.update("jax_enable_x64", True)

D = 200
NS = (100, 300)
LAMS = (1e-4, 1e-2, 0.1)
WIDTHS = (30, 90, 110, 270, 300, 330, 900)
SIGNAL = 1.3
NOISES = (0.0, 0.4)
RTOL = 1e-10


def _mm_imaginary_nu(psi1: float, psi2: float, zeta: float, s: float) -> tuple[float, float]:
    """(a1, a2) with ν_j(i s) = i a_j, by continuation in s from far up the imaginary axis."""
    z2 = zeta**2

    def residual(v, t):
        a1, a2 = v
        den = 1.0 + z2 * a1 * a2
        # ν1 = ψ1 (−ξ − ν2 − ζ²ν2/(1 − ζ²ν1ν2))^{-1} with ξ = i t, ν_j = i a_j (1 − ζ²ν1ν2 = 1 + ζ²a1a2)
        return [a1 * (t + a2 + z2 * a2 / den) - psi1, a2 * (t + a1 + z2 * a1 / den) - psi2]

    t0 = 1e3 * max(1.0, psi1, psi2)
    a = np.array([psi1 / t0, psi2 / t0])
    for t in np.geomspace(t0, s, 60):
        sol = root(residual, a, args=(t,), method="hybr", tol=1e-15)
        a = sol.x
    res = np.max(np.abs(residual(a, s)) / np.array([psi1, psi2]))
    assert res < 1e-13 and np.all(a > 0), (psi1, psi2, zeta, s, a, res)
    return float(a[0]), float(a[1])


def mei_montanari(psi1: float, psi2: float, zeta: float, lam_bar: float) -> tuple[float, float]:
    """Their (B, V): test error F1² B + (τ² + F*²) V + F*²."""
    a1, a2 = _mm_imaginary_nu(psi1, psi2, zeta, math.sqrt(psi1 * psi2 * lam_bar))
    chi, z = -a1 * a2, zeta
    p1, p2 = psi1, psi2
    e0 = (
        -(chi**5) * z**6
        + 3 * chi**4 * z**4
        + (p1 * p2 - p2 - p1 + 1) * chi**3 * z**6
        - 2 * chi**3 * z**4
        - 3 * chi**3 * z**2
        + (p1 + p2 - 3 * p1 * p2 + 1) * chi**2 * z**4
        + 2 * chi**2 * z**2
        + chi**2
        + 3 * p1 * p2 * chi * z**2
        - p1 * p2
    )
    e1 = p2 * chi**3 * z**4 - p2 * chi**2 * z**2 + p1 * p2 * chi * z**2 - p1 * p2
    e2 = (
        chi**5 * z**6
        - 3 * chi**4 * z**4
        + (p1 - 1) * chi**3 * z**6
        + 2 * chi**3 * z**4
        + 3 * chi**3 * z**2
        - (p1 + 1) * chi**2 * z**4
        - 2 * chi**2 * z**2
        - chi**2
    )
    return e1 / e0, e2 / e0


def test_mei_montanari_reference_sanity():
    # ζ → 0 (a pure-noise activation): the features are independent of x, so the teacher is one more
    # label noise, B = 1 + V, and V is that of least squares on ψ1 < ψ2 isotropic Gaussian
    # features at a vanishing ridge, ψ1/(ψ2 − ψ1) (a classical result, independent of their paper).
    b, v = mei_montanari(0.5, 1.5, 1e-9, 1e-12)
    assert v == pytest.approx(0.5 / (1.5 - 0.5), rel=1e-8)
    assert b == pytest.approx(1.0 + v, rel=1e-8)
    # a heavy ridge fits nothing: B → 1, V → 0
    b, v = mei_montanari(1.5, 0.5, 1.0, 1e8)
    assert b == pytest.approx(1.0, rel=1e-6) and abs(v) < 1e-6


@pytest.mark.parametrize("m", WIDTHS)
def test_random_features_equals_mei_montanari(m):
    n = np.array(NS, dtype=float)[:, None]
    lam = np.array(LAMS)[None, :]
    worst = 0.0
    for activation in ("relu", "tanh"):
        _, mu1, mu_star = jc.theory.activation_constants(activation)
        reference = {
            (i, j): mei_montanari(m / D, nn / D, mu1 / mu_star, lam_ * D / m / mu_star**2)
            for i, nn in enumerate(NS)
            for j, lam_ in enumerate(LAMS)
        }
        for noise in NOISES:
            mix = jc.isotropic(D, signal=SIGNAL, shift=0.0, noise_var=noise)
            total = np.asarray(jc.theory.random_features(mix, n=n, m=m, p2=0.0, lam=lam, activation=activation).total)
            assert total.shape == (len(NS), len(LAMS))
            for (i, j), (b, v) in reference.items():
                expected = SIGNAL * b + noise * v
                rel = abs(total[i, j] - expected) / abs(expected)
                worst = max(worst, rel)
                assert rel < RTOL, (activation, m, NS[i], LAMS[j], noise, float(total[i, j]), expected, rel)
    print(f"m = {m}: worst relative difference {worst:.2e}")
