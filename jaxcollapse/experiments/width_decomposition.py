"""Bias B, variance V and collapse term ζ against the width m/n (the analogue of Figure 2 of
*Strong Model Collapse*): several synthetic qualities, the interpolation threshold marked, for an
isotropic and a power-law spectrum; simulation points for the total error."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from .. import simulate, theory
from .._problem import isotropic, power_law
from ._framework import agreement, check_range
from .scaling_law import theory_vs_simulation

NAME = "width-decomposition"
DESCRIPTION = "B, V and ζ against m/n for several synthetic qualities, threshold m = n marked (isotropic and power law)"


@dataclasses.dataclass(frozen=True)
class Config:
    d: int = 400
    n: int = 200
    beta: float = 1.5
    signal: float = 1.0
    noise_var: float = 0.1
    p2: float = 0.2
    lam: float = 1e-4
    qualities: tuple[float, ...] = (0.05, 0.5, 2.0)
    width_min: float = 0.05
    width_max: float = 10.0
    width_points: int = 241
    sim_widths: tuple[float, ...] = (0.1, 0.3, 0.6, 0.85, 1.25, 2.0, 4.0)
    trials: int = 60
    seed: int = 0


QUICK = dict(d=160, n=80, width_points=97, sim_widths=(0.2, 0.6, 2.0), trials=48)
SPECTRA = ("isotropic", "power_law")


def _mixtures(c: Config):
    out = {}
    for q in c.qualities:
        check_range("qualities", q, 0.0, strict_low=True)
        out["isotropic", q] = isotropic(c.d, signal=c.signal, shift=q, noise_var=c.noise_var)
        out["power_law", q] = power_law(c.d, c.beta, signal=c.signal, shift=q, noise_var=c.noise_var)
    return out


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    check_range("n", c.n, 1)
    check_range("p2", c.p2, 0.0, 1.0)
    check_range("lam", c.lam, 0.0)
    check_range("trials", c.trials, 2)
    mixes = _mixtures(c)
    ratios = np.geomspace(c.width_min, c.width_max, c.width_points)
    sim_m = np.unique(np.maximum(1, np.round(np.asarray(c.sim_widths) * c.n))).astype(int)
    shape = (len(SPECTRA), len(c.qualities))
    fields = {k: np.empty(shape + (ratios.size,)) for k in ("bias", "variance", "collapse", "total")}
    sim = {k: np.empty(shape + (sim_m.size,)) for k in ("sim_mean", "sim_sem", "sim_theory")}
    key = jax.random.key(c.seed)
    for a, spectrum in enumerate(SPECTRA):
        for b, q in enumerate(c.qualities):
            mix = mixes[spectrum, q]
            r = theory.random_projections(mix, n=float(c.n), m=ratios * c.n, p2=c.p2, lam=c.lam)
            for k in fields:
                fields[k][a, b] = np.asarray(getattr(r, k))
            est = simulate.random_projections(
                mix, n=c.n, m=sim_m, p2=c.p2, lam=c.lam, trials=c.trials, key=jax.random.fold_in(key, 10 * a + b)
            )
            sim["sim_mean"][a, b] = np.asarray(est.mean)
            sim["sim_sem"][a, b] = np.asarray(est.sem)
            sim["sim_theory"][a, b] = np.asarray(
                theory.random_projections(mix, n=float(c.n), m=sim_m.astype(float), p2=c.p2, lam=c.lam).total
            )
    dims = ("spectrum", "quality", "m_over_n")
    sdims = ("spectrum", "quality", "sim_m_over_n")
    ds = xr.Dataset(
        {**{k: (dims, v) for k, v in fields.items()}, **{k: (sdims, v) for k, v in sim.items()}},
        coords={
            "spectrum": list(SPECTRA),
            "quality": np.asarray(c.qualities),
            "m_over_n": ratios,
            "sim_m_over_n": sim_m / c.n,
        },
    )
    ds.attrs.update(n=c.n, d=c.d, p2=c.p2, lam=c.lam, beta=c.beta, trials=c.trials, model="random projections")
    return ds


def summarize(ds):
    z, pct = theory_vs_simulation(ds)
    numbers = {"max_theory_vs_simulation_se": z, "max_theory_vs_simulation_pct": pct}
    ratios = ds["m_over_n"].values
    below = ratios < 1
    for s in ds["spectrum"].values:
        zeta = ds["collapse"].sel(spectrum=s).values
        peak = ratios[np.argmax(np.where(np.isfinite(zeta[-1]), zeta[-1], -np.inf))]
        numbers[f"{s}_zeta_peak_m_over_n_worst_quality"] = float(peak)
        b = ds["bias"].sel(spectrum=s).values[0]
        numbers[f"{s}_bias_at_threshold_over_min_below"] = float(np.max(b[below]) / np.min(b[below]))
        numbers[f"{s}_zeta_limit_over_peak_worst_quality"] = float(zeta[-1, -1] / np.nanmax(zeta[-1]))
    q = ds["quality"].values[-1]
    parts = []
    for s in ds["spectrum"].values:
        peak = numbers[f"{s}_zeta_peak_m_over_n_worst_quality"]
        tail = 100 * numbers[f"{s}_zeta_limit_over_peak_worst_quality"]
        if peak >= ratios[-2]:
            parts.append(f"{s.replace('_', ' ')}: ζ still grows at m = {ratios[-1]:g}n")
        else:
            parts.append(
                f"{s.replace('_', ' ')}: ζ peaks at m/n ≈ {peak:.2f} and is {tail:.0f} % of its peak at m = {ratios[-1]:g}n"
            )
    finding = (
        f"At tr ΣΔ = {q:g}, p2 = {ds.attrs['p2']:g}: "
        + "; ".join(parts)
        + " — the collapse term does not vanish with width. "
        f"{agreement(z, pct, start=True)}."
    )
    return numbers, finding


def figures(ds):
    import matplotlib.pyplot as plt

    spectra = ds["spectrum"].values
    fig, axes = plt.subplots(len(spectra), 4, figsize=(16, 3.8 * len(spectra)), constrained_layout=True, squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    x = ds["m_over_n"].values
    for a, s in enumerate(spectra):
        for col, (field, title) in enumerate(
            (
                ("bias", "bias B"),
                ("variance", "variance V"),
                ("collapse", "collapse term ζ"),
                ("total", "total E = B + V + ζ"),
            )
        ):
            ax = axes[a, col]
            for b, q in enumerate(ds["quality"].values):
                if field in ("bias", "variance") and b > 0:
                    continue  # B and V do not depend on the quality
                label = f"tr ΣΔ = {q:g}" if field not in ("bias", "variance") else None
                ax.loglog(x, ds[field].values[a, b], color=colors[b] if label else "k", lw=1.6, label=label)
                if field == "total":
                    ax.errorbar(
                        ds["sim_m_over_n"].values,
                        ds["sim_mean"].values[a, b],
                        yerr=ds["sim_sem"].values[a, b],
                        fmt="o",
                        ms=4,
                        color=colors[b],
                        capsize=2,
                    )
            ax.axvline(1.0, color="gray", ls="--", lw=1)
            ax.set_title(f"{s.replace('_', ' ')}: {title}", fontsize=9)
            ax.set_xlabel("m / n")
            if field in ("collapse", "total"):
                ax.legend(fontsize=7)
    fig.suptitle(
        f"Random projections, n = {ds.attrs['n']}, d = {ds.attrs['d']}, p2 = {ds.attrs['p2']:g}, λ = {ds.attrs['lam']:g} "
        f"(dashed: m = n; points: simulation, {ds.attrs['trials']} trials ± s.e.)",
        fontsize=10,
    )
    return {NAME: fig}
