"""A small transformer learning greatest common divisors (*A Tale of Tails* §7.2, Charton 2023's task).

Operands a, b uniform in [1, 9999], the label gcd(a, b) (classes 1..K and "other"), whose law
P(gcd = k) ≈ 6/(π² k²) is a Zipf law with β = 2. Every model is trained online by `jc.nn.gcd.train`
(each step draws a fresh batch, so training examples seen = steps × batch) and scored on real pairs.

(a) Test error against training examples seen, for clean data, for tail-cut data (pairs whose gcd
    exceeds the cut k are dropped) and for the cut data with a fraction π of every batch real: the
    cut model cannot learn any gcd > k, so its error stalls above P(gcd > k); real data let the
    mixture learn the tail, later.
(b) Generations: gen 0 trains on real data, gen m + 1 on gen m's argmax labels of fresh pairs. Per
    generation: the test error and the number of GCDs learned (accuracy ≥ 90 % on pairs with that
    gcd, k = 1..K).

All runs of one call share their initialisation and their stream of input pairs (common random
numbers): they differ only in their labels. The test error of the curves in (a) is measured on a
fixed batch of real pairs every `eval_every` steps (the batch that early stopping also watches);
the headline test errors and per-gcd accuracies are measured afterwards on fresh pairs.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from ..nn import gcd as g
from ._framework import ConfigError, check_range

NAME = "gcd-transformer"
DESCRIPTION = (
    "a small transformer on gcd(a, b) (Zipf labels, β = 2): tail-cut data stall, real data mixed in "
    "recover the tail, and GCDs learned per generation of self-labelled data"
)


@dataclasses.dataclass(frozen=True)
class Config:
    width: int = 64
    heads: int = 4
    layers: int = 2
    batch: int = 256
    steps: int = 2000
    lr: float = 3e-3
    weight_decay: float = 1e-4
    eval_every: int = 100
    k: int = 4
    p1: float = 0.1
    generations: int = 4
    classes: int = 100
    val_size: int = 2048
    test_size: int = 8192
    per_gcd: int = 256
    seed: int = 0


QUICK = dict(
    width=32, layers=1, batch=128, steps=300, eval_every=30, generations=2, val_size=1024, test_size=2048, per_gcd=64
)


def _check(c: Config) -> None:
    for name in (
        "width",
        "heads",
        "layers",
        "batch",
        "steps",
        "eval_every",
        "classes",
        "val_size",
        "test_size",
        "per_gcd",
    ):
        check_range(name, getattr(c, name), 1)
    check_range("generations", c.generations, 2)
    check_range("k", c.k, 1, c.classes)
    check_range("p1", c.p1, 0.0, 1.0, strict_low=True)
    check_range("lr", c.lr, 0.0, strict_low=True)
    check_range("weight_decay", c.weight_decay, 0.0)
    if c.width % c.heads:
        raise ConfigError(f"heads={c.heads!r}: expected a divisor of width = {c.width}")


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    _check(c)
    key = jax.random.key(c.seed)
    k_train, k_eval = jax.random.split(key)
    options = dict(
        steps=c.steps,
        batch=c.batch,
        width=c.width,
        heads=c.heads,
        layers=c.layers,
        classes=c.classes,
        lr=c.lr,
        weight_decay=c.weight_decay,
        eval_every=c.eval_every,
        val_size=c.val_size,
    )
    sources = {
        "clean": dict(source="real"),
        f"cut k = {c.k}": dict(source="cut", k=c.k),
        f"cut k = {c.k} + π = {c.p1:g} real": dict(source="cut", k=c.k, p1=c.p1),
    }

    def run(label, **kw):
        model, hist = g.train(key=k_train, **options, **kw)
        ev = g.evaluate(model, key=k_eval, test_size=c.test_size, per_gcd=c.per_gcd)
        if progress:
            print(
                f"{NAME}: {label}: test error {1 - float(ev.accuracy):.4f}, {int(ev.learned)} GCDs learned", flush=True
            )
        return model, hist, ev

    runs = {name: run(name, **kw) for name, kw in sources.items()}
    generations = [runs["clean"]]  # gen 0 is the clean run
    for m in range(1, c.generations):
        generations.append(run(f"generation {m}", source="model", teacher=generations[-1][0]))

    def stack(results):
        hist = [np.asarray(h.val_loss) for _, h, _ in results]
        loss = [np.asarray(h.train_loss) for _, h, _ in results]
        err = [1.0 - float(ev.accuracy) for _, _, ev in results]
        per = [np.asarray(ev.per_gcd, dtype=float) for _, _, ev in results]
        learned = [int(ev.learned) for _, _, ev in results]
        best = [int(h.best_step) for _, h, _ in results]
        return np.stack(hist), np.stack(loss), np.asarray(err), np.stack(per), np.asarray(learned), np.asarray(best)

    a_err, a_loss, a_test, a_per, a_learned, a_best = stack(list(runs.values()))
    b_err, b_loss, b_test, b_per, b_learned, b_best = stack(generations)
    steps = np.asarray(runs["clean"][1].step)
    p = g.gcd_distribution()
    ds = xr.Dataset(
        {
            "error": (("run", "examples"), a_err),
            "train_loss": (("run", "examples"), a_loss),
            "test_error": (("run",), a_test),
            "learned": (("run",), a_learned),
            "gcd_accuracy": (("run", "gcd"), a_per),
            "best_examples": (("run",), a_best * c.batch),
            "gen_error": (("generation", "examples"), b_err),
            "gen_train_loss": (("generation", "examples"), b_loss),
            "gen_test_error": (("generation",), b_test),
            "gen_learned": (("generation",), b_learned),
            "gen_gcd_accuracy": (("generation", "gcd"), b_per),
            "p_gcd": (("gcd",), p[1 : c.classes + 1]),
        },
        coords={
            "run": list(runs),
            "examples": steps * c.batch,
            "generation": np.arange(c.generations),
            "gcd": np.arange(1, c.classes + 1),
        },
    )
    ds.attrs.update(
        k=c.k,
        p1=c.p1,
        classes=c.classes,
        batch=c.batch,
        steps=c.steps,
        width=c.width,
        heads=c.heads,
        layers=c.layers,
        learned_threshold=g.LEARNED,
        val_size=c.val_size,
        test_size=c.test_size,
        per_gcd=c.per_gcd,
        precision="float32 parameters and activations",
        cut_floor=float(p[c.k + 1 :].sum()),  # P(gcd > k): the error of a perfect model that never answers > k
        always_one_error=float(1 - p[1]),  # the error of answering gcd = 1 to everything
    )
    return ds


def _learned_list(acc, threshold):
    return [int(k) for k in np.nonzero(np.nan_to_num(acc) >= threshold)[0] + 1]


def summarize(ds):
    runs = [str(r) for r in ds["run"].values]
    thr = ds.attrs["learned_threshold"]
    test, learned = ds["test_error"].values, ds["learned"].values
    gen_test, gen_learned = ds["gen_test_error"].values, ds["gen_learned"].values
    lists = {r: _learned_list(ds["gcd_accuracy"].values[i], thr) for i, r in enumerate(runs)}
    gen_lists = [_learned_list(a, thr) for a in ds["gen_gcd_accuracy"].values]
    k, pi, T = ds.attrs["k"], ds.attrs["p1"], int(ds["examples"].values[-1])
    numbers = {
        "examples_seen": T,
        "test_error": {r: float(test[i]) for i, r in enumerate(runs)},
        "gcds_learned": {r: int(learned[i]) for i, r in enumerate(runs)},
        "learned_gcds": lists,
        "cut_floor": ds.attrs["cut_floor"],
        "always_one_error": ds.attrs["always_one_error"],
        "generation_test_error": [float(x) for x in gen_test],
        "generation_gcds_learned": [int(x) for x in gen_learned],
        "generation_learned_gcds": gen_lists,
    }
    clean, cut, mix = runs
    beyond = [x for x in lists[cut] if x > k]
    trend = "falls" if gen_learned[-1] < gen_learned[0] else "rises" if gen_learned[-1] > gen_learned[0] else "stays"
    finding = (
        f"After {T:,} training examples the clean model errs on {test[0]:.1%} of real pairs (answering 1 always: "
        f"{ds.attrs['always_one_error']:.1%}) and has learned {learned[0]} GCDs ({_short(lists[clean])}); with the "
        f"tail cut at k = {k} it errs on {test[1]:.1%} (above the floor P(gcd > {k}) = {ds.attrs['cut_floor']:.1%}) "
        f"and learns {learned[1]} ({_short(lists[cut])}{', none beyond ' + str(k) if not beyond else ''}); "
        f"mixing π = {pi:g} real data gives {test[2]:.1%} and {learned[2]} GCDs. Over {len(gen_learned)} generations "
        f"of self-labelled data the number of GCDs learned {trend} "
        f"({' → '.join(str(int(x)) for x in gen_learned)}) and the test error goes "
        f"{' → '.join(f'{x:.1%}' for x in gen_test)}."
    )
    return numbers, finding


def _short(ks, n=8):
    return ", ".join(map(str, ks[:n])) + (", …" if len(ks) > n else "") if ks else "none"


def figures(ds):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    fig, axes = plt.subplots(
        1, 3, figsize=(16, 4.8), constrained_layout=True, gridspec_kw={"width_ratios": [1.1, 0.9, 1.3]}
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax = axes[0]
    T = ds["examples"].values
    for i, r in enumerate(ds["run"].values):
        ax.semilogx(
            T, ds["error"].values[i], color=colors[i], lw=1.8, label=f"{r}: test {ds['test_error'].values[i]:.3f}"
        )
    ax.axhline(
        ds.attrs["cut_floor"], color=colors[1], ls="--", lw=1, label=f"P(gcd > {ds.attrs['k']}) (cut model's floor)"
    )
    ax.axhline(ds.attrs["always_one_error"], color="k", ls=":", lw=1, label="always answering gcd = 1")
    ax.set_xlabel("training examples seen (steps × batch)")
    ax.set_ylabel(f"test error on real pairs ({ds.attrs['val_size']} held out)")
    ax.set_title("(a) clean vs tail-cut vs mixed training data", fontsize=10)
    ax.set_ylim(0, max(0.5, float(np.nanmax(ds["error"].values[:, 1:])) * 1.05) if T.size > 1 else None)
    ticks = [t for t in (1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6) if T[0] <= t <= T[-1]]
    ax.set_xticks(ticks, [f"{t / 1e3:g}k" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=7.5)
    ax.grid(True, which="major", alpha=0.3)

    ax = axes[1]
    gens = ds["generation"].values
    ax.plot(gens, ds["gen_learned"].values, "o-", color=colors[0], lw=1.8, label="GCDs learned (≥ 90 % accuracy)")
    ax.set_xlabel("generation (0: real labels; m + 1: labels of gen m)")
    ax.set_ylabel("number of GCDs learned (of 1..K)", color=colors[0])
    ax.set_xticks(gens)
    ax.set_ylim(0, max(1, int(ds["gen_learned"].values.max())) * 1.2)
    twin = ax.twinx()
    twin.plot(gens, ds["gen_test_error"].values, "s--", color=colors[3], lw=1.5, label="test error")
    twin.set_ylabel("test error on real pairs", color=colors[3])
    twin.set_ylim(0, max(0.45, float(ds["gen_test_error"].values.max()) * 1.1))  # the scale of (a)
    twin.axhline(ds.attrs["always_one_error"], color="k", ls=":", lw=1)
    ax.set_title("(b) generations of self-labelled data", fontsize=10)
    ax.grid(True, alpha=0.3)

    ax = axes[2]
    K = min(ds.attrs["classes"], 50)  # the larger GCDs are out of reach at this scale
    rows = np.concatenate([ds["gcd_accuracy"].values, ds["gen_gcd_accuracy"].values[1:]])[:, :K]
    names = [str(r) for r in ds["run"].values] + [f"generation {m}" for m in gens[1:]]
    names[0] = "clean = generation 0"
    im = ax.imshow(
        rows,
        aspect="auto",
        cmap="viridis",
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(0.5, K + 0.5, len(rows) - 0.5, -0.5),
    )
    ax.set_yticks(range(len(rows)), names, fontsize=8)
    ax.set_xlabel("gcd k")
    ax.set_xticks(
        [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 40, 50][
            : np.searchsorted([1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 40, 50], K, "right")
        ]
    )
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(
        f"accuracy on pairs with gcd = k (k ≤ {K}); learned: ≥ {ds.attrs['learned_threshold']:.0%}", fontsize=10
    )
    fig.colorbar(im, ax=ax, shrink=0.85)
    fig.suptitle(
        f"Transformer on gcd(a, b), a, b ≤ 9999 (P(gcd = k) ≈ 6/(π²k²)): width {ds.attrs['width']}, "
        f"{ds.attrs['layers']} layers, {ds.attrs['heads']} heads, batch {ds.attrs['batch']}, {ds.attrs['steps']} steps, "
        f"classes 1..{ds.attrs['classes']} + other",
        fontsize=10,
    )
    return {NAME: fig}
