"""Print the theory-vs-simulation table for jc.theory.ridge (d = 400, 400 trials per configuration).

    .venv/bin/python scripts/ridge_vs_simulation.py

Columns: theory, simulation mean ± standard error, gap in standard errors and in %.
"""

import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

import jaxcollapse as jc  # noqa: E402

D = 400
iso = jc.isotropic(D, signal=1.0, shift=1.0, noise_var=0.5)
pl = jc.power_law(D, 1.3, signal=1.0, shift=0.5, noise_var=0.1)
shifted = jc.Mixture(pl.eigs, pl.signal, pl.shift, 0.1, synthetic_eigs=jnp.sqrt(pl.eigs), synthetic_noise_var=0.3)
w = jnp.full(D, 1 / jnp.sqrt(D))
fixed = jc.fixed_teachers(jnp.ones(D), w, 1.5 * w, noise_var=0.1)

CASES = [
    ("isotropic, n<d, λ=0", iso, dict(n=240, p2=0.3, lam=0.0)),
    ("isotropic, n>d, λ=0", iso, dict(n=1000, p2=0.3, lam=0.0)),
    ("isotropic, n>d, weight 0.3", iso, dict(n=600, p2=0.4, lam=0.05, weight=0.3)),
    ("isotropic, n<d, weight 3", iso, dict(n=300, p2=0.4, lam=0.02, weight=3.0)),
    ("power law 1.3, n<d, λ=0.01", pl, dict(n=200, p2=0.5, lam=0.01)),
    ("power law 1.3, n>d, λ=1", pl, dict(n=800, p2=0.2, lam=1.0)),
    ("power law, p2=1", pl, dict(n=600, p2=1.0, lam=1e-3)),
    ("Σ2=Σ1^½, n>d, λ=1e-3", shifted, dict(n=800, p2=0.3, lam=1e-3)),
    ("Σ2=Σ1^½, n<d, λ=0", shifted, dict(n=240, p2=0.3, lam=0.0)),
    ("Σ2=Σ1^½, n>d, λ=0, weight 0.5", shifted, dict(n=800, p2=0.3, lam=0.0, weight=0.5)),
    ("fixed teachers (D1 at d=400)", fixed, dict(n=800, p2=0.3, lam=0.1)),
]

print(f"| configuration (d = {D}) | theory | simulation (400 trials) | gap / s.e. | gap % |")
print("|---|---|---|---|---|")
start = time.perf_counter()
for i, (name, mix, kw) in enumerate(CASES):
    risk = jc.theory.ridge(mix, **kw)
    est = jc.simulate.ridge(mix, trials=400, key=jax.random.key(i), **kw)
    t, m, s = float(risk.total), float(est.mean), float(est.sem)
    print(f"| {name} | {t:.5f} | {m:.5f} ± {s:.5f} | {(m - t) / s:+.2f} | {100 * (m - t) / t:+.2f} |", flush=True)
print(f"\n{time.perf_counter() - start:.0f} s")
