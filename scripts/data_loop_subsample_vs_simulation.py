"""Print the theory-vs-simulation tables for the data loops the block equivalent covers: "accumulate"
with a fresh design and "accumulate-subsample" with either design (2000 trials per configuration).

    .venv/bin/python scripts/data_loop_subsample_vs_simulation.py            # every case (about an hour on 2 cores)
    .venv/bin/python scripts/data_loop_subsample_vs_simulation.py --d 50     # one dimension

Isotropic and power-law (β = 1.5) spectra, tr ΣΓ = 1, σ1² = 0.5, σ0² = 1; d ∈ {20, 50},
n0/d ∈ {1.5, 3}, λ ∈ {0, 0.01, 0.1, 0.5}, G ∈ {1, 5, 20}. Columns: theory (its status where it is not
OK), simulation mean ± standard error, gap in standard errors and in %, and whether the gap is within
max(3 s.e., 3 %).
"""

import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

TRIALS = 2000
G = np.array([1, 5, 20])
LAMS = (0.0, 0.01, 0.1, 0.5)
CASES = [("accumulate", "fresh"), ("accumulate-subsample", "fresh"), ("accumulate-subsample", "fixed")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--d", type=int, nargs="*", default=[20, 50])
    parser.add_argument("--case", type=int, nargs="*", default=list(range(len(CASES))))
    args = parser.parse_args()
    start = time.time()
    print("| policy | design | spectrum | d | n0 | λ | G | theory | simulation | gap (s.e.) | gap (%) | within |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    count = {}
    for c in args.case:
        policy, design = CASES[c]
        for d in args.d:
            for spectrum in ("isotropic", "power law"):
                mix = (
                    jc.isotropic(d, signal=1.0, noise_var=0.5)
                    if spectrum == "isotropic"
                    else jc.power_law(d, 1.5, signal=1.0, noise_var=0.5)
                )
                for ratio in (1.5, 3.0):
                    n0 = ratio * d
                    lam = np.asarray(LAMS)[:, None]
                    kw = dict(n0=n0, lam=lam, generator_noise_var=1.0, policy=policy, design=design)
                    risk = jc.theory.data_loop(mix, generations=G, **kw)
                    th, status = np.asarray(risk.total), np.asarray(risk.status)
                    est = jc.simulate.data_loop(
                        mix, generations=G, trials=TRIALS, key=jax.random.key(1000 + d + int(10 * ratio)), **kw
                    )
                    mean, sem = np.asarray(est.mean), np.asarray(est.sem)
                    for j, la in enumerate(LAMS):
                        for i, g in enumerate(G):
                            key = (policy, design, "λ = 0" if la == 0 else "λ > 0")
                            if status[j, i] != jc.Status.OK:
                                shown = jc.status_message(int(status[j, i])).split(":")[0]
                                print(
                                    f"| {policy} | {design} | {spectrum} | {d} | {n0:g} | {la:g} | {g} | {shown} | "
                                    f"{mean[j, i]:.4g} ± {sem[j, i]:.2g} | | | |",
                                    flush=True,
                                )
                                continue
                            z = (mean[j, i] - th[j, i]) / sem[j, i]
                            pct = 100 * (mean[j, i] / th[j, i] - 1)
                            ok = abs(mean[j, i] - th[j, i]) <= max(3 * sem[j, i], 0.03 * th[j, i])
                            n_in, n_all, worst = count.get(key, (0, 0, 0.0))
                            count[key] = (n_in + ok, n_all + 1, max(worst, abs(pct)))
                            print(
                                f"| {policy} | {design} | {spectrum} | {d} | {n0:g} | {la:g} | {g} | {th[j, i]:.5f} | "
                                f"{mean[j, i]:.5f} ± {sem[j, i]:.5f} | {z:+.2f} | {pct:+.2f} | {'yes' if ok else 'no'} |",
                                flush=True,
                            )
    print()
    for (policy, design, which), (n_in, n_all, worst) in count.items():
        print(f"{policy}, {design}, {which}: {n_in}/{n_all} within max(3 s.e., 3 %), worst gap {worst:.2f} %")
    print(f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
