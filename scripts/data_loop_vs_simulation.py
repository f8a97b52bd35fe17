"""Print the theory-vs-simulation table for jc.theory.data_loop (2000 trials per configuration).

    .venv/bin/python scripts/data_loop_vs_simulation.py

Every policy and design with a theory (replace with either design, accumulate with a fixed one),
G ∈ {0, 1, 5, 20}, at λ = 0 (exact formulas: n0 ≥ d + 2 for any Σ, n0 ≤ d - 2 for an isotropic Σ)
and at ridges λ > 0 (deterministic equivalents, any Σ and n0). Columns: theory, simulation mean ±
standard error, gap in standard errors and in %.
"""

import time

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

TRIALS = 2000
G = np.array([0, 1, 5, 20])
PROBLEMS = [  # name, mixture, n0, σ0², ridges
    ("power law β=1.2, d=20, σ1²=0.25", jc.power_law(20, 1.2, signal=1.0, noise_var=0.25), 80, 0.25, (0.0, 0.05)),
    ("power law β=0.8, d=30, σ1²=0.1", jc.power_law(30, 0.8, signal=1.0, noise_var=0.1), 40, 1.0, (0.0, 0.2)),
    ("isotropic d=15, σ1²=0.5", jc.isotropic(15, signal=1.0, noise_var=0.5), 60, 0.1, (0.0, 1.0)),
    ("isotropic d=40 (n0 < d), σ1²=0.2", jc.isotropic(40, signal=1.0, noise_var=0.2), 15, 0.3, (0.0, 0.1)),
    (
        "power law β=1.5, d=50 (n0 < d), σ1²=0.2",
        jc.power_law(50, 1.5, signal=1.0, noise_var=0.2),
        30,
        0.25,
        (0.01, 0.1),
    ),
    ("power law β=1.0, d=40 (n0 = d), σ1²=0.3", jc.power_law(40, 1.0, signal=1.0, noise_var=0.3), 40, 0.2, (0.05, 0.5)),
]
LOOPS = [("replace", "fixed"), ("accumulate", "fixed"), ("replace", "fresh")]


def main():
    start = time.time()
    print("| problem | n0 | σ0² | λ | policy | design | G | theory | simulation | gap (s.e.) | gap (%) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    worst = {"exact": [0.0, 0.0], "ridge": [0.0, 0.0]}
    for k, (name, mix, n0, s0, lams) in enumerate(PROBLEMS):
        for policy, design in LOOPS:
            lam = np.asarray(lams)[:, None]
            kw = dict(n0=n0, lam=lam, generator_noise_var=s0, policy=policy, design=design)
            risk = jc.theory.data_loop(mix, generations=G.astype(float), **kw)
            th, status = np.asarray(risk.total), np.asarray(risk.status)
            est = jc.simulate.data_loop(mix, generations=G, trials=TRIALS, key=jax.random.key(100 + k), **kw)
            mean, sem = np.asarray(est.mean), np.asarray(est.sem)
            for j, la in enumerate(lams):
                for i, g in enumerate(G):
                    if status[j, i] != jc.Status.OK:
                        continue
                    z = (mean[j, i] - th[j, i]) / sem[j, i]
                    pct = 100 * (mean[j, i] / th[j, i] - 1)
                    w = worst["exact" if la == 0 else "ridge"]
                    w[0], w[1] = max(w[0], abs(z)), max(w[1], abs(pct))
                    print(
                        f"| {name} | {n0} | {s0:g} | {la:g} | {policy} | {design} | {g} | {th[j, i]:.5f} | "
                        f"{mean[j, i]:.5f} ± {sem[j, i]:.5f} | {z:+.2f} | {pct:+.2f} |",
                        flush=True,
                    )
    for kind, (z, pct) in worst.items():
        print(f"\nworst |gap|, {kind}: {z:.2f} s.e., {pct:.2f} %")
    print(f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
