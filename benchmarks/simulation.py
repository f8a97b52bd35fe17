"""Simulation: jc.simulate.random_projections on a (m, p2) grid against a NumPy per-trial loop.

    .venv/bin/python benchmarks/simulation.py            # d = n = 1000, 100 trials (several minutes)
    .venv/bin/python benchmarks/simulation.py --quick    # d = n = 300, 10 trials
    .venv/bin/python benchmarks/simulation.py --dense    # 12 widths instead of 4 (a finer phase diagram)

Both contenders fit the same estimator on the same kind of draws (Gaussian X, S with N(0, 1/d)
entries, a fresh teacher and shift per trial) at every (width, p2) point. The NumPy loop is the
code one writes first: per trial and width it forms the Gram (or kernel) matrix once, then solves
one linear system per p2. jaxcollapse forms the Gram matrices of all nested widths at the cost of
the widest, and factors each once for every p2 (Cholesky for a single ridge, as here; one
eigendecomposition for every λ when there are several). Also printed: achieved GFLOP/s (useful flops of jaxcollapse's algorithm divided by
its time) against this machine's measured float64 matmul rate in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402


def numpy_loop(s, gamma, delta, sigma2, n, widths, p2s, lam, trials, seed):
    rng = np.random.default_rng(seed)
    d = s.size
    out = np.empty((len(widths), len(p2s), trials))
    for t in range(trials):
        X = rng.standard_normal((n, d)) * np.sqrt(s)
        S = rng.standard_normal((max(widths), d)) / np.sqrt(d)
        w1 = rng.standard_normal(d) * np.sqrt(gamma)
        dl = rng.standard_normal(d) * np.sqrt(delta)
        eps = rng.standard_normal(n) * np.sqrt(sigma2)
        for a, m in enumerate(widths):
            Z = X @ S[:m].T
            if m <= n:
                G = Z.T @ Z / n + lam * np.eye(m)
            else:
                K = Z @ Z.T / n + lam * np.eye(n)
            for b, p2 in enumerate(p2s):
                n2 = int(round(p2 * n))
                y = X @ w1 + eps
                y[:n2] += X[:n2] @ dl
                if m <= n:
                    v = np.linalg.solve(G, Z.T @ y / n)
                else:
                    v = Z.T @ np.linalg.solve(K, y) / n
                w_hat = S[:m].T @ v
                out[a, b, t] = np.sum(s * (w_hat - w1) ** 2)
    return out


def jc_flops(d, n, widths, points):
    """Useful flops per trial of jaxcollapse's algorithm for one ridge > 0 (Cholesky path)."""
    primal = [m for m in widths if m <= n]
    dual = [m for m in widths if m > n]
    flops = 2 * n * d * max(widths)  # Z = X S^T
    if primal:
        M = max(primal)
        flops += 2 * n * M * M + 2 * n * M * points  # nested Gram matrices and right-hand sides, once
        flops += sum(m**3 / 3 + 2 * m * m * points + 2 * d * m * points for m in primal)
    if dual:
        M = max(dual)
        flops += 2 * n * n * M  # nested kernels, once
        flops += sum(n**3 / 3 + 2 * n * n * points + 2 * n * m * points + 2 * d * m * points for m in dual)
    return flops


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--dense", action="store_true", help="12 widths, m/n from 0.1 to 3")
    args = parser.parse_args()
    d = n = 300 if args.quick else 1000
    trials = 10 if args.quick else 100
    widths = [d // 4, d // 2, 3 * d // 4, 2 * d]
    if args.dense:
        widths = [int(round(r * n)) for r in (0.1, 0.2, 0.3, 0.45, 0.6, 0.75, 0.9, 1.1, 1.4, 1.8, 2.4, 3.0)]
    p2s = [0.0, 0.1, 0.2, 0.4, 0.6, 0.8]
    lam = 1e-3
    mix = jc.power_law(d, 1.0, signal=1.0, shift=0.5, noise_var=0.1)
    s, gamma, delta = (np.asarray(x) for x in (mix.eigs, mix.signal, mix.shift))

    def run_jc():
        e = jc.simulate.random_projections(
            mix, n=n, m=np.array(widths)[:, None], p2=jnp.array(p2s), lam=lam, trials=trials, key=jax.random.key(0)
        )
        return np.asarray(e.mean), np.asarray(e.sem)

    start = time.perf_counter()
    run_jc()
    first = time.perf_counter() - start
    times = []
    for _ in range(2):
        start = time.perf_counter()
        mean_jc, sem_jc = run_jc()
        times.append(time.perf_counter() - start)
    t_jc = statistics.median(times)

    start = time.perf_counter()
    samples_np = numpy_loop(s, gamma, delta, 0.1, n, widths, p2s, lam, trials, seed=0)
    t_np = time.perf_counter() - start
    mean_np = samples_np.mean(-1)
    sem_np = samples_np.std(-1, ddof=1) / np.sqrt(trials)

    a = jnp.ones((2000, 2000))
    mm = jax.jit(lambda a: a @ a)
    mm(a).block_until_ready()
    mm_times = []
    for _ in range(5):
        start = time.perf_counter()
        mm(a).block_until_ready()
        mm_times.append(time.perf_counter() - start)
    peak = 2 * 2000**3 / statistics.median(mm_times) / 1e9
    achieved = trials * jc_flops(d, n, widths, len(p2s)) / t_jc / 1e9

    print(f"d = n = {d}, widths {widths}, p2 {p2s}, λ = {lam}, {trials} trials, float64, {jax.devices()[0].platform}")
    print("| contender | time (s) | speed-up |")
    print("|---|---|---|")
    print(f"| NumPy per-trial loop (one solve per width and p2) | {t_np:.2f} | 1.0× |")
    print(f"| jaxcollapse (one factorisation per width and trial) | {t_jc:.2f} | {t_np / t_jc:.1f}× |")
    print(f"\njaxcollapse first call (compile included): {first:.2f} s")
    print(
        f"achieved {achieved:.1f} GFLOP/s; matmul 2000 x 2000 float64 on this machine: {peak:.1f} GFLOP/s ({100 * achieved / peak:.0f} %)"
    )
    z = np.abs(mean_jc - mean_np) / np.sqrt(sem_jc**2 + sem_np**2)
    print(f"the two estimates agree: max |difference| = {z.max():.2f} combined standard errors over {z.size} points")


if __name__ == "__main__":
    main()
