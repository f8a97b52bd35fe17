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
        kappa = brentq(
            lambda k: k - lam - k * df(1, k) / n, max(lam, 1e-300), lam + s.sum() / n + 1, xtol=1e-300, rtol=1e-15
        )
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


def random_projections(s, gamma, Delta, n, m, p2, lam, sigma2=0.0):
    """§3.1–§3.2 of the notes verbatim (lam > 0): the single theta equation by brentq, then F1, F2."""
    s, gamma, Delta = map(np.asarray, (s, gamma, Delta))
    d = len(s)
    p1 = 1 - p2

    def df(k, t):
        return np.sum((s / (s + t)) ** k)

    k = min(m, n)
    if d > k:
        theta_min = brentq(lambda t: df(1, t) - k, 1e-300, s.max() * d, xtol=1e-300, rtol=1e-15)
    else:
        theta_min = 0.0
    g = lambda t: t * (m - df(1, t)) * (n - df(1, t)) - lam * d * n  # noqa: E731
    hi = max(theta_min, 1e-12) * 2 + 1
    while g(hi) < 0:
        hi *= 2
    lo = theta_min * (1 + 1e-15) + 1e-300
    theta = brentq(g, lo, hi, xtol=1e-300, rtol=1e-15)
    kappa = theta * (m - df(1, theta)) / d
    theta_p = d / (m - df(2, theta))

    def F1(A):
        return theta * np.sum(A / (s + theta))

    def F2(A):
        return theta * np.sum(A / (s + theta)) - kappa * theta_p * np.sum(A * s / (s + theta) ** 2)

    one = np.ones(d)
    df2_rp = d - 2 * F1(one) + F2(one)
    u = df2_rp / (n - df2_rp)
    B = (1 + u) * F2(s * gamma)
    V = u * sigma2
    SD = s * Delta
    zeta = p2**2 * (1 + p1 * u) * (SD.sum() - 2 * F1(SD) + F2(SD)) + p2 * u * (
        p1**2 * SD.sum() + 2 * p1 * p2 * F1(SD) + p2**2 * F2(SD)
    )
    return dict(theta=theta, kappa=kappa, u=u, B=B, V=V, zeta=zeta, E=B + V + zeta)


def random_projections_ridgeless_isotropic(phi, psi, p2, r2, c2, sigma2):
    """§3.3 closed forms (lam -> 0+, Sigma = I): returns (B, V, zeta)."""
    if psi < min(phi, 1):  # (i)
        u = psi / (1 - psi)
        B = r2 * (1 - psi / phi) / (1 - psi)
        zeta = c2 * p2 * psi * (phi + p2 * (1 - 2 * psi)) / (phi * (1 - psi))
        return B, sigma2 * u, zeta
    if phi <= psi and phi < 1:  # (ii): classical OLS in x-space, §2.4 with phi < 1
        u = phi / (1 - phi)
        return 0.0, sigma2 * u, (1 - p2) * p2 * c2 * u + p2**2 * c2
    assert psi > 1 and phi > 1  # (iii)
    u = (phi + psi - 2) / ((phi - 1) * (psi - 1))
    B = r2 * (phi - 1) * psi / (phi * (psi - 1))
    zeta = c2 * p2 * (phi - p2) * (phi + psi - 2) / (phi * (phi - 1) * (psi - 1))
    return B, sigma2 * u, zeta
