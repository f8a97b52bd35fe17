"""Print the theory-vs-simulation table for jc.theory.random_projections (d ≥ 300, 400 trials).

    .venv/bin/python scripts/random_projections_vs_simulation.py

One simulator call per problem: every width × p2 × lam of a row group shares each trial's draws
(one eigendecomposition per width and trial). Columns: theory, simulation mean ± standard error,
gap in standard errors and in %.
"""

import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

TRIALS = 400
w = jnp.full(300, 1 / jnp.sqrt(300))
PROBLEMS = [
    ("isotropic d=400", jc.isotropic(400, signal=1.0, shift=0.5, noise_var=0.25), 150, [60, 300, 600]),
    ("power law β=1.2, d=300", jc.power_law(300, 1.2, signal=1.0, shift=0.5, noise_var=0.1), 100, [40, 200, 900]),
    ("power law β=0.8, d=300", jc.power_law(300, 0.8, signal=1.0, shift=1.0, noise_var=0.2), 600, [150, 450, 1200]),
    (
        "fixed teachers w2=1.5·w1, σ1²=0.1, σ2²=0.4, d=300",
        jc.fixed_teachers(jnp.linspace(0.3, 1.7, 300), w, 1.5 * w, noise_var=0.1, synthetic_noise_var=0.4),
        200,
        [100, 450],
    ),
]
P2 = [0.0, 0.2, 0.8]
LAM = [0.0, 1e-3, 1e-1]


def regime(d, n, m):
    if m < n:
        return "m < n < d" if n < d else ("m < d < n" if m < d else "d ≤ m < n")
    return "n < m < d" if m < d else ("m > d > n" if n < d else "m > n > d")


print(f"| problem | n | m (regime) | p2 | λ | theory | simulation ({TRIALS} trials) | gap / s.e. | gap % |")
print("|---|---|---|---|---|---|---|---|---|")
start = time.perf_counter()
worst_z, worst_pct = 0.0, 0.0
for i, (name, mix, n, widths) in enumerate(PROBLEMS):
    kw = dict(n=n, m=np.array(widths)[:, None, None], p2=jnp.array(P2)[:, None], lam=jnp.array(LAM))
    risk = jc.theory.random_projections(mix, **kw)
    est = jc.simulate.random_projections(mix, trials=TRIALS, key=jax.random.key(100 + i), **kw)
    for a, m in enumerate(widths):
        for b, p2 in enumerate(P2):
            for c, lam in enumerate(LAM):
                t, mu, s = float(risk.total[a, b, c]), float(est.mean[a, b, c]), float(est.sem[a, b, c])
                worst_z, worst_pct = max(worst_z, abs(mu - t) / s), max(worst_pct, 100 * abs(mu - t) / t)
                print(
                    f"| {name} | {n} | {m} ({regime(mix.d, n, m)}) | {p2:g} | {lam:g} | {t:.5f} | {mu:.5f} ± {s:.5f} "
                    f"| {(mu - t) / s:+.2f} | {100 * (mu - t) / t:+.2f} |",
                    flush=True,
                )
print(f"\nworst |gap| = {worst_z:.2f} s.e., {worst_pct:.2f} %; {time.perf_counter() - start:.0f} s")
