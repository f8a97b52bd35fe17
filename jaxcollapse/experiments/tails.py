"""Zipf tails and the Hutter memorisation model (*A Tale of Tails*): four experiments.

- `tails-cutting`: E against T for tail cuts k ∈ {10, 100, 1000}: slope −(1 − 1/β), then a plateau
  at the tail mass from T ≈ T_k.
- `tails-narrowing`: training on a steeper Zipf law β̃ (temperature τ = β/β̃): no plateau, but the
  slower slope −(β − 1)/β̃.
- `tails-mixing`: tail-cut data with a fraction π of clean samples: a plateau, then a late drop
  along C_β (πT)^-c ("grokking").
- `tails-generations`: the three generation chains (known-set, empirical resampling, repeated
  top-p): the same slope, then plateaus that rise with n.

Every panel draws the exact sums as lines and Monte Carlo learning curves (`jc.tails.simulate`,
one stream per trial read at several T) as points with error bars.
"""

from __future__ import annotations

import dataclasses
import types

import jax
import numpy as np

from .. import tails
from ._framework import agreement, check_range, sim_gap


def _theory_T(c):
    return np.geomspace(c.T_min, c.T_max, c.T_points)


def _sim_T(c):
    return [int(t) for t in c.sim_T]


def _check_common(c):
    check_range("beta", c.beta, 1.0, strict_low=True)
    check_range("T_min", c.T_min, 0, strict_low=True)
    check_range("T_max", c.T_max, c.T_min, strict_low=True)
    check_range("trials", c.trials, 2)
    for t in c.sim_T:
        check_range("sim_T", t, 1)


def _dataset(labels, T, theory, plateau, sim_T, mean, sem, attrs):
    import xarray as xr

    return xr.Dataset(
        {
            "error": (("curve", "T"), np.asarray(theory)),
            "plateau": (("curve",), np.asarray(plateau)),
            "sim_mean": (("curve", "sim_T"), np.asarray(mean)),
            "sim_sem": (("curve", "sim_T"), np.asarray(sem)),
        },
        coords={"curve": list(labels), "T": T, "sim_T": np.asarray(sim_T, float)},
        attrs=attrs,
    )


def _curves(c, model, labels, per_curve, seeds, attrs, **common):
    """One exact curve over `_theory_T(c)` and one simulated learning curve at `_sim_T(c)` per entry
    of the `per_curve` keyword lists (`jc.tails.<model>` and `jc.tails.simulate`, `common` keywords
    shared), with the exact values at the simulated T (`sim_exact`): the Dataset every tails
    experiment starts from. Curve i is simulated with `PRNGKey(seeds[i])`."""
    kernel = getattr(tails, model)
    columns = {k: np.asarray(v, float)[:, None] for k, v in per_curve.items()}
    T = _theory_T(c)
    res = kernel(c.beta, T=T[None, :], **columns, **common)
    exact = kernel(c.beta, T=np.asarray(_sim_T(c), float)[None, :], **columns, **common).total
    sims = [
        tails.simulate(
            model,
            c.beta,
            T=_sim_T(c),
            key=jax.random.PRNGKey(seed),
            trials=c.trials,
            support=2**18,
            **{k: v[i] for k, v in per_curve.items()},
            **common,
        )
        for i, seed in enumerate(seeds)
    ]
    ds = _dataset(
        labels, T, res.total, res.plateau[:, 0], _sim_T(c), [s.mean for s in sims], [s.sem for s in sims], attrs
    )
    ds["sim_exact"] = (("curve", "sim_T"), np.asarray(exact))
    return ds


def _gap(ds):
    """|simulation − exact sum| at the simulated T, in s.e. and %. Points where every trial gave the
    same error (s.e. at rounding level: the whole support was seen) carry no sampling information."""
    ref, sem = ds["sim_exact"].values, ds["sim_sem"].values
    sem = np.where(sem > 1e-9 * np.abs(ref), sem, 0.0)
    return sim_gap(ds["sim_mean"].values, sem, ref)


def _axes(ds, title, *, plateaus=True, ax=None, label_sim=True):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.6, 4.6), constrained_layout=True)
    else:
        fig = ax.figure
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, label in enumerate(ds["curve"].values):
        color = colors[i % len(colors)]
        ax.loglog(ds["T"].values, ds["error"].values[i], color=color, lw=1.8, label=str(label))
        ax.errorbar(
            ds["sim_T"].values,
            ds["sim_mean"].values[i],
            yerr=ds["sim_sem"].values[i],
            fmt="o",
            ms=3.5,
            color=color,
            capsize=2,
        )
        if plateaus and ds["plateau"].values[i] > 0:
            ax.axhline(ds["plateau"].values[i], color=color, ls=":", lw=1)
    ax.set_xlabel("training samples T")
    ax.set_ylabel("test error E(T)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.25)
    return fig, ax


def _slope(T, E, lo, hi):
    m = (T >= lo) & (T <= hi)
    return float(np.polyfit(np.log(T[m]), np.log(E[m]), 1)[0])


# ---------------------------------------------------------------------------------------------
# tails-cutting
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CuttingConfig:
    beta: float = 2.0
    ks: tuple[int, ...] = (10, 100, 1000)
    T_min: float = 10.0
    T_max: float = 1e9
    T_points: int = 121
    sim_T: tuple[int, ...] = (100, 1000, 10_000, 100_000)
    trials: int = 100
    seed: int = 0


def _cutting_compute(c: CuttingConfig, *, devices=None, progress=False):
    _check_common(c)
    for k in c.ks:
        check_range("ks", k, 1)
    ks = [np.inf] + [float(k) for k in c.ks]
    labels = ["clean (no cut)"] + [f"cut at k = {k}" for k in c.ks]
    seeds = [c.seed + i for i in range(len(ks))]
    ds = _curves(c, "cut", labels, {"k": ks}, seeds, dict(beta=c.beta, trials=c.trials))
    ds["transition"] = (("curve",), np.asarray([np.nan] + [float(tails.transition(c.beta, k=k)) for k in c.ks]))
    return ds


def _cutting_summarize(ds):
    beta = ds.attrs["beta"]
    z, pct = _gap(ds)
    T, E = ds["T"].values, ds["error"].values
    slope = _slope(T, E[0], T[0] * 100, T[-1])
    numbers = {
        "clean_slope": slope,
        "predicted_slope": -(1 - 1 / beta),
        **{
            f"plateau_k{int(k)}": float(p)
            for k, p in zip([0] + [int(s.split("= ")[1]) for s in ds["curve"].values[1:]], ds["plateau"].values)
            if k
        },
        "max_theory_vs_simulation_se": z,
        "max_theory_vs_simulation_pct": pct,
    }
    ks = [s.split("= ")[1] for s in ds["curve"].values[1:]]
    plats = ", ".join(f"{float(p):.3g} (k = {k})" for k, p in zip(ks, ds["plateau"].values[1:]))
    finding = (
        f"Clean data follow slope {slope:.3f} (predicted −(1 − 1/β) = {-(1 - 1 / beta):.3f}); a tail cut stops the scaling law "
        f"at its tail mass {plats}, reached near T_k ≈ k^β. "
        f"{agreement(z, pct, start=True)}."
    )
    return numbers, finding


def _colors():
    """The colour cycle the curves are drawn in (`_axes`)."""
    import matplotlib.pyplot as plt

    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _cutting_figures(ds):
    fig, ax = _axes(
        ds,
        f"Tail cutting, β = {ds.attrs['beta']:g}: lines exact, points {ds.attrs['trials']} trials, dotted: tail mass",
    )
    colors = _colors()
    for i, t in enumerate(ds["transition"].values[1:], start=1):  # each T_k in its curve's colour
        ax.axvline(t, color=colors[i % len(colors)], lw=0.8, ls="--")
    ax.legend(fontsize=8, title="dashed: T_k", title_fontsize=8)
    return {"tails-cutting": fig}


tails_cutting = types.SimpleNamespace(
    NAME="tails-cutting",
    DESCRIPTION="Hutter model, E against T for tail cuts k ∈ {10, 100, 1000}: the scaling law stops at the tail mass",
    Config=CuttingConfig,
    QUICK=dict(T_points=41, T_max=1e8, sim_T=(100, 1000, 10_000), trials=40),
    compute=_cutting_compute,
    summarize=_cutting_summarize,
    figures=_cutting_figures,
)


# ---------------------------------------------------------------------------------------------
# tails-narrowing
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NarrowingConfig:
    beta: float = 2.0
    beta_narrows: tuple[float, ...] = (2.5, 3.0, 4.0)
    T_min: float = 10.0
    T_max: float = 1e10
    T_points: int = 121
    sim_T: tuple[int, ...] = (100, 1000, 10_000, 100_000)
    trials: int = 100
    seed: int = 1


def _narrowing_compute(c: NarrowingConfig, *, devices=None, progress=False):
    _check_common(c)
    for b in c.beta_narrows:
        check_range("beta_narrows", b, 1.0, strict_low=True)
    bn = [c.beta] + list(c.beta_narrows)
    labels = ["clean (β̃ = β)"] + [f"β̃ = {b:g} (τ = {c.beta / b:.2g})" for b in c.beta_narrows]
    seeds = [c.seed + 10 * i for i in range(len(bn))]
    ds = _curves(c, "narrow", labels, {"beta_narrow": bn}, seeds, dict(beta=c.beta, trials=c.trials))
    ds["beta_narrow"] = (("curve",), np.asarray(bn))
    ds["law"] = (
        ("curve", "T"),
        np.asarray(tails.narrow_law(c.beta, T=ds["T"].values[None, :], beta_narrow=np.asarray(bn)[:, None])),
    )
    return ds


def _narrowing_summarize(ds):
    beta = ds.attrs["beta"]
    z, pct = _gap(ds)
    T = ds["T"].values
    slopes = [_slope(T, e, T[-1] / 1e3, T[-1]) for e in ds["error"].values]
    predicted = [-(beta - 1) / b for b in ds["beta_narrow"].values]
    numbers = {
        **{f"slope_beta_narrow_{b:g}": s for b, s in zip(ds["beta_narrow"].values, slopes)},
        **{f"predicted_slope_beta_narrow_{b:g}": p for b, p in zip(ds["beta_narrow"].values, predicted)},
        "max_theory_vs_simulation_se": z,
        "max_theory_vs_simulation_pct": pct,
    }
    pairs = ", ".join(f"{s:.3f} (predicted {p:.3f})" for s, p in zip(slopes, predicted))
    finding = (
        f"A narrowed tail keeps the error falling but slower: fitted slopes over the last three decades {pairs}, "
        f"i.e. −(β − 1)/β̃; no plateau. "
        f"{agreement(z, pct, start=True)}."
    )
    return numbers, finding


def _narrowing_figures(ds):
    fig, ax = _axes(
        ds,
        f"Tail narrowing, β = {ds.attrs['beta']:g}: lines exact, dashed: asymptotic law, points {ds.attrs['trials']} trials",
        plateaus=False,
    )
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, row in enumerate(ds["law"].values):
        ax.loglog(ds["T"].values, row, color=colors[i % len(colors)], lw=0.9, ls="--")
    ax.legend(fontsize=8)
    return {"tails-narrowing": fig}


tails_narrowing = types.SimpleNamespace(
    NAME="tails-narrowing",
    DESCRIPTION="Hutter model trained on a steeper Zipf law (temperature < 1): no plateau, slope −(β−1)/β̃",
    Config=NarrowingConfig,
    QUICK=dict(T_points=41, sim_T=(100, 1000, 10_000), trials=40),
    compute=_narrowing_compute,
    summarize=_narrowing_summarize,
    figures=_narrowing_figures,
)


# ---------------------------------------------------------------------------------------------
# tails-mixing
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MixingConfig:
    beta: float = 2.0
    k: int = 100
    p1s: tuple[float, ...] = (1e-3, 1e-2, 1e-1)
    T_min: float = 10.0
    T_max: float = 1e10
    T_points: int = 141
    sim_T: tuple[int, ...] = (1000, 10_000, 100_000, 1_000_000)
    trials: int = 60
    seed: int = 2


def _mixing_compute(c: MixingConfig, *, devices=None, progress=False):
    _check_common(c)
    check_range("k", c.k, 1)
    for pi in c.p1s:
        check_range("p1s", pi, 0.0, 1.0)
    pis = [0.0] + list(c.p1s) + [1.0]
    labels = ["AI only (π = 0)"] + [f"π = {pi:g}" for pi in c.p1s] + ["clean (π = 1)"]
    seeds = [c.seed + 10 * i for i in range(len(pis))]
    ds = _curves(c, "mix", labels, {"p1": pis}, seeds, dict(beta=c.beta, k=c.k, trials=c.trials), k=c.k)
    ds["p1"] = (("curve",), np.asarray(pis))
    ds.attrs["tail_mass"] = float(tails.tail_mass(c.beta, k=c.k))
    ds.attrs["T_k"] = float(tails.transition(c.beta, k=c.k))
    return ds


def _mixing_summarize(ds):
    z, pct = _gap(ds)
    T, E = ds["T"].values, ds["error"].values
    tk, mass = ds.attrs["T_k"], ds.attrs["tail_mass"]
    numbers = {"tail_mass": mass, "T_k": tk, "max_theory_vs_simulation_se": z, "max_theory_vs_simulation_pct": pct}
    parts = []
    for pi, row in zip(ds["p1"].values[1:-1], E[1:-1]):
        below = T[(row < 0.5 * mass) & (T > tk)]
        t_drop = float(below[0]) if below.size else float("nan")
        numbers[f"T_half_plateau_pi_{pi:g}"] = t_drop
        parts.append(f"{t_drop:.2g} (π = {pi:g}, T_k/π = {tk / pi:.2g})")
    finding = (
        f"AI data cut at k = {ds.attrs['k']} stall at the tail mass {mass:.3g} from T_k ≈ {tk:.2g}; a fraction π of clean data "
        f"breaks the plateau late ('grokking'): the error falls below half the plateau at T = {', '.join(parts)}. "
        f"{agreement(z, pct, start=True)}."
    )
    return numbers, finding


def _mixing_figures(ds):
    fig, ax = _axes(
        ds,
        f"Mixing clean data into tail-cut data (β = {ds.attrs['beta']:g}, k = {ds.attrs['k']}): lines exact, points {ds.attrs['trials']} trials",
        plateaus=False,
    )
    ax.axhline(ds.attrs["tail_mass"], color="0.4", ls=":", lw=1, label="tail mass of k")
    colors = _colors()
    for i, pi in enumerate(ds["p1"].values[1:-1], start=1):  # each T_k/π in its curve's colour
        ax.axvline(ds.attrs["T_k"] / pi, color=colors[i % len(colors)], lw=0.8, ls="--")
    ax.legend(fontsize=8, title="dashed: T_k/π", title_fontsize=8)
    return {"tails-mixing": fig}


tails_mixing = types.SimpleNamespace(
    NAME="tails-mixing",
    DESCRIPTION="tail-cut data plus a fraction π ∈ {1e-3, 1e-2, 1e-1} of clean data: plateau, then a late drop (grokking)",
    Config=MixingConfig,
    QUICK=dict(p1s=(1e-2, 1e-1), T_points=51, sim_T=(1000, 100_000), trials=20),
    compute=_mixing_compute,
    summarize=_mixing_summarize,
    figures=_mixing_figures,
)


# ---------------------------------------------------------------------------------------------
# tails-generations
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GenerationsConfig:
    beta: float = 1.5
    T0: int = 10_000
    generations: tuple[int, ...] = (0, 1, 2, 4, 6)
    p_nuc: float = 0.99
    T_min: float = 10.0
    T_max: float = 1e9
    T_points: int = 101
    sim_T: tuple[int, ...] = (100, 1000, 10_000, 100_000)
    trials: int = 60
    seed: int = 3


CHAIN_TITLES = {
    "known": "known set (chain K, exact)",
    "empirical": "empirical resampling (chain W, Poisson-branching approx.)",
    "top_p": "repeated top-p (chain P, exact)",
}


def _generations_compute(c: GenerationsConfig, *, devices=None, progress=False):
    import xarray as xr

    _check_common(c)
    check_range("T0", c.T0, 1)
    check_range("p_nuc", c.p_nuc, 0.0, 1.0, strict_low=True)
    for g in c.generations:
        check_range("generations", g, 0)
    parts = []
    for j, chain in enumerate(tails.CHAINS):
        extra = {"p_nuc": c.p_nuc} if chain == "top_p" else {}
        labels = [f"n = {g}" for g in c.generations]
        seeds = [c.seed + 100 * j + i for i in range(len(c.generations))]
        per_curve = {"generations": [int(g) for g in c.generations]}
        ds = _curves(c, "generations", labels, per_curve, seeds, {}, T0=c.T0, chain=chain, **extra)
        parts.append(ds.expand_dims(chain=[chain]))
    out = xr.concat(parts, dim="chain")
    out.attrs.update(beta=c.beta, T0=c.T0, p_nuc=c.p_nuc, trials=c.trials)
    out["generations"] = (("curve",), np.asarray(c.generations))
    return out


def _generations_summarize(ds):
    numbers = {}
    lines = []
    for chain in ds["chain"].values:
        d = ds.sel(chain=chain)
        z, pct = _gap(d)
        numbers[f"{chain}_max_theory_vs_simulation_se"] = z
        numbers[f"{chain}_max_theory_vs_simulation_pct"] = pct
        plats = d["plateau"].values
        numbers[f"{chain}_plateaus"] = [float(x) for x in plats]
        lines.append(f"{chain}: plateau {plats[1]:.3g} → {plats[-1]:.3g} ({z:.1f} s.e.)")
    G = ds["generations"].values
    finding = (
        f"Over generations n = {G[1]}…{G[-1]} the curves keep the clean slope, then plateau higher: "
        + "; ".join(lines)
        + ". Chain K and W are sub-linear in n, chain P (repeated top-p) close to linear."
    )
    return numbers, finding


def _generations_figures(ds):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharey=True, constrained_layout=True)
    for ax, chain in zip(axes, ds["chain"].values):
        _axes(ds.sel(chain=chain), CHAIN_TITLES[str(chain)], ax=ax)
        ax.legend(fontsize=7)
    fig.suptitle(
        f"Generations of synthetic data (β = {ds.attrs['beta']:g}, generators on T0 = {ds.attrs['T0']} samples, "
        f"top-p {ds.attrs['p_nuc']:g}); lines exact, points {ds.attrs['trials']} trials, dotted: plateaus",
        fontsize=10,
    )
    return {"tails-generations": fig}


tails_generations = types.SimpleNamespace(
    NAME="tails-generations",
    DESCRIPTION="the three generation chains (known set, empirical resampling, repeated top-p): plateaus rise with n",
    Config=GenerationsConfig,
    QUICK=dict(generations=(0, 3), T_points=41, sim_T=(100, 3000), trials=30),
    compute=_generations_compute,
    summarize=_generations_summarize,
    figures=_generations_figures,
)
