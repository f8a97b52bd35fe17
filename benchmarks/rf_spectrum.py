"""Latency of nonlinear random-feature theory on a power law, full against compressed spectrum.

    .venv/bin/python benchmarks/rf_spectrum.py        (about a minute on 2 cores)

One process, float64. Each row: 1000 random points (n ∈ [50, 5000], p2 ∈ [0, 1], λ ∈ [1e-4, 1]) at
one width m = 300 (the contour shared by the points), median and worst of 10 calls after a warm-up
call; and a 200-point call whose widths vary per point (one contour of 1024 nodes per point; median
of 3). Baseline: the isotropic d = 400 mixture of `latency.py`'s random_features rows.
"""

import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

rng = np.random.default_rng(0)
N = 1000
n = jnp.asarray(rng.uniform(50, 5000, N))
p2 = jnp.asarray(rng.uniform(0, 1, N))
lam = jnp.asarray(10 ** rng.uniform(-4, 0, N))
m_var = jnp.asarray(rng.uniform(30, 3000, 200))


def timed(fn, repeats=10):
    jax.block_until_ready(fn())  # warm-up: compiles
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        out.append(1e3 * (time.perf_counter() - t))
    return statistics.median(out), max(out)


power = jc.power_law(1000, 1.5, source=0.5, signal=1.0, shift=1.0, noise_var=0.05)
mixes = {
    "isotropic d = 400 (baseline)": jc.isotropic(400, signal=1.0, shift=0.5, noise_var=0.25),
    "power law d = 1000, full": power,
    f"power law d = 1000, compressed ({jc.compress(power).eigs.shape[0]} nodes)": jc.compress(power),
}
print("| mixture | one width, 1000 points: median / worst ms | 200 widths, one per point: median ms |")
print("|---|---|---|")
for name, mix in mixes.items():
    one = timed(lambda mix=mix: jc.theory.random_features(mix, n=n, m=300.0, p2=p2, lam=lam).total)
    many = timed(
        lambda mix=mix: jc.theory.random_features(mix, n=n[:200], m=m_var, p2=p2[:200], lam=lam[:200]).total, repeats=3
    )
    print(f"| {name} | {one[0]:.0f} / {one[1]:.0f} | {many[0]:.0f} |", flush=True)
