"""Does `jc.fit` tell the truth about its uncertainty? Coverage of its bootstrap intervals, and its
extrapolations against a Chinchilla-style law, on datasets simulated at known parameters.

    .venv/bin/python benchmarks/fit_coverage.py [DATASETS [RESAMPLE [D [SOURCE [N_MIN N_MAX]]]]]

DATASETS: default 100 (about 7 minutes); RESAMPLE: normal (default), residuals or cases; D: the
dimension (default 60); SOURCE: simulate (default) or theory (the theory at the truth times 4 %
log-normal noise, with that as its standard error: the model exactly right, so any miss is the
method's) or theory-sem (the same, each standard error scattered as one estimated from 30 draws); N_MIN, N_MAX: the range of the 8 sample sizes (default 20, 400).

Setting: ridge (λ = 1e-3) on `jc.power_law(60, β = 1.5, signal = 1, shift = tr ΣΔ = 0.8, σ² = 0.05)`;
each dataset is `jc.simulate.ridge` at n ∈ geomspace(20, 400, 8) × p2 ∈ {0, 0.2} (16 rows, 30 trials
per row: the mean and its standard error), a new key per dataset. `jc.fit` frees β and tr ΣΔ
(Huber on standardised log-residuals, 8 starts, 100 bootstrap replicates). Truth: the parameters,
and the theory's error at 10× and 100× the largest n.

Coverage: the share of datasets whose 90 % interval contains the truth (goal 85–95 %).
Baseline: per p2, E(n) = E∞ + A n^(−α) fitted by the same optimiser and loss (Hoffmann et al. 2022's
form); the table compares the median |relative error| of both at 10× and 100× the data and of the
floor E(n → ∞) (the theory at n = 1e12).
"""

import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

DATASETS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
RESAMPLE = sys.argv[2] if len(sys.argv) > 2 else "normal"
D = int(sys.argv[3]) if len(sys.argv) > 3 else 60
SOURCE = sys.argv[4] if len(sys.argv) > 4 else "simulate"  # or "theory": the theory times 4 % log-normal noise
LAM, TRIALS = 1e-3, 30
TRUTH = dict(beta=1.5, shift=0.8)
N = np.geomspace(
    float(sys.argv[5]) if len(sys.argv) > 5 else 20, float(sys.argv[6]) if len(sys.argv) > 6 else 400, 8
).round()
P2 = np.array([0.0, 0.2])


def model(*, beta, shift, n, p2):
    return jc.theory.ridge(jc.power_law(D, beta, signal=1.0, shift=shift, noise_var=0.05), n=n, p2=p2, lam=LAM)


def law(*, floor, amplitude, alpha, n):
    return floor + amplitude * n ** (-alpha)


def simulate(key):
    if SOURCE.startswith("theory"):  # the model exactly right: separates the method from the model's own error
        n_col, p2_col = np.repeat(N, 2), np.tile(P2, N.size)
        clean = np.asarray(model(**TRUTH, n=jnp.asarray(n_col), p2=jnp.asarray(p2_col)).total)
        z = np.asarray(jax.random.normal(key, clean.shape))
        error = clean * np.exp(0.04 * z)
        if SOURCE == "theory-sem":  # each stated s.e. itself estimated from TRIALS draws (χ² scatter)
            k2, _ = jax.random.split(jax.random.fold_in(key, 1))
            chi = np.sqrt(np.asarray(jax.random.chisquare(k2, TRIALS - 1, clean.shape)) / (TRIALS - 1))
            return dict(n=n_col, p2=p2_col, error=error, sem=0.04 * error * chi)
        return dict(n=n_col, p2=p2_col, error=error, sem=0.04 * error)
    mix = jc.power_law(D, TRUTH["beta"], signal=1.0, shift=TRUTH["shift"], noise_var=0.05)
    mean, sem = [], []
    for i, n in enumerate(N):
        est = jc.simulate.ridge(mix, n=int(n), p2=P2, lam=LAM, trials=TRIALS, key=jax.random.fold_in(key, i))
        mean.append(np.asarray(est.mean))
        sem.append(np.asarray(est.sem))
    mean, sem = np.stack(mean), np.stack(sem)  # (n, p2)
    n_col, p2_col = np.repeat(N, 2), np.tile(P2, N.size)
    return dict(n=n_col, p2=p2_col, error=mean.ravel(), sem=sem.ravel())


far = np.array([10.0, 100.0, 1e10]) * N[-1]
truth_far = {p: np.asarray(model(**TRUTH, n=jnp.asarray(far), p2=p).total) for p in P2}
bounds = dict(beta=(1.05, 4.0), shift=(0.01, 10.0))
hits = {k: 0 for k in ("beta", "shift", "E(10×) p2=0.2", "E(100×) p2=0.2", "E(10×) p2=0", "E(100×) p2=0")}
errors = {"model": {}, "law": {}}
estimates = {"beta": [], "shift": []}
start = time.perf_counter()
for s in range(DATASETS):
    key = jax.random.key(1000 + s)
    data = simulate(key)
    f = jc.fit(
        model,
        data,
        params=bounds,
        starts=8,
        bootstrap=100,
        steps=40,
        resample=RESAMPLE,
        key=jax.random.fold_in(key, 99),
    )
    for k in ("beta", "shift"):
        lo, hi = f.interval(k)
        hits[k] += lo <= TRUTH[k] <= hi
        estimates[k].append((f.params[k], hi - lo))
    for p in P2:
        cols = dict(n=jnp.asarray(far[:2]), p2=jnp.full(2, p))
        lo, hi = f.predict_interval(0.9, **cols)
        for j, label in enumerate(("10×", "100×")):
            hits[f"E({label}) p2={p:g}"] += lo[j] <= truth_far[p][j] <= hi[j]
        pred = f.predict(n=jnp.asarray(far), p2=jnp.full(3, p))
        rows = data["p2"] == p
        g = jc.fit(
            law,
            dict(n=data["n"][rows], error=data["error"][rows], sem=data["sem"][rows]),
            params=dict(floor=(1e-6, 10.0), amplitude=(1e-3, 1e3), alpha=(0.01, 3.0)),
            starts=16,
            bootstrap=0,
            steps=60,
            key=jax.random.fold_in(key, 7),
        )
        base = g.predict(n=jnp.asarray(far[:2]))
        base = np.append(base, g.params["floor"])
        for j, label in enumerate(("10×", "100×", "floor")):
            errors["model"].setdefault((p, label), []).append(abs(pred[j] / truth_far[p][j] - 1))
            errors["law"].setdefault((p, label), []).append(abs(base[j] / truth_far[p][j] - 1))
    if (s + 1) % 10 == 0:
        print(f"{s + 1} datasets, {time.perf_counter() - start:.0f} s", flush=True)

print(f"\n{DATASETS} datasets, {time.perf_counter() - start:.0f} s\n")
print("| quantity | coverage of the 90 % interval |\n|---|---|")
for k, v in hits.items():
    print(f"| {k} | {100 * v / DATASETS:.0f} % |")
for k, v in estimates.items():
    v = np.asarray(v)
    print(
        f"| {k}: mean estimate {v[:, 0].mean():.4g} ± {v[:, 0].std() / np.sqrt(len(v)):.2g} (truth {TRUTH[k]:g}), "
        f"spread {v[:, 0].std():.3g}, median interval width {np.median(v[:, 1]):.3g} |"
    )
print(
    "\n| p2 | target | jc.fit (model), median abs. rel. error | E∞ + A n^-α, median abs. rel. error |\n|---|---|---|---|"
)
for (p, label), v in errors["model"].items():
    print(f"| {p:g} | {label} | {100 * np.median(v):.1f} % | {100 * np.median(errors['law'][p, label]):.1f} % |")
