"""The "Large grids" example of the docs (docs/large-grids.md): a one-million-point phase diagram with jc.sweep, timed.

    .venv/bin/python benchmarks/sweep_million.py

Random-projection risk on a 100 (n) x 100 (m) x 10 (p2) x 10 (lam) grid, power law d = 1000,
float64, widths and sample sizes spanning the interpolation threshold (lam = 0 included).
"""

import functools
import time

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

mix = jc.power_law(1000, 1.5, signal=1.0, shift=0.5, noise_var=0.1)
axes = {
    "n": np.geomspace(10, 1e5, 100),
    "m": np.geomspace(10, 1e5, 100),
    "p2": np.linspace(0, 1, 10),
    "lam": np.concatenate([[0.0], np.geomspace(1e-6, 10, 9)]),
}
start = time.perf_counter()
ds = jc.sweep(functools.partial(jc.theory.random_projections, mix), axes)
elapsed = time.perf_counter() - start
points = ds.total.size
status = np.bincount(ds.status.values.ravel(), minlength=4)
print(
    f"{points:,} points in {elapsed:.1f} s ({1e6 * elapsed / points:.2f} µs/point, compile included) on {len(jax.devices())} {jax.devices()[0].platform} device(s)"
)
print(f"status counts: ok {status[0]:,}, invalid {status[1]:,}, not converged {status[2]:,}, infinite {status[3]:,}")
print(f"NaN totals: {int(np.isnan(ds.total.values).sum())}")
