""" "Save": the picture on screen written as `jaxcollapse run` writes an experiment."""

from __future__ import annotations

import dataclasses
import pathlib
import time

import numpy as np

from .._results import Status

NAME = "explore"
DESCRIPTION = "a phase diagram saved from `jaxcollapse explore`: the collapse ratio over (x, p2) and where ∂E/∂x > 0"


def summarize(diagram) -> tuple[dict, str]:
    """Headline numbers and one sentence, from the diagram's data."""
    s = diagram.settings
    ratio, hurts = diagram.ratio, diagram.hurts
    finite = np.isfinite(ratio)
    below = diagram.x < diagram.threshold
    worst = float(np.max(ratio[finite])) if finite.any() else float("nan")
    what = "more data" if s.model == "ridge" else "a bigger model"
    where = "n < d" if s.model == "ridge" else "m < n"
    numbers = {
        "largest_collapse_ratio": worst,
        "hurt_share": float(hurts.mean()),
        "hurt_share_below_threshold": float(hurts[below].mean()) if below.any() else float("nan"),
        "points_not_ok": int((diagram.status != Status.OK).sum()),
    }
    if hurts[below].any():
        finding = (
            f"{what.capitalize()} raises the error on {100 * numbers['hurt_share_below_threshold']:.0f} % of the "
            f"grid below the threshold ({where}); the mixture's error reaches {worst:.3g}× the real-only error."
        )
    else:
        finding = (
            f"{what.capitalize()} never raises the error below the threshold ({where}) on this grid; "
            f"the mixture's error reaches {worst:.3g}× the real-only error."
        )
    return numbers, finding


def figure(diagram, p2_row: float = 0.5):
    """The diagram (ratio, hatched where the slope is > 0, its zero, the threshold) and the curves
    along x at the grid's p2 nearest `p2_row`."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    from ..experiments.phase_diagram import _boundary
    from ._render import CURVE_STYLE, ERROR_LABEL, P2_LABEL, RATIO_LABEL, _slope_label, _x_label

    s = diagram.settings
    x, p2 = diagram.x, diagram.p2
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    ratio = np.clip(diagram.ratio.T, 1.0, None)
    finite = np.isfinite(ratio)
    vmax = max(float(np.max(ratio[finite])) if finite.any() else 1.0, 1.01)
    im = ax.pcolormesh(x, p2, ratio, norm=LogNorm(vmin=1.0, vmax=vmax), cmap="magma", shading="auto", rasterized=True)
    _boundary(ax, x, p2, np.where(diagram.status == Status.OK, diagram.slope, np.nan).T)
    ax.axvline(diagram.threshold, color="white", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel(_x_label(s.model))
    ax.set_ylabel(P2_LABEL)
    ax.set_title(f"hatched: {_slope_label(s.model)}", fontsize=9)
    fig.colorbar(im, ax=ax, label=RATIO_LABEL)
    j = int(np.argmin(np.abs(p2 - p2_row)))
    lines = {
        "total": diagram.total[:, j],
        "bias": diagram.bias[:, j],
        "variance": diagram.variance[:, j],
        "collapse": diagram.collapse[:, j],
        "real": diagram.real,
    }
    for name, values in lines.items():
        style = CURVE_STYLE[name]
        (line,) = bx.plot(x, np.where(values > 0, values, np.nan), color=style["color"], label=style["label"])
        if style["dash"]:
            line.set_dashes(style["dash"])
    bx.axvline(diagram.threshold, color="grey", ls=":", lw=1)
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel(_x_label(s.model))
    bx.set_ylabel(ERROR_LABEL)
    bx.set_title(f"along the row p2 = {p2[j]:.2f}", fontsize=9)
    bx.legend(fontsize=8)
    fig.suptitle(_title(s), fontsize=10)
    return fig


def _title(s) -> str:
    from ._render import _spectrum_text

    model = {"random_projections": "Random projections", "random_features": f"Random features ({s.activation})"}
    text = (
        f"{model.get(s.model, 'Classical ridge')}: {_spectrum_text(s)}, d = {s.d}, tr ΣΔ = {s.quality:g}, λ = {s.lam:g}"
    )
    return text + ("" if s.model == "ridge" else f", d/n = {s.d_over_n:g}")


def next_folder(out) -> pathlib.Path:
    """`OUT/explore-001`, `-002`, …: the first that does not exist (saves never overwrite)."""
    out = pathlib.Path(out)
    k = 1
    while (out / f"{NAME}-{k:03d}").exists():
        k += 1
    return out / f"{NAME}-{k:03d}"


def save(diagram, out, *, p2_row: float = 0.5, computed: float = 0.0) -> pathlib.Path:
    """Write the diagram into a new `OUT/explore-NNN/` (figure, data.zarr, summary.json, report.md)."""
    from ..experiments._framework import outcome, write_outcome

    start = time.perf_counter()
    numbers, finding = summarize(diagram)
    result = outcome(
        name=NAME,
        description=DESCRIPTION,
        ds=diagram.to_dataset(),
        figs={NAME: figure(diagram, p2_row)},
        parameters=dataclasses.asdict(diagram.settings),
        numbers=numbers,
        finding=finding,
        quick=False,
        float32=False,
        devices=None,
        start=start - computed,
        computed=computed,
    )
    return write_outcome(next_folder(out), result)
