"""Nonlinear random features across the interpolation threshold: the Gaussian-equivalence theory
(`jc.theory.random_features`) of ridge on σ(Sx) against the width m/n for relu, tanh, erf and linear
features, two synthetic fractions, one ridge λ; Monte Carlo points (`jc.simulate.random_features`)
with error bars, the theory-vs-simulation gap split into "away from m = n" and "near it", and the
linear activation checked against the random-projection theory (`jc.theory.random_projections`)."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from .. import simulate, theory
from .._activations import ACTIVATIONS
from .._problem import isotropic
from ._framework import ConfigError, agreement, check_choice, check_range, sim_gap

NAME = "rf-nonlinear"
DESCRIPTION = "nonlinear random features (relu, tanh, erf, linear): test error against m/n across m = n, Gaussian-equivalence theory vs Monte Carlo"


@dataclasses.dataclass(frozen=True)
class Config:
    d: int = 200
    n: int = 150
    signal: float = 1.0
    shift: float = 0.5
    noise_var: float = 0.25
    lam: float = 1e-2
    p2s: tuple[float, ...] = (0.0, 0.5)
    activations: tuple[str, ...] = ACTIVATIONS
    width_min: float = 0.1
    width_max: float = 10.0
    width_points: int = 31
    peak_band: float = 0.15  # a finer grid on |m/n - 1| <= peak_band, to place the peak
    peak_points: int = 16
    sim_widths: tuple[float, ...] = (0.25, 0.6, 0.9, 1.0, 1.1, 2.5)
    near_band: float = 0.1
    trials: int = 200
    test_size: int = 1000
    seed: int = 0


# d = 100, not 60: at d = 60 relu features sit about 5 % above the theory at m = n/2 (a finite-d effect,
# 4 s.e. at 600 trials), too close to the tests' max(3 s.e., 5 %); at d = 100 the gap is about 2 %.
QUICK = dict(
    d=100, n=50, width_min=0.25, width_max=4.0, width_points=5, peak_points=0, sim_widths=(0.5, 2.0), trials=48
)


def _validate(c: Config) -> None:
    check_range("d", c.d, 1)
    check_range("n", c.n, 1)
    check_range("signal", c.signal, 0.0)
    check_range("shift", c.shift, 0.0)
    check_range("noise_var", c.noise_var, 0.0)
    check_range("lam", c.lam, 0.0)
    check_range("width_min", c.width_min, 0.0, strict_low=True)
    check_range("width_max", c.width_max, c.width_min, strict_low=True)
    check_range("width_points", c.width_points, 2)
    check_range("peak_band", c.peak_band, 0.0, 1.0, strict_low=True)
    check_range("peak_points", c.peak_points, 0)
    check_range("near_band", c.near_band, 0.0, 1.0, strict_low=True)
    check_range("trials", c.trials, 2)
    check_range("test_size", c.test_size, 1)
    if not c.p2s or not c.activations or not c.sim_widths:
        raise ConfigError("p2s, activations and sim_widths: each needs at least one value")
    for p2 in c.p2s:
        check_range("p2s", p2, 0.0, 1.0)
    for w in c.sim_widths:
        check_range("sim_widths", w, 0.0, strict_low=True)
    for a in c.activations:
        check_choice("activations", a, ACTIVATIONS)
    if len(set(c.activations)) != len(c.activations):
        raise ConfigError(f"activations={c.activations!r}: expected each activation at most once")


def _widths(c: Config):
    """Integer widths: a geometric grid over [width_min, width_max]·n, a finer one around m = n, and the simulated ones."""
    sim_m = np.unique(np.maximum(1, np.round(np.asarray(c.sim_widths, float) * c.n))).astype(int)
    grid = np.geomspace(c.width_min, c.width_max, c.width_points)
    fine = np.linspace(1 - c.peak_band, 1 + c.peak_band, c.peak_points)
    m = np.unique(np.concatenate([np.maximum(1, np.round(np.concatenate([grid, fine]) * c.n)), sim_m])).astype(int)
    return m, sim_m


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    _validate(c)
    mix = isotropic(c.d, signal=c.signal, shift=c.shift, noise_var=c.noise_var)
    m_grid, sim_m = _widths(c)
    p2 = np.asarray(c.p2s, float)
    acts = list(c.activations)
    # Theory: one call per activation, the widths a real-valued axis (one compiled program).
    line = np.empty((len(acts), p2.size, m_grid.size))
    for a, act in enumerate(acts):
        line[a] = np.asarray(
            theory.random_features(
                mix, n=c.n, m=m_grid.astype(float)[None, :], p2=p2[:, None], lam=c.lam, activation=act
            ).total
        )
        if progress:
            print(f"[{NAME}] theory {act}: {m_grid.size} widths", flush=True)
    # The linear activation is the random-projection model: its own theory, one vectorised call.
    rp = np.asarray(
        theory.random_projections(mix, n=float(c.n), m=m_grid.astype(float)[None, :], p2=p2[:, None], lam=c.lam).total
    )
    # Simulation: independent keys per (activation, width).
    key = jax.random.key(c.seed)
    mean = np.empty((len(acts), p2.size, sim_m.size))
    sem = np.empty_like(mean)
    for a, act in enumerate(acts):
        for k, m in enumerate(sim_m):
            est = simulate.random_features(
                mix,
                n=c.n,
                m=int(m),
                p2=p2,
                lam=c.lam,
                activation=act,
                trials=c.trials,
                key=jax.random.fold_in(key, ACTIVATIONS.index(act) * 100_003 + int(m)),
                test_size=c.test_size,
            )
            mean[a, :, k] = np.asarray(est.mean)
            sem[a, :, k] = np.asarray(est.sem)
            if progress:
                print(f"[{NAME}] simulation {act}, m = {m}", flush=True)
    at_sim = np.searchsorted(m_grid, sim_m)
    ds = xr.Dataset(
        {
            "theory": (("activation", "p2", "m"), line),
            "rp_theory": (("p2", "m"), rp),
            "sim_mean": (("activation", "p2", "sim_m"), mean),
            "sim_sem": (("activation", "p2", "sim_m"), sem),
            "sim_theory": (("activation", "p2", "sim_m"), line[:, :, at_sim]),
        },
        coords={
            "activation": acts,
            "p2": p2,
            "m": m_grid,
            "m_over_n": ("m", m_grid / c.n),
            "sim_m": sim_m,
            "sim_m_over_n": ("sim_m", sim_m / c.n),
            "near_threshold": ("sim_m", np.abs(sim_m / c.n - 1) <= c.near_band + 1e-9),
        },
    )
    ds.attrs.update(
        d=c.d,
        n=c.n,
        lam=c.lam,
        signal=c.signal,
        shift=c.shift,
        noise_var=c.noise_var,
        trials=c.trials,
        near_band=c.near_band,
        model="nonlinear random features (Gaussian equivalence)",
    )
    return ds


def _gap(ds, activation=None, near=None):
    """(largest |z|, largest |%|) over the chosen activation(s) and width region; NaN if no point."""
    sel = ds if activation is None else ds.sel(activation=[activation])
    if near is not None:
        sel = sel.isel(sim_m=np.flatnonzero(ds["near_threshold"].values == near))
    if sel.sizes["sim_m"] == 0:
        return float("nan"), float("nan")
    return sim_gap(sel["sim_mean"].values, sel["sim_sem"].values, sel["sim_theory"].values)


def peaks(ds):
    """`{(activation, p2): m/n}` at the largest theory error over the width grid."""
    x = ds["m_over_n"].values
    out = {}
    for act in ds["activation"].values:
        for p2 in ds["p2"].values:
            curve = ds["theory"].sel(activation=act, p2=p2).values
            out[str(act), float(p2)] = float(x[np.argmax(np.where(np.isfinite(curve), curve, -np.inf))])
    return out


def linear_vs_rp(ds):
    """Largest relative difference between the linear activation's theory and random projections."""
    if "linear" not in ds["activation"].values:
        return float("nan")
    lin, rp = ds["theory"].sel(activation="linear").values, ds["rp_theory"].values
    return float(np.max(np.abs(lin - rp) / np.abs(rp)))


def summarize(ds):
    numbers = {}
    for region, near in (("away", False), ("near", True)):
        z, pct = _gap(ds, near=near)
        numbers[f"max_gap_se_{region}"], numbers[f"max_gap_pct_{region}"] = z, pct
    for act in ds["activation"].values:
        for region, near in (("away", False), ("near", True)):
            z, pct = _gap(ds, str(act), near)
            numbers[f"{act}_max_gap_se_{region}"], numbers[f"{act}_max_gap_pct_{region}"] = z, pct
    pk = peaks(ds)
    for (act, p2), x in pk.items():
        numbers[f"{act}_peak_m_over_n_p2_{p2:g}"] = x
    numbers["linear_vs_random_projections_max_rel_diff"] = linear_vs_rp(ds)

    p2_0 = float(ds["p2"].values[0])
    peak_text = ", ".join(f"{act} {pk[str(act), p2_0]:.2f}" for act in ds["activation"].values)
    heights = {
        str(a): float(np.nanmax(ds["theory"].sel(activation=a, p2=p2_0).values)) for a in ds["activation"].values
    }
    lowest, highest = min(heights, key=heights.get), max(heights, key=heights.get)
    parts = [
        f"At λ = {ds.attrs['lam']:g}, d = {ds.attrs['d']}, n = {ds.attrs['n']}, the test error peaks at m/n ≈ {peak_text} (p2 = {p2_0:g}); "
        f"the peak is highest for {highest} ({heights[highest]:.3g}) and lowest for {lowest} ({heights[lowest]:.3g})."
    ]
    widest = {str(a): float(ds["theory"].sel(activation=a, p2=p2_0).values[-1]) for a in ds["activation"].values}
    if "linear" in widest and len(widest) > 1:
        others = [v for a, v in widest.items() if a != "linear"]
        parts.append(
            f"At the widest m = {ds['m_over_n'].values[-1]:g}n the nonlinear features reach {min(others):.3g}–{max(others):.3g}, "
            f"linear ones {widest['linear']:.3g} (their rank stops at d)."
        )
    if ds.sizes["p2"] > 1:
        p2_1 = float(ds["p2"].values[-1])
        ratio = ds["theory"].sel(p2=p2_1).values / ds["theory"].sel(p2=p2_0).values
        parts.append(
            f"Synthetic data (p2 = {p2_1:g}) multiplies the error by {np.nanmin(ratio):.2f}–{np.nanmax(ratio):.2f} over all widths."
        )
    za, pa, zn, pn = (
        numbers[k] for k in ("max_gap_se_away", "max_gap_pct_away", "max_gap_se_near", "max_gap_pct_near")
    )
    band = ds.attrs["near_band"]
    sim = f"For |m/n − 1| > {band:g}, Monte Carlo ({ds.attrs['trials']} trials): " + agreement(
        za, pa, "the Gaussian-equivalence theory"
    )
    sim += (
        f"; near the threshold its largest gap is {zn:.1f} s.e. ({pn:.1f} %)."
        if np.isfinite(zn)
        else " (no width simulated near the threshold)."
    )
    parts.append(sim)
    lin = numbers["linear_vs_random_projections_max_rel_diff"]
    if np.isfinite(lin):
        parts.append(f"The linear activation reproduces the random-projection theory to {lin:.1e} (relative).")
    return numbers, " ".join(parts)


def figures(ds):
    import matplotlib.pyplot as plt

    acts = [str(a) for a in ds["activation"].values]
    p2s = ds["p2"].values
    x, xs = ds["m_over_n"].values, ds["sim_m_over_n"].values
    near = ds["near_threshold"].values
    band = ds.attrs["near_band"]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, axes = plt.subplots(
        2,
        len(acts),
        figsize=(4 * len(acts), 7.5),
        constrained_layout=True,
        squeeze=False,
        sharex="col",
        gridspec_kw={"height_ratios": [2, 1]},
    )
    for a, act in enumerate(acts):
        ax, rax = axes[0, a], axes[1, a]
        for b, p2 in enumerate(p2s):
            ax.loglog(x, ds["theory"].values[a, b], color=colors[b], lw=1.6, label=f"theory, p2 = {p2:g}")
            ax.errorbar(
                xs,
                ds["sim_mean"].values[a, b],
                yerr=ds["sim_sem"].values[a, b],
                fmt="o",
                ms=4,
                color=colors[b],
                capsize=2,
                label=f"simulation ± s.e., p2 = {p2:g}",
            )
            z = (ds["sim_mean"].values[a, b] - ds["sim_theory"].values[a, b]) / ds["sim_sem"].values[a, b]
            rax.plot(xs[~near], z[~near], "o", color=colors[b], label=f"p2 = {p2:g}")
            rax.plot(xs[near], z[near], "D", mfc="none", color=colors[b], label=f"p2 = {p2:g}, near m = n")
            if act == "linear":
                ax.loglog(
                    x[::2],
                    ds["rp_theory"].values[b, ::2],
                    "k+",
                    ms=5,
                    label="random-projection theory" if b == 0 else None,
                )
        for axis in (ax, rax):
            axis.axvline(1.0, color="gray", ls="--", lw=1)
            axis.axvspan(1 - band, 1 + band, color="0.93", zorder=0)
            axis.set_xscale("log")
            _plain_ticks(axis.xaxis)
        rax.set_xlabel("width m / n")
        ax.set_title(f"{act} features", fontsize=10)
        ax.set_ylabel("test error")
        ax.legend(fontsize=6)
        rax.axhspan(-3, 3, color="0.85", alpha=0.5, zorder=0)
        rax.axhline(0, color="k", lw=0.8)
        rax.set_ylabel("(sim − theory) / s.e.")
        rax.legend(fontsize=6)
    fig.suptitle(
        f"Ridge on random features σ(Sx), isotropic d = {ds.attrs['d']}, n = {ds.attrs['n']}, λ = {ds.attrs['lam']:g}, "
        f"tr Δ = {ds.attrs['shift']:g}, σ² = {ds.attrs['noise_var']:g} (lines: Gaussian-equivalence theory; points: "
        f"{ds.attrs['trials']} trials; dashed: m = n, shaded: |m/n − 1| ≤ {band:g})",
        fontsize=9,
    )

    cmp, cax = plt.subplots(1, len(p2s), figsize=(5.5 * len(p2s), 4.2), constrained_layout=True, squeeze=False)
    for b, p2 in enumerate(p2s):
        ax = cax[0, b]
        for a, act in enumerate(acts):
            ax.loglog(x, ds["theory"].values[a, b], color=colors[a % len(colors)], lw=1.6, label=act)
            ax.errorbar(
                xs,
                ds["sim_mean"].values[a, b],
                yerr=ds["sim_sem"].values[a, b],
                fmt="o",
                ms=3,
                color=colors[a % len(colors)],
                capsize=2,
            )
        ax.axvline(1.0, color="gray", ls="--", lw=1)
        _plain_ticks(ax.xaxis)
        ax.set_xlabel("width m / n")
        ax.set_ylabel("test error")
        ax.set_title(f"all activations, p2 = {p2:g}", fontsize=10)
        ax.legend(fontsize=8)
    return {NAME: fig, f"{NAME}-activations": cmp}


def _plain_ticks(axis):
    """Log-axis ticks at 1, 2, 5 per decade labelled as plain numbers (the default minor labels overlap)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())
