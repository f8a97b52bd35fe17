"""How to use synthetic data: the best loss weight on synthetic samples, and quality against quantity.

Panel 1: the loss weight ω on synthetic samples (ω2/ω1, `weight` of `jc.theory.ridge`) that
minimises the test error, against n, for several synthetic fractions. Panel 2: a fixed number of
real samples n1 and a growing number of synthetic ones n2 (weight 1): the error first falls (more
data), reaches an optimum n2*, then rises back towards the synthetic teacher's own error tr ΣΔ as
synthetic data dominate (*Strong Model Collapse*, §2 and Corollary 1)."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from .. import theory
from .._optimal import optimal
from .._problem import power_law
from ._framework import check_range

NAME = "mixing"
DESCRIPTION = (
    "optimal loss weight on synthetic samples against n, and quality vs quantity (fixed real n1, growing synthetic n2)"
)


@dataclasses.dataclass(frozen=True)
class Config:
    d: int = 300
    beta: float = 1.5
    signal: float = 1.0
    shift: float = 0.5
    noise_var: float = 0.1
    lam: float = 1e-3
    p2s: tuple[float, ...] = (0.2, 0.5, 0.8)
    n_min: float = 30.0
    n_max: float = 1e6
    n_points: int = 60
    weight_min: float = 1e-4
    weight_max: float = 1e2
    weight_points: int = 64
    n1: float = 200.0
    qualities: tuple[float, ...] = (0.02, 0.1, 0.5)
    n2_max: float = 1e7
    n2_points: int = 120


QUICK = dict(d=120, n_points=25, weight_points=32, n1=80.0, n2_points=50)


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    check_range("d", c.d, 1)
    check_range("lam", c.lam, 0.0)
    check_range("n1", c.n1, 0, strict_low=True)
    check_range("weight_min", c.weight_min, 0, strict_low=True)
    for p in c.p2s:
        check_range("p2s", p, 0.0, 1.0)
    mix = power_law(c.d, c.beta, signal=c.signal, shift=c.shift, noise_var=c.noise_var)
    n = np.geomspace(c.n_min, c.n_max, c.n_points)
    p2 = np.asarray(c.p2s)
    # the best loss weight: jc.optimal over log ω in [weight_min, weight_max], against ω = 0
    w_opt, e_opt = optimal(
        functools.partial(theory.ridge, mix),
        over="weight",
        bounds=(c.weight_min, c.weight_max),
        grid=c.weight_points,
        n=n[:, None],
        p2=p2[None, :],
        lam=c.lam,
    )
    e_zero = np.asarray(theory.ridge(mix, n=n[:, None], p2=p2[None, :], lam=c.lam, weight=0.0).total)
    w_star = np.where(e_zero < np.asarray(e_opt), 0.0, np.asarray(w_opt))
    e_star = np.minimum(e_zero, np.asarray(e_opt))
    e_unit = np.asarray(theory.ridge(mix, n=n[:, None], p2=p2[None, :], lam=c.lam).total)
    e_real = np.asarray(theory.ridge(mix, n=(1 - p2[None, :]) * n[:, None], p2=0.0, lam=c.lam).total)

    # quality against quantity: n = n1 + n2, p2 = n2 / n, weight 1; ζ is linear in Δ
    n2 = np.concatenate([[0.0], np.geomspace(1.0, c.n2_max, c.n2_points)])
    tot = c.n1 + n2
    base = theory.ridge(mix, n=tot, p2=n2 / tot, lam=c.lam)
    q0 = float(mix.quality)
    qq = np.asarray(c.qualities)[:, None]
    curve = np.asarray(base.bias + base.variance)[None, :] + np.asarray(base.collapse)[None, :] * qq / q0
    ds = xr.Dataset(
        {
            "best_weight": (("n", "p2"), w_star),
            "error_best_weight": (("n", "p2"), e_star),
            "error_unit_weight": (("n", "p2"), e_unit),
            "error_real_part_only": (("n", "p2"), e_real),
            "error_vs_n2": (("quality", "n2"), curve),
        },
        coords={"n": n, "p2": p2, "quality": np.asarray(c.qualities), "n2": n2},
    )
    ds.attrs.update(d=c.d, beta=c.beta, lam=c.lam, n1=c.n1, quality=q0, model="ridge, power law")
    return ds


def optimum_n2(ds):
    """Per quality: (n2*, error at n2*, error at n2 = 0, error at the largest n2)."""
    out = {}
    for a, q in enumerate(ds["quality"].values):
        e = ds["error_vs_n2"].values[a]
        k = int(np.argmin(e))
        out[float(q)] = (float(ds["n2"].values[k]), float(e[k]), float(e[0]), float(e[-1]))
    return out


def summarize(ds):
    opt = optimum_n2(ds)
    numbers = {}
    for q, (n2, e, e0, elast) in opt.items():
        numbers[f"q{q:g}_best_n2"] = n2
        numbers[f"q{q:g}_error_at_best_over_real_only"] = e / e0
        numbers[f"q{q:g}_error_at_largest_n2_over_quality"] = elast / q
    w = ds["best_weight"].values
    numbers["best_weight_at_smallest_n"] = [float(x) for x in w[0]]
    numbers["best_weight_at_largest_n"] = [float(x) for x in w[-1]]
    n2_max = float(ds["n2"].values[-1])
    parts = []
    for q, (n2, e, e0, elast) in opt.items():
        if n2 == 0:
            parts.append(f"at tr ΣΔ = {q:g} synthetic samples never help (the error climbs to {elast / q:.2f}·tr ΣΔ)")
        elif n2 >= n2_max:
            parts.append(f"at tr ΣΔ = {q:g} they help all the way to n2 = {n2_max:.0e} (error ×{e / e0:.2f})")
        else:
            parts.append(
                f"at tr ΣΔ = {q:g} they help most at n2 ≈ {n2:.3g} (error ×{e / e0:.2f}), then the error climbs back "
                f"to {elast / q:.2f}·tr ΣΔ"
            )
    j = int(np.argmin(np.abs(ds["p2"].values - 0.5)))
    finding = (
        f"With n1 = {ds.attrs['n1']:g} real samples, " + "; ".join(parts) + ". "
        f"The best loss weight on synthetic samples at p2 = {ds['p2'].values[j]:g} is {w[0, j]:.2g} at n = {ds['n'].values[0]:g} "
        f"and {w[-1, j]:.2g} at n = {ds['n'].values[-1]:.0e}"
        + (" (always below 1: down-weighting synthetic samples helps)." if np.all(w < 1) else ".")
    )
    return numbers, finding


def figures(ds):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.4), constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax = axes[0]
    n = ds["n"].values
    for j, p2 in enumerate(ds["p2"].values):
        w = ds["best_weight"].values[:, j]
        ax.loglog(n, np.where(w > 0, w, np.nan), color=colors[j], lw=1.8, label=f"$p_2$ = {p2:g}")
    ax.axhline(1.0, color="gray", ls=":", lw=1)
    ax.set_xlabel("total samples n")
    ax.set_ylabel("optimal loss weight on synthetic samples  ω*")
    ax.set_title(f"best weight (jc.optimal; λ = {ds.attrs['lam']:g}); 1 = equal weight", fontsize=9)
    ax.legend(fontsize=8)
    ax = axes[1]
    n2 = ds["n2"].values
    opt = optimum_n2(ds)
    for a, q in enumerate(ds["quality"].values):
        e = ds["error_vs_n2"].values[a]
        ax.loglog(n2[1:], e[1:], color=colors[a], lw=1.8, label=f"tr ΣΔ = {q:g}")
        ax.axhline(q, color=colors[a], ls="--", lw=1)
        k_n2, k_e, _, _ = opt[float(q)]
        if k_n2 > 0:
            ax.plot([k_n2], [k_e], "o", color=colors[a], ms=6)
    ax.axhline(ds["error_vs_n2"].values[0, 0], color="k", ls=":", lw=1, label=f"real only (n1 = {ds.attrs['n1']:g})")
    ax.set_xlabel("synthetic samples n2 (real n1 fixed)")
    ax.set_ylabel("test error on real data")
    ax.set_title("quality vs quantity: dots = best n2; dashed = tr ΣΔ", fontsize=9)
    ax.legend(fontsize=8)
    fig.suptitle(
        f"Mixing real and synthetic data: ridge, power law β = {ds.attrs['beta']:g}, d = {ds.attrs['d']}", fontsize=10
    )
    return {NAME: fig}
