"""`data-loops`: self-consuming loops — replace, accumulate, accumulate-subsample — over generations.

Error of generation G (0…`max_generations`) for the three policies of `jc.theory.data_loop`,
with a fixed and a fresh design, for OLS (λ = 0) and a ridge: theory lines in every panel (exact at
λ = 0 where a formula is known, deterministic equivalents elsewhere — accumulate-subsample's block
equivalent included; a generation whose theory is +inf or missing has no line), Monte Carlo points for
every case (`jc.simulate.data_loop`, one chain per trial serving every G), and Gerstgrasser et al.'s
bound for accumulate. The finding is computed from the simulated errors: how much worse than
generation 0 each policy ends.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from .. import simulate, theory
from .._problem import power_law
from .._validate import LOOP_DESIGNS, LOOP_POLICIES
from ._framework import check_range, sim_gap

NAME = "data-loops"
DESCRIPTION = "replace, accumulate and accumulate-subsample over 20 generations, fixed and fresh design, OLS and ridge"


@dataclasses.dataclass(frozen=True)
class Config:
    d: int = 20
    beta: float = 1.2
    signal: float = 1.0
    noise_var: float = 0.25
    generator_noise_var: float = 0.25
    n0: int = 80
    lam: float = 0.05  # the ridge of the λ > 0 panels
    max_generations: int = 20
    sim_generations: tuple[int, ...] = (0, 1, 2, 5, 10, 20)
    trials: int = 400
    seed: int = 0


QUICK = dict(trials=60, max_generations=10, sim_generations=(0, 1, 2, 5, 10))  # G ≤ 15: the small horizon


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    check_range("d", c.d, 1)
    check_range("n0", c.n0, 1)
    check_range("lam", c.lam, 0.0, strict_low=True)
    check_range("max_generations", c.max_generations, 0)
    check_range("trials", c.trials, 2)
    for g in c.sim_generations:
        check_range("sim_generations", g, 0, c.max_generations)
    mix = power_law(c.d, c.beta, signal=c.signal, noise_var=c.noise_var)
    G = np.arange(c.max_generations + 1, dtype=float)
    sim_g = np.asarray(sorted(set(c.sim_generations)), dtype=int)
    lams = np.array([0.0, c.lam])
    shape = (len(LOOP_POLICIES), len(LOOP_DESIGNS), lams.size)
    total = np.empty(shape + (G.size,))
    data = {k: np.empty(shape + (sim_g.size,)) for k in ("sim_mean", "sim_sem", "sim_theory")}
    key = jax.random.key(c.seed)
    for a, policy in enumerate(LOOP_POLICIES):
        for b, design in enumerate(LOOP_DESIGNS):
            kw = dict(n0=c.n0, generator_noise_var=c.generator_noise_var, policy=policy, design=design)
            total[a, b] = np.asarray(theory.data_loop(mix, generations=G[None, :], lam=lams[:, None], **kw).total)
            data["sim_theory"][a, b] = total[a, b][:, sim_g]  # G = 0, 1, ..., so generation g sits at index g
            # every policy and design on the same trial keys: common random numbers across the panels
            est = simulate.data_loop(mix, generations=sim_g[None, :], lam=lams[:, None], trials=c.trials, key=key, **kw)
            data["sim_mean"][a, b] = np.asarray(est.mean)
            data["sim_sem"][a, b] = np.asarray(est.sem)
    dims = ("policy", "design", "lam")
    ds = xr.Dataset(
        {"total": (dims + ("generations",), total), **{k: (dims + ("sim_generations",), v) for k, v in data.items()}},
        coords={
            "policy": list(LOOP_POLICIES),
            "design": list(LOOP_DESIGNS),
            "lam": lams,
            "generations": G,
            "sim_generations": sim_g,
        },
    )
    bound = float(theory.data_loop_bound(mix, n0=c.n0, generator_noise_var=c.generator_noise_var))
    growth = float(theory.data_loop_growth(mix, n0=c.n0, generator_noise_var=c.generator_noise_var))
    ds.attrs.update(
        d=c.d,
        beta=c.beta,
        n0=c.n0,
        noise_var=c.noise_var,
        generator_noise_var=c.generator_noise_var,
        trials=c.trials,
        accumulate_bound=bound,
        replace_growth=growth,
    )
    return ds


def summarize(ds):
    z, pct = sim_gap(ds["sim_mean"].values, ds["sim_sem"].values, ds["sim_theory"].values)
    mean = ds["sim_mean"]
    ratio = mean.isel(sim_generations=-1) / mean.isel(sim_generations=0)
    g_last = int(ds["sim_generations"].values[-1])
    numbers = {
        "max_theory_vs_simulation_se": z,
        "max_theory_vs_simulation_pct": pct,
        "accumulate_bound": ds.attrs["accumulate_bound"],
        "replace_growth_per_generation": ds.attrs["replace_growth"],
        "final_over_generation_0": {
            f"{p}/{d}/lam={lam:g}": float(ratio.sel(policy=p, design=d, lam=lam))
            for p in ds["policy"].values
            for d in ds["design"].values
            for lam in ds["lam"].values
        },
        "theory_points": int(np.isfinite(ds["sim_theory"].values).sum()),
    }
    ols = ratio.sel(lam=0.0)
    parts = [
        f"{p} {float(ols.sel(policy=p, design='fixed')):.1f}× (fixed) / {float(ols.sel(policy=p, design='fresh')):.1f}× (fresh)"
        for p in ds["policy"].values
    ]
    finding = (
        f"After {g_last} generations of OLS on their own outputs the error is, relative to generation 0: "
        + "; ".join(parts)
        + f". Replace grows by {ds.attrs['replace_growth']:.3g} per generation; accumulate stays below "
        f"its bound {ds.attrs['accumulate_bound']:.3g} (Gerstgrasser et al.); theory within {z:.1f} s.e. of simulation."
    )
    return numbers, finding


def figures(ds):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.6), sharex=True, constrained_layout=True)
    colors = {"replace": "C3", "accumulate": "C0", "accumulate-subsample": "C2"}
    for i, design in enumerate(ds["design"].values):
        for j, lam in enumerate(ds["lam"].values):
            ax = axes[i, j]
            for policy in ds["policy"].values:
                sel = ds.sel(policy=policy, design=design, lam=lam)
                color = colors[str(policy)]
                if np.isfinite(sel["total"].values).any():
                    ax.plot(ds["generations"].values, sel["total"].values, color=color, lw=1.6)
                ax.errorbar(
                    ds["sim_generations"].values,
                    sel["sim_mean"].values,
                    2 * sel["sim_sem"].values,
                    fmt="o",
                    ms=4,
                    capsize=2,
                    color=color,
                    label=str(policy),
                )
            if design == "fixed" and lam == 0:
                ax.axhline(ds.attrs["accumulate_bound"], color="C0", ls="--", lw=1, label="accumulate bound (G → ∞)")
            ax.set_yscale("log")
            ax.set_title(f"{design} design, " + ("OLS (λ = 0)" if lam == 0 else f"ridge λ = {lam:g}"), fontsize=10)
            ax.grid(True, which="both", alpha=0.25)
            if i == 1:
                ax.set_xlabel("generation G")
            if j == 0:
                ax.set_ylabel(r"test error $E\|\hat w_G - w^*\|^2_\Sigma$")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(
        f"Self-consuming loops, power law d = {ds.attrs['d']}, n0 = {ds.attrs['n0']} rows per generation "
        "\n(lines: theory, exact for replace and accumulate at λ = 0, deterministic equivalents elsewhere; "
        f"points: {ds.attrs['trials']} trials ± 2 s.e.)",
        fontsize=10,
    )
    return {NAME: fig}
