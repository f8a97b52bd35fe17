"""Independent NumPy/SciPy references, written straight from the notes' formulas (one point at a time).

Used only to check the JAX kernels: Theorem 1 (§2.1, with the cross term of §2.2) and the weighted
coupled system of §6.1 in the e-variables, solved by damped iteration as the notes prescribe.
"""

import numpy as np
from scipy.optimize import brentq


def theorem1(s, gamma, Delta, n, p2, lam, sigma2=0.0, sigma2_syn=None, w=None, delta=None):
    s, gamma, Delta = map(np.asarray, (s, gamma, Delta))
    p1 = 1 - p2
    sigma2_syn = sigma2 if sigma2_syn is None else sigma2_syn

    def df(k, t):
        return np.sum((s / (s + t)) ** k)

    if lam == 0 and len(s) <= n:
        kappa = 0.0
    else:
        kappa = brentq(lambda k: k - lam - k * df(1, k) / n, max(lam, 1e-300), lam + s.sum() / n + 1, xtol=1e-300, rtol=1e-15)
    u = df(2, kappa) / (n - df(2, kappa))
    B = kappa**2 * (1 + u) * np.sum(gamma * s / (s + kappa) ** 2)
    V = (p1 * sigma2 + p2 * sigma2_syn) * u
    zeta = p2**2 * (1 + p1 * u) * np.sum(Delta * s**3 / (s + kappa) ** 2) + p2 * u * np.sum(
        Delta * s * (p1 * s + kappa) ** 2 / (s + kappa) ** 2
    )
    if w is not None:
        zeta += -2 * p2 * kappa * np.sum(w * s * (s - kappa * u) / (s + kappa) ** 2 * delta)
    return B + V + zeta


def weighted_coupled(s1, s2, gamma, Delta, n, p2, lam, weight, sigma2=0.0, sigma2_syn=0.0):
    """§6.1 of the notes verbatim (lam > 0)."""
    S = np.stack([s1, s2])
    p = np.array([1 - p2, p2])
    om = np.array([1.0, weight])
    e = np.ones(2)
    for _ in range(100000):
        K = lam + (p * om * e) @ S
        e_new = 1 / (1 + om * np.sum(S / K, axis=1) / n)
        if np.max(np.abs(e_new - e)) < 1e-15:
            break
        e = 0.5 * (e + e_new)
    K = lam + (p * om * e) @ S
    Kinv = 1 / K
    b = (S * Kinv**2) @ s1 / n
    M = (S * Kinv**2) @ S.T / n
    A = np.eye(2) - (e**2 * om)[:, None] * M * (p * om)[None, :]
    ep = np.linalg.solve(A, e**2 * om * b)
    Kp = s1 + (p * om * ep) @ S
    B = lam**2 * np.sum(gamma * Kinv**2 * Kp)
    V = p[0] * om[0] * sigma2 * ep[0] + p[1] * om[1] * sigma2_syn * ep[1]
    zeta = p2 * weight * ep[1] * np.sum(Delta * s2) + (p2 * weight) ** 2 * (
        e[1] ** 2 * np.sum(Delta * s2**2 * Kinv**2 * Kp) - 2 * e[1] * ep[1] * np.sum(Delta * s2**2 * Kinv)
    )
    return B + V + zeta
