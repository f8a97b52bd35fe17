"""jc.tails exact sums against the direct-summation baseline of the notes.

    .venv/bin/python benchmarks/tails.py

Baseline (the Hutter-model sums of *A Tale of Tails*, Dohmatob et al., ICML 2024, §2): NumPy, float64, ranks 1..N summed directly with
N = 10⁷, plus the tail mass ζ(β, N+1)/ζ(β) counted as never seen — one T at a time. jc.tails.clean
evaluates 10⁴ values of T in [1, 10¹⁰] in one call. Medians of repeated runs; compilation excluded
(reported separately).
"""

import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402
from scipy.special import zeta  # noqa: E402

import jaxcollapse as jc  # noqa: E402

BETA = 1.5
N = 10**7


def baseline(T, beta=BETA, n=N):
    i = np.arange(1, n + 1, dtype=float)
    p = i**-beta / zeta(beta)
    return float(np.sum(p * np.exp(T * np.log1p(-p))) + zeta(beta, n + 1) / zeta(beta))


def median_time(f, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


T_grid = np.geomspace(1.0, 1e10, 10_000)
t0 = time.perf_counter()
jax.block_until_ready(jc.tails.clean(BETA, T=T_grid).total)
compile_s = time.perf_counter() - t0
grid_s = median_time(lambda: jax.block_until_ready(jc.tails.clean(BETA, T=T_grid).total), 5)
one_s = median_time(lambda: jax.block_until_ready(jc.tails.clean(BETA, T=T_grid[:1]).total), 5)
base_s = median_time(lambda: baseline(1e6), 3)
print(
    f"β = {BETA}: jc.tails.clean, 10⁴ values of T in [1, 1e10]: {grid_s:.3f} s ({1e6 * grid_s / T_grid.size:.1f} µs per T; first call with compilation {compile_s:.1f} s)"
)
print(f"one T per call: {1e3 * one_s:.2f} ms; baseline (N = 10⁷, one T): {base_s:.3f} s per T")
print(f"speed-up per T: {base_s / (grid_s / T_grid.size):.0f}× on the grid, {base_s / one_s:.0f}× one at a time")
print()
print("| T | jc.tails.clean | baseline (N = 10⁷) | baseline rel. error | C_β T^-c / exact − 1 |")
print("|---|---|---|---|---|")
for T in [1e4, 1e6, 1e8, 1e9, 1e10, 1e12, 1e14]:
    exact = float(jc.tails.clean(BETA, T=T).total)
    law = float(jc.tails.clean_law(BETA, T=T))
    b = baseline(T) if T <= 1e10 else float("nan")
    print(f"| {T:.0e} | {exact:.10g} | {b:.10g} | {b / exact - 1:+.2e} | {law / exact - 1:+.2e} |", flush=True)
