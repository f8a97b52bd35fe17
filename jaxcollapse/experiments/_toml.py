"""`jaxcollapse sweep CONFIG.toml`: a user-defined sweep of a theory kernel.

```toml
name = "rp-grid"                 # output folder name (default: the file's stem)

[problem]
spectrum = "power_law"           # "power_law" or "isotropic"
d = 1000
beta = 1.5                       # power law only
source = 0.5                     # optional, power law only
signal = 1.0                     # tr(ΣΓ)
shift = 0.5                      # tr(ΣΔ), the synthetic data's quality
noise_var = 0.1
synthetic_noise_var = 0.1        # optional
compress = true                  # optional: quadrature nodes instead of the d eigenvalues

[kernel]
name = "random_projections"      # "ridge" or "random_projections" (theory)
lam = 1e-3                       # fixed keyword values of the kernel

[axes]                           # the grid: each a list, or a range
n = { geomspace = [100, 1e5, 64] }
m = { linspace = [10, 2000, 64] }
p2 = [0.0, 0.2, 0.5]

[output]
fields = ["total", "collapse"]   # optional subset of the result fields
plot = "n"                       # optional: the axis of the figure's x (default: the first axis)
```

Writes `OUT/NAME/`: `data.zarr`, `summary.json`, `report.md` and `NAME.png`/`.pdf` (the total
against the plotted axis, one line per value of the next axis, the others at their first value).
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
import tomllib

import numpy as np

from ._framework import ConfigError

_PROBLEM_KEYS = {
    "spectrum": str,
    "d": int,
    "beta": float,
    "source": float,
    "signal": float,
    "shift": float,
    "noise_var": float,
    "synthetic_noise_var": float,
    "compress": bool,
}
_KERNELS = {"ridge": ("n", "p2", "lam", "weight"), "random_projections": ("n", "m", "p2", "lam")}
_RESULT_FIELDS = ("total", "bias", "variance", "collapse", "kappa", "theta", "status")


def load(path) -> dict:
    path = pathlib.Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the config file ({err.strerror})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    unknown = set(raw) - {"name", "problem", "kernel", "axes", "output"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown section or key {sorted(unknown)[0]!r} (expected name, [problem], [kernel], [axes], [output])"
        )
    for section in ("problem", "kernel", "axes"):
        if not isinstance(raw.get(section), dict):
            raise ConfigError(f"{path}: missing section [{section}]")
    raw.setdefault("name", path.stem)
    return raw


def _typed(section, key, value, kind):
    ok = (
        isinstance(value, bool)
        if kind is bool
        else isinstance(value, str)
        if kind is str
        else isinstance(value, int) and not isinstance(value, bool)
        if kind is int
        else isinstance(value, (int, float)) and not isinstance(value, bool)
    )
    if not ok:
        expected = {bool: "true or false", str: "a string", int: "an integer", float: "a number"}[kind]
        raise ConfigError(f"[{section}] {key} = {value!r}: expected {expected}")
    return value


def problem(cfg):
    from .._compress import compress
    from .._problem import isotropic, power_law

    p = dict(cfg["problem"])
    for key, value in p.items():
        if key not in _PROBLEM_KEYS:
            raise ConfigError(f"[problem] {key}: unknown key (expected one of {', '.join(_PROBLEM_KEYS)})")
        _typed("problem", key, value, _PROBLEM_KEYS[key])
    spectrum = p.pop("spectrum", "power_law")
    squeeze = p.pop("compress", False)
    if "d" not in p:
        raise ConfigError("[problem] d: missing (the dimension, an integer ≥ 1)")
    try:
        if spectrum == "power_law":
            if "beta" not in p:
                raise ConfigError("[problem] beta: missing (the power-law exponent, a number > 0)")
            mix = power_law(p.pop("d"), p.pop("beta"), **p)
        elif spectrum == "isotropic":
            if "beta" in p or "source" in p:
                raise ConfigError('[problem] beta/source: only for spectrum = "power_law"')
            mix = isotropic(p.pop("d"), **p)
        else:
            raise ConfigError(f'[problem] spectrum = {spectrum!r}: expected "power_law" or "isotropic"')
    except ConfigError:
        raise
    except ValueError as err:
        raise ConfigError(f"[problem] {err}") from None
    return compress(mix) if squeeze else mix


def axis_values(name, spec):
    where = f"[axes] {name} = {spec!r}"
    if isinstance(spec, list):
        values = spec
    elif isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in ("linspace", "geomspace"):
        ((how, args),) = spec.items()
        if not (
            isinstance(args, list)
            and len(args) == 3
            and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args)
        ):
            raise ConfigError(f"{where}: expected {how} = [start, stop, count]")
        start, stop, count = args
        if count != int(count) or count < 1:
            raise ConfigError(f"{where}: count must be a positive integer")
        if how == "geomspace" and (start <= 0 or stop <= 0):
            raise ConfigError(f"{where}: geomspace needs start and stop > 0")
        values = getattr(np, how)(start, stop, int(count)).tolist()
    else:
        raise ConfigError(
            f"{where}: expected a list of numbers or {{ linspace = [a, b, k] }} / {{ geomspace = [a, b, k] }}"
        )
    if not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise ConfigError(f"{where}: expected a non-empty list of numbers")
    return np.asarray(values, dtype=float)


def kernel(cfg, mix):
    from .. import theory

    k = dict(cfg["kernel"])
    name = k.pop("name", None)
    if name not in _KERNELS:
        raise ConfigError(f"[kernel] name = {name!r}: expected one of {', '.join(map(repr, _KERNELS))}")
    allowed = _KERNELS[name]
    for key, value in k.items():
        if key not in allowed:
            raise ConfigError(f"[kernel] {key}: not a keyword of {name} (keywords: {', '.join(allowed)})")
        _typed("kernel", key, value, float)
    fn = getattr(theory, name)
    return name, functools.partial(fn, mix, **{key: float(v) for key, v in k.items()}), allowed, set(k)


@dataclasses.dataclass(frozen=True)
class _Module:
    """The pieces `_framework.run` expects of an experiment, for one TOML file."""

    NAME: str
    DESCRIPTION: str
    compute: object
    summarize: object
    figures: object


def run_file(path, out, *, progress=True, float32=False):
    """Run the sweep a TOML file describes as an experiment: the same files as `jaxcollapse run`."""
    from ._framework import run

    cfg = load(path)
    if not isinstance(cfg["name"], str) or not cfg["name"].strip() or "/" in cfg["name"]:
        raise ConfigError(f"name = {cfg['name']!r}: expected a folder name (a non-empty string without '/')")
    kname, fn, allowed, fixed = kernel(cfg, problem(cfg))
    axes = _axes(cfg, kname, allowed, fixed)
    fields, plot_axis = _output(cfg, axes)
    module = _Module(
        cfg["name"],
        f"user sweep of {kname} over {', '.join(axes)} ({path})",
        functools.partial(_compute, fn, axes, fields),
        functools.partial(_summarize, kname),
        functools.partial(_figures, kname, cfg["name"], plot_axis),
    )
    settings = _Settings(file=str(path), settings=cfg)
    return run(module, settings, out, devices=None, progress=progress, float32=float32)


def _axes(cfg, kname, allowed, fixed):
    """The `[axes]` table checked against the kernel's keywords and the fixed `[kernel]` values."""
    axes = {}
    for key, spec in cfg["axes"].items():
        if key not in allowed:
            raise ConfigError(f"[axes] {key}: not a keyword of {kname} (keywords: {', '.join(allowed)})")
        if key in fixed:
            raise ConfigError(f"[axes] {key}: also fixed in [kernel]; give it in one place")
        axes[key] = axis_values(key, spec)
    if not axes:
        raise ConfigError("[axes]: give at least one axis")
    missing = [k for k in allowed if k not in axes and k not in fixed and k != "weight"]
    if missing:
        raise ConfigError(f"[kernel]/[axes] {missing[0]}: missing (a fixed value in [kernel] or an axis in [axes])")
    return axes


def _output(cfg, axes):
    """`(fields, plot_axis)` from the optional `[output]` table."""
    output = cfg.get("output", {})
    fields = output.get("fields", list(_RESULT_FIELDS))
    if not isinstance(fields, list) or not all(f in _RESULT_FIELDS for f in fields):
        raise ConfigError(f"[output] fields = {fields!r}: expected a list of {', '.join(_RESULT_FIELDS)}")
    plot_axis = output.get("plot", next(iter(axes)))
    if plot_axis not in axes:
        raise ConfigError(f"[output] plot = {plot_axis!r}: expected one of the axes {', '.join(axes)}")
    return fields, plot_axis


def _compute(fn, axes, fields, _config, *, devices=None, progress=False):
    from .._sweep import sweep

    ds = sweep(fn, axes, progress=progress, devices=devices)
    keep = [f for f in fields if f in ds.data_vars]
    if "total" not in keep and "total" in ds.data_vars:
        keep = ["total"] + keep
    ds = ds[keep]
    ds.attrs = {k: v for k, v in ds.attrs.items() if isinstance(v, (str, int, float))}
    return ds


def _summarize(kname, ds):
    total = ds["total"].values
    finite = np.isfinite(total)
    i = np.unravel_index(np.argmin(np.where(finite, total, np.inf)), total.shape)
    best = {d: float(ds[d].values[k]) for d, k in zip(ds["total"].dims, i)}
    numbers = {
        "points": int(total.size),
        "finite_points": int(finite.sum()),
        "min_total": float(total[i]),
        "argmin": best,
        "max_total_finite": float(np.max(total[finite])) if finite.any() else None,
    }
    where = ", ".join(f"{k} = {v:g}" for k, v in best.items())
    finding = f"Over {total.size} points of {kname}, the smallest test error is {total[i]:.4g} at {where}."
    return numbers, finding


def _figures(kname, name, plot_axis, ds):
    """`total` along `plot_axis`, one line per value of the next axis (at most 8), the rest at
    their first value."""
    import matplotlib.pyplot as plt

    total = ds["total"]
    others = [d for d in total.dims if d != plot_axis]
    sel = {d: 0 for d in others[1:]}
    line_dim = others[0] if others else None
    data = total.isel(sel) if sel else total
    fig, ax = plt.subplots(figsize=(6.4, 4.4), constrained_layout=True)
    x = ds[plot_axis].values
    if line_dim is None:
        ax.plot(x, data.values, lw=1.6)
    else:
        values = ds[line_dim].values
        for k in np.unique(np.linspace(0, values.size - 1, min(values.size, 8)).round().astype(int)):
            ax.plot(
                x, data.isel({line_dim: k}).transpose(plot_axis).values, lw=1.6, label=f"{line_dim} = {values[k]:g}"
            )
        ax.legend(fontsize=7)
    if np.all(x > 0) and x.max() / x.min() > 50:
        ax.set_xscale("log")
    y = data.values[np.isfinite(data.values)]
    if y.size and np.all(y > 0):
        ax.set_yscale("log")
    ax.set_xlabel(plot_axis)
    ax.set_ylabel("test error (total)")
    fixed_text = ", ".join(f"{d} = {float(ds[d].values[0]):g}" for d in sel)
    ax.set_title(f"{kname}" + (f" ({fixed_text})" if fixed_text else ""), fontsize=9)
    return {name: fig}


@dataclasses.dataclass(frozen=True)
class _Settings:
    """A TOML sweep's settings: the file and what it holds (recorded in summary.json)."""

    file: str
    settings: dict
