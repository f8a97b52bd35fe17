"""`jc.simulate.data_loop` speed: one call with d = 50, n0 = 200, G = 20, 1000 trials, per policy and
design, against a NumPy loop (one trial and one generation at a time, `numpy.linalg.lstsq`) run on
50 trials and scaled to 1000. Then `jc.theory.data_loop` at λ > 0 (deterministic equivalents) on a
grid of 100 ridges × 21 generations, for the policies and designs with a theory.

    .venv/bin/python benchmarks/data_loop.py
"""

import time

import jax

jax.config.update("jax_enable_x64", True)
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

D, N0, G, TRIALS = 50, 200, 20, 1000
MIX = jc.power_law(D, 1.2, signal=1.0, noise_var=0.25)


def numpy_loop(policy, design, trials, rng):
    s = np.asarray(MIX.eigs)
    errors = np.empty((trials, G + 1))
    for t in range(trials):
        w_star = rng.standard_normal(D) * np.sqrt(np.asarray(MIX.signal))
        X0 = rng.standard_normal((N0, D)) * np.sqrt(s)
        Xs, Ys, w = [], [], w_star
        for g in range(G + 1):
            X = rng.standard_normal((N0, D)) * np.sqrt(s) if design == "fresh" else X0
            y = X @ w + rng.standard_normal(N0) * (0.5 if g == 0 else 0.5)
            Xs.append(X)
            Ys.append(y)
            if policy == "replace":
                A, b = X, y
            elif policy == "accumulate":
                A, b = np.concatenate(Xs), np.concatenate(Ys)
            else:
                pick = rng.choice(len(Xs) * N0, N0, replace=False)
                A, b = np.concatenate(Xs)[pick], np.concatenate(Ys)[pick]
            w = np.linalg.lstsq(A, b, rcond=None)[0]
            errors[t, g] = np.sum(s * (w - w_star) ** 2)
    return errors


def first_and_median(call, arguments):
    """Seconds of the first call (it compiles) and the median of the others (new values each)."""
    times = []
    for a in arguments:
        t = time.perf_counter()
        call(a)
        times.append(time.perf_counter() - t)
    return times[0], float(np.median(times[1:]))


def main():
    print(f"d = {D}, n0 = {N0}, G = {G}, {TRIALS} trials, λ = 0; seconds (median of 3 for the second call)")
    print("| policy | design | first call (compiles) | second call | NumPy loop, scaled to 1000 trials | ratio |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for policy in ("replace", "accumulate", "accumulate-subsample"):
        for design in ("fixed", "fresh"):
            kw = dict(
                n0=N0, generations=np.arange(G + 1), lam=0.0, generator_noise_var=0.25, policy=policy, design=design
            )

            def call(k):
                return jax.block_until_ready(
                    jc.simulate.data_loop(MIX, trials=TRIALS, key=jax.random.key(k), **kw).samples
                )

            first, second = first_and_median(call, (0, 1, 2, 3))
            t = time.perf_counter()
            numpy_loop(policy, design, 50, rng)
            base = (time.perf_counter() - t) * TRIALS / 50
            print(
                f"| {policy} | {design} | {first:.2f} | {second:.2f} | {base:.1f} | {base / second:.1f}× |", flush=True
            )


def theory_table():
    lams = np.geomspace(1e-3, 1.0, 100)[:, None]
    gens = np.arange(G + 1, dtype=float)
    print(f"\njc.theory.data_loop, d = {D}, n0 = {N0}: 100 ridges × {G + 1} generations; seconds")
    print("| policy | design | first call (compiles) | second call (median of 3) | per point |")
    print("|---|---|---|---|---|")
    for policy, design in (("replace", "fixed"), ("accumulate", "fixed"), ("replace", "fresh")):
        kw = dict(n0=N0, generations=gens, generator_noise_var=0.25, policy=policy, design=design)

        def call(scale):
            return jax.block_until_ready(jc.theory.data_loop(MIX, lam=lams * scale, **kw).total)

        first, second = first_and_median(call, (1.0, 1.01, 1.02, 1.03))
        print(f"| {policy} | {design} | {first:.2f} | {second:.3f} | {second / lams.size / gens.size * 1e6:.0f} µs |")


if __name__ == "__main__":
    main()
    theory_table()
