"""Time per grid point against the dimension d: the exact path and the compressed spectrum.

    .venv/bin/python benchmarks/scaling_d.py

Ridge risk on a 64 x 64 (n, λ) grid with n ∈ [0.1 d, 10 d], λ ∈ [0] ∪ [1e-8, 10], power law
β = 1.5, float64; median of 3 runs after a compiling call. The exact path costs a few passes over the
d eigenvalues per point; `jc.compress` (built once, its time reported separately) replaces them by a
few hundred quadrature nodes, so the compressed time per point does not grow with d. The last
column is the largest relative difference between the two on the grid (total risk, finite points).
d = 10^7 is run compressed only (the exact path would take about 5 minutes there).
"""

import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402


def per_point(mix, ns, lams):
    def run():
        return jc.theory.ridge(mix, n=ns[:, None], p2=0.2, lam=lams[None, :]).total.block_until_ready()

    out = run()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / ns.size / lams.size, out


print("| d | exact µs / point | compress (once) | nodes | compressed µs / point | speed-up | max rel. difference |")
print("|---|---|---|---|---|---|---|")
for d in (10**3, 10**4, 10**5, 10**6, 10**7):
    mix = jc.power_law(d, 1.5, signal=1.0, shift=0.5, noise_var=0.1)
    ns = np.round(np.geomspace(0.1 * d, 10 * d, 64))
    lams = np.concatenate([[0.0], np.geomspace(1e-8, 10, 63)])
    start = time.perf_counter()
    small = jc.compress(mix)
    build = time.perf_counter() - start
    fast, approx = per_point(small, ns, lams)
    if d <= 10**6:
        slow, exact = per_point(mix, ns, lams)
        finite = jnp.isfinite(exact)
        same = bool(jnp.all(finite == jnp.isfinite(approx)))
        rel = float(jnp.max(jnp.where(finite, jnp.abs(approx - exact) / jnp.abs(exact), 0.0)))
        cells = f"{1e6 * slow:.1f} | {build:.2f} s | {small.eigs.shape[0]} | {1e6 * fast:.2f} | {slow / fast:.0f}× | {rel:.1e}{'' if same else ' (inf mismatch!)'}"
    else:
        cells = f"— | {build:.2f} s | {small.eigs.shape[0]} | {1e6 * fast:.2f} | — | —"
    print(f"| {d:,} | {cells} |", flush=True)
