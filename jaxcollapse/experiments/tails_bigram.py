"""A tailed bigram world (*A Tale of Tails* §6, "Hutter++"): tails cut by decoding, and the error floor.

Panel 1: rank–frequency of the (context, next-token) pairs in samples from the true world
(real data) and from generators = the true world's conditionals distorted at decoding time
(temperature τ, nucleus top-p): τ < 1 steepens the tail, top-p cuts it. Panel 2: the count
learner's error E Σ_i p_i TV(q̂(·|i), p(·|i)) against T, trained on real data and on generated
data: exact theory (`jc.tails.bigram.expected_tv`) as lines, Monte Carlo as points; real data
follow T^-c with c = min(1 - 1/β, 1/2), generated data level off at their floor Σ_i p_i TV(q, p).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import numpy as np

from ..tails import bigram as bg
from ._framework import agreement, check_range, sim_gap

NAME = "tails-bigram"
DESCRIPTION = (
    "tailed bigram world: decoding (temperature, top-p) cuts the tail; learners on generated data hit a TV floor"
)


@dataclasses.dataclass(frozen=True)
class Config:
    vocab: int = 300
    beta: float = 1.5
    beta_next: float = 1.5
    temperatures: tuple[float, ...] = (1.0, 0.8)
    top_ps: tuple[float, ...] = (1.0, 0.9)
    rank_samples: int = 1_000_000
    ai_temperature: float = 0.8
    ai_top_p: float = 0.9
    T_min: float = 100.0
    T_max: float = 1e5
    T_points: int = 10
    sim_Ts: tuple[int, ...] = (100, 1000, 10_000, 100_000)
    trials: int = 100
    seed: int = 0


QUICK = dict(vocab=80, rank_samples=100_000, T_max=1e4, T_points=4, sim_Ts=(100, 1000), trials=40)


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    check_range("vocab", c.vocab, 2)
    check_range("beta", c.beta, 1.0, strict_low=True)
    check_range("beta_next", c.beta_next, 1.0, strict_low=True)
    check_range("rank_samples", c.rank_samples, 1)
    check_range("trials", c.trials, 2)
    check_range("T_min", c.T_min, 1.0)
    check_range("T_max", c.T_max, c.T_min)
    check_range("T_points", c.T_points, 2)
    for t in c.temperatures + (c.ai_temperature,):
        check_range("temperatures", t, 0.0, strict_low=True)
    for p in c.top_ps + (c.ai_top_p,):
        check_range("top_ps", p, 0.0, 1.0, strict_low=True)
    for T in c.sim_Ts:
        check_range("sim_Ts", T, 1)
    key = jax.random.key(c.seed)
    k_world, k_rank, k_sim = jax.random.split(key, 3)
    w = bg.world(vocab=c.vocab, beta=c.beta, beta_next=c.beta_next, key=k_world)
    V = c.vocab

    # panel 1: rank-frequency of (context, token) pairs, real and generated
    settings = [(t, p) for p in c.top_ps for t in c.temperatures]
    freq = np.zeros((len(settings), V * V))
    for s, (t, p) in enumerate(settings):
        gen = bg.generator(w, temperature=t, top_p=p)
        ctx, tok = bg.sample(w, key=jax.random.fold_in(k_rank, s), T=c.rank_samples, conditionals=gen)
        counts = np.bincount(np.asarray(ctx) * V + np.asarray(tok), minlength=V * V)
        freq[s] = np.sort(counts)[::-1] / c.rank_samples
    last = int(np.max(np.nonzero(freq.max(axis=0) > 0)[0])) + 1

    # panel 2: learner's error on the true world, trained on real or generated data
    sources = {
        "real": None,
        f"τ = {c.ai_temperature:g}": bg.generator(w, temperature=c.ai_temperature),
        f"top-p = {c.ai_top_p:g}": bg.generator(w, top_p=c.ai_top_p),
    }
    Ts = np.unique(np.round(np.geomspace(c.T_min, c.T_max, c.T_points)).astype(int))
    sim_Ts = np.asarray(sorted(set(int(T) for T in c.sim_Ts)))
    theory = np.zeros((len(sources), Ts.size))
    at_sim = np.zeros((len(sources), sim_Ts.size))
    mean = np.zeros_like(at_sim)
    sem = np.zeros_like(at_sim)
    floor = np.zeros(len(sources))
    for a, gen in enumerate(sources.values()):
        train = None if gen is None else gen.conditionals
        theory[a] = [bg.expected_tv(w.conditionals, w.context_probs, T=int(T), training_conditionals=train) for T in Ts]
        at_sim[a] = [
            bg.expected_tv(w.conditionals, w.context_probs, T=int(T), training_conditionals=train) for T in sim_Ts
        ]
        floor[a] = (
            0.0 if gen is None else float(bg.limit_tv(w.conditionals, w.context_probs, training_conditionals=train))
        )
        for b, T in enumerate(sim_Ts):
            keys = jax.random.split(jax.random.fold_in(jax.random.fold_in(k_sim, int(T)), a), c.trials)
            errs = np.asarray(_trials(w, w.conditionals if gen is None else gen.conditionals, int(T), keys))
            mean[a, b], sem[a, b] = errs.mean(), errs.std(ddof=1) / np.sqrt(c.trials)
    ds = xr.Dataset(
        {
            "rank_frequency": (("setting", "rank"), freq[:, :last]),
            "setting_temperature": (("setting",), np.asarray([t for t, _ in settings])),
            "setting_top_p": (("setting",), np.asarray([p for _, p in settings])),
            "theory": (("source", "T"), theory),
            "sim_mean": (("source", "sim_T"), mean),
            "sim_sem": (("source", "sim_T"), sem),
            "sim_theory": (("source", "sim_T"), at_sim),
            "floor": (("source",), floor),
        },
        coords={
            "setting": np.arange(len(settings)),
            "rank": np.arange(1, last + 1),
            "source": list(sources),
            "T": Ts,
            "sim_T": sim_Ts,
        },
    )
    ds.attrs.update(
        vocab=V,
        beta=c.beta,
        beta_next=c.beta_next,
        rank_samples=c.rank_samples,
        trials=c.trials,
        exponent=float(bg.exponent(c.beta, c.beta_next)),
        ai_temperature=c.ai_temperature,
        ai_top_p=c.ai_top_p,
        generator="the true world's conditionals with temperature / top-p applied (contexts from the true p)",
    )
    return ds


@functools.partial(jax.jit, static_argnums=2)
def _trials(w, cond, T, keys):
    """TV error of the count learner on `T` pairs (tokens from `cond`), one per key."""

    def one(k):
        return bg.tv_error(w, bg.fit(bg.sample(w, key=k, T=T, conditionals=cond), vocab=w.vocab))

    return jax.vmap(one)(keys)


def slope(ds, decades=1.0):
    """Fitted log-log slope of the real-data theory curve over the last `decades` of T."""
    T = ds["T"].values
    sel = T >= T[-1] / 10**decades
    return float(np.polyfit(np.log(T[sel]), np.log(ds["theory"].values[0, sel]), 1)[0])


def summarize(ds):
    z, pct = sim_gap(ds["sim_mean"].values, ds["sim_sem"].values, ds["sim_theory"].values)
    sources = list(ds["source"].values)
    theory, floor = ds["theory"].values, ds["floor"].values
    fitted = slope(ds)
    numbers = {
        "predicted_exponent": ds.attrs["exponent"],
        "fitted_slope_real_last_decade": fitted,
        "error_at_largest_T": {s: float(theory[a, -1]) for a, s in enumerate(sources)},
        "floor": {s: float(floor[a]) for a, s in enumerate(sources)},
        "max_theory_vs_simulation_se": z,
        "max_theory_vs_simulation_pct": pct,
    }
    T_max = ds["T"].values[-1]
    ai = ", ".join(f"{s}: {theory[a, -1]:.3g} (floor {floor[a]:.3g})" for a, s in enumerate(sources) if a > 0)
    finding = (
        f"Trained on real data the count learner's error falls as T^{fitted:.2f} over the last decade "
        f"(predicted -{ds.attrs['exponent']:.3g}), reaching {theory[0, -1]:.3g} at T = {T_max:.0e}; trained on generated "
        f"data it stalls near the floor Σ p_i TV(q, p) ({ai}). "
        f"{agreement(z, pct, 'the exact theory', start=True)}."
    )
    return numbers, finding


def figures(ds):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.5), constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax = axes[0]
    rank = ds["rank"].values
    for s in ds["setting"].values:
        t, p = float(ds["setting_temperature"].values[s]), float(ds["setting_top_p"].values[s])
        f = ds["rank_frequency"].values[s]
        label = "real (τ = 1, top-p = 1)" if t == 1 and p == 1 else f"generated: τ = {t:g}, top-p = {p:g}"
        ax.loglog(rank[f > 0], f[f > 0], color=colors[s % len(colors)], lw=1.5, label=label)
    ax.set_xlabel("rank of the (context, next-token) pair")
    ax.set_ylabel("frequency")
    ax.set_title(f"{ds.attrs['rank_samples']:.0e} samples; generator = true world with τ / top-p applied", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    ax = axes[1]
    T, sim_T = ds["T"].values, ds["sim_T"].values
    for a, s in enumerate(ds["source"].values):
        color = colors[a % len(colors)]
        label = "trained on real data" if a == 0 else f"trained on generated data, {s}"
        ax.loglog(T, ds["theory"].values[a], color=color, lw=1.8, label=label)
        ax.errorbar(
            sim_T, ds["sim_mean"].values[a], yerr=ds["sim_sem"].values[a], fmt="o", ms=4, color=color, capsize=2
        )
        if a > 0:
            ax.axhline(ds["floor"].values[a], color=color, ls="--", lw=1)
    c = ds.attrs["exponent"]
    ref = ds["theory"].values[0, -1] * (T / T[-1]) ** (-c)
    ax.loglog(T, ref, color="k", ls=":", lw=1.2, label=f"slope -{c:.3g} = -min(1 - 1/β, 1/2)")
    ax.set_xlabel("training pairs T")
    ax.set_ylabel("E Σ p_i TV(q̂(·|i), p(·|i))  (unseen context: 1)")
    ax.set_title(f"lines: exact theory; points: {ds.attrs['trials']} trials ± s.e.; dashed: floors", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.suptitle(
        f"Tailed bigram world: V = {ds.attrs['vocab']}, contexts Zipf β = {ds.attrs['beta']:g}, "
        f"next tokens Zipf β = {ds.attrs['beta_next']:g} over a random order per context",
        fontsize=10,
    )
    return {NAME: fig}
