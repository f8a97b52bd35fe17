"""How much of the operator equivalent's remaining gap is its spectrum: the exact relu feature
operator's even spectrum estimated by Nyström (the centred arc-cosine kernel on N drawn inputs, its
linear part removed), fed to the same equivalent, against the chaos-0-and-2 spectrum of
`equivalent="operator"`. A reference, not a theory: it is random and costs O(N³).

    .venv/bin/python scripts/rf_operator_nystrom.py [--d 300] [--beta 2] [--N 3000 6000] [--cut 1e-6]

Power law scaled to tr Σ = d (τ = 1), Gaussian teacher tr ΣΓ = 1, σ² = 0.1, p2 = 0, n = d. Nyström
eigenvalues above `--cut` are kept; the rest of the even operator's (known) trace is white. Prints
the two equivalents' errors; compare with `scripts/rf_operator_vs_simulation.py --normalise`.
"""

import argparse
import math

import numpy as np
from scipy import optimize

from jaxcollapse.theory import _operator


def linear_rf_error(lin, energy, even, white, noise, n, m, lam):
    """Ridge on m linear random features of the spectrum {lin ∪ even} + a white trace (teacher on lin)."""
    spec = np.concatenate([lin, even])

    def parts(nu):
        return (
            np.sum(spec / (spec + nu)) + white / nu,
            np.sum(spec**2 / (spec + nu) ** 2),
            np.sum(spec / (spec + nu) ** 2) + white / nu**2,
        )

    lo = optimize.brentq(lambda x: parts(math.exp(x))[0] - min(m, n), -80, 40)
    f = lambda x: math.exp(x) * (m - parts(math.exp(x))[0]) * (1 - parts(math.exp(x))[0] / n) - lam  # noqa: E731
    nu = math.exp(optimize.brentq(f, lo, 40, xtol=1e-15, rtol=1e-15))
    D1, D2, T1 = parts(nu)
    chi = T1 / (m - D2)
    df2 = D2 + (D1 - D2) ** 2 / (m - D2)
    bias = nu**2 * np.sum(energy * (1 + chi * lin) / (lin + nu) ** 2)
    return (bias + noise * df2 / n) / (1 - df2 / n)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--d", type=int, default=300)
    p.add_argument("--beta", type=float, default=2.0)
    p.add_argument("--N", type=int, nargs="+", default=[3000, 6000])
    p.add_argument("--cut", type=float, default=1e-6)
    a = p.parse_args()
    d = a.d
    s = np.arange(1, d + 1.0) ** -a.beta
    s *= d / s.sum()
    gamma = np.full(d, 1 / s.sum())
    lin, energy = s / (4 * d), s * gamma
    mu0 = 1 / math.sqrt(2 * math.pi)
    values, counts, white_c2 = _operator.relu_even_spectrum(s, np.ones(d), float(d), order=2)
    keep = counts > 0
    even_c2 = np.repeat(values[keep], counts[keep].astype(int))
    _, e = _operator.t_integrals(s, np.ones(d), float(d))
    total = 0.25 + 1 / (2 * math.pi) - (s @ e) / math.pi  # tr of the even operator at τ = 1
    points = ((0.5, 1e-3), (0.9, 1e-3), (0.9, 1e-2), (2, 1e-3), (3, 1e-3), (3, 1e-2))
    print("| N | m/n | λ | Nyström spectrum | chaos 0–2 spectrum |")
    print("|---|---|---|---|---|")
    for N in a.N:
        x = np.random.default_rng(N).standard_normal((N, d)) * np.sqrt(s)
        r = np.linalg.norm(x, axis=1)
        c = np.clip((x @ x.T) / np.outer(r, r), -1, 1)
        th = np.arccos(c)
        K = np.outer(r, r) / (2 * math.pi * d) * (np.sin(th) + (math.pi - th) * c)
        K -= mu0 * (r[:, None] + r[None, :]) / math.sqrt(2 * math.pi * d) - mu0**2 + (x @ x.T) / (4 * d)
        ev = np.linalg.eigvalsh(K / N)
        kept = ev[ev > a.cut]
        for ratio, lam in points:
            nys = linear_rf_error(lin, energy, kept, total - kept.sum(), 0.1, d, ratio * d, lam)
            c2 = linear_rf_error(lin, energy, even_c2, white_c2, 0.1, d, ratio * d, lam)
            print(f"| {N} | {ratio:g} | {lam:g} | {nys:.4g} | {c2:.4g} |", flush=True)


if __name__ == "__main__":
    main()
