r"""Nonlinear random features on a power law: where the width bottleneck meets the collapse floor.

Relu features σ(Sx) of width m on power-law data (capacity β, source r), ridge tuned per point (the
minimum of the theory over a λ grid). Panel 1: the test error against n for several widths and
p2 ∈ {0, 0.1}, Gaussian-equivalence theory (`jc.theory.random_features`) on a fine n grid and Monte
Carlo (`jc.simulate.random_features`) at the same tuned λ. Panel 2: the collapse ratio
E_mix/E_real over (m/n, p2) at one n and λ, with the region where a bigger model hurts (∂E/∂m > 0,
by automatic differentiation in the real-valued width).

Fitted slopes against predicted exponents (both asymptotic, fitted on finite windows):

- data-limited (n ≪ m, n ≪ d): the optimally tuned ridge rate $n^{-2\beta\bar r/(1 + 2\beta\bar r)}$
  ($\bar r = \min(r, 1)$; `jc.theory.rate_exponents`);
- width-limited (n → ∞): the nonlinear part of the features acts as an extra ridge
  $\mu_*^2 d/(m\mu_1^2) \propto 1/m$ (independent of d, since $\mu_*^2 \propto \mathrm{tr}\Sigma/d$), and a
  ridge $\lambda$ leaves the bias $\lambda^{2\bar r}$: the plateau falls like $m^{-2\bar r}$, slower than a
  linear projection's rank bottleneck.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from .. import simulate, theory
from .._compress import compress
from .._problem import power_law
from ..theory._random_features import OPERATOR_ACTIVATIONS
from ._framework import ConfigError, agreement, check_choice, check_range, sim_gap
from .phase_diagram import _boundary, describe_intervals, hurt_intervals

NAME = "rf-scaling"
DESCRIPTION = "relu random features on a power law: error against n for several widths (p2 = 0, 0.1), fitted slopes, and the (m/n, p2) phase diagram"


@dataclasses.dataclass(frozen=True)
class Config:
    d: int = 1000
    beta: float = 1.5
    source: float = 0.5
    signal: float = 1.0
    shift: float = 1.0
    noise_var: float = 0.05
    activation: str = "relu"
    equivalent: str = "auto"  # auto: the operator equivalent for relu, the Gaussian one for tanh and erf
    widths: tuple[int, ...] = (40, 160, 640, 2560)
    p2s: tuple[float, ...] = (0.0, 0.1)
    n_min: float = 10.0
    n_max: float = 1e5
    n_points: int = 41
    lam_min: float = 1e-7
    lam_max: float = 10.0
    lam_points: int = 65
    n_sim: tuple[int, ...] = (40, 160, 640)
    trials: int = 24
    phase_n: float = 400.0
    phase_lam: float = 1e-3
    phase_widths: tuple[float, float] = (0.05, 20.0)
    resolution: int = 96
    seed: int = 0


QUICK = dict(
    d=100,
    widths=(20, 160),
    n_points=11,
    n_max=1e4,
    lam_points=11,
    lam_min=1e-6,
    n_sim=(20, 80),
    trials=6,
    phase_n=100.0,
    resolution=10,
)


def _validate(c: Config) -> None:
    check_range("d", c.d, 2)
    check_range("beta", c.beta, 1.0, strict_low=True)
    check_range("source", c.source, 0.0, strict_low=True)
    check_range("signal", c.signal, 0.0)
    check_range("shift", c.shift, 0.0)
    check_range("noise_var", c.noise_var, 0.0)
    check_range("n_min", c.n_min, 1.0)
    check_range("n_max", c.n_max, c.n_min, strict_low=True)
    check_range("n_points", c.n_points, 3)
    check_range("lam_min", c.lam_min, 0.0, strict_low=True)
    check_range("lam_max", c.lam_max, c.lam_min, strict_low=True)
    check_range("lam_points", c.lam_points, 2)
    check_range("trials", c.trials, 2)
    check_range("phase_n", c.phase_n, 0.0, strict_low=True)
    check_range("phase_lam", c.phase_lam, 0.0)
    check_range("resolution", c.resolution, 4, 1024)
    if c.activation not in ("relu", "tanh", "erf"):
        raise ConfigError(f"activation={c.activation!r}: expected a nonlinear activation (relu, tanh, erf)")
    check_choice("equivalent", c.equivalent, ("auto", "operator", "gaussian"))
    if c.equivalent == "operator" and c.activation not in OPERATOR_ACTIVATIONS:
        raise ConfigError(
            f"equivalent='operator' supports {OPERATOR_ACTIVATIONS}, not activation={c.activation!r} "
            "(use equivalent='gaussian' or 'auto')"
        )
    if len(c.widths) < 2 or len(c.p2s) < 1:
        raise ConfigError("widths: expected at least two widths (the width-limited fit); p2s: at least one value")
    for m in c.widths:
        check_range("widths", m, 1)
    for p2 in c.p2s:
        check_range("p2s", p2, 0.0, 1.0)
    if len(c.n_sim) < 2:
        raise ConfigError("n_sim: expected at least two sample sizes (the data-limited fit)")
    for n in c.n_sim:
        check_range("n_sim", n, 2)
    if len(c.phase_widths) != 2 or not 0 < c.phase_widths[0] < c.phase_widths[1]:
        raise ConfigError(f"phase_widths={c.phase_widths!r}: expected two increasing m/n ratios")


def _mixture(c: Config):
    return power_law(c.d, c.beta, source=c.source, signal=c.signal, shift=c.shift, noise_var=c.noise_var)


def equivalent_for(c: Config) -> str:
    """The random-feature equivalent the theory uses: `auto` is the operator equivalent where it
    exists (relu), the Gaussian one otherwise."""
    if c.equivalent != "auto":
        return c.equivalent
    return "operator" if c.activation in OPERATOR_ACTIVATIONS else "gaussian"


def predicted_exponents(beta, source):
    """`(data-limited, width-limited)` decay exponents of the tuned error (module docstring)."""
    rbar = min(source, 1.0)
    return 2 * beta * rbar / (1 + 2 * beta * rbar), 2 * rbar


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    _validate(c)
    mix = _mixture(c)
    small = compress(mix)  # the theory on quadrature nodes: the same traces to 1e-10, ~10x fewer entries
    p2 = jnp.asarray(c.p2s, float)
    lams = jnp.geomspace(c.lam_min, c.lam_max, c.lam_points)
    n_grid = np.geomspace(c.n_min, c.n_max, c.n_points)
    widths = np.asarray(c.widths, float)
    act = c.activation
    eq = equivalent_for(c)  # the spectrum (operator) is built once for `small` and reused by every call

    def tuned(m, n):
        """Error at the best ridge of the grid and that ridge, shapes (n, p2)."""
        risk = theory.random_features(
            small, n=n[:, None, None], m=m, p2=p2[None, :, None], lam=lams, activation=act, equivalent=eq
        )
        total = jnp.where(jnp.isfinite(risk.total), risk.total, jnp.inf)
        best = jnp.argmin(total, axis=-1)
        return jnp.take_along_axis(total, best[..., None], -1)[..., 0], lams[best]

    total = np.empty((widths.size, p2.size, n_grid.size))
    for k, m in enumerate(widths):  # one width per call: its contour is shared by every point
        total[k] = np.asarray(tuned(float(m), jnp.asarray(n_grid))[0]).T
        if progress:
            print(f"[{NAME}] theory, m = {m:g}", flush=True)

    n_sim = np.asarray(c.n_sim, int)
    key = jax.random.key(c.seed)
    shape = (widths.size, p2.size, n_sim.size)
    mean, sem, at_sim, lam_sim = (np.empty(shape) for _ in range(4))
    for k, m in enumerate(widths):
        best, lam_n = tuned(float(m), jnp.asarray(n_sim, float))
        for j, n in enumerate(n_sim):
            est = simulate.random_features(
                mix,
                n=int(n),
                m=int(m),
                p2=p2,
                lam=lam_n[j],
                activation=act,
                trials=c.trials,
                key=jax.random.fold_in(key, int(m) * 100_003 + int(n)),
            )
            mean[k, :, j], sem[k, :, j] = np.asarray(est.mean), np.asarray(est.sem)
            at_sim[k, :, j], lam_sim[k, :, j] = np.asarray(best[j]), np.asarray(lam_n[j])
            if progress:
                print(f"[{NAME}] simulation, m = {m:g}, n = {n}", flush=True)

    # The phase diagram: collapse ratio and ∂E/∂m over (m/n, p2) at one n and λ, m a traced real.
    ratios = np.geomspace(*c.phase_widths, c.resolution)
    p2_grid = np.linspace(0.0, 1.0, c.resolution)

    def phase(m_over_n, q):
        m = m_over_n * c.phase_n

        def err(m):
            return theory.random_features(
                small, n=c.phase_n, m=m, p2=q, lam=c.phase_lam, activation=act, equivalent=eq
            ).total

        value, slope = jax.jvp(err, (m,), (jnp.ones_like(m),))
        real = theory.random_features(
            small, n=c.phase_n, m=m, p2=0.0, lam=c.phase_lam, activation=act, equivalent=eq
        ).total
        return value, real, slope

    value, real, slope = jax.jit(phase)(jnp.asarray(ratios)[:, None], jnp.asarray(p2_grid)[None, :])
    floor_m = theory.random_features(
        small, n=1e12, m=jnp.asarray(widths), p2=0.0, lam=lams[:, None], activation=act, equivalent=eq
    )
    plateau = np.nanmin(np.where(np.isfinite(floor_m.total), floor_m.total, np.nan), axis=0)

    ds = xr.Dataset(
        {
            "total": (("m", "p2", "n"), total),
            "plateau": (("m",), plateau),
            "sim_mean": (("m", "p2", "n_sim"), mean),
            "sim_sem": (("m", "p2", "n_sim"), sem),
            "sim_theory": (("m", "p2", "n_sim"), at_sim),
            "lam_sim": (("m", "p2", "n_sim"), lam_sim),
            "ratio": (("m_over_n", "p2_grid"), np.asarray(value / real)),
            "phase_total": (("m_over_n", "p2_grid"), np.asarray(value)),
            "dE_dm": (("m_over_n", "p2_grid"), np.asarray(slope)),
        },
        coords={
            "m": widths,
            "p2": np.asarray(c.p2s, float),
            "n": n_grid,
            "n_sim": n_sim.astype(float),
            "m_over_n": ratios,
            "p2_grid": p2_grid,
        },
    )
    data_rate, width_rate = predicted_exponents(c.beta, c.source)
    ds.attrs.update(
        model=f"{act} random features, power law",
        activation=act,
        equivalent=eq,
        d=c.d,
        beta=c.beta,
        source=c.source,
        quality=float(mix.quality),
        noise_var=c.noise_var,
        trials=c.trials,
        phase_n=c.phase_n,
        phase_lam=c.phase_lam,
        predicted_data_exponent=data_rate,
        predicted_width_exponent=width_rate,
    )
    return ds


def _fit(x, y):
    ok = np.isfinite(y) & (y > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(-np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def slopes(ds):
    """`(data-limited theory, data-limited simulation, width-limited theory)` decay exponents, p2 = 0:
    the widest width's theory and simulation over the simulated sample sizes (n ≪ m), and the n → ∞
    plateaus against m."""
    j = int(np.flatnonzero(ds["p2"].values == 0.0)[0]) if 0.0 in ds["p2"].values else 0
    ns = ds["n_sim"].values
    data_theory = _fit(ns, ds["sim_theory"].values[-1, j])
    data_sim = _fit(ns, ds["sim_mean"].values[-1, j])
    width_theory = _fit(ds["m"].values, ds["plateau"].values)
    return data_theory, data_sim, width_theory


def summarize(ds):
    z, pct = sim_gap(ds["sim_mean"].values, ds["sim_sem"].values, ds["sim_theory"].values)
    data_theory, data_sim, width_theory = slopes(ds)
    pred_data, pred_width = ds.attrs["predicted_data_exponent"], ds.attrs["predicted_width_exponent"]
    n = ds["n"].values
    numbers = {
        "max_gap_se": z,
        "max_gap_pct": pct,
        "data_exponent_theory": data_theory,
        "data_exponent_simulation": data_sim,
        "data_exponent_predicted": pred_data,
        "width_exponent_theory": width_theory,
        "width_exponent_predicted": pred_width,
    }
    parts = [
        f"{ds.attrs['activation']} features, β = {ds.attrs['beta']:g}, r = {ds.attrs['source']:g}, d = {ds.attrs['d']}: "
        f"data-limited (widest m, simulated n), the error falls like n^-{data_theory:.2f} in theory and "
        f"n^-{data_sim:.2f} in simulation (the asymptotic rate is {pred_data:.2f}); width-limited, the plateau falls like m^-{width_theory:.2f} "
        f"(predicted {pred_width:.2f}: the nonlinear part acts as a ridge ∝ 1/m)."
    ]
    for q in ds["p2"].values:
        if q > 0:
            last = ds["total"].sel(p2=q).values[:, -1]
            numbers[f"error_at_n_max_p2_{q:g}"] = [float(v) for v in last]
            parts.append(
                f"With p2 = {q:g} every width stalls by n = {n[-1]:.0e} at {np.nanmin(last):.3g}–{np.nanmax(last):.3g} "
                f"(p2 = 0: {np.nanmin(ds['total'].sel(p2=0.0).values[:, -1]):.3g}–{np.nanmax(ds['total'].sel(p2=0.0).values[:, -1]):.3g})"
                if 0.0 in ds["p2"].values
                else f"With p2 = {q:g} the error at n = {n[-1]:.0e} is {np.nanmin(last):.3g}–{np.nanmax(last):.3g}"
            )
            parts[-1] += ": the collapse floor, not the width, sets the limit."
    x, grid = ds["m_over_n"].values, ds["p2_grid"].values
    runs = hurt_intervals(ds)  # every interval of m/n where ∂E/∂m > 0, per p2 of the phase grid
    hurt = [float(q) for q, r in zip(grid, runs) if r]
    at = f"At n = {ds.attrs['phase_n']:g}, λ = {ds.attrs['phase_lam']:g}"
    if hurt:
        mid = int(np.argmin(np.abs(grid - 0.5)))
        numbers["hurts_from_p2"] = min(hurt)
        numbers["hurts_at_p2_0"] = [list(r) for r in runs[0]]
        numbers["hurts_at_p2_0.5"] = [list(r) for r in runs[mid]]
        parts.append(
            f"{at} a bigger model hurts with real data alone (p2 = 0) for {describe_intervals(runs[0], x)}; "
            f"at p2 = {grid[mid]:.2f} for {describe_intervals(runs[mid], x)}."
        )
    else:
        parts.append(f"{at} a bigger model never hurts on this grid.")
    parts.append(
        f"Monte Carlo ({ds.attrs['trials']} trials): {agreement(z, pct)}; "
        + (
            "the theory is the operator equivalent (Hermite degrees up to 6 exact on the leading directions; docs, 'Model size')."
            if ds.attrs.get("equivalent") == "operator"
            else "the theory is the Gaussian equivalent, an approximation at small ridges on power laws (docs, 'Model size')."
        )
    )
    return numbers, " ".join(parts)


def figures(ds):
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    fig, (ax, pax) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    n, ns = ds["n"].values, ds["n_sim"].values
    styles = ("-", "--", ":", "-.")
    for k, m in enumerate(ds["m"].values):
        for j, q in enumerate(ds["p2"].values):
            ax.loglog(
                n,
                ds["total"].values[k, j],
                styles[j % 4],
                color=colors[k % len(colors)],
                lw=1.5,
                label=f"m = {m:g}, p2 = {q:g}",
            )
            ax.errorbar(
                ns,
                ds["sim_mean"].values[k, j],
                yerr=ds["sim_sem"].values[k, j],
                fmt="o" if j == 0 else "s",
                mfc="none" if j else None,
                ms=4,
                color=colors[k % len(colors)],
                capsize=2,
            )
        ax.axhline(ds["plateau"].values[k], color=colors[k % len(colors)], lw=0.6, alpha=0.5)
    data_theory, data_sim, width_theory = slopes(ds)
    ax.set_xlabel("sample size n")
    ax.set_ylabel("test error (ridge tuned per point)")
    ax.set_title(
        f"widest m: n^-{data_theory:.2f} theory, n^-{data_sim:.2f} simulation (asymptotic {ds.attrs['predicted_data_exponent']:.2f}); "
        f"plateaus m^-{width_theory:.2f} (predicted {ds.attrs['predicted_width_exponent']:.2f})",
        fontsize=8,
    )
    ax.legend(fontsize=6, ncol=2)
    x, y = ds["m_over_n"].values, ds["p2_grid"].values
    ratio = np.clip(ds["ratio"].values.T, 1.0, None)
    finite = np.where(np.isfinite(ratio), ratio, np.nan)
    im = pax.pcolormesh(
        x, y, finite, norm=LogNorm(vmin=1.0, vmax=max(float(np.nanmax(finite)), 1.01)), cmap="magma", shading="auto"
    )
    _boundary(pax, x, y, ds["dE_dm"].values.T)
    pax.axvline(1.0, color="white", ls="--", lw=1)
    pax.set_xscale("log")
    pax.set_xlabel("width / sample size  m/n")
    pax.set_ylabel("synthetic fraction  $p_2$")
    pax.set_title(
        f"n = {ds.attrs['phase_n']:g}, λ = {ds.attrs['phase_lam']:g}; hatched: ∂E/∂m > 0, a bigger model hurts",
        fontsize=8,
    )
    fig.colorbar(im, ax=pax, label="collapse ratio  $E_{mix}/E_{real}$")
    fig.suptitle(
        f"{ds.attrs['activation']} random features on a power law (β = {ds.attrs['beta']:g}, r = {ds.attrs['source']:g}, "
        f"d = {ds.attrs['d']}, tr ΣΔ = {ds.attrs['quality']:g}, σ² = {ds.attrs['noise_var']:g}); lines: theory, "
        f"points: {ds.attrs['trials']} trials, thin lines: n → ∞ plateaus",
        fontsize=9,
    )
    return {NAME: fig}
