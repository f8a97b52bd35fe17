"""Real images with synthetic labels (`jc.nn.digits`): scikit-learn's bundled 8×8 digits, a ridge
generator fitted to `generator_size` real images labels the synthetic share p2 of the training set,
two-layer relu networks of several widths are trained on the mixture (AdamW, early stopping on a
real validation split), and judged on the real test split.

Panel 1: real test accuracy against p2 at the largest n, one line per width, the generator's own
accuracy dashed. Panel 2: real test accuracy against n for each p2 (the widest network): more data
helps real-only training and helps less and less as p2 grows, the collapse floor of the linear theory
seen in a network. Panel 3: real test squared error against width for each p2 at the largest n.

Needs scikit-learn: `pip install 'jaxcollapse[images]'`.
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from ._framework import check_range, training_numbers

NAME = "nn-digits"
DESCRIPTION = "8×8 digits, labels of a weak ridge generator as synthetic data: trained two-layer networks' real test accuracy against p2, n and width"


@dataclasses.dataclass(frozen=True)
class Config:
    ns: tuple[int, ...] = (200, 500, 1000)
    p2s: tuple[float, ...] = (0.0, 0.1, 0.2, 0.5, 1.0)
    widths: tuple[int, ...] = (16, 64, 256)
    generator_size: int = 40  # real images the generator is fitted to: the quality knob
    generator_lam: float = 1.0
    steps: int = 600
    lr: float = 3e-3
    weight_decay: float = 1e-4
    eval_every: int = 25
    patience: int = 8
    trials: int = 4
    seed: int = 0


QUICK = dict(ns=(150, 600), p2s=(0.0, 0.5), widths=(32,), steps=300, eval_every=20, trials=3)


def compute(c: Config, *, devices=None, progress=False):
    import xarray as xr

    from ..nn import digits

    digits.load()  # a missing scikit-learn says how to install it before anything else runs
    check_range("trials", c.trials, 2)
    check_range("steps", c.steps, 1)
    check_range("lr", c.lr, 0.0, strict_low=True)
    check_range("generator_size", c.generator_size, 11)  # ridge on fewer images than classes is not a generator
    for n in c.ns:
        check_range("ns", n, 1)
    for p in c.p2s:
        check_range("p2s", p, 0.0, 1.0)
    for m in c.widths:
        check_range("widths", m, 1)
    shape = (len(c.widths), len(c.ns), len(c.p2s))
    acc, acc_sem, sq, sq_sem, steps_taken = (np.empty(shape) for _ in range(5))
    first, last = np.empty(shape), np.empty(shape)
    key = jax.random.key(c.seed)
    for i, m in enumerate(c.widths):
        a, s, gen, hist = digits.train_on_digits(
            n=np.asarray(c.ns)[:, None],
            m=int(m),
            p2=np.asarray(c.p2s)[None, :],
            trials=c.trials,
            key=key,
            generator_size=c.generator_size,
            generator_lam=c.generator_lam,
            steps=c.steps,
            lr=c.lr,
            weight_decay=c.weight_decay,
            eval_every=c.eval_every,
            patience=c.patience,
        )
        acc[i], acc_sem[i], sq[i], sq_sem[i] = (np.asarray(x) for x in (a.mean, a.sem, s.mean, s.sem))
        first[i], last[i], steps_taken[i] = hist.trial_means()
        if progress:
            print(f"  width {m}: done")
    dims = ("width", "n", "p2")
    gen = np.asarray(gen)
    ds = xr.Dataset(
        {
            "accuracy": (dims, acc),
            "accuracy_sem": (dims, acc_sem),
            "squared_error": (dims, sq),
            "squared_error_sem": (dims, sq_sem),
            "generator_accuracy": (("trial",), gen),
            "first_train_loss": (dims, first),
            "last_train_loss": (dims, last),
            "steps_taken": (dims, steps_taken),
        },
        coords={
            "width": np.asarray(c.widths),
            "n": np.asarray(c.ns),
            "p2": np.asarray(c.p2s),
            "trial": np.arange(c.trials),
        },
    )
    ds.attrs.update(
        generator_size=c.generator_size,
        trials=c.trials,
        steps=c.steps,
        model="two-layer relu networks on one-hot squared loss; real images, generator labels",
    )
    return ds


def figures(ds):
    import matplotlib.pyplot as plt

    widths, ns, p2s = ds["width"].values, ds["n"].values, ds["p2"].values
    big = ns.max()
    gen = float(ds["generator_accuracy"].mean())
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    wc = plt.cm.plasma(np.linspace(0.0, 0.8, len(widths)))
    pc = plt.cm.viridis(np.linspace(0.0, 0.85, len(p2s)))
    for i, m in enumerate(widths):
        sel = ds.sel(width=m, n=big)
        axes[0].errorbar(
            p2s, sel["accuracy"], 2 * sel["accuracy_sem"], marker="o", capsize=2, color=wc[i], label=f"width {m}"
        )
    axes[0].axhline(gen, ls="--", color="k", lw=1, label=f"generator ({ds.attrs['generator_size']} images)")
    axes[0].set(xlabel="synthetic fraction p2", ylabel="real test accuracy", title=f"n = {big}")
    axes[0].legend(fontsize=7)
    wide = ds.sel(width=widths.max())
    for j, p2 in enumerate(p2s):
        sel = wide.sel(p2=p2)
        axes[1].errorbar(
            ns, 1 - sel["accuracy"], 2 * sel["accuracy_sem"], marker="o", capsize=2, color=pc[j], label=f"p2 = {p2:g}"
        )
        big_sel = ds.sel(n=big, p2=p2)
        axes[2].errorbar(
            widths,
            big_sel["squared_error"],
            2 * big_sel["squared_error_sem"],
            marker="o",
            capsize=2,
            color=pc[j],
            label=f"p2 = {p2:g}",
        )
    axes[1].set(
        xscale="log",
        yscale="log",
        xlabel="training images n",
        ylabel="real test error rate",
        title=f"width {widths.max()}",
    )
    axes[1].legend(fontsize=7)
    axes[2].set(xscale="log", yscale="log", xlabel="width m", ylabel="real test squared error", title=f"n = {big}")
    axes[2].legend(fontsize=7)
    for ax, ticks in ((axes[1], ns), (axes[2], widths)):
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.xaxis.set_minor_locator(plt.NullLocator())
    fig.suptitle("digits: trained two-layer networks on real images with generator labels")
    fig.tight_layout()
    return {NAME: fig}


def summarize(ds):
    ns, p2s = ds["n"].values, ds["p2"].values
    big, small = ns.max(), ns.min()
    hi = 0.5 if 0.5 in p2s else p2s.max()
    best = ds["accuracy"].max("width")
    real = float(best.sel(n=big, p2=0.0)) if 0.0 in p2s else float("nan")
    mixed = float(best.sel(n=big, p2=hi))
    err_gain = lambda p: float((1 - best.sel(n=small, p2=p)) / (1 - best.sel(n=big, p2=p)))  # noqa: E731
    numbers = {
        "generator_accuracy": float(ds["generator_accuracy"].mean()),
        "best_accuracy_real_only_largest_n": real,
        f"best_accuracy_p2_{hi:g}_largest_n": mixed,
        "accuracy_largest_n_per_p2": [float(best.sel(n=big, p2=p)) for p in p2s],
        "error_rate_gain_from_more_data_real_only": err_gain(0.0) if 0.0 in p2s else float("nan"),
        f"error_rate_gain_from_more_data_p2_{hi:g}": err_gain(hi),
        **training_numbers(ds),
    }
    finding = (
        f"With {big} training images the best network reaches {real:.3f} real test accuracy on real labels and "
        f"{mixed:.3f} when a share p2 = {hi:g} is labelled by a {numbers['generator_accuracy']:.2f}-accurate generator; "
        f"going from n = {small} to {big} cuts the real-only error rate {numbers['error_rate_gain_from_more_data_real_only']:.2f}× "
        f"but the p2 = {hi:g} error rate only {numbers[f'error_rate_gain_from_more_data_p2_{hi:g}']:.2f}×."
    )
    return numbers, finding
