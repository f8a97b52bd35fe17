"""Reliability of the random-projection and ridge kernels on a 10^6-point grid, float64 and float32.

    .venv/bin/python benchmarks/reliability.py

Grid: d = 200 (power law β = 1.5, and isotropic), φ = d/n and ψ = m/n each on 101 log-spaced values
in [0.01, 100] (both include 1 exactly), p2 ∈ {0, 0.2, 0.5, 0.8, 1}, λ ∈ {0} ∪ [1e-8, 10] (10
values): 101 × 101 × 5 × 10 = 510,050 points per spectrum, 1,020,100 in all.
Checks: no NaN; +inf with Status.INFINITE exactly at the ridgeless thresholds (λ = 0 and either
m = n < d, or d = n ≤ m); no lane hits the solver's step cap (Status.NOT_CONVERGED); float32 of
the same grid against float64, away from the thresholds, and separately at m = d with λ ≤ 1e-4
(where the projected spectrum reaches zero).
"""

import time

import jax

jax.config.update("jax_enable_x64", True)
import equinox as eqx  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

d = 200
phi = np.geomspace(0.01, 100, 101)
psi = np.geomspace(0.01, 100, 101)
p2 = np.array([0.0, 0.2, 0.5, 0.8, 1.0])
lam = np.array([0.0, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 3.0, 10.0])
n = d / phi
grid = dict(
    n=n[:, None, None, None], m=(psi[None, :] * n[:, None])[:, :, None, None], p2=p2[None, None, :, None], lam=lam
)
PHI, PSI, _, LAM = np.meshgrid(phi, psi, p2, lam, indexing="ij")
at_threshold = (LAM == 0) & (((PSI == 1) & (PHI > 1)) | ((PHI == 1) & (PSI >= 1)))
near = (LAM <= 1e-4) & ((np.abs(np.log(PSI)) < 0.2) | (np.abs(np.log(PHI)) < 0.2))
edge = (LAM <= 1e-4) & np.isclose(PSI, PHI) & ~near  # m = d: the projected spectrum reaches zero

total_points = 0
start = time.perf_counter()
for name, mix in [
    ("power law", jc.power_law(d, 1.5, signal=1.0, shift=0.5, noise_var=0.1)),
    ("isotropic", jc.isotropic(d, signal=1.0, shift=0.5, noise_var=0.1)),
]:
    r = jc.theory.random_projections(mix, **grid)
    total, status = np.asarray(r.total), np.asarray(r.status)
    total_points += total.size
    mix32 = jax.tree.map(lambda x: x.astype(jnp.float32) if eqx.is_array(x) else x, mix)
    r32 = jc.theory.random_projections(mix32, **{k: jnp.asarray(v, jnp.float32) for k, v in grid.items()})
    ok = (status == 0) & ~near & ~edge
    rel = np.abs(np.asarray(r32.total, np.float64)[ok] / total[ok] - 1)
    at_edge = (status == 0) & edge
    rel_edge = np.abs(np.asarray(r32.total, np.float64)[at_edge] / total[at_edge] - 1)
    print(
        f"{name}: {total.size:,} points | NaN {int(np.isnan(total).sum())} | not converged {int((status == 2).sum())} | "
        f"infinite {int((status == 3).sum())} (expected {int(at_threshold.sum())}, match {bool(np.array_equal(status == 3, at_threshold))}) | "
        f"float32 vs float64 away from thresholds: median {np.median(rel):.1e}, max {rel.max():.1e} over {ok.sum():,} points; "
        f"at m = d with λ ≤ 1e-4: max {rel_edge.max():.1e} over {at_edge.sum():,} points"
    )
print(f"{total_points:,} points in {time.perf_counter() - start:.1f} s (float64 and float32, compile included)")
