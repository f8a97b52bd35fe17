"""`jaxcollapse bench`: the quick version of `benchmarks/`, printed as a table.

Same accuracy for every contender (κ or θ to 1e-10 relative), float64, one process run, medians of
3 runs after a compiling call. The per-point baselines are the loops people write today: SciPy
`brentq` per grid point (when SciPy is installed) and a NumPy bisection vectorised over points.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

RTOL = 1e-10


def _median_time(fn, repeats=3):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ridge_numpy(s, n, lam):
    """Vectorised bisection on κ − λ − κ df1(κ)/n = 0 (p2 enters only the risk, not κ)."""
    n, lam = n[:, None], lam[:, None]
    lo, hi = lam.copy(), lam + s.sum() / n + 1.0
    for _ in range(int(np.ceil(np.log2(np.max((hi - lo) / (RTOL * lo)))))):
        mid = 0.5 * (lo + hi)
        neg = mid - lam - mid * np.sum(s / (s + mid), axis=1, keepdims=True) / n < 0
        lo, hi = np.where(neg, mid, lo), np.where(neg, hi, mid)
    return 0.5 * (lo + hi)[:, 0]


def _ridge_scipy(s, n, lam):
    from scipy.optimize import brentq

    out = np.empty(n.size)
    for i in range(n.size):
        out[i] = brentq(
            lambda k, lam_i=lam[i], n_i=n[i]: k - lam_i - k * np.sum(s / (s + k)) / n_i,
            lam[i],
            lam[i] + s.sum() / n[i] + 1,
            rtol=RTOL / 4,
        )
    return out


def main(size: int = 64) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from . import compress, power_law, theory

    if size < 4:
        raise SystemExit("jaxcollapse: error: --size must be ≥ 4")
    d = 1000
    mix = power_law(d, 1.5, signal=1.0, shift=0.5, noise_var=0.1)
    s = np.asarray(mix.eigs)
    ns = np.geomspace(0.1 * d, 10 * d, size)
    lams = np.geomspace(1e-6, 10, size)
    N, L = (a.ravel() for a in np.meshgrid(ns, lams, indexing="ij"))
    points = N.size
    rows = []

    def jc_ridge(m=mix, n=N, lam=L):
        return theory.ridge(m, n=jnp.asarray(n), p2=0.2, lam=jnp.asarray(lam)).total.block_until_ready()

    t_jc = _median_time(jc_ridge)
    t_np = _median_time(lambda: _ridge_numpy(s, N, L), repeats=1)
    row = ["ridge κ + risk, d = 1000", f"{size}×{size}", 1e6 * t_jc / points, 1e6 * t_np / points]
    try:
        sub = slice(None, None, max(1, points // 1024))  # the loop on about 1000 of the points
        t_sp = _median_time(lambda: _ridge_scipy(s, N[sub], L[sub]), repeats=1) / N[sub].size
        row.append(1e6 * t_sp)
    except ImportError:
        row.append(None)
    rows.append(row)

    ms = np.geomspace(10, 10 * d, size)
    p2s = np.linspace(0.0, 1.0, size)

    def jc_rp():
        return theory.random_projections(
            mix, n=500.0, m=jnp.asarray(ms)[:, None], p2=jnp.asarray(p2s)[None, :], lam=1e-3
        ).total.block_until_ready()

    rows.append(
        ["random projections θ + risk, d = 1000", f"{size}×{size}", 1e6 * _median_time(jc_rp) / points, None, None]
    )

    big = power_law(10**6, 1.5, signal=1.0, shift=0.5, noise_var=0.1)
    start = time.perf_counter()
    small = compress(big)
    build = time.perf_counter() - start
    t_small = _median_time(lambda: jc_ridge(small))
    few = slice(None, None, max(1, points // 64))
    t_big = _median_time(lambda: jc_ridge(big, N[few], L[few]), repeats=1) / N[few].size
    rows.append(
        [
            f"ridge, d = 10⁶ compressed ({small.eigs.shape[0]} nodes, built in {build:.2f} s)",
            f"{size}×{size}",
            1e6 * t_small / points,
            None,
            None,
        ]
    )
    rows.append(["ridge, d = 10⁶ exact (for comparison)", f"{N[few].size} points", 1e6 * t_big, None, None])

    print(f"jaxcollapse bench: float64, {jax.devices()[0].platform}, medians; µs per grid point (lower is better)")
    print(
        "| kernel | grid | jaxcollapse (root + full risk) | NumPy vectorised bisection (root only) | SciPy brentq loop (root only) | speed-up vs SciPy |"
    )
    print("|---|---|---|---|---|---|")
    for name, grid, jc, npb, sp in rows:
        cells = [f"{jc:.2f}", "—" if npb is None else f"{npb:.1f}", "—" if sp is None else f"{sp:.1f}"]
        speed = "—" if sp is None else f"{sp / jc:.0f}×"
        print(f"| {name} | {grid} | " + " | ".join(cells) + f" | {speed} |")
    print(f"compressed vs exact at d = 10⁶: {rows[3][2] / rows[2][2]:.0f}× faster per point")
    print("Full benchmarks with the exact commands: benchmarks/RESULTS.md")
    return 0
