"""Error with real data only (x) against error with the mixture (y), one marker per width (the
analogue of Figure 1 of *Strong Model Collapse*): squares, diamonds and stars for three synthetic
qualities, the diagonal drawn, n = 500; one panel per synthetic fraction p2."""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import theory
from .._optimal import optimal
from .._problem import isotropic
from ._framework import check_range

NAME = "width-pareto"
DESCRIPTION = (
    "real-only error (x) against mixture error (y), one marker per width, three qualities, diagonal drawn, n = 500"
)


@dataclasses.dataclass(frozen=True)
class Config:
    n: float = 500.0
    d: int = 1000
    signal: float = 1.0
    noise_var: float = 0.1
    lam: float = 1e-3
    qualities: tuple[float, ...] = (0.01, 0.1, 1.0)  # very high, high, low quality
    p2s: tuple[float, ...] = (0.1, 0.3, 0.6)
    widths: tuple[float, ...] = (0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.85, 0.95, 1.1, 1.5, 2.5, 5.0, 10.0)


QUICK = dict(d=400, n=200.0)
MARKERS = ("s", "D", "*")
NAMES = ("very high quality", "high quality", "low quality")


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    check_range("n", c.n, 0, strict_low=True)
    check_range("lam", c.lam, 0.0)
    for q in c.qualities:
        check_range("qualities", q, 0.0, strict_low=True)
    for p in c.p2s:
        check_range("p2s", p, 0.0, 1.0)
    widths = np.asarray(c.widths) * c.n
    base = isotropic(c.d, signal=c.signal, shift=1.0, noise_var=c.noise_var)
    real = theory.random_projections(base, n=c.n, m=widths, p2=0.0, lam=c.lam)
    p2 = np.asarray(c.p2s)[:, None]
    r = theory.random_projections(base, n=c.n, m=widths[None, :], p2=p2, lam=c.lam)
    mixed = np.empty((len(c.qualities), len(c.p2s), widths.size), dtype=np.asarray(r.total).dtype)
    for a, q in enumerate(c.qualities):
        # ζ is linear in Δ: the quality rescales the collapse term
        mixed[a] = np.asarray(r.bias + r.variance + q * r.collapse)
    # the best width for each quality and p2 (jc.optimal over m, both sides of the threshold)
    m_star, e_star = optimal(
        _mixed_error,
        over="m",
        bounds=(widths.min(), widths.max()),
        mix=base,
        n=c.n,
        lam=c.lam,
        p2=np.asarray(c.p2s)[None, :],
        quality=np.asarray(c.qualities)[:, None],
    )
    ds = xr.Dataset(
        {
            "real": (("m_over_n",), np.asarray(real.total)),
            "mixed": (("quality", "p2", "m_over_n"), mixed),
            "best_m_over_n": (("quality", "p2"), np.asarray(m_star) / c.n),
            "best_error": (("quality", "p2"), np.asarray(e_star)),
        },
        coords={"quality": np.asarray(c.qualities), "p2": np.asarray(c.p2s), "m_over_n": np.asarray(c.widths)},
    )
    ds.attrs.update(n=c.n, d=c.d, lam=c.lam, model="random projections, isotropic")
    return ds


def _mixed_error(mix, *, n, m, p2, lam, quality):
    """E_mix at tr ΣΔ = `quality` for a mixture built with tr ΣΔ = 1 (ζ is linear in Δ)."""
    r = theory.random_projections(mix, n=n, m=m, p2=p2, lam=lam)
    return r.bias + r.variance + quality * r.collapse


def summarize(ds):
    ratios = ds["m_over_n"].values
    below = ratios < 1
    gap = ds["mixed"].values / ds["real"].values  # (quality, p2, width)
    numbers = {}
    for a, q in enumerate(ds["quality"].values):
        g = gap[a, -1, below]
        numbers[f"mixed_over_real_below_threshold_q{q:g}_largest_p2"] = [float(g[0]), float(g[-1])]
    low = gap[-1, -1, below]
    high = gap[0, -1, below]
    numbers["low_quality_gap_grows_with_width_below_threshold"] = bool(low[-1] > low[0])
    numbers["best_width_real_only"] = float(ratios[np.argmin(ds["real"].values)])
    best_mix = ratios[np.argmin(ds["mixed"].values[-1, -1])]
    numbers["best_width_low_quality_largest_p2"] = float(best_mix)
    numbers["best_m_over_n_by_quality_largest_p2"] = [float(x) for x in ds["best_m_over_n"].values[:, -1]]
    p2 = ds["p2"].values[-1]
    finding = (
        f"At p2 = {p2:g}, low-quality synthetic data (tr ΣΔ = {ds['quality'].values[-1]:g}) puts the mixture's error "
        f"{low[0]:.2f}× above real-only at m = {ratios[below][0]:g}n and {low[-1]:.2f}× at m = {ratios[below][-1]:g}n: "
        f"larger models drift further above the diagonal below m = n, while very-high-quality data "
        f"(tr ΣΔ = {ds['quality'].values[0]:g}) stays within {100 * (high.max() - 1):.0f} % of it. The best width "
        f"(jc.optimal) is m ≈ "
        + ", ".join(f"{x:.3g}n" for x in ds["best_m_over_n"].values[:, -1])
        + " for the three qualities."
    )
    return numbers, finding


def figures(ds):
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    p2s = ds["p2"].values
    fig, axes = plt.subplots(1, len(p2s), figsize=(5.0 * len(p2s), 4.6), constrained_layout=True, squeeze=False)
    ratios = ds["m_over_n"].values
    norm = LogNorm(vmin=ratios.min(), vmax=ratios.max())
    real = ds["real"].values
    for k, p2 in enumerate(p2s):
        ax = axes[0, k]
        ys = []
        for a, q in enumerate(ds["quality"].values):
            y = ds["mixed"].values[a, k]
            ys.append(y)
            ax.plot(real, y, color="0.8", lw=0.8, zorder=1)
            sc = ax.scatter(
                real,
                y,
                c=ratios,
                norm=norm,
                cmap="viridis",
                marker=MARKERS[a % 3],
                s=60 if MARKERS[a % 3] == "*" else 30,
                edgecolors="k",
                linewidths=0.4,
                zorder=2,
                label=f"{NAMES[a % 3]} (tr ΣΔ = {q:g})",
            )
        lo = min(real.min(), min(y.min() for y in ys))
        hi = max(real.max(), max(y.max() for y in ys))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="y = x")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("test error, real data only")
        ax.set_ylabel("test error, real + synthetic mixture")
        ax.set_title(f"$p_2$ = {p2:g}", fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    fig.colorbar(sc, ax=axes[0, -1], label="width m / n")
    fig.suptitle(
        f"Model size and collapse: random projections, isotropic, n = {ds.attrs['n']:g}, d = {ds.attrs['d']}, λ = {ds.attrs['lam']:g}",
        fontsize=10,
    )
    return {NAME: fig}
