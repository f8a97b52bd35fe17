"""Generations of self-training (*Model Collapse Demystified*): three experiments.

- `generations-lambda`: error against λ for G ∈ {0, 1, 5, 10}, isotropic (the paper's Fig. 1a
  analogue): U-shaped curves whose optimum λ* (found by `jc.optimal`) moves right with G.
- `generations-scaling`: power law, error against T with λ = T^-ℓ for ℓ below, at and above
  ℓ_crit, G ∈ {0, 1, 10} (Fig. 1b analogue): the fast-to-slow crossover.
- `generations-overparameterised`: error against G for generators with n0 < d, with and without
  noise: exponential saturation at the null predictor's error.
"""

from __future__ import annotations

import dataclasses
import functools
import types

import jax
import numpy as np

from .. import simulate, theory
from .._optimal import optimal
from .._problem import isotropic, power_law
from ._framework import agreement, check_range, sim_gap

# ---------------------------------------------------------------------------------------------
# generations-lambda
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LambdaConfig:
    d: int = 100
    n: int = 200
    n0: int = 400
    signal: float = 1.0
    noise_var: float = 0.25
    generator_noise_var: float = 1.0
    generations: tuple[int, ...] = (0, 1, 5, 10)
    lam_min: float = 1e-3
    lam_max: float = 1e2
    lam_points: int = 121
    sim_lams: tuple[float, ...] = (1e-3, 1e-2, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)
    trials: int = 300
    seed: int = 0


def _lambda_compute(c: LambdaConfig, *, devices=None, progress=False):
    import xarray as xr

    check_range("n", c.n, 1)
    check_range("n0", c.n0, 1)
    check_range("trials", c.trials, 2)
    for g in c.generations:
        check_range("generations", g, 0)
    mix = isotropic(c.d, signal=c.signal, noise_var=c.noise_var)
    G = np.asarray(c.generations, dtype=float)
    lams = np.geomspace(c.lam_min, c.lam_max, c.lam_points)
    kw = dict(n=float(c.n), n0=float(c.n0), generator_noise_var=c.generator_noise_var)
    r = theory.retraining(mix, generations=G[:, None], lam=lams[None, :], **kw)
    lam_star, e_star = optimal(
        functools.partial(theory.retraining, mix), over="lam", bounds=(c.lam_min, c.lam_max), generations=G, **kw
    )
    sim_l = np.asarray(c.sim_lams)
    est = simulate.retraining(
        mix,
        n=c.n,
        n0=c.n0,
        generations=np.asarray(c.generations)[:, None],
        lam=sim_l[None, :],
        generator_noise_var=c.generator_noise_var,
        trials=c.trials,
        key=jax.random.key(c.seed),
    )
    ref = theory.retraining(mix, generations=G[:, None], lam=sim_l[None, :], **kw).total
    ds = xr.Dataset(
        {
            "total": (("generations", "lam"), np.asarray(r.total)),
            "collapse": (("generations", "lam"), np.asarray(r.collapse)),
            "lam_star": (("generations",), np.asarray(lam_star)),
            "error_star": (("generations",), np.asarray(e_star)),
            "sim_mean": (("generations", "sim_lam"), np.asarray(est.mean)),
            "sim_sem": (("generations", "sim_lam"), np.asarray(est.sem)),
            "sim_theory": (("generations", "sim_lam"), np.asarray(ref)),
        },
        coords={"generations": np.asarray(c.generations), "lam": lams, "sim_lam": sim_l},
    )
    ds.attrs.update(
        d=c.d, n=c.n, n0=c.n0, noise_var=c.noise_var, generator_noise_var=c.generator_noise_var, trials=c.trials
    )
    return ds


def _lambda_summarize(ds):
    z, pct = sim_gap(ds["sim_mean"].values, ds["sim_sem"].values, ds["sim_theory"].values)
    lam_star = ds["lam_star"].values
    G = ds["generations"].values
    numbers = {
        "lam_star": [float(x) for x in lam_star],
        "error_at_lam_star": [float(x) for x in ds["error_star"].values],
        "lam_star_grows_with_generations": bool(np.all(np.diff(lam_star) > 0)),
        "clean_lam_star_over_sigma2_phi": float(lam_star[0] / (ds.attrs["noise_var"] * ds.attrs["d"] / ds.attrs["n"]))
        if G[0] == 0
        else None,
        "max_theory_vs_simulation_se": z,
        "max_theory_vs_simulation_pct": pct,
    }
    finding = (
        f"The optimal ridge grows with the number of generations, from λ* = {lam_star[0]:.3g} (G = {G[0]}) to "
        f"{lam_star[-1]:.3g} (G = {G[-1]}), and the best error from {ds['error_star'].values[0]:.3g} to "
        f"{ds['error_star'].values[-1]:.3g}: adaptive regularisation. "
        f"{agreement(z, pct, start=True)}."
    )
    return numbers, finding


def _lambda_figures(ds):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.6, 4.6), constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, g in enumerate(ds["generations"].values):
        color = colors[k % len(colors)]
        ax.loglog(ds["lam"].values, ds["total"].values[k], color=color, lw=1.8, label=f"G = {g}")
        ax.errorbar(
            ds["sim_lam"].values,
            ds["sim_mean"].values[k],
            yerr=ds["sim_sem"].values[k],
            fmt="o",
            ms=4,
            color=color,
            capsize=2,
        )
        ax.plot([ds["lam_star"].values[k]], [ds["error_star"].values[k]], "*", ms=12, color=color, mec="k")
    ax.set_xlabel("ridge λ")
    ax.set_ylabel("test error on the true model")
    ax.set_title(
        f"Self-training, isotropic: d = {ds.attrs['d']}, n = {ds.attrs['n']}, n0 = {ds.attrs['n0']}, "
        f"σ² = {ds.attrs['noise_var']:g}, σ0² = {ds.attrs['generator_noise_var']:g}; ★ = λ*",
        fontsize=9,
    )
    ax.legend(fontsize=8, title=f"lines: theory; points: {ds.attrs['trials']} trials", title_fontsize=7)
    ax.grid(True, which="major", alpha=0.3)
    return {"generations-lambda": fig}


generations_lambda = types.SimpleNamespace(
    NAME="generations-lambda",
    DESCRIPTION="error against λ for G ∈ {0, 1, 5, 10} generations of self-training (isotropic): U-curves, λ* grows with G",
    Config=LambdaConfig,
    QUICK=dict(d=40, n=80, n0=160, lam_points=49, sim_lams=(1e-2, 0.3, 3.0), trials=40),
    compute=_lambda_compute,
    summarize=_lambda_summarize,
    figures=_lambda_figures,
)


# ---------------------------------------------------------------------------------------------
# generations-scaling
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ScalingConfig:
    beta: float = 2.0
    source: float = 0.5
    noise_var: float = 0.0
    generator_noise_var: float = 1.0
    d_over_T: float = 0.5
    generations: tuple[int, ...] = (0, 1, 10)
    ells: tuple[float, ...] = (0.4, 2.0 / 3.0, 1.5)
    T_min: float = 400.0
    T_max: float = 1e5
    T_points: int = 25


def _scaling_compute(c: ScalingConfig, *, devices=None, progress=False):
    import xarray as xr

    check_range("beta", c.beta, 1.0, strict_low=True)
    check_range("source", c.source, 0.0, strict_low=True)
    check_range("d_over_T", c.d_over_T, 0.0, 0.9, strict_low=True)
    Ts = np.geomspace(c.T_min, c.T_max, c.T_points)
    G = np.asarray(c.generations, dtype=float)
    ells = np.asarray(c.ells)
    fields = {k: np.empty((ells.size, G.size, Ts.size)) for k in ("total", "bias", "variance", "collapse")}
    for k, T in enumerate(Ts):
        d = max(2, int(round(c.d_over_T * T)))
        mix = power_law(d, c.beta, source=c.source, signal=1.0, noise_var=c.noise_var)
        r = theory.retraining(
            mix, n=T, n0=T, generations=G[None, :], lam=T ** -ells[:, None], generator_noise_var=c.generator_noise_var
        )
        for name, arr in fields.items():
            arr[:, :, k] = np.asarray(getattr(r, name))
    dims = ("ell", "generations", "T")
    ds = xr.Dataset(
        {k: (dims, v) for k, v in fields.items()},
        coords={"ell": ells, "generations": np.asarray(c.generations), "T": Ts},
    )
    ds.attrs.update(
        beta=c.beta,
        source=c.source,
        noise_var=c.noise_var,
        generator_noise_var=c.generator_noise_var,
        d_over_T=c.d_over_T,
        ell_crit=float(theory.critical_exponent(c.beta, c.source)),
    )
    return ds


def _scaling_slopes(ds, decades=1.0):
    T = ds["T"].values
    last = T >= T[-1] / 10**decades
    return np.polyfit(np.log(T[last]), np.log(ds["total"].values[..., last]).reshape(-1, last.sum()).T, 1)[0].reshape(
        ds["total"].shape[:2]
    )


def _scaling_summarize(ds):
    slopes = _scaling_slopes(ds)
    beta, r = ds.attrs["beta"], min(ds.attrs["source"], 1.0)
    numbers = {"ell_crit": ds.attrs["ell_crit"], "optimal_slope": -2 * beta * r / (2 * beta * r + 1)}
    for i, ell in enumerate(ds["ell"].values):
        for j, g in enumerate(ds["generations"].values):
            numbers[f"slope_last_decade_ell{ell:.3g}_G{g}"] = float(slopes[i, j])
        fast, slow = 2 * ell * r, 1 - ell / beta
        numbers[f"predicted_slope_ell{ell:.3g}_clean"] = -fast
        numbers[f"predicted_slope_ell{ell:.3g}_with_generations"] = -min(fast, slow)
    i = int(np.argmax(ds["ell"].values))
    j = int(np.argmax(ds["generations"].values))
    finding = (
        f"Above ℓ_crit = {ds.attrs['ell_crit']:.3g} (ℓ = {ds['ell'].values[i]:.3g}) clean data keep the fast rate "
        f"(slope {slopes[i, 0]:.2f} over the last decade) while G = {ds['generations'].values[j]} generations bend it to "
        f"{slopes[i, j]:.2f} (predicted {-(1 - ds['ell'].values[i] / beta):.2f})."
    )
    at = np.flatnonzero(np.abs(ds["ell"].values - ds.attrs["ell_crit"]) < 1e-9)
    if at.size:
        s = slopes[at[0]]
        finding += (
            f" At ℓ_crit every G decays at the optimal rate (slopes {s.min():.2f} to {s.max():.2f}, "
            f"predicted {numbers['optimal_slope']:.2f}), offset upward by the generations."
        )
    return numbers, finding


def _scaling_figures(ds):
    import matplotlib.pyplot as plt

    ells = ds["ell"].values
    fig, axes = plt.subplots(1, ells.size, figsize=(5.0 * ells.size, 4.4), constrained_layout=True, squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    slopes = _scaling_slopes(ds)
    for i, ell in enumerate(ells):
        ax = axes[0, i]
        for j, g in enumerate(ds["generations"].values):
            ax.loglog(
                ds["T"].values,
                ds["total"].values[i, j],
                color=colors[j],
                lw=1.8,
                label=f"G = {g} (slope {slopes[i, j]:.2f})",
            )
        where = (
            "below"
            if ell < ds.attrs["ell_crit"] - 1e-9
            else ("at" if abs(ell - ds.attrs["ell_crit"]) < 1e-9 else "above")
        )
        ax.set_title(f"λ = T^-{ell:.3g} ({where} ℓ_crit = {ds.attrs['ell_crit']:.3g})", fontsize=9)
        ax.set_xlabel("samples T (= T0, d = T/2)" if ds.attrs["d_over_T"] == 0.5 else "samples T (= T0)")
        ax.set_ylabel("test error")
        ax.legend(fontsize=7)
        ax.grid(True, which="major", alpha=0.3)
    fig.suptitle(
        f"Scaling laws under self-training: power law β = {ds.attrs['beta']:g}, source r = {ds.attrs['source']:g}, "
        f"σ² = {ds.attrs['noise_var']:g}, σ0² = {ds.attrs['generator_noise_var']:g} (slopes over the last decade)",
        fontsize=10,
    )
    return {"generations-scaling": fig}


generations_scaling = types.SimpleNamespace(
    NAME="generations-scaling",
    DESCRIPTION="power law, error against T with λ = T^-ℓ (ℓ below, at, above ℓ_crit), G ∈ {0, 1, 10}: the fast-to-slow crossover",
    Config=ScalingConfig,
    QUICK=dict(T_max=1e4, T_points=7),
    compute=_scaling_compute,
    summarize=_scaling_summarize,
    figures=_scaling_figures,
)


# ---------------------------------------------------------------------------------------------
# generations-overparameterised
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OverConfig:
    d: int = 100
    n0: int = 50
    n: int = 200
    lam: float = 0.05
    signal: float = 1.0
    noisy_noise_var: float = 0.25
    noisy_generator_noise_var: float = 0.25
    max_generations: int = 20
    sim_generations: tuple[int, ...] = (0, 1, 2, 5, 10, 20)
    trials: int = 300
    seed: int = 0


def _over_compute(c: OverConfig, *, devices=None, progress=False):
    import xarray as xr

    check_range("n0", c.n0, 1, c.d - 2)
    check_range("trials", c.trials, 2)
    G = np.arange(0, c.max_generations + 1, dtype=float)
    sim_g = np.asarray([g for g in c.sim_generations if g <= c.max_generations])
    cases = {"noiseless": (0.0, 0.0), "noisy": (c.noisy_noise_var, c.noisy_generator_noise_var)}
    data = {k: [] for k in ("total", "sim_mean", "sim_sem", "sim_theory")}
    for k, (s2, s02) in enumerate(cases.values()):
        mix = isotropic(c.d, signal=c.signal, noise_var=s2)
        kw = dict(n=float(c.n), n0=float(c.n0), lam=c.lam, generator_noise_var=s02)
        data["total"].append(np.asarray(theory.retraining(mix, generations=G, **kw).total))
        est = simulate.retraining(
            mix,
            n=c.n,
            n0=c.n0,
            generations=sim_g,
            lam=c.lam,
            generator_noise_var=s02,
            trials=c.trials,
            key=jax.random.fold_in(jax.random.key(c.seed), k),
        )
        data["sim_mean"].append(np.asarray(est.mean))
        data["sim_sem"].append(np.asarray(est.sem))
        data["sim_theory"].append(np.asarray(theory.retraining(mix, generations=sim_g.astype(float), **kw).total))
    ds = xr.Dataset(
        {
            "total": (("case", "generations"), np.stack(data["total"])),
            **{k: (("case", "sim_generations"), np.stack(data[k])) for k in ("sim_mean", "sim_sem", "sim_theory")},
        },
        coords={"case": list(cases), "generations": G, "sim_generations": sim_g},
    )
    ds.attrs.update(d=c.d, n0=c.n0, n=c.n, lam=c.lam, null_error=c.signal, psi=c.n0 / c.d, trials=c.trials)
    return ds


def _over_summarize(ds):
    z, pct = sim_gap(ds["sim_mean"].values, ds["sim_sem"].values, ds["sim_theory"].values)
    e = ds["total"].sel(case="noiseless").values
    null = ds.attrs["null_error"]
    gap = null - e
    rate = float(np.exp(np.polyfit(ds["generations"].values[1:], np.log(gap[1:]), 1)[0]))
    numbers = {
        "noiseless_error_at_last_over_null": float(e[-1] / null),
        "fitted_contraction_rate": rate,
        "psi": ds.attrs["psi"],
        "noisy_error_at_last": float(ds["total"].sel(case="noisy").values[-1]),
        "max_theory_vs_simulation_se": z,
        "max_theory_vs_simulation_pct": pct,
    }
    G = int(ds["generations"].values[-1])
    finding = (
        f"With over-parameterised generators (n0/d = {ds.attrs['psi']:g}) and no noise at all, the error climbs to "
        f"{100 * e[-1] / null:.4g} % of the null predictor's after {G} generations, its gap shrinking by a factor "
        f"{rate:.3f} per generation (= n0/d): collapse is exponential, not linear. "
        f"{agreement(z, pct, start=True)}."
    )
    return numbers, finding


def _over_figures(ds):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, case in enumerate(ds["case"].values):
        ax.plot(ds["generations"].values, ds["total"].values[k], color=colors[k], lw=1.8, label=f"{case} (theory)")
        ax.errorbar(
            ds["sim_generations"].values,
            ds["sim_mean"].values[k],
            yerr=ds["sim_sem"].values[k],
            fmt="o",
            ms=4,
            color=colors[k],
            capsize=2,
        )
    ax.axhline(ds.attrs["null_error"], color="k", ls="--", lw=1, label="null predictor ŵ = 0")
    ax.set_xlabel("generations G")
    ax.set_ylabel("test error")
    ax.set_title(
        f"Over-parameterised generators: d = {ds.attrs['d']}, n0 = {ds.attrs['n0']}, downstream n = {ds.attrs['n']}, "
        f"λ = {ds.attrs['lam']:g}; points: {ds.attrs['trials']} trials",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return {"generations-overparameterised": fig}


generations_overparameterised = types.SimpleNamespace(
    NAME="generations-overparameterised",
    DESCRIPTION="error against generations for generators with n0 < d, with and without noise: exponential collapse to the null predictor",
    Config=OverConfig,
    QUICK=dict(d=40, n0=20, n=80, max_generations=12, sim_generations=(0, 1, 4, 12), trials=60),
    compute=_over_compute,
    summarize=_over_summarize,
    figures=_over_figures,
)
