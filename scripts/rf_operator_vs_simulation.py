"""Random features on steep spectra: the Gaussian and the operator equivalents against simulation.

    .venv/bin/python scripts/rf_operator_vs_simulation.py [--d 200 400] [--beta 1.2 2] [--normalise]
        [--ratios 0.5 2] [--lam 1e-3 1e-2] [--p2 0 0.3] [--trials 100] [--activation relu]

For each dimension d (n = d), power law s_j ∝ j^{-β} (`--normalise`: scaled to tr Σ = d, so τ = 1;
otherwise s_j = j^{-β}), Gaussian teacher with tr ΣΓ = 1, Δ = Γ/2, σ² = 0.1, every width m = r·n,
ridge and synthetic fraction: the simulated test error of random-feature ridge (`--activation`: relu or erf)
(`jc.simulate.random_features`, mean ± s.e. over `--trials`) and gap = simulation/theory − 1 for
`equivalent="gaussian"` and `equivalent="operator"` with `order=2` (chaos 0 and 2 exact), `order=4`
and `order=6` (chaos 4, and 6, also, on the top coordinates); "in" when |gap| ≤ max(3 s.e., 3 %).
"""

import argparse
import itertools

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402


def mixture(d, beta, normalise):
    s = np.arange(1, d + 1, dtype=float) ** -beta
    if normalise:
        s *= d / s.sum()
    gamma = np.full(d, 1.0 / s.sum())
    return jc.Mixture(s, gamma, 0.5 * gamma, noise_var=0.1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--d", type=int, nargs="+", default=[200])
    p.add_argument("--beta", type=float, nargs="+", default=[2.0])
    p.add_argument("--normalise", action="store_true")
    p.add_argument("--ratios", type=float, nargs="+", default=[0.5, 2.0])
    p.add_argument("--lam", type=float, nargs="+", default=[1e-3, 1e-2])
    p.add_argument("--p2", type=float, nargs="+", default=[0.0, 0.3])
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--activation", default="relu")
    a = p.parse_args()
    print(f"{a.activation}, {'tr Σ = d' if a.normalise else 's_j = j^-β'}, n = d, {a.trials} trials")
    print("| d | β | m/n | λ | p2 | simulation | gap gaussian | gap operator, order 2 | order 4 | order 6 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    p2 = jnp.asarray(a.p2)[:, None]
    lam = jnp.asarray(a.lam)[None, :]
    for d, beta, r in itertools.product(a.d, a.beta, a.ratios):
        mix = mixture(d, beta, a.normalise)
        m = int(round(r * d))
        kw = dict(n=d, m=m, p2=p2, lam=lam, activation=a.activation)
        est = jc.simulate.random_features(mix, **kw, trials=a.trials, key=jax.random.key(d + m))
        theory = {"gaussian": np.asarray(jc.theory.random_features(mix, **kw).total)}
        for order in (2, 4, 6):
            theory[order] = np.asarray(jc.theory.random_features(mix, **kw, equivalent="operator", order=order).total)
        mean, sem = np.asarray(est.mean), np.asarray(est.sem)
        for i, j in itertools.product(range(len(a.p2)), range(len(a.lam))):
            cells = []
            for e in ("gaussian", 2, 4, 6):
                gap = mean[i, j] / theory[e][i, j] - 1
                inside = abs(mean[i, j] - theory[e][i, j]) <= max(3 * sem[i, j], 0.03 * theory[e][i, j])
                cells.append(f"{100 * gap:+.1f} %{' in' if inside else ''}")
            print(
                f"| {d} | {beta:g} | {r:g} | {a.lam[j]:g} | {a.p2[i]:g} | {mean[i, j]:.4g} ± {100 * sem[i, j] / mean[i, j]:.1f} % "
                f"| {' | '.join(cells)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
