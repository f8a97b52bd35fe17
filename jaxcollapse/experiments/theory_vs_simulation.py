"""Theory against Monte Carlo, one parameter at a time, for the classical ridge and the
random-projection models: curves from `jc.theory`, points (mean ± s.e.) from `jc.simulate`, and
the residuals in standard errors."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from .. import simulate, theory
from .._problem import power_law
from ._framework import agreement, check_range

NAME = "theory-vs-simulation"
DESCRIPTION = (
    "theory against Monte Carlo over n, m, p2 and λ for the classical and random-projection models, residuals in s.e."
)


@dataclasses.dataclass(frozen=True)
class Config:
    d: int = 200
    beta: float = 1.3
    signal: float = 1.0
    shift: float = 0.5
    noise_var: float = 0.2
    n: int = 150
    m: int = 75
    p2: float = 0.3
    lam: float = 1e-2
    ns: tuple[int, ...] = (40, 80, 150, 300, 600)
    ms: tuple[int, ...] = (20, 50, 100, 130, 170, 250, 400)
    p2s: tuple[float, ...] = (0.0, 0.2, 0.5, 0.8, 1.0)
    lams: tuple[float, ...] = (0.0, 1e-3, 1e-2, 1e-1, 1.0)
    trials: int = 200
    seed: int = 0
    fine_points: int = 120


QUICK = dict(
    d=80,
    n=60,
    m=30,
    ns=(20, 200),
    ms=(10, 40, 90),
    p2s=(0.0, 0.5, 1.0),
    lams=(0.0, 1e-2, 1.0),
    trials=30,
    fine_points=60,
)

PANELS = (("ridge", "n"), ("ridge", "p2"), ("ridge", "lam"), ("rp", "n"), ("rp", "m"), ("rp", "p2"), ("rp", "lam"))


def _fine(values, name, count):
    lo, hi = min(values), max(values)
    if name in ("n", "m"):
        return np.geomspace(lo, hi, count)
    if name == "lam":
        positive = [v for v in values if v > 0]
        return np.concatenate([[0.0] if lo == 0 else [], np.geomspace(min(positive), hi, count)])
    return np.linspace(lo, hi, count)


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    check_range("d", c.d, 1)
    check_range("n", c.n, 1)
    check_range("m", c.m, 1)
    check_range("trials", c.trials, 2)
    mix = power_law(c.d, c.beta, signal=c.signal, shift=c.shift, noise_var=c.noise_var)
    key = jax.random.key(c.seed)
    grids = {"n": c.ns, "m": c.ms, "p2": c.p2s, "lam": c.lams}
    base = {"n": c.n, "m": c.m, "p2": c.p2, "lam": c.lam}
    variables, coords = {}, {}
    for k, (model, name) in enumerate(PANELS):
        values = np.asarray(grids[name], dtype=float)
        fine = _fine(values, name, c.fine_points)
        theory_fn = theory.ridge if model == "ridge" else theory.random_projections

        def params(x, name=name, model=model):
            p = {key_: base[key_] for key_ in ("n", "p2", "lam")}
            if model == "rp":
                p["m"] = base["m"]
            p[name] = x
            return p

        both = np.concatenate([fine, values])  # one compiled theory call for the line and the points
        curve = np.asarray(theory_fn(mix, **{k_: np.asarray(v, float) for k_, v in params(both).items()}).total)
        line, ref = curve[: fine.size], curve[fine.size :]
        kk = jax.random.fold_in(key, k)
        if name in ("p2", "lam", "m"):  # one call for every value (widths are nested in one call)
            calls = [(params(values), values)]
        else:  # n sets array shapes: one call per value
            calls = [(params(x), np.asarray([x])) for x in values]
        mean, sem = [], []
        for p, _ in calls:
            sim_p = {k_: (np.asarray(v, float) if np.ndim(v) else v) for k_, v in p.items()}
            sim_p["n"] = int(p["n"])
            if model == "rp":
                sim_p["m"] = np.asarray(p["m"]).astype(int)
                est = simulate.random_projections(mix, **sim_p, trials=c.trials, key=kk)
            else:
                est = simulate.ridge(mix, **sim_p, trials=c.trials, key=kk)
            mean.extend(np.atleast_1d(np.asarray(est.mean)).tolist())
            sem.extend(np.atleast_1d(np.asarray(est.sem)).tolist())
        tag = f"{model}_{name}"
        coords[f"{tag}_fine"] = fine
        coords[f"{tag}_points"] = values
        variables[f"{tag}_theory_line"] = ((f"{tag}_fine",), line)
        variables[f"{tag}_sim_mean"] = ((f"{tag}_points",), np.asarray(mean))
        variables[f"{tag}_sim_sem"] = ((f"{tag}_points",), np.asarray(sem))
        variables[f"{tag}_theory"] = ((f"{tag}_points",), np.asarray(ref))
    ds = xr.Dataset(variables, coords=coords)
    ds.attrs.update(d=c.d, beta=c.beta, trials=c.trials, n=c.n, m=c.m, p2=c.p2, lam=c.lam, quality=float(mix.quality))
    return ds


def residuals(ds):
    """`{panel: (z, pct)}`: (simulation − theory) in standard errors and in % of the theory."""
    out = {}
    for model, name in PANELS:
        tag = f"{model}_{name}"
        gap = ds[f"{tag}_sim_mean"].values - ds[f"{tag}_theory"].values
        sem = ds[f"{tag}_sim_sem"].values
        out[tag] = (gap / np.where(sem > 0, sem, np.nan), 100 * gap / ds[f"{tag}_theory"].values)
    return out


def summarize(ds):
    res = residuals(ds)
    z = np.concatenate([v[0] for v in res.values()])
    pct = np.concatenate([v[1] for v in res.values()])
    worst = max(res, key=lambda t: np.nanmax(np.abs(res[t][0])))
    numbers = {
        "points": int(z.size),
        "max_theory_vs_simulation_se": float(np.nanmax(np.abs(z))),
        "max_theory_vs_simulation_pct": float(np.nanmax(np.abs(pct))),
        "points_beyond_3_se": int(np.sum(np.abs(z) > 3)),
        "rms_residual_se": float(np.sqrt(np.nanmean(z**2))),
        "worst_panel": worst,
    }
    finding = (
        f"Over {z.size} (model, parameter) points, Monte Carlo ({ds.attrs['trials']} trials): "
        f"{agreement(numbers['max_theory_vs_simulation_se'], numbers['max_theory_vs_simulation_pct'])} "
        f"(rms {numbers['rms_residual_se']:.2f} s.e.; {numbers['points_beyond_3_se']} points beyond 3 s.e.; finite-d "
        f"effects included)."
    )
    return numbers, finding


def figures(ds):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 4, figsize=(16, 10.5), constrained_layout=True)
    labels = {"n": "n", "m": "width m", "p2": "$p_2$", "lam": "λ"}
    res = residuals(ds)
    cols = {"n": 0, "m": 3, "p2": 1, "lam": 2}
    for model, name in PANELS:
        tag = f"{model}_{name}"
        row = 0 if model == "ridge" else 1
        col = cols[name] if model == "rp" or name != "m" else 3
        ax = axes[row, col]
        fine = ds[f"{tag}_fine"].values
        pts = ds[f"{tag}_points"].values
        ax.plot(fine, ds[f"{tag}_theory_line"].values, "C0-", lw=1.6, label="theory")
        ax.errorbar(
            pts,
            ds[f"{tag}_sim_mean"].values,
            yerr=ds[f"{tag}_sim_sem"].values,
            fmt="ko",
            ms=4,
            capsize=2,
            label="simulation ± s.e.",
        )
        if name in ("n", "m"):
            ax.set_xscale("log")
        if name == "lam":
            ax.set_xscale("symlog", linthresh=float(min(p for p in pts if p > 0)))
        ax.set_yscale("log")
        ax.set_xlabel(labels[name])
        ax.set_title(
            f"{'classical ridge' if model == 'ridge' else 'random projections'}: vary {labels[name]}", fontsize=9
        )
        ax.legend(fontsize=7)
        rax = axes[2, cols[name]]
        rax.plot(
            pts,
            res[tag][0],
            "o" if model == "ridge" else "s",
            label="ridge" if model == "ridge" else "random projections",
        )
        rax.axhspan(-3, 3, color="0.9", zorder=0)
        rax.axhline(0, color="k", lw=0.8)
        rax.set_xlabel(labels[name])
        rax.set_ylabel("(sim − theory) / s.e.")
        if name in ("n", "m"):
            rax.set_xscale("log")
        if name == "lam":
            rax.set_xscale("symlog", linthresh=float(min(p for p in pts if p > 0)))
        rax.legend(fontsize=7)
    axes[0, 3].axis("off")
    axes[0, 3].text(
        0.0,
        0.5,
        f"power law β = {ds.attrs['beta']:g}, d = {ds.attrs['d']}\ntr ΣΔ = {ds.attrs['quality']:g}\n"
        f"base point: n = {ds.attrs['n']}, m = {ds.attrs['m']},\np2 = {ds.attrs['p2']:g}, λ = {ds.attrs['lam']:g}\n"
        f"{ds.attrs['trials']} trials per point\nshaded band: ±3 s.e.",
        fontsize=10,
        va="center",
    )
    return {NAME: fig}
