"""Coverage of `jc.fit("tails", …)`: β and the integer cut k fitted together from a learning curve.

    .venv/bin/python benchmarks/fit_coverage_tails.py [DATASETS [SOURCE]]

DATASETS: default 100; SOURCE: theory (default: the theory at the truth times 4 % log-normal noise,
with that as its standard error: the model exactly right) or simulate (`jc.tails.simulate("cut")`,
40 trials, the mean and its standard error at each T; one stream per trial is read at every T, so
the rows of a dataset are correlated, which the bootstrap does not know).

Setting: Zipf(β = 1.6) test data, training data cut at rank k = 1000, T ∈ geomspace(100, 1e5, 10)
(10 rows). `jc.fit` frees β ∈ (1.05, 3) and k ∈ (10, 1e5) (k profiled over integers: 24 log-spaced,
then every integer near the best), 4 starts, 100 replicates. Truth: β, k, the plateau (the tail
mass beyond k, the error as T → ∞) and the error at 10× the largest T.
"""

import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

DATASETS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
SOURCE = sys.argv[2] if len(sys.argv) > 2 else "theory"
BETA, K, TRIALS = 1.6, 1000, 40
T = np.unique(np.geomspace(100, 1e5, 10).round())
T_FAR = 10 * T[-1]
truth = dict(
    beta=BETA,
    k=float(K),
    plateau=float(jc.tails.tail_mass(BETA, k=float(K))),
    far=float(jc.tails.cut(BETA, T=T_FAR, k=float(K)).total),
)


def dataset(key):
    if SOURCE == "theory":
        clean = np.asarray(jc.tails.cut(BETA, T=T, k=float(K)).total)
        error = clean * np.exp(0.04 * np.asarray(jax.random.normal(key, clean.shape)))
        return dict(T=T, error=error, sem=0.04 * error)
    est = jc.tails.simulate("cut", BETA, T=[int(t) for t in T], k=float(K), trials=TRIALS, key=key)
    return dict(T=T, error=np.asarray(est.mean), sem=np.asarray(est.sem))


hits = {k: 0 for k in truth}
estimates = {k: [] for k in truth}
start = time.perf_counter()
for s in range(DATASETS):
    key = jax.random.key(2000 + s)
    f = jc.fit(
        "tails",
        dataset(key),
        params=dict(beta=(1.05, 3.0), k=(10.0, 1e5)),
        starts=4,
        bootstrap=100,
        grid=24,
        key=jax.random.fold_in(key, 99),
    )
    found = {
        "beta": (f.params["beta"], *f.interval("beta")),
        "k": (f.params["k"], *f.interval("k")),
        "plateau": tuple(float(x) for x in f.floor()),
        "far": tuple(float(np.ravel(x)[0]) for x in f.quantity(lambda p: f.model(**{**p, "T": T_FAR}))),
    }
    for name, (value, lo, hi) in found.items():
        hits[name] += lo <= truth[name] <= hi
        estimates[name].append((value, hi - lo))
    if (s + 1) % 10 == 0:
        print(f"{s + 1} datasets, {time.perf_counter() - start:.0f} s", flush=True)

print(f"\n{DATASETS} datasets ({SOURCE}), {time.perf_counter() - start:.0f} s\n")
print("| quantity | truth | coverage of the 90 % interval | mean estimate ± s.e. | median interval width |")
print("|---|---|---|---|---|")
for name, v in estimates.items():
    v = np.asarray(v)
    print(
        f"| {name} | {truth[name]:.4g} | {100 * hits[name] / DATASETS:.0f} % | "
        f"{v[:, 0].mean():.4g} ± {v[:, 0].std() / np.sqrt(len(v)):.2g} | {np.median(v[:, 1]):.3g} |"
    )
