"""Pictures for the page, made on the server: the page only places what it is sent.

The diagram travels as two PNGs: the collapse ratio, one pixel per grid point, coloured on the
server (magma, log scale from 1); and an overlay about 512 pixels wide with the hatched region where the
slope is positive and its boundary (the zero of the slope, from a bilinear interpolation of its
sign). Axes, colour bar and curves come as tick positions (fractions of the picture) and SVG paths
in a fixed view box, so the page does no arithmetic on the numbers.
"""

from __future__ import annotations

import base64
import functools
import io
import math

import numpy as np

from .._results import Status, status_message

OVERLAY_PIXELS = 512  # the overlay is about this wide whatever the grid (4 × 128, 11 × 48)
CURVE_BOX = (1000, 560)  # the SVG view box of the curve panel
CURVES = ("total", "bias", "variance", "collapse", "real")
# One style for the curves, on the page (sent with its controls; the page sets its paths and legend
# from it) and in the saved figure (`_report.figure`): colour, dash pattern (on, off; None: solid).
CURVE_STYLE = {
    "total": {"label": "total", "color": "#111111", "dash": None},
    "bias": {"label": "bias B", "color": "#1f77b4", "dash": None},
    "variance": {"label": "variance V", "color": "#2ca02c", "dash": None},
    "collapse": {"label": "collapse ζ", "color": "#d62728", "dash": None},
    "real": {"label": "real data only", "color": "#999999", "dash": (6, 4)},
}
# Axis titles shared by the page and the saved figure (the x axis's depends on the model: `_x_label`)
P2_LABEL = "synthetic fraction p2"
RATIO_LABEL = "collapse ratio E_mix / E_real"
ERROR_LABEL = "test error on real data"
_HATCH = np.array([0, 229, 255, 200], np.uint8)  # cyan, the boundary's colour in the figures
_EDGE = np.array([0, 229, 255, 255], np.uint8)
_NAN = np.array([128, 128, 128], np.uint8)
_INF = np.array([255, 255, 255], np.uint8)


def _png(pixels: np.ndarray, palette: np.ndarray | None = None) -> str:
    """A data URI of `pixels` (RGB), or of indices into `palette` (RGBA rows)."""
    from PIL import Image

    buffer = io.BytesIO()
    image = Image.fromarray(pixels)
    if palette is not None:
        image = image.convert("P") if image.mode != "P" else image
        image.putpalette(palette[:, :3].ravel().tolist())
        image.info["transparency"] = bytes(palette[:, 3].tolist())
    image.save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _colours(values: np.ndarray, vmax: float) -> np.ndarray:
    """RGB of `values` (≥ 1, log scale up to vmax); NaN grey, +inf white."""
    import matplotlib

    finite = np.isfinite(values)
    clipped = np.clip(np.where(finite, values, 1.0), 1.0, vmax)
    t = np.log(clipped) / math.log(vmax)
    rgb = (matplotlib.colormaps["magma"](t)[..., :3] * 255).astype(np.uint8)
    rgb[np.isnan(values)] = _NAN
    rgb[np.isposinf(values)] = _INF
    return rgb


def _image(field: np.ndarray) -> np.ndarray:
    """A `[x, p2]` field as picture rows (top row: p2 = 1)."""
    return np.swapaxes(field, 0, 1)[::-1]


@functools.cache
def _interpolation(size: int, scale: int) -> np.ndarray:
    """The `(size·scale, size)` matrix of linear interpolation at the finer grid's pixel centres."""
    c = np.clip((np.arange(size * scale) + 0.5) / scale - 0.5, 0, size - 1)
    i0 = np.floor(c).astype(int)
    i1 = np.minimum(i0 + 1, size - 1)
    w = (c - i0).astype(np.float32)
    out = np.zeros((size * scale, size), np.float32)
    rows = np.arange(size * scale)
    out[rows, i0] += 1 - w
    out[rows, i1] += w
    return out


def _upsample(field: np.ndarray, scale: int) -> np.ndarray:
    """Bilinear upsampling by `scale` (pixel centres): two small matrix products."""
    rows = _interpolation(field.shape[0], scale)
    cols = _interpolation(field.shape[1], scale)
    return rows @ field.astype(np.float32) @ cols.T


_OVERLAY_PALETTE = np.array([[0, 0, 0, 0], _HATCH, _EDGE], np.uint8)


def _overlay(hurts: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Palette indices: 1 (hatching) where `hurts`, 2 (a line) where it changes, 0 (clear) elsewhere."""
    scale = max(1, round(OVERLAY_PIXELS / hurts.shape[0]))
    inside = _upsample(_image(np.where(hurts, 1.0, -1.0)), scale) > 0
    known = _upsample(_image(valid.astype(float)), scale) > 0.5
    out = np.where(inside & _stripes(inside.shape) & known, 1, 0).astype(np.uint8)
    edge = np.zeros_like(inside)
    edge[:, 1:] |= inside[:, 1:] != inside[:, :-1]
    edge[1:, :] |= inside[1:, :] != inside[:-1, :]
    out[edge & known] = 2
    return out


@functools.cache
def _stripes(shape) -> np.ndarray:
    rows, cols = np.indices(shape)
    return (rows + cols) % 8 < 2


def _nice(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks in [lo, hi] (log axis), or decades if there are too many."""
    values = []
    for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
        for c in (1, 2, 5):
            v = c * 10.0**k
            if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
                values.append(v)
    if len(values) > 9:
        values = [v for v in values if f"{v:g}".lstrip("0.").startswith("1")]
    return values


def _label(v: float) -> str:
    return f"{v:g}"


def _grid_position(values: np.ndarray, v: float, log: bool) -> float:
    """Where `v` falls on a picture of `values` (one pixel per grid point): a fraction in [0, 1]."""
    f = np.log if log else np.asarray
    lo, hi = f(values[0]), f(values[-1])
    index = (f(v) - lo) / (hi - lo) * (values.size - 1)
    return float((index + 0.5) / values.size)


def _x_label(model: str) -> str:
    return "sample size / dimension  n/d" if model == "ridge" else "width / sample size  m/n"


def _slope_label(model: str) -> str:
    return "∂E/∂n > 0: more data hurts" if model == "ridge" else "∂E/∂m > 0: a bigger model hurts"


def picture(diagram) -> dict:
    """The diagram as the page shows it (JSON-able)."""
    s = diagram.settings
    ratio = diagram.ratio
    finite = np.isfinite(ratio)
    vmax = max(float(np.max(ratio[finite])) if finite.any() else 1.0, 1.01)
    heat = _colours(np.where(finite, np.maximum(ratio, 1.0), ratio), vmax)
    valid = diagram.status == Status.OK
    ticks = [v for v in _nice(1.0, vmax) if v <= vmax]
    x = diagram.x
    codes, counts = np.unique(diagram.status, return_counts=True)
    problems = [f"{c} points: {status_message(k)}" for k, c in zip(codes, counts) if k != Status.OK]
    below = x < diagram.threshold
    hurts = diagram.hurts
    model_name = {"random_projections": "random projections", "random_features": f"random features ({s.activation})"}
    title = f"{model_name.get(s.model, 'classical ridge')}, {_spectrum_text(s)}, tr ΣΔ = {s.quality:g}, λ = {s.lam:g}"
    if s.model != "ridge":
        title += f", d/n = {s.d_over_n:g}"
    return {
        "heat": _png(_image(heat)),
        "overlay": _png(_overlay(hurts, valid), _OVERLAY_PALETTE),
        "colorbar": _colorbar(),
        "colorbar_ticks": [{"pos": 1 - math.log(v) / math.log(vmax), "label": _label(v)} for v in ticks],
        "x_ticks": [{"pos": _grid_position(x, v, True), "label": _label(v)} for v in _nice(x[0], x[-1])],
        "y_ticks": [
            {"pos": 1 - _grid_position(diagram.p2, v, False), "label": _label(v)} for v in (0, 0.25, 0.5, 0.75, 1)
        ],
        "threshold": _grid_position(x, diagram.threshold, True),
        "threshold_label": "n = d" if s.model == "ridge" else "m = n",
        "x_label": _x_label(s.model),
        "slope_label": _slope_label(s.model),
        "title": title,
        "largest_ratio": f"{vmax:.3g}",
        "hurt_share": f"{100 * hurts.mean():.0f} %",
        "hurt_share_below": f"{100 * hurts[below].mean():.0f} %" if below.any() else "—",
        "problems": problems,
    }


@functools.cache
def _colorbar() -> str:
    """The colour bar (top: the largest ratio): the same picture for every scale, log from 1."""
    return _png(_colours(np.geomspace(10.0, 1.0, 200)[:, None].repeat(12, axis=1), 10.0))


def _spectrum_text(s) -> str:
    return f"power law β = {s.beta:g}" if s.spectrum == "power_law" else "isotropic Σ"


def _path(fx: np.ndarray, fy: np.ndarray) -> str:
    """An SVG path through the finite points of (fx, fy) ∈ [0, 1]² (y up), broken at the others."""
    width, height = CURVE_BOX
    parts, pen = [], "M"
    for a, b in zip(fx, fy):
        if not (np.isfinite(a) and np.isfinite(b)):
            pen = "M"
            continue
        parts.append(f"{pen}{a * width:.1f} {(1 - b) * height:.1f}")
        pen = "L"
    return " ".join(parts)


def _fraction(values: np.ndarray, lo: float, hi: float, log: bool) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.log(values) if log else values
        a, b = (math.log(lo), math.log(hi)) if log else (lo, hi)
        return (f - a) / (b - a)


def curve(diagram, fx: float, fy: float, along: str) -> dict:
    """The curves (B, V, ζ, total and the real-only error) along the row or column of the point at
    fractions (fx, fy) of the picture (fy from the top), and that point's numbers."""
    if along not in ("x", "p2"):
        raise ValueError(f"along: expected 'x' or 'p2', got {along!r}")
    if not (0 <= fx <= 1 and 0 <= fy <= 1):
        raise ValueError(f"fx, fy: expected fractions in [0, 1], got {fx!r}, {fy!r}")
    size_x, size_p = diagram.x.size, diagram.p2.size
    i = min(int(fx * size_x), size_x - 1)
    j = min(int((1 - fy) * size_p), size_p - 1)
    s = diagram.settings
    values = {
        "total": diagram.total,
        "bias": diagram.bias,
        "variance": diagram.variance,
        "collapse": diagram.collapse,
        "real": np.broadcast_to(diagram.real[:, None], diagram.total.shape),
    }
    ok = diagram.status == Status.OK
    if along == "x":
        axis, log, cut, at = diagram.x, True, (slice(None), j), i
        title = f"along {_x_label(s.model).split('  ')[-1]} at p2 = {diagram.p2[j]:.3g}"
        x_label = _x_label(s.model)
    else:
        axis, log, cut, at = diagram.p2, False, (i, slice(None)), j
        name = "n/d" if s.model == "ridge" else "m/n"
        title = f"along p2 at {name} = {diagram.x[i]:.3g}"
        x_label = "synthetic fraction  p2"
    lines = {k: np.where(ok[cut], v[cut], np.nan) for k, v in values.items()}
    positive = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in lines.values()])
    lo, hi = (float(positive.min()), float(positive.max())) if positive.size else (1e-3, 1.0)
    lo, hi = lo / 1.3, hi * 1.3
    fxs = _fraction(axis, axis[0], axis[-1], log)
    with np.errstate(invalid="ignore"):
        paths = {k: _path(fxs, _fraction(np.where(v > 0, v, np.nan), lo, hi, True)) for k, v in lines.items()}
    point = {
        "x": f"{diagram.x[i]:.4g}",
        "p2": f"{diagram.p2[j]:.3f}",
        "ratio": f"{diagram.ratio[i, j]:.4g}",
        "total": f"{diagram.total[i, j]:.4g}",
        "bias": f"{diagram.bias[i, j]:.4g}",
        "variance": f"{diagram.variance[i, j]:.4g}",
        "collapse": f"{diagram.collapse[i, j]:.4g}",
        "slope": "positive (hurts)" if diagram.hurts[i, j] else "negative or zero (helps)",
        "status": status_message(int(diagram.status[i, j])),
    }
    x_name, slope_name = ("n/d", "∂E/∂n") if s.model == "ridge" else ("m/n", "∂E/∂m")
    labels = {
        "x": x_name,
        "p2": "p2",
        "ratio": "E_mix / E_real",
        "total": "total E",
        "bias": "bias B",
        "variance": "variance V",
        "collapse": "collapse ζ",
        "slope": slope_name,
        "status": "status",
    }
    x_ticks = _nice(axis[0], axis[-1]) if log else [0, 0.25, 0.5, 0.75, 1]
    return {
        "readout": [[labels[k], v] for k, v in point.items()],
        "title": title,
        "x_label": x_label,
        "paths": paths,
        "marker": float(fxs[at]),
        "x_ticks": [
            {"pos": float(_fraction(np.array(v), axis[0], axis[-1], log)), "label": _label(v)} for v in x_ticks
        ],
        "y_ticks": [{"pos": float(_fraction(np.array(v), lo, hi, True)), "label": _label(v)} for v in _nice(lo, hi)],
        "point": point,
        "threshold": float(_fraction(np.array(diagram.threshold), axis[0], axis[-1], log)) if log else None,
    }
