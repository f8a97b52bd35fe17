"""Which Gaussian equivalent do relu random features obey on a power-law spectrum? (issue 19)

    .venv/bin/python scripts/rf_power_law_equivalence.py [d] [beta] [trials]

For a drawn projection S (m × d, N(0, 1/d)) and x ~ N(0, Σ), the pre-activations have covariance
C = SΣSᵀ and per-feature scales τᵢ² = Cᵢᵢ (which do not concentrate on a power law). Ridge on the
features is evaluated by the ridge deterministic equivalent (`jc.theory.ridge` on the feature
covariance K's spectrum, the teacher seen through K, the inexpressible part added), averaged over
two draws of S, for four feature covariances K:

- `common τ`: the linear Gaussian equivalent, K = μ1²C + μ*²(τ) I with τ² = tr Σ/d;
- `per-feature τ`: K = μ1²C + diag(μ*²(τᵢ)) (heteroscedastic nonlinear part);
- `degree ≤ 2`: the relu kernel's Hermite series to second order with per-feature normalisation,
  K = C/4 + (1/4π) D⁻¹(C∘C)D⁻¹ + a D², D = diag(τᵢ), a the rest of the diagonal;
- `exact`: the relu (arc-cosine) covariance of the centred features.

and compared with `jc.simulate.random_features` (n = d, p2 = 0). Columns: simulation mean ± s.e.,
then each theory's gap to the simulation in %.
"""

import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402

A1, A2 = 0.25, 1 / (4 * np.pi)  # relu kernel: (1/2π) + ρ/4 + ρ²/(4π) + O(ρ⁴) per unit scale
CENTRED = 0.5 - 1 / (2 * np.pi)  # E relu(g)² − (E relu(g))²
STAR2 = CENTRED - A1  # μ*² at unit scale


def ridge_error(K, teacher_cov, floor, n, lams, noise_var):
    ev, V = np.linalg.eigh(K)
    ev = np.maximum(ev, 1e-14 * ev.max())
    energy = np.maximum(np.einsum("ij,jk,ki->i", V.T, teacher_cov, V), 0.0)
    feature_mix = jc.Mixture(jnp.asarray(ev), jnp.asarray(energy), jnp.zeros(ev.size), noise_var=noise_var + floor)
    return np.asarray(jc.theory.ridge(feature_mix, n=float(n), p2=0.0, lam=jnp.asarray(lams)).total) + floor


def exact_relu_covariance(C):
    t = np.sqrt(np.diag(C))
    cos = np.clip(C / np.outer(t, t), -1.0, 1.0)
    angle = np.arccos(cos)
    second = np.outer(t, t) / (2 * np.pi) * (np.sin(angle) + (np.pi - angle) * cos)
    mean = t / np.sqrt(2 * np.pi)
    return second - np.outer(mean, mean)


def theories(mix, n, m, lams, rng, draws=2):
    d = mix.d
    s, gamma = np.asarray(mix.eigs), np.asarray(mix.signal)
    R = float(np.sum(s * gamma))
    tau2 = s.sum() / d
    out = {}
    for _ in range(draws):
        S = rng.standard_normal((m, d)) / np.sqrt(d)
        C = (S * s) @ S.T
        t = np.sqrt(np.diag(C))
        cross = A1 * (S * (s * gamma * s)) @ S.T  # E[b bᵀ], b = E[φ y] = (1/2) S Σ w*
        covariances = {
            "common τ": A1 * C + STAR2 * tau2 * np.eye(m),
            "per-feature τ": A1 * C + STAR2 * np.diag(t**2),
            "degree ≤ 2": A1 * C + A2 * C**2 / np.outer(t, t) + (STAR2 - A2) * np.diag(t**2),
            "exact": exact_relu_covariance(C),
        }
        for name, K in covariances.items():
            k_cross = np.linalg.solve(K, cross)
            teacher = np.linalg.solve(K, k_cross.T).T  # E[ββᵀ], β = K⁻¹b
            err = ridge_error(K, teacher, R - np.trace(k_cross), n, lams, float(mix.noise_var))
            out.setdefault(name, []).append(err)
    return {k: np.mean(v, axis=0) for k, v in out.items()}


def main():
    d = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    beta = float(sys.argv[2]) if len(sys.argv) > 2 else 1.2
    trials = int(sys.argv[3]) if len(sys.argv) > 3 else 150
    mix = jc.power_law(d, beta, signal=1.0, noise_var=0.1)
    n, lams = d, np.array([1e-3, 1e-2, 1e-1])
    rng = np.random.default_rng(0)
    names = ("common τ", "per-feature τ", "degree ≤ 2", "exact")
    print(f"relu, power law β = {beta}, d = n = {d}, {trials} trials; gap = simulation / theory − 1")
    print("| m/n | λ | simulation | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    start = time.time()
    for ratio in (0.3, 0.9, 1.1, 3.0):
        m = int(round(ratio * n))
        th = theories(mix, n, m, lams, rng)
        est = jc.simulate.random_features(
            mix, n=n, m=m, p2=0.0, lam=jnp.asarray(lams), activation="relu", trials=trials, key=jax.random.key(1)
        )
        mean, sem = np.asarray(est.mean), np.asarray(est.sem)
        for i, lam in enumerate(lams):
            gaps = " | ".join(f"{100 * (mean[i] / th[k][i] - 1):+.1f} %" for k in names)
            print(f"| {ratio} | {lam:g} | {mean[i]:.4f} ± {sem[i]:.4f} | {gaps} |", flush=True)
    print(f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
