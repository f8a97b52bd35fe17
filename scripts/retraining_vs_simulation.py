"""Theory against Monte Carlo for self-training chains: a markdown table.

.venv/bin/python scripts/retraining_vs_simulation.py     (about 2 minutes)
"""

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

CASES = [
    ("isotropic, under, λ = 0", jc.isotropic(40, signal=1.0, noise_var=0.25), 80, 100, (0, 1, 4, 10), (0.0,), 1.0),
    (
        "isotropic, under, ridge",
        jc.isotropic(40, signal=1.0, noise_var=0.25),
        200,
        100,
        (0, 1, 4, 10),
        (0.01, 1.0),
        1.0,
    ),
    (
        "power law β=2 r=0.5, under",
        jc.power_law(40, 2.0, source=0.5, signal=1.0, noise_var=0.25),
        200,
        100,
        (0, 1, 4, 10),
        (0.01, 0.3),
        1.0,
    ),
    (
        "power law β=1.5, under, n < d",
        jc.power_law(40, 1.5, signal=1.0, noise_var=0.1),
        30,
        100,
        (0, 2, 10),
        (0.05,),
        1.0,
    ),
    (
        "isotropic, under, min-norm downstream",
        jc.isotropic(40, signal=1.0, noise_var=0.25),
        30,
        100,
        (0, 1, 4),
        (0.0, 0.05),
        1.0,
    ),
    ("isotropic, over, noisy", jc.isotropic(100, signal=1.0, noise_var=0.25), 200, 50, (0, 1, 2, 5, 10), (0.05,), 0.25),
    ("isotropic, over, noiseless", jc.isotropic(100, signal=1.0, noise_var=0.0), 60, 50, (0, 1, 2, 5, 10), (0.1,), 0.0),
    ("isotropic, over, λ = 0", jc.isotropic(60, signal=1.0, noise_var=0.1), 120, 20, (0, 1, 3, 10), (0.0,), 0.3),
]
TRIALS = 1000

print(f"| configuration | n | n0 | G | λ | theory | simulation ± s.e. ({TRIALS} trials) | z | % |")
print("|---|---|---|---|---|---|---|---|---|")
worst_z = worst_pct = 0.0
for k, (name, mix, n, n0, gens, lams, s02) in enumerate(CASES):
    g = np.asarray(gens)[:, None]
    lam = np.asarray(lams)[None, :]
    est = jc.simulate.retraining(
        mix, n=n, n0=n0, generations=g, lam=lam, generator_noise_var=s02, trials=TRIALS, key=jax.random.key(k)
    )
    th = np.asarray(
        jc.theory.retraining(mix, n=n, n0=n0, generations=g.astype(float), lam=lam, generator_noise_var=s02).total
    )
    mean, sem = np.asarray(est.mean), np.asarray(est.sem)
    for i, G in enumerate(gens):
        for j, lam_j in enumerate(lams):
            z = (mean[i, j] - th[i, j]) / sem[i, j]
            pct = 100 * (mean[i, j] / th[i, j] - 1)
            worst_z, worst_pct = max(worst_z, abs(z)), max(worst_pct, abs(pct))
            print(
                f"| {name} (d = {mix.d}, σ0² = {s02:g}) | {n} | {n0} | {G} | {lam_j:g} | {th[i, j]:.5f} | {mean[i, j]:.5f} ± {sem[i, j]:.5f} | {z:+.2f} | {pct:+.2f} |",
                flush=True,
            )
print(f"\nlargest |z| = {worst_z:.2f}, largest |difference| = {worst_pct:.2f} %")
