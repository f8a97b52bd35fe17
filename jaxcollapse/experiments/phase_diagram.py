"""Where does a bigger model hurt? The collapse ratio E_mix/E_real and the sign of ∂E/∂m.

Random-projection model (*Strong Model Collapse*, §3): n samples, a fraction p2 synthetic, a
width-m projection fitted by ridge. Panel 1 maps (m/n, p2) at the default quality; panels 2 and 3
map (tr ΣΔ, p2) at one width below and one above the interpolation threshold. The boundary is the
zero of ∂E/∂m, taken by automatic differentiation of the theory (implicit differentiation of the θ
equation), not by finite differences of the grid.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import theory
from .._compress import compress
from .._problem import isotropic, power_law
from .._sweep import sweep
from ._framework import check_choice, check_range

NAME = "phase-diagram"
DESCRIPTION = (
    "collapse ratio E_mix/E_real over (m/n, p2) and (tr ΣΔ, p2), with the boundary where a bigger model starts to hurt"
)


@dataclasses.dataclass(frozen=True)
class Config:
    spectrum: str = "power_law"  # or "isotropic"
    d: int = 1000
    beta: float = 1.2
    n: float = 500.0
    signal: float = 1.0
    quality: float = 1.0  # tr(ΣΔ) of panel 1
    noise_var: float = 0.05
    lam: float = 1e-4
    width_ratios: tuple[float, ...] = (0.02, 5.0)  # m/n range (log)
    qualities: tuple[float, ...] = (0.01, 10.0)  # tr(ΣΔ) range of panels 2-3 (log)
    fixed_widths: tuple[float, ...] = (0.25, 2.0)  # m/n of panels 2 and 3
    resolution: int = 256


QUICK = dict(resolution=48, d=300, n=150.0)


def _mixture(c: Config):
    check_choice("spectrum", c.spectrum, ("power_law", "isotropic"))
    check_range("d", c.d, 1)
    check_range("n", c.n, 0, strict_low=True)
    check_range("quality", c.quality, 0, strict_low=True)
    check_range("lam", c.lam, 0)
    check_range("resolution", c.resolution, 4, 4096)
    if len(c.width_ratios) != 2 or len(c.qualities) != 2:
        from ._framework import ConfigError

        raise ConfigError("width_ratios and qualities: expected two numbers each (low, high)")
    if c.spectrum == "isotropic":
        mix = isotropic(c.d, signal=c.signal, shift=c.quality, noise_var=c.noise_var)
    else:
        mix = power_law(c.d, c.beta, signal=c.signal, shift=c.quality, noise_var=c.noise_var)
    return compress(mix)


def _kernel(mix, n, lam, quality0, m_over_n, p2, quality):
    """Mixture and real-only errors, their ratio and ∂E_mix/∂m, at tr(ΣΔ) = `quality`.

    ζ is linear in Δ (κ and θ do not depend on it), so a quality is a rescaling of the collapse term."""
    m = m_over_n * n
    scale = quality / quality0

    def parts(m):
        r = theory.random_projections(mix, n=n, m=m, p2=p2, lam=lam)
        return r.bias + r.variance + scale * r.collapse

    total, dtotal = jax.jvp(parts, (m,), (jnp.ones_like(m),))
    real = theory.random_projections(mix, n=n, m=m, p2=0.0, lam=lam).total
    return {"total": total, "real": real, "ratio": total / real, "dE_dm": dtotal}


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    mix = _mixture(c)
    q0 = float(mix.quality)
    fn = functools.partial(_kernel, mix, c.n, c.lam, q0)
    ratios = np.geomspace(*c.width_ratios, c.resolution)
    p2 = np.linspace(0.0, 1.0, c.resolution)
    qualities = np.geomspace(*c.qualities, c.resolution)
    common = dict(progress=progress, devices=devices)
    panel1 = sweep(fn, {"m_over_n": ratios, "p2": p2, "quality": np.array([q0])}, **common).isel(quality=0, drop=True)
    panel2 = sweep(fn, {"m_over_n": np.asarray(c.fixed_widths, float), "quality": qualities, "p2": p2}, **common)
    panel2 = panel2.rename({"m_over_n": "width"})
    ds = xr.Dataset(
        {
            "ratio": panel1["ratio"],
            "total": panel1["total"],
            "real": panel1["real"],
            "dE_dm": panel1["dE_dm"],
            "ratio_q": panel2["ratio"],
            "dE_dm_q": panel2["dE_dm"],
        }
    )
    ds.attrs.update(model="random projections", n=c.n, d=c.d, lam=c.lam, quality=q0)
    return ds


def hurt_intervals(ds):
    """Per p2, every interval of m/n on the grid where ∂E/∂m > 0 (a bigger model hurts): a list of
    `(lo, hi)` grid values, each a maximal run of consecutive grid points, empty if there is none."""
    ratios = ds["m_over_n"].values
    hurt = ds["dE_dm"].values > 0  # (m, p2); NaN compares False
    out = []
    for j in range(hurt.shape[1]):
        runs, start = [], None
        for i, h in enumerate(list(hurt[:, j]) + [False]):
            if h and start is None:
                start = i
            elif not h and start is not None:
                runs.append((float(ratios[start]), float(ratios[i - 1])))
                start = None
        out.append(runs)
    return out


def describe_intervals(runs, grid) -> str:
    """Where a bigger model hurts, in words: every interval, the interpolation threshold named when
    an interval crosses it, the grid's edge when an interval is cut there, and why beyond it."""
    if not runs:
        return "no width on this grid"
    parts = []
    for lo, hi in runs:
        text = f"m/n ∈ [{lo:.2f}, {hi:.2f}]"
        if lo < 1.0 < hi:
            text += " (across the interpolation threshold m = n, where the error peaks)"
        elif lo > 1.0:
            text += " (beyond the threshold: the error passes a minimum at a finite width and rises toward its infinite-width limit)"
        if hi >= grid[-1]:
            text += ", cut by the grid's right edge"
        if lo <= grid[0]:
            text += ", cut by the grid's left edge"
        parts.append(text)
    return " and ".join(parts)


def summarize(ds):
    p2 = ds["p2"].values
    runs = hurt_intervals(ds)
    ratios = ds["m_over_n"].values
    below = ratios < 1.0
    worst = float(np.nanmax(ds["ratio"].values[below]))
    numbers = {
        "boundary_exists": any(runs),
        "largest_collapse_ratio_below_threshold": worst,
    }
    for x in (0.0, 0.1, 0.3, 0.5, 0.9):
        j = int(np.argmin(np.abs(p2 - x)))
        numbers[f"hurts_for_m_over_n_at_p2_{x:g}"] = [list(r) for r in runs[j]]  # [] where nowhere
    q = ds.attrs["quality"]
    j = int(np.argmin(np.abs(p2 - 0.5)))
    finding = (
        f"At tr ΣΔ = {q:g} a bigger model hurts at p2 = {p2[j]:.2f} for {describe_intervals(runs[j], ratios)}; "
        f"with real data only (p2 = 0) for {describe_intervals(runs[0], ratios)}. Below the threshold the "
        f"mixture's error reaches {worst:.3g}× the real-only error."
    )
    return numbers, finding


def _boundary(ax, x, y, slope):
    """The zero of ∂E/∂m (cyan) and the region where it is positive (hatched)."""
    finite = np.isfinite(slope)
    if not (finite.any() and np.nanmin(slope) < 0 < np.nanmax(slope)):
        return
    ax.contour(x, y, slope, levels=[0.0], colors="cyan", linewidths=1.6)
    ax.contourf(x, y, np.where(finite, slope, np.nan), levels=[0.0, np.inf], colors="none", hatches=["//"])


def _plain_ticks(bar):
    """A log colour bar labelled in plain numbers (2, 4, 10), not 2×10⁰."""
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    bar.ax.yaxis.set_major_formatter(plain)
    bar.ax.yaxis.set_minor_formatter(plain)
    return bar


def figures(ds):
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    widths = ds["width"].values
    fig, axes = plt.subplots(1, 1 + len(widths), figsize=(5.2 * (1 + len(widths)), 4.4), constrained_layout=True)
    ratio = np.clip(ds["ratio"].values.T, 1.0, None)
    vmax = float(np.nanmax(np.where(np.isfinite(ratio), ratio, np.nan)))
    norm = LogNorm(vmin=1.0, vmax=max(vmax, 1.01))
    ax = axes[0]
    x, y = ds["m_over_n"].values, ds["p2"].values
    im = ax.pcolormesh(x, y, ratio, norm=norm, cmap="magma", shading="auto", rasterized=True)
    _boundary(ax, x, y, ds["dE_dm"].values.T)
    ax.axvline(1.0, color="white", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("width / sample size  m/n")
    ax.set_ylabel("synthetic fraction  $p_2$")
    ax.set_title(f"tr ΣΔ = {ds.attrs['quality']:g}; hatched: ∂E/∂m > 0, a bigger model hurts", fontsize=9)
    ax.text(0.02, 0.02, "m = n dashed", transform=ax.transAxes, color="white", fontsize=8)
    _plain_ticks(fig.colorbar(im, ax=ax, label="collapse ratio  $E_{mix}/E_{real}$"))
    for k, w in enumerate(widths):
        ax = axes[1 + k]
        q, p = ds["quality"].values, ds["p2"].values
        r = np.clip(ds["ratio_q"].values[k].T, 1.0, None)
        im = ax.pcolormesh(
            q,
            p,
            r,
            norm=LogNorm(vmin=1.0, vmax=max(float(np.nanmax(r)), 1.01)),
            cmap="magma",
            shading="auto",
            rasterized=True,
        )
        d = ds["dE_dm_q"].values[k].T
        _boundary(ax, q, p, d)
        ax.set_xscale("log")
        ax.set_xlabel("synthetic quality  tr ΣΔ  (smaller is better)")
        ax.set_ylabel("$p_2$")
        side = "below" if w < 1 else "above"
        ax.set_title(f"fixed width m = {w:g} n ({side} the threshold)", fontsize=9)
        _plain_ticks(fig.colorbar(im, ax=ax, label="$E_{mix}/E_{real}$"))
    fig.suptitle(
        f"Random projections: n = {ds.attrs['n']:g}, d = {ds.attrs['d']}, λ = {ds.attrs['lam']:g}", fontsize=10
    )
    return {NAME: fig}
