"""Theory on a 256 x 256 grid: jaxcollapse against a SciPy per-point loop and a NumPy vectorised bisection.

    .venv/bin/python benchmarks/theory_grid.py            # full grids (about 2 minutes)
    .venv/bin/python benchmarks/theory_grid.py --quick    # 64 x 64, for a smoke run

Problem: power-law spectrum s_j = j^-1.5, d = 1000, float64.

1. Ridge: kappa and the full risk (B, V, zeta) on a (n, lam) grid.
2. Random projections: theta, kappa and the full risk on a (m, p2) grid (n = 400, lam = 1e-3).

Each contender computes the same numbers to 1e-10 relative on the fixed-point scalar (checked and
printed). Times are medians of repeated runs within one process; jaxcollapse's compile time is
reported separately. The SciPy loop is how the learning-curve codes people use today work: one
grid point at a time, `brentq` on the scalar equation, then the traces.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

import jaxcollapse as jc  # noqa: E402

D = 1000
RTOL = 1e-10


def timed(fn, repeats):
    out, times = None, []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


# ---------------------------------------------------------------------------------------------
# 1. Ridge
# ---------------------------------------------------------------------------------------------


def ridge_scipy(s, gamma, delta, sigma2, ns, lams, p2):
    p1 = 1 - p2
    kappa = np.empty((len(ns), len(lams)))
    total = np.empty_like(kappa)
    for i, n in enumerate(ns):
        for j, lam in enumerate(lams):
            k = brentq(
                lambda k: k - lam - k * np.sum(s / (s + k)) / n, lam, lam + s.sum() / n + 1, xtol=1e-300, rtol=RTOL / 4
            )
            r = s / (s + k)
            df2 = np.sum(r * r)
            u = df2 / (n - df2)
            q = k / (s + k)
            B = (1 + u) * np.sum(gamma * s * q * q)
            zeta = p2**2 * (1 + p1 * u) * np.sum(delta * s * r * r) + p2 * u * np.sum(delta * s * (p1 * r + q) ** 2)
            kappa[i, j] = k
            total[i, j] = B + sigma2 * u + zeta
    return kappa, total


def ridge_numpy(s, gamma, delta, sigma2, ns, lams, p2, block=2048):
    """All grid points at once, bisection on the kappa equation with a fixed iteration count."""
    p1 = 1 - p2
    N, L = np.meshgrid(ns, lams, indexing="ij")
    N, L = N.ravel(), L.ravel()
    kappa = np.empty_like(N)
    total = np.empty_like(N)
    for a in range(0, N.size, block):
        n, lam = N[a : a + block, None], L[a : a + block, None]
        lo, hi = lam.copy(), lam + s.sum() / n + 1
        # halvings until the bracket is below RTOL * lo (lo >= lam > 0)
        steps = int(np.ceil(np.log2(np.max((hi - lo) / (RTOL * lo)))))
        for _ in range(steps):
            mid = 0.5 * (lo + hi)
            f = mid - lam - mid * np.sum(s / (s + mid), axis=1, keepdims=True) / n
            neg = f < 0
            lo, hi = np.where(neg, mid, lo), np.where(neg, hi, mid)
        k = 0.5 * (lo + hi)
        r = s / (s + k)
        q = k / (s + k)
        df2 = np.sum(r * r, axis=1, keepdims=True)
        u = df2 / (n - df2)
        B = (1 + u) * np.sum(gamma * s * q * q, axis=1, keepdims=True)
        zeta = p2**2 * (1 + p1 * u) * np.sum(delta * s * r * r, axis=1, keepdims=True) + p2 * u * np.sum(
            delta * s * (p1 * r + q) ** 2, axis=1, keepdims=True
        )
        kappa[a : a + block] = k[:, 0]
        total[a : a + block] = (B + sigma2 * u + zeta)[:, 0]
    return kappa.reshape(len(ns), len(lams)), total.reshape(len(ns), len(lams))


# ---------------------------------------------------------------------------------------------
# 2. Random projections
# ---------------------------------------------------------------------------------------------


def _rp_point(s, gamma, delta, sigma2, n, m, p2, lam, theta):
    d = s.size
    p1 = 1 - p2
    r = s / (s + theta)
    q = theta / (s + theta)
    t, t2 = r.sum(), np.sum(r * r)
    kappa = theta * (m - t) / d
    rho = (m - t) / (m - t2)
    df2 = t - rho * (t - t2)
    u = df2 / (n - df2)
    f1, f2 = q, q * (1 - rho * r)
    B = (1 + u) * np.sum(gamma * s * f2)
    sd = delta * s
    g = np.sum(sd * r * (1 - rho * q))
    zeta = p2**2 * (1 + p1 * u) * g + p2 * u * (
        p1**2 * sd.sum() + 2 * p1 * p2 * np.sum(sd * f1) + p2**2 * np.sum(sd * f2)
    )
    return kappa, B + sigma2 * u + zeta


def rp_scipy(s, gamma, delta, sigma2, n, ms, p2s, lam):
    d = s.size
    theta = np.empty((len(ms), len(p2s)))
    total = np.empty_like(theta)
    for i, m in enumerate(ms):
        for j, p2 in enumerate(p2s):
            k = min(m, n)
            lo = (
                brentq(lambda t: np.sum(s / (s + t)) - k, 1e-300, s.max() * d, xtol=1e-300, rtol=RTOL / 4)
                if d > k
                else 0.0
            )

            def g(t):
                df1 = np.sum(s / (s + t))
                return t * (m - df1) * (n - df1) - lam * d * n

            hi = 2 * s.sum() / k + 4 * lam * d / m
            th = brentq(g, lo * (1 + 1e-15), hi, xtol=1e-300, rtol=RTOL / 4)
            theta[i, j] = th
            total[i, j] = _rp_point(s, gamma, delta, sigma2, n, m, p2, lam, th)[1]
    return theta, total


def rp_numpy(s, gamma, delta, sigma2, n, ms, p2s, lam, block=2048):
    """All grid points at once: bisection on theta (in log space, the bracket spans decades)."""
    d = s.size
    M, P = np.meshgrid(ms, p2s, indexing="ij")
    M, P = M.ravel(), P.ravel()
    theta = np.empty_like(M)
    total = np.empty_like(M)
    for a in range(0, M.size, block):
        m = M[a : a + block, None]
        k, K = np.minimum(m, n), np.maximum(m, n)
        lo = np.full_like(m, 1e-12)
        hi = 2 * s.sum() / k + 4 * lam * d / m
        steps = int(np.ceil(np.log2(np.log(np.max(hi / lo)) / RTOL)))
        for _ in range(steps):
            mid = np.sqrt(lo * hi)
            t = np.sum(s / (s + mid), axis=1, keepdims=True)
            slack = np.maximum(K - t, 0.0)
            with np.errstate(divide="ignore"):
                f = k - t - lam * d * n / (mid * slack)
            neg = f < 0
            lo, hi = np.where(neg, mid, lo), np.where(neg, hi, mid)
        th = np.sqrt(lo * hi)[:, 0]
        theta[a : a + block] = th
        for b, (mm, pp, tt) in enumerate(zip(M[a : a + block], P[a : a + block], th)):
            total[a + b] = _rp_point(s, gamma, delta, sigma2, n, mm, pp, lam, tt)[1]
    return theta.reshape(len(ms), len(p2s)), total.reshape(len(ms), len(p2s))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    size = 64 if args.quick else 256
    repeats = 3 if args.quick else 5

    mix = jc.power_law(D, 1.5, signal=1.0, shift=0.5, noise_var=0.1)
    s, gamma, delta = (np.asarray(x) for x in (mix.eigs, mix.signal, mix.shift))
    sigma2 = 0.1
    rows = []

    # --- ridge -----------------------------------------------------------------------------
    ns = np.geomspace(100, 1e5, size)
    lams = np.geomspace(1e-8, 10, size)
    p2 = 0.2

    def jc_ridge():
        r = jc.theory.ridge(mix, n=ns[:, None], p2=p2, lam=lams[None, :])
        return np.asarray(r.kappa), np.asarray(r.total)

    start = time.perf_counter()
    jc_ridge()
    compile_ridge = time.perf_counter() - start
    (k_jc, e_jc), t_jc = timed(jc_ridge, repeats)
    (k_sp, e_sp), t_sp = timed(lambda: ridge_scipy(s, gamma, delta, sigma2, ns, lams, p2), 1)
    (k_np, e_np), t_np = timed(lambda: ridge_numpy(s, gamma, delta, sigma2, ns, lams, p2), 1)
    for name, t, k, e in [("SciPy brentq loop", t_sp, k_sp, e_sp), ("NumPy bisection", t_np, k_np, e_np)]:
        rows.append(("ridge (n, λ)", name, t, t / t_sp, np.max(np.abs(k / k_jc - 1)), np.max(np.abs(e / e_jc - 1))))
    rows.append(("ridge (n, λ)", "jaxcollapse", t_jc, t_jc / t_sp, 0.0, 0.0))

    # --- random projections ------------------------------------------------------------------
    n, lam = 400.0, 1e-3
    ms = np.geomspace(10, 1e4, size)
    p2s = np.linspace(0, 1, size)

    def jc_rp():
        r = jc.theory.random_projections(mix, n=n, m=ms[:, None], p2=p2s[None, :], lam=lam)
        return np.asarray(r.theta), np.asarray(r.total)

    start = time.perf_counter()
    jc_rp()
    compile_rp = time.perf_counter() - start
    (th_jc, e_jc), t_jc2 = timed(jc_rp, repeats)
    (th_sp, e_sp), t_sp2 = timed(lambda: rp_scipy(s, gamma, delta, sigma2, n, ms, p2s, lam), 1)
    (th_np, e_np), t_np2 = timed(lambda: rp_numpy(s, gamma, delta, sigma2, n, ms, p2s, lam), 1)
    for name, t, th, e in [("SciPy brentq loop", t_sp2, th_sp, e_sp), ("NumPy bisection", t_np2, th_np, e_np)]:
        rows.append(
            (
                "random projections (m, p2)",
                name,
                t,
                t / t_sp2,
                np.max(np.abs(th / th_jc - 1)),
                np.max(np.abs(e / e_jc - 1)),
            )
        )
    rows.append(("random projections (m, p2)", "jaxcollapse", t_jc2, t_jc2 / t_sp2, 0.0, 0.0))

    points = size * size
    print(f"grid {size} x {size} = {points} points, d = {D}, float64, {jax.devices()[0].platform}")
    print(
        "| grid | contender | time (s) | µs / point | speed-up vs SciPy | max rel. diff. of root vs jaxcollapse | of risk |"
    )
    print("|---|---|---|---|---|---|---|")
    for grid, name, t, frac, droot, drisk in rows:
        print(f"| {grid} | {name} | {t:.3f} | {1e6 * t / points:.2f} | {1 / frac:.1f}× | {droot:.1e} | {drisk:.1e} |")
    print(f"\njaxcollapse compile (first call): ridge {compile_ridge:.2f} s, random projections {compile_rp:.2f} s")


if __name__ == "__main__":
    main()
