"""Strong model collapse as a scaling law: test error against n for several synthetic fractions.

Power-law spectrum, ridge tuned per point (the minimum of the theory over a λ grid), theory on a
fine n grid and Monte Carlo at a few n with the same tuned λ. Each curve with p2 > 0 bends onto
its floor p2² tr(ΣΔ) (*Strong Model Collapse*, Corollary 1): more data stops helping.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from .. import simulate, theory
from .._problem import power_law
from ._framework import agreement, check_range, sim_gap

NAME = "scaling-law"
DESCRIPTION = (
    "test error against n (log-log) for p2 in {0, 1e-3, 1e-2, 1e-1}, ridge tuned per point: the collapse floors"
)


@dataclasses.dataclass(frozen=True)
class Config:
    d: int = 200
    beta: float = 1.5
    signal: float = 1.0
    shift: float = 1.0
    noise_var: float = 0.05
    p2s: tuple[float, ...] = (0.0, 0.001, 0.01, 0.1)
    n_min: float = 20.0
    n_max: float = 1e9
    n_points: int = 90
    n_sim: tuple[int, ...] = (50, 100, 200, 400, 800, 1600, 3200)
    lam_min: float = 1e-7
    lam_max: float = 10.0
    lam_points: int = 65
    trials: int = 40
    seed: int = 0


QUICK = dict(d=100, n_points=40, n_sim=(50, 200, 800), lam_min=1e-6, lam_points=29, trials=8)


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    check_range("d", c.d, 1)
    check_range("n_min", c.n_min, 0, strict_low=True)
    check_range("lam_min", c.lam_min, 0, strict_low=True)
    check_range("trials", c.trials, 2)
    for p in c.p2s:
        check_range("p2s", p, 0.0, 1.0)
    mix = power_law(c.d, c.beta, signal=c.signal, shift=c.shift, noise_var=c.noise_var)
    p2 = jnp.asarray(c.p2s)
    lams = jnp.concatenate([jnp.zeros(1), jnp.geomspace(c.lam_min, c.lam_max, c.lam_points)])

    def tuned(n):
        """Theory error at the best ridge of the grid, for each p2: shapes (p2,) and (p2,)."""
        risk = theory.ridge(mix, n=n, p2=p2[:, None], lam=lams[None, :])
        total = jnp.where(jnp.isfinite(risk.total), risk.total, jnp.inf)
        best = jnp.argmin(total, axis=1)
        return jnp.take_along_axis(total, best[:, None], 1)[:, 0], lams[best]

    n_grid = np.geomspace(c.n_min, c.n_max, c.n_points)
    total, _ = jax.jit(jax.vmap(tuned, out_axes=1))(jnp.asarray(n_grid))

    key = jax.random.key(c.seed)
    sim_mean, sim_sem, lam_sim, theory_sim = [], [], [], []
    for n in c.n_sim:
        best, lam_n = tuned(float(n))
        est = simulate.ridge(mix, n=n, p2=p2, lam=lam_n, trials=c.trials, key=jax.random.fold_in(key, n))
        sim_mean.append(np.asarray(est.mean))
        sim_sem.append(np.asarray(est.sem))
        lam_sim.append(np.asarray(lam_n))
        theory_sim.append(np.asarray(best))
    floor = np.asarray(theory.ridge_floor(mix, p2=p2))
    ds = xr.Dataset(
        {
            "total": (("p2", "n"), np.asarray(total)),
            "floor": (("p2",), floor),
            "sim_mean": (("p2", "n_sim"), np.stack(sim_mean, axis=1)),
            "sim_sem": (("p2", "n_sim"), np.stack(sim_sem, axis=1)),
            "sim_theory": (("p2", "n_sim"), np.stack(theory_sim, axis=1)),
            "lam_sim": (("p2", "n_sim"), np.stack(lam_sim, axis=1)),
        },
        coords={"p2": np.asarray(c.p2s), "n": n_grid, "n_sim": np.asarray(c.n_sim, dtype=float)},
    )
    ds.attrs.update(quality=float(mix.quality), d=c.d, beta=c.beta, trials=c.trials, model="ridge, power law")
    return ds


def theory_vs_simulation(ds, mean="sim_mean", sem="sim_sem", ref="sim_theory"):
    """Largest |theory − simulation| in standard errors and in % of the theory."""
    return sim_gap(ds[mean].values, ds[sem].values, ds[ref].values)


def floor_reached(ds, tol=0.1):
    """Per p2 > 0: the smallest n from which the theory stays within `tol` of its floor (NaN if never)."""
    out = {}
    n = ds["n"].values
    for i, p in enumerate(ds["p2"].values):
        if p == 0:
            continue
        close = np.abs(ds["total"].values[i] / ds["floor"].values[i] - 1) <= tol
        k = len(close)
        while k > 0 and close[k - 1]:
            k -= 1
        out[float(p)] = float(n[k]) if k < len(n) else float("nan")
    return out


def summarize(ds):
    z, pct = theory_vs_simulation(ds)
    reached = floor_reached(ds)
    total, floor, p2 = ds["total"].values, ds["floor"].values, ds["p2"].values
    numbers = {
        "quality_tr_Sigma_Delta": ds.attrs["quality"],
        "floors": [float(f) for f in floor],
        "error_at_largest_n_over_floor": [float(total[i, -1] / floor[i]) if p > 0 else None for i, p in enumerate(p2)],
        "floor_reached_within_10pct_at_n": {str(k): v for k, v in reached.items()},
        "max_theory_vs_simulation_se": z,
        "max_theory_vs_simulation_pct": pct,
    }
    largest = max(reached)
    finding = (
        f"With p2 = {largest:g} synthetic the error stops improving at n ≈ {reached[largest]:.3g} "
        f"(within 10 % of its floor p2²·tr ΣΔ = {floor[list(p2).index(largest)]:.3g}), while real data alone keeps "
        f"improving to {total[0, -1]:.2e} at n = {ds['n'].values[-1]:.0e}; {agreement(z, pct)}."
    )
    return numbers, finding


def figures(ds):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6), constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    reached = floor_reached(ds)
    for i, p2 in enumerate(ds["p2"].values):
        color = colors[i % len(colors)]
        label = "real only" if p2 == 0 else f"$p_2$ = {p2:g}"
        ax.loglog(ds["n"].values, ds["total"].values[i], color=color, lw=1.8, label=label)
        ax.errorbar(
            ds["n_sim"].values,
            ds["sim_mean"].values[i],
            yerr=ds["sim_sem"].values[i],
            fmt="o",
            ms=4,
            color=color,
            capsize=2,
        )
        if p2 > 0:
            floor = ds["floor"].values[i]
            ax.axhline(floor, color=color, ls="--", lw=1)
            n_at = reached.get(float(p2), float("nan"))
            if np.isfinite(n_at):
                ax.annotate(
                    f"floor {floor:.2g}",
                    (n_at, floor),
                    textcoords="offset points",
                    xytext=(0, 4),
                    fontsize=7,
                    color=color,
                )
    ax.set_xlabel("training samples $n$ (real + synthetic)")
    ax.set_ylabel(r"test error on real data $\|\hat w - w_1^*\|^2_{\Sigma}$")
    ax.set_title(
        f"Strong model collapse: power law $j^{{-{ds.attrs['beta']:g}}}$, d = {ds.attrs['d']}, "
        f"tr(ΣΔ) = {ds.attrs['quality']:g}, ridge tuned",
        fontsize=9,
    )
    ax.plot([], [], "k-", label="theory")
    ax.errorbar([], [], yerr=[], fmt="ko", ms=4, label=f"simulation ({ds.attrs['trials']} trials, ± s.e.)")
    ax.plot([], [], "k--", lw=1, label=r"floor $p_2^2\,\mathrm{tr}(\Sigma\Delta)$")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(True, which="major", alpha=0.3)
    return {NAME: fig}
