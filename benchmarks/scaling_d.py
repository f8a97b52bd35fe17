"""Time per grid point against the dimension d (exact path, no spectral compression yet).

    .venv/bin/python benchmarks/scaling_d.py

Ridge risk on a 64 x 64 (n, λ) grid with n ∈ [0.1 d, 10 d], λ ∈ [1e-8, 10], power law β = 1.5,
float64; median of 3 runs after a compiling call. The df1 table costs 2048 · d once per call; each
point costs a few passes over the spectrum, so time per point grows linearly in d.
"""

import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

print("| d | µs / point | ns / (point · d) |")
print("|---|---|---|")
for d in (10**3, 10**4, 10**5, 10**6):
    mix = jc.power_law(d, 1.5, signal=1.0, shift=0.5, noise_var=0.1)
    ns = np.geomspace(0.1 * d, 10 * d, 64)
    lams = np.geomspace(1e-8, 10, 64)

    def run():
        return jc.theory.ridge(mix, n=ns[:, None], p2=0.2, lam=lams[None, :]).total.block_until_ready()

    run()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    per_point = statistics.median(times) / ns.size / lams.size
    print(f"| {d:,} | {1e6 * per_point:.1f} | {1e9 * per_point / d:.2f} |", flush=True)
