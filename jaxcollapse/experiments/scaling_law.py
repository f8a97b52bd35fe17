"""Strong model collapse as a scaling law: test error against n for several synthetic fractions.

Power-law spectrum, ridge tuned per point (grid minimum of the theory), theory on a fine n grid
and Monte Carlo at a few n. Each curve bends onto its floor p2² tr(ΣΔ): more data stops helping.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from .. import simulate, theory
from .._problem import power_law


@dataclasses.dataclass(frozen=True)
class ScalingLawConfig:
    d: int = 200
    beta: float = 1.5
    signal: float = 1.0
    shift: float = 1.0
    noise_var: float = 0.05
    p2s: tuple[float, ...] = (0.0, 0.001, 0.01, 0.1)
    n_theory: tuple[float, float, int] = (20.0, 1e9, 90)
    n_sim: tuple[int, ...] = (50, 100, 200, 400, 800, 1600, 3200)
    lams: tuple[float, float, int] = (1e-7, 10.0, 65)
    trials: int = 40
    seed: int = 0

    @classmethod
    def quick(cls) -> "ScalingLawConfig":
        return cls(d=100, n_theory=(20.0, 1e9, 40), n_sim=(50, 200, 800), lams=(1e-6, 10.0, 29), trials=8)


def scaling_law(config: ScalingLawConfig = ScalingLawConfig()) -> dict:
    """Theory and simulation data for the scaling-law figure, as NumPy arrays.

    **Returns:** a dict with `n` (theory grid), `total` (p2 × n, theory at the tuned ridge),
    `floor` (p2²tr(ΣΔ) per p2), `n_sim`, `sim_mean`, `sim_sem` (p2 × n_sim, simulation at the
    same tuned ridge), `lam_sim` (the ridge used there), `p2`, and the config.
    """
    c = config
    mix = power_law(c.d, c.beta, signal=c.signal, shift=c.shift, noise_var=c.noise_var)
    p2 = jnp.asarray(c.p2s)
    lams = jnp.concatenate([jnp.zeros(1), jnp.logspace(np.log10(c.lams[0]), np.log10(c.lams[1]), c.lams[2])])

    def tuned(n):
        """Theory error at the best ridge of the grid, for each p2: shapes (p2,) and (p2,)."""
        risk = theory.ridge(mix, n=n, p2=p2[:, None], lam=lams[None, :])
        total = jnp.where(jnp.isfinite(risk.total), risk.total, jnp.inf)
        best = jnp.argmin(total, axis=1)
        return jnp.take_along_axis(total, best[:, None], 1)[:, 0], lams[best]

    n_grid = np.geomspace(c.n_theory[0], c.n_theory[1], c.n_theory[2])
    total, _ = jax.jit(jax.vmap(tuned, out_axes=1))(jnp.asarray(n_grid))

    key = jax.random.key(c.seed)
    sim_mean, sim_sem, lam_sim = [], [], []
    for n in c.n_sim:
        _, lam_n = tuned(float(n))
        est = simulate.ridge(mix, n=n, p2=p2, lam=lam_n, trials=c.trials, key=jax.random.fold_in(key, n))
        sim_mean.append(est.mean)
        sim_sem.append(est.sem)
        lam_sim.append(lam_n)
    floor = theory.ridge_floor(mix, p2=p2)
    return {
        "n": n_grid,
        "total": np.asarray(total),
        "floor": np.asarray(floor),
        "p2": np.asarray(p2),
        "n_sim": np.asarray(c.n_sim, dtype=float),
        "sim_mean": np.stack([np.asarray(m) for m in sim_mean], axis=1),
        "sim_sem": np.stack([np.asarray(s) for s in sim_sem], axis=1),
        "lam_sim": np.stack([np.asarray(x) for x in lam_sim], axis=1),
        "quality": float(mix.quality),
        "config": dataclasses.asdict(c),
    }
