"""Exact Hutter-model sums (jc.tails) against Monte Carlo (jc.tails.simulate): a markdown table.

    .venv/bin/python scripts/tails_vs_simulation.py     (a few minutes on 2 cores)

Each row is one model; each simulation is one stream of max(T) samples per trial, read at every T.
Chain W ("empirical") has no closed form: its theory column is the Poisson-branching approximation,
and the simulation is the reference.
"""

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

tl = jc.tails
TRIALS = 400
Ts = [100, 1_000, 10_000, 100_000]
T = np.asarray(Ts, float)
CASES = [
    ("clean β=1.5", "clean", 1.5, {}, lambda: tl.clean(1.5, T=T)),
    ("clean β=1.2", "clean", 1.2, {}, lambda: tl.clean(1.2, T=T)),
    ("cut β=2, k=100", "cut", 2.0, dict(k=100), lambda: tl.cut(2.0, T=T, k=100)),
    ("cut β=1.5, k=1000", "cut", 1.5, dict(k=1000), lambda: tl.cut(1.5, T=T, k=1000)),
    ("narrow β=2, β̃=3", "narrow", 2.0, dict(beta_narrow=3.0), lambda: tl.narrow(2.0, T=T, beta_narrow=3.0)),
    ("narrow β=1.5, β̃=2.5", "narrow", 1.5, dict(beta_narrow=2.5), lambda: tl.narrow(1.5, T=T, beta_narrow=2.5)),
    ("mix β=2, k=10, π=0.01 (fixed)", "mix", 2.0, dict(k=10, p1=0.01), lambda: tl.mix(2.0, T=T, k=10, p1=0.01)),
    (
        "mix β=2, k=100, π=0.1 (iid)",
        "mix",
        2.0,
        dict(k=100, p1=0.1, sampling="iid"),
        lambda: tl.mix(2.0, T=T, k=100, p1=0.1, sampling="iid"),
    ),
    (
        "acquire β=2, k=10, k'=10, π=0.01",
        "acquire_tail",
        2.0,
        dict(k=10, k_tail=10, p1=0.01),
        lambda: tl.acquire_tail(2.0, T=T, k=10, k_tail=10, p1=0.01),
    ),
    (
        "acquire β=2, k=10, k'=100, π=0.1",
        "acquire_tail",
        2.0,
        dict(k=10, k_tail=100, p1=0.1),
        lambda: tl.acquire_tail(2.0, T=T, k=10, k_tail=100, p1=0.1),
    ),
    (
        "chain K β=1.5, T0=1e4, n=3",
        "generations",
        1.5,
        dict(T0=10_000, generations=3),
        lambda: tl.generations(1.5, T=T, T0=1e4, generations=3),
    ),
    (
        "chain W β=1.5, T0=1e4, n=3 (approx.)",
        "generations",
        1.5,
        dict(T0=10_000, generations=3, chain="empirical"),
        lambda: tl.generations(1.5, T=T, T0=1e4, generations=3, chain="empirical"),
    ),
    (
        "chain W β=2, T0=1e3, n=6 (approx.)",
        "generations",
        2.0,
        dict(T0=1_000, generations=6, chain="empirical"),
        lambda: tl.generations(2.0, T=T, T0=1e3, generations=6, chain="empirical"),
    ),
    (
        "chain P β=1.5, p=0.99, n=4",
        "generations",
        1.5,
        dict(generations=4, chain="top_p", p_nuc=0.99),
        lambda: tl.generations(1.5, T=T, T0=None, generations=4, chain="top_p", p_nuc=0.99),
    ),
]

print(f"| model | T | exact | simulation ± s.e. ({TRIALS} trials) | z | % |")
print("|---|---|---|---|---|---|")
worst = {}
for k, (name, model, beta, params, theory) in enumerate(CASES):
    est = tl.simulate(model, beta, T=Ts, key=jax.random.PRNGKey(100 + k), trials=TRIALS, support=2**20, **params)
    exact = np.asarray(theory().total)
    mean, sem = np.asarray(est.mean), np.asarray(est.sem)
    for t, e, m, s in zip(Ts, exact, mean, sem):
        informative = s > 1e-9 * e
        z = (m - e) / s if informative else 0.0
        pct = 100 * (m / e - 1)
        key = "approx" if "approx" in name else "exact"
        wz, wp = worst.get(key, (0.0, 0.0))
        worst[key] = (max(wz, abs(z)), max(wp, abs(pct)))
        zs = f"{z:+.2f}" if informative else "— (every trial equal)"
        print(f"| {name} | {t:.0e} | {e:.6g} | {m:.6g} ± {s:.2g} | {zs} | {pct:+.3f} |", flush=True)
for key, (z, p) in worst.items():
    print(f"\n{key}: largest |z| = {z:.2f}, largest |difference| = {p:.3f} %")
