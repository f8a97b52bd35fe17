r"""Fit the theory to measured learning curves, and predict where they go (`jc.fit`).

Panel 1: ridge on a real + synthetic mixture. A learning-curve table is simulated
(`jc.simulate.ridge`, mean and standard error over trials) at small n for p2 ∈ {0, 0.05, 0.2} on a
power law whose decay β and synthetic quality tr ΣΔ are then forgotten; `jc.fit("ridge", …)`
recovers them, with a bootstrap, and predicts the curves out to 1000× the largest n measured and
their floors. The truth (the theory at the true parameters) is drawn beside the prediction and its
90 % band.

Panel 2: Zipf tails cut at rank k (*A Tale of Tails*). A learning curve over T is simulated
(`jc.tails.simulate("cut", …)`) and `jc.fit("tails", …)` recovers β and the integer cut k (profiled
over integers), and with them the plateau (the tail mass beyond k); `tails_fit_beta=False` holds β
at its true value and profiles k alone. The tails' learning curve is one stream per trial read at
every T, so its rows are correlated: its band is indicative.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from .. import simulate, tails
from .._fit import Interval, fit
from .._fit_models import ridge_model
from .._problem import power_law
from ._framework import check_range

NAME = "fit-demo"
DESCRIPTION = "fit the ridge mixture (β, tr ΣΔ) and the tails' cut (β, k) to simulated learning curves; predicted curves, floors and their bootstrap bands against the truth"


@dataclasses.dataclass(frozen=True)
class Config:
    d: int = 200
    beta: float = 1.5
    signal: float = 1.0
    shift: float = 0.3
    noise_var: float = 0.05
    lam: float = 1e-3
    p2s: tuple[float, ...] = (0.0, 0.05, 0.2)
    n_min: float = 20.0
    n_max: float = 500.0
    n_points: int = 8
    trials: int = 40
    tails_beta: float = 1.6
    tails_k: int = 1000
    T_min: float = 1e2
    T_max: float = 1e6
    T_points: int = 13
    tails_trials: int = 40
    k_bounds: tuple[float, float] = (10.0, 1e5)
    tails_fit_beta: bool = True  # False: β known, k alone profiled
    grid: int = 24
    starts: int = 16
    bootstrap: int = 200
    tails_bootstrap: int = 100
    steps: int = 100
    level: float = 0.9
    seed: int = 0


QUICK = dict(
    d=60,
    n_points=4,
    trials=12,
    T_points=5,
    tails_trials=12,
    k_bounds=(300.0, 3000.0),
    grid=6,
    starts=4,
    bootstrap=24,
    tails_bootstrap=4,
    steps=40,
)


def _check(c):
    check_range("d", c.d, 1)
    check_range("beta", c.beta, 1.0, strict_low=True)
    check_range("tails_beta", c.tails_beta, 1.0, strict_low=True)
    check_range("tails_k", c.tails_k, 1)
    check_range("shift", c.shift, 0.0, strict_low=True)
    check_range("lam", c.lam, 0.0)
    check_range("n_min", c.n_min, 1.0)
    check_range("n_max", c.n_max, c.n_min, strict_low=True)
    check_range("T_min", c.T_min, 1.0)
    check_range("T_max", c.T_max, c.T_min, strict_low=True)
    for p in c.p2s:
        check_range("p2s", p, 0.0, 1.0)
    check_range("level", c.level, 0.0, 1.0, strict_low=True)


def compute(c: Config, *, devices=None, progress=False):
    import jax.numpy as jnp
    import xarray as xr

    _check(c)
    key = jax.random.key(c.seed)
    # ------------------------------------------------------------------ panel 1: the ridge mixture
    mix = power_law(c.d, c.beta, signal=c.signal, shift=c.shift, noise_var=c.noise_var)
    n_obs = np.unique(np.geomspace(c.n_min, c.n_max, c.n_points).round())
    p2 = np.asarray(c.p2s, float)
    mean, sem = [], []
    for i, n in enumerate(n_obs):
        est = simulate.ridge(
            mix, n=int(n), p2=jnp.asarray(p2), lam=c.lam, trials=c.trials, key=jax.random.fold_in(key, i)
        )
        mean.append(np.asarray(est.mean))
        sem.append(np.asarray(est.sem))
    mean, sem = np.stack(mean), np.stack(sem)  # (n_obs, p2)
    table = dict(n=np.repeat(n_obs, p2.size), p2=np.tile(p2, n_obs.size), error=mean.ravel(), sem=sem.ravel())
    fixed = dict(d=c.d, lam=c.lam, signal=c.signal, noise_var=c.noise_var)
    f = fit(
        "ridge",
        table,
        params=dict(beta=(1.05, 4.0), shift=(1e-3, 10.0)),
        fixed=fixed,
        starts=c.starts,
        bootstrap=c.bootstrap,
        steps=c.steps,
        key=jax.random.fold_in(key, 10_000),
    )
    n_grid = np.geomspace(c.n_min, c.n_max * 1000, 120)
    nn, pp = np.meshgrid(n_grid, p2, indexing="ij")
    # the curves, then the floors (n = 1e12, as `Fit.floor`): one compiled program for the truth,
    # one for the fit and its band
    n_all = jnp.asarray(np.concatenate([nn.ravel(), np.full(p2.size, 1e12)]))
    p2_all = jnp.asarray(np.concatenate([pp.ravel(), p2]))
    truths = np.asarray(
        ridge_model(
            beta=c.beta, signal=c.signal, shift=c.shift, noise_var=c.noise_var, n=n_all, p2=p2_all, lam=c.lam, d=c.d
        )
    )
    est = f.quantity(lambda q: f.model(**q, n=n_all, p2=p2_all), c.level)
    truth, true_floor = truths[: nn.size].reshape(nn.shape), truths[nn.size :]
    pred, low, high = (np.asarray(x)[: nn.size].reshape(nn.shape) for x in est)
    floors = Interval(*(np.asarray(x)[nn.size :] for x in est))
    # ------------------------------------------------------------------ panel 2: tails cut at k
    T_obs = sorted({int(round(t)) for t in np.geomspace(c.T_min, c.T_max, c.T_points)})
    tsim = tails.simulate(
        "cut", c.tails_beta, T=T_obs, k=float(c.tails_k), trials=c.tails_trials, key=jax.random.fold_in(key, 20_000)
    )
    T_obs = np.asarray(T_obs, float)
    g = fit(
        "tails",
        dict(T=T_obs, error=np.asarray(tsim.mean), sem=np.asarray(tsim.sem)),
        params=dict(beta=(1.05, 3.0), k=tuple(c.k_bounds)) if c.tails_fit_beta else dict(k=tuple(c.k_bounds)),
        fixed=None if c.tails_fit_beta else dict(beta=c.tails_beta),
        starts=2 if c.tails_fit_beta else 1,
        bootstrap=c.tails_bootstrap,
        steps=c.steps,
        grid=c.grid,
        key=jax.random.fold_in(key, 30_000),
    )
    T_grid = np.geomspace(c.T_min, c.T_max * 100, 120)
    t_truth = np.asarray(tails.cut(c.tails_beta, T=T_grid, k=float(c.tails_k)).total)
    # the curve, then the plateau: one compiled program
    t_est = g.quantity(
        lambda q: jnp.append(
            g.model(**q, T=jnp.asarray(T_grid)), tails.mix(q["beta"], T=1.0, k=q["k"], p1=q["p1"]).plateau
        ),
        c.level,
    )
    t_pred, t_low, t_high = (np.asarray(x)[:-1] for x in t_est)
    plateau = Interval(*(np.asarray(x)[-1] for x in t_est))
    true_plateau = float(tails.tail_mass(c.tails_beta, k=float(c.tails_k)))

    def interval(result, name):
        if name not in result.params:  # held fixed
            value = result.fixed[name]
            return [value, value, value]
        lo, hi = result.interval(name, c.level)
        return [result.params[name], lo, hi]

    ds = xr.Dataset(
        {
            "error": (("n_obs", "p2"), mean),
            "sem": (("n_obs", "p2"), sem),
            "truth": (("n", "p2"), truth),
            "predicted": (("n", "p2"), pred),
            "band_low": (("n", "p2"), low),
            "band_high": (("n", "p2"), high),
            "floor_true": (("p2",), true_floor),
            "floor_fit": (("p2",), np.asarray(floors.value)),
            "floor_low": (("p2",), np.asarray(floors.low)),
            "floor_high": (("p2",), np.asarray(floors.high)),
            "ridge_params": (("ridge_param", "estimate"), np.array([interval(f, "beta"), interval(f, "shift")])),
            "tails_error": (("T_obs",), np.asarray(tsim.mean)),
            "tails_sem": (("T_obs",), np.asarray(tsim.sem)),
            "tails_truth": (("T",), t_truth),
            "tails_predicted": (("T",), t_pred),
            "tails_band_low": (("T",), t_low),
            "tails_band_high": (("T",), t_high),
            "tails_params": (("tails_param", "estimate"), np.array([interval(g, "beta"), interval(g, "k")])),
            "plateau": (("estimate",), np.array([float(plateau.value), float(plateau.low), float(plateau.high)])),
        },
        coords={
            "n_obs": n_obs,
            "p2": p2,
            "n": n_grid,
            "T_obs": T_obs,
            "T": T_grid,
            "ridge_param": ["beta", "shift"],
            "tails_param": ["beta", "k"],
            "estimate": ["value", "low", "high"],
        },
    )
    ds.attrs.update(
        beta=c.beta,
        shift=c.shift,
        tails_beta=c.tails_beta,
        tails_k=c.tails_k,
        true_plateau=true_plateau,
        level=c.level,
        d=c.d,
        lam=c.lam,
        n_max=float(n_obs.max()),
        T_max=float(T_obs.max()),
        ridge_on_bound=str(f.on_bound),
        tails_on_bound=str(g.on_bound),
    )
    return ds


def figures(ds):
    import matplotlib.pyplot as plt

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, (ax, tax) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    level = 100 * ds.attrs["level"]
    n = ds["n"].values
    for j, p in enumerate(ds["p2"].values):
        color = colors[j % len(colors)]
        ax.errorbar(
            ds["n_obs"].values,
            ds["error"].values[:, j],
            yerr=ds["sem"].values[:, j],
            fmt="o",
            ms=4,
            color=color,
            label=f"p2 = {p:g} (simulated)",
        )
        ax.plot(n, ds["truth"].values[:, j], color="k", lw=1, ls=":")
        ax.plot(n, ds["predicted"].values[:, j], color=color, lw=1.5)
        ax.fill_between(n, ds["band_low"].values[:, j], ds["band_high"].values[:, j], color=color, alpha=0.2, lw=0)
    ax.plot([], [], "k:", label="truth")
    ax.plot([], [], color="0.4", label=f"fit, {level:.0f} % band")
    ax.axvspan(ds.attrs["n_max"], n[-1], color="0.93", zorder=0, label="extrapolation")
    (beta, blo, bhi), (shift, slo, shi) = ds["ridge_params"].values
    ax.set(xscale="log", yscale="log", xlabel="n", ylabel="test error")
    ax.set_title(
        f"ridge mixture: β = {beta:.3f} [{blo:.3f}, {bhi:.3f}] (true {ds.attrs['beta']:g}), "
        f"tr ΣΔ = {shift:.3g} [{slo:.3g}, {shi:.3g}] (true {ds.attrs['shift']:g})",
        fontsize=8,
    )
    ax.legend(fontsize=7)
    T = ds["T"].values
    tax.errorbar(
        ds["T_obs"].values,
        ds["tails_error"].values,
        yerr=ds["tails_sem"].values,
        fmt="o",
        ms=4,
        color=colors[0],
        label="simulated",
    )
    tax.plot(T, ds["tails_truth"].values, "k:", lw=1, label="truth")
    tax.plot(T, ds["tails_predicted"].values, color=colors[0], lw=1.5, label=f"fit, {level:.0f} % band")
    tax.fill_between(T, ds["tails_band_low"].values, ds["tails_band_high"].values, color=colors[0], alpha=0.2, lw=0)
    tax.axvspan(ds.attrs["T_max"], T[-1], color="0.93", zorder=0, label="extrapolation")
    tax.axhline(ds.attrs["true_plateau"], color="k", lw=0.8, ls="--", label="true plateau (tail mass)")
    (tb, tblo, tbhi), (k, klo, khi) = ds["tails_params"].values
    tax.set(xscale="log", yscale="log", xlabel="T (training samples)", ylabel="test error")
    tax.set_title(
        f"tails cut at k: β = {tb:.3f} [{tblo:.3f}, {tbhi:.3f}] (true {ds.attrs['tails_beta']:g}), "
        f"k = {k:.0f} [{klo:.0f}, {khi:.0f}] (true {ds.attrs['tails_k']})",
        fontsize=8,
    )
    tax.legend(fontsize=7)
    return {"fit-demo": fig}


def summarize(ds):
    (beta, blo, bhi), (shift, slo, shi) = ds["ridge_params"].values
    (tb, tblo, tbhi), (k, klo, khi) = ds["tails_params"].values
    p2 = ds["p2"].values
    j = int(np.argmax(p2))
    floor, flo, fhi = (float(ds[v].values[j]) for v in ("floor_fit", "floor_low", "floor_high"))
    true_floor = float(ds["floor_true"].values[j])
    far = -1
    pred_far, true_far = float(ds["predicted"].values[far, j]), float(ds["truth"].values[far, j])
    numbers = {
        "beta": [beta, blo, bhi],
        "shift": [shift, slo, shi],
        "floor_at_largest_p2": [floor, flo, fhi],
        "true_floor_at_largest_p2": true_floor,
        "error_at_1000x_n_over_truth": pred_far / true_far,
        "in_band_at_1000x_n": bool(ds["band_low"].values[far, j] <= true_far <= ds["band_high"].values[far, j]),
        "tails_beta": [tb, tblo, tbhi],
        "tails_k": [k, klo, khi],
        "plateau": [float(v) for v in ds["plateau"].values],
        "true_plateau": ds.attrs["true_plateau"],
    }
    level = f"{100 * ds.attrs['level']:.0f} %"
    finding = (
        f"From n ≤ {ds.attrs['n_max']:g} the fit recovers β = {beta:.3f} ({level}: {blo:.3f}–{bhi:.3f}; true {ds.attrs['beta']:g}) "
        f"and tr ΣΔ = {shift:.3g} ({slo:.3g}–{shi:.3g}; true {ds.attrs['shift']:g}), and predicts the p2 = {p2[j]:g} floor "
        f"{floor:.4g} ({flo:.4g}–{fhi:.4g}; true {true_floor:.4g}); at 1000× the data it is off by "
        f"{100 * (pred_far / true_far - 1):+.1f} %. From a tails learning curve it recovers k = {k:.0f} ({klo:.0f}–{khi:.0f}; "
        + (
            f"true {ds.attrs['tails_k']}) and β = {tb:.3f} ({tblo:.3f}–{tbhi:.3f}; true {ds.attrs['tails_beta']:g})."
            if tblo < tbhi
            else f"true {ds.attrs['tails_k']}) with β = {tb:g} known."
        )
    )
    return numbers, finding
