"""What every named experiment is, and how a run writes its outputs.

An experiment is a module with:

- `NAME`, `DESCRIPTION` (one line), `Config` (a frozen dataclass: every default in one place) and
  `QUICK` (the overrides of `--quick`: under a minute on 2 cores);
- `compute(config, *, devices=None, progress=False) -> xarray.Dataset` (the numbers, no I/O);
- `figures(ds) -> {name: Figure}` (drawn from the Dataset alone, so a saved run can be redrawn);
- `summarize(ds) -> (numbers, finding)`: a dict of headline numbers and one sentence computed
  from the data.

`compute_outcome` ties them together in memory (an `Outcome`: the Dataset, the figures, the summary
and the report); `run` also writes it (`write_outcome`) into `OUT/NAME/`: `NAME.png` and `.pdf` per
figure, `data.zarr` (the Dataset), `summary.json` and `report.md`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import time
import typing

import numpy as np


class ConfigError(ValueError):
    """A bad `--set` value or config-file entry (the message names the key, value and expectation)."""


def make_config(module, *, quick: bool = False, overrides: dict[str, str] | None = None, trials: int | None = None):
    """The experiment's config: defaults, then `QUICK` if asked, then `--trials`, then `--set` overrides."""
    config = module.Config()
    if quick:
        config = dataclasses.replace(config, **module.QUICK)
    fields = {f.name for f in dataclasses.fields(config)}
    if trials is not None:
        if "trials" not in fields:
            raise ConfigError(f"--trials: experiment {module.NAME} has no simulation (no 'trials' setting)")
        config = dataclasses.replace(config, trials=trials)
    for key, text in (overrides or {}).items():
        config = dataclasses.replace(config, **{key: parse_value(config, key, text)})
    return config


def parse_value(config, key: str, text):
    """`text` (a string, or a TOML value) converted to the type of `config.key`, or a `ConfigError`."""
    hints = typing.get_type_hints(type(config))
    if key not in hints:
        known = ", ".join(sorted(hints))
        raise ConfigError(f"unknown setting {key!r} (settings: {known})")
    kind = hints[key]
    origin = typing.get_origin(kind)
    try:
        if origin is tuple:
            (inner, *_) = typing.get_args(kind)
            items = text if isinstance(text, (list, tuple)) else [t for t in str(text).split(",") if t.strip()]
            if not items:
                raise ValueError
            return tuple(_scalar(inner, item) for item in items)
        return _scalar(kind, text)
    except (TypeError, ValueError):
        expected = _describe(kind)
        raise ConfigError(f"{key}={text!r}: expected {expected}") from None


def _scalar(kind, value):
    if kind is bool:
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError
    if kind is int:
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, bool) or not float(number).is_integer():
            raise ValueError
        return int(number)
    if kind is float:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
        return number
    if kind is str:
        if not isinstance(value, str):
            raise ValueError
        return value.strip()
    raise TypeError(kind)


def _describe(kind) -> str:
    if typing.get_origin(kind) is tuple:
        inner = typing.get_args(kind)[0]
        plural = {bool: "true/false values", int: "integers", float: "finite numbers", str: "strings"}
        return f"a comma-separated list of {plural.get(inner, str(inner))}"
    return {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}.get(kind, str(kind))


def sim_gap(mean, sem, ref):
    """Largest |simulation − theory| in standard errors and in % of the theory (finite points)."""
    mean, sem, ref = (np.asarray(x, dtype=float) for x in (mean, sem, ref))
    gap = np.abs(mean - ref)
    ok = np.isfinite(gap) & (sem > 0)
    z = np.where(ok, gap / np.where(ok, sem, 1.0), 0.0)
    pct = np.where(ok, 100 * gap / np.abs(np.where(ok, ref, 1.0)), 0.0)
    return float(z.max()), float(pct.max())


AGREE_SE = 3.0  # simulation "agrees" with theory only when every point is within this many standard errors


def agreement(z, pct, what="the theory", start=False) -> str:
    """How a simulation compares with `what`, in words the data support (a clause; `start`: opening
    a sentence): it
    "agrees" only within the stated tolerance of `AGREE_SE` standard errors at every point; both the
    largest gap in standard errors (`z`) and in per cent (`pct`) are always given."""
    if start:
        clause = agreement(z, pct, what)
        return clause[0].upper() + clause[1:]
    if not np.isfinite(z):
        return f"simulation could not be compared with {what} (no point with a finite standard error)"
    if z <= AGREE_SE:
        wide = "; with these trials that band is wide, so this is a weak check" if pct > 5.0 else ""
        return (
            f"simulation agrees with {what} within {AGREE_SE:g} standard errors at every simulated point "
            f"(largest gap {z:.1f} s.e., {pct:.1f} %{wide})"
        )
    return (
        f"simulation departs from {what} by up to {z:.1f} standard errors ({pct:.1f} %), beyond the "
        f"{AGREE_SE:g} s.e. that would count as agreement"
    )


def training_numbers(ds) -> dict:
    """The headline training numbers of a network experiment whose Dataset holds `first_train_loss`,
    `last_train_loss` and `steps_taken` (from `History.trial_means`)."""
    return {
        "train_loss_first": float(ds["first_train_loss"].mean()),
        "train_loss_last": float(ds["last_train_loss"].mean()),
        "mean_steps_taken": float(ds["steps_taken"].mean()),
    }


def check_choice(name: str, value: str, choices) -> None:
    if value not in choices:
        raise ConfigError(f"{name}={value!r}: expected one of {', '.join(map(repr, choices))}")


def check_range(name: str, value, low=None, high=None, *, strict_low=False) -> None:
    bad = (low is not None and (value <= low if strict_low else value < low)) or (high is not None and value > high)
    if bad:
        lo = "" if low is None else (f"> {low}" if strict_low else f"≥ {low}")
        hi = "" if high is None else f"≤ {high}"
        raise ConfigError(f"{name}={value!r}: expected a value {' and '.join(x for x in (lo, hi) if x)}")


class Outcome(typing.NamedTuple):
    """What one run of an experiment produced, before anything is written."""

    ds: typing.Any  # the Dataset, with `experiment` and `config` in its attrs
    figs: dict  # name -> matplotlib Figure
    summary: dict  # what summary.json holds
    report: str  # what report.md holds


def compute_outcome(module, config, *, quick=False, devices=None, progress=False, float32=False) -> Outcome:
    """Compute, summarise and draw one experiment in memory (`run` writes the result)."""
    start = time.perf_counter()
    ds = module.compute(config, devices=devices, progress=progress)
    computed = time.perf_counter() - start
    numbers, finding = module.summarize(ds)
    figs = module.figures(ds)
    return outcome(
        name=module.NAME,
        description=module.DESCRIPTION,
        ds=ds,
        figs=figs,
        parameters=dataclasses.asdict(config),
        numbers=numbers,
        finding=finding,
        quick=quick,
        float32=float32,
        devices=devices,
        start=start,
        computed=computed,
    )


def run(module, config, out, *, quick=False, devices=None, progress=False, float32=False) -> pathlib.Path:
    """Compute, draw and write one experiment; returns its output folder."""
    result = compute_outcome(module, config, quick=quick, devices=devices, progress=progress, float32=float32)
    return write_outcome(pathlib.Path(out) / module.NAME, result)


def outcome(
    *, name, description, ds, figs, parameters, numbers, finding, quick, float32, devices, start, computed
) -> Outcome:
    """The `Outcome` of a computed run: the Dataset's attrs, summary.json's dict and report.md's text
    (the wall time is measured up to this call)."""
    import jax

    from .. import __version__

    ds.attrs.update(experiment=name, config=json.dumps(_jsonable(parameters)))
    wall = time.perf_counter() - start
    summary = {
        "experiment": name,
        "description": description,
        "parameters": _jsonable(parameters),
        "quick": quick,
        "precision": "float32" if float32 else "float64",
        "jaxcollapse_version": __version__,
        "jax_version": jax.__version__,
        "devices": [str(d) for d in (devices or jax.devices())],
        "wall_time_s": round(wall, 3),
        "compute_time_s": round(computed, 3),
        "finding": finding,
        **_jsonable(numbers),
    }
    lines = [f"# {name}", "", description, ""]
    lines += [f"![{n}]({n}.png)" for n in figs]
    lines += ["", f"**Finding.** {finding}", ""]
    lines += ["| quantity | value |", "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in numbers.items()]
    lines += [
        "",
        f"Computed in {wall:.1f} s ({'quick' if quick else 'full'} settings, "
        f"{summary['precision']}, jaxcollapse {__version__}); data in `data.zarr`, settings in `summary.json`.",
        "",
    ]
    return Outcome(ds, dict(figs), summary, "\n".join(lines))


def write_outcome(folder, result: Outcome) -> pathlib.Path:
    """Write an `Outcome` into `folder` (created): the figures as PNG and PDF, `data.zarr`,
    `summary.json` and `report.md`. Closes the figures."""
    import matplotlib.pyplot as plt

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for fig_name, fig in result.figs.items():
        fig.savefig(folder / f"{fig_name}.png", dpi=150)
        fig.savefig(folder / f"{fig_name}.pdf")
        plt.close(fig)
    # zarr format 2 (read by every zarr library), consolidated: `xr.open_zarr` opens it without a warning
    result.ds.to_zarr(folder / "data.zarr", mode="w", consolidated=True, zarr_format=2)
    (folder / "summary.json").write_text(json.dumps(result.summary, indent=2, allow_nan=True) + "\n")
    (folder / "report.md").write_text(result.report)
    return folder


def _fmt(v) -> str:
    """A value as report.md's table shows it: numbers to four digits, lists joined, a dict as
    `key: value` pairs, and "n/a" where a quantity is not defined (None, NaN) — never a raw repr."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    return str(v)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.generic, np.ndarray)):
        return _jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x
