"""`jaxcollapse fit DATA.csv --model …`: fit a named model to a measured table, write a folder.

The folder `OUT/fit-STEM/` holds `fit.png`/`fit.pdf` (the data with error bars, the fitted curve and
its bootstrap band, the extrapolation shaded), `summary.json` (parameters, intervals, derived
quantities, predictions, flags, settings) and `report.md` (the same in words and tables).
"""

from __future__ import annotations

import csv
import json
import math
import pathlib
import time

import numpy as np

from ._fit_models import FAMILIES
from .experiments._framework import _jsonable

ALIASES = {
    "β": "beta",
    "noise": "noise_var",
    "sigma2": "noise_var",
    "quality": "shift",
    "r": "source",
    "generator_noise": "generator_noise_var",
    "pi": "p1",
}


class InputError(ValueError):
    """A bad CSV file or option: the message is one line naming the file, row and column, or the option."""


def read_csv(path) -> dict[str, np.ndarray]:
    """The columns of a CSV file with a header row, as float arrays. Blank lines and lines starting
    with `#` are skipped; any other unreadable entry is an `InputError` naming the row and column."""
    path = pathlib.Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise InputError(f"{path}: cannot read the file ({err.strerror or err})") from None
    rows = [(i + 1, r) for i, r in enumerate(csv.reader(text.splitlines())) if r and not r[0].lstrip().startswith("#")]
    rows = [(i, r) for i, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"{path}: no header row (expected column names such as n,p2,error)")
    line, header = rows[0]
    header = [h.strip() for h in header]
    if len(header) == 1:
        for sep, called in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in header[0]:
                raise InputError(
                    f"{path}, row {line}: one column named {header[0]!r}: the file seems separated by {called}; "
                    "expected commas (e.g. n,p2,lam,error)"
                )
    for j, name in enumerate(header):
        if not name:
            raise InputError(f"{path}, row {line}, column {j + 1}: empty column name")
        if name in header[:j]:
            raise InputError(f"{path}, row {line}, column {j + 1}: column {name!r} appears twice")
    if len(rows) < 2:
        raise InputError(f"{path}: a header but no data rows")
    values = {name: [] for name in header}
    lines = []
    for line, row in rows[1:]:
        lines.append(line)
        if len(row) != len(header):
            raise InputError(f"{path}, row {line}: {len(row)} fields, the header has {len(header)}")
        for name, cell in zip(header, row):
            try:
                number = float(cell)
            except ValueError:
                raise InputError(f"{path}, row {line}, column {name!r}: {cell.strip()!r} is not a number") from None
            if math.isnan(number):
                raise InputError(f"{path}, row {line}, column {name!r}: missing value (nan)")
            values[name].append(number)
    if "error" not in values:
        raise InputError(f"{path}: no column 'error' (the measured test errors); its columns are {', '.join(header)}")
    from ._fit import first_bad_value

    for name, column in values.items():
        found = first_bad_value(name, column)
        if found:
            i, value, allowed = found
            raise InputError(f"{path}, row {lines[i]}, column {name!r}: {value:g} — {name} must be {allowed}")
    return {name: np.asarray(v) for name, v in values.items()}


def parse_assignments(text: str, option: str) -> dict[str, float]:
    """`"n=1e6,p2=0.1"` → `{"n": 1e6, "p2": 0.1}`."""
    out = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = ALIASES.get(key.strip(), key.strip())
        if not sep or not key:
            raise InputError(f"{option} {text!r}: expected NAME=VALUE[,NAME=VALUE...]")
        try:
            out[key] = float(value)
        except ValueError:
            raise InputError(f"{option} {text!r}: {value.strip()!r} is not a number") from None
    return out


def parse_free(text: str | None, family) -> dict:
    """`--free beta,shift` or `--free beta=1.1:3,shift` → `{name: bounds or None}`."""
    if text is None:
        return {name: None for name in family.required}
    out = {}
    for item in text.split(","):
        name, sep, bounds = item.partition("=")
        name = ALIASES.get(name.strip(), name.strip())
        if name not in family.params:
            raise InputError(
                f"--free: {name!r} is not a parameter of {family.name!r} (one of {', '.join(sorted(family.params))})"
            )
        if sep:
            try:
                lo, hi = (float(v) for v in bounds.split(":"))
            except ValueError:
                raise InputError(f"--free {item!r}: bounds are LOW:HIGH, e.g. beta=1.1:3") from None
            out[name] = (lo, hi)
        else:
            out[name] = None
    return out


def run_fit(args) -> pathlib.Path:
    """The `fit` command (arguments from the parser in `cli.py`); returns the output folder."""
    import jax

    from ._fit import fit

    start = time.perf_counter()
    family = FAMILIES[args.model]
    data = read_csv(args.data)
    params = parse_free(args.free, family)
    fixed = {}
    for text in args.fixed:
        fixed.update(parse_assignments(text, "--fixed"))
    for name in family.static:
        if name in fixed:
            fixed[name] = int(fixed[name])
    predict = [parse_assignments(text, "--predict") for text in args.predict]
    known = set(data) - {"error", "sem"}
    ignored = sorted(known - (set(family.columns) | set(family.optional)))
    for name in ignored:  # extra columns (seeds, notes) are kept out of the model
        data.pop(name)
    result = fit(
        family.name,
        data,
        params=params,
        fixed=fixed,
        starts=args.starts,
        bootstrap=args.bootstrap,
        resample=args.resample,
        steps=args.steps,
        key=jax.random.key(args.seed),
    )
    x_name = "T" if family.name == "tails" else "n"
    groups = _groups(data, x_name)
    level = args.level
    summary = {
        "model": family.name,
        "description": family.description,
        "data": str(args.data),
        "rows": int(data["error"].size),
        "ignored_columns": ignored,
        "free": {k: list(v) if v is not None else list(family.bounds[k]) for k, v in params.items()},
        "fixed": {k: v for k, v in result.fixed.items() if v is not None},
        "settings": dict(
            starts=args.starts,
            bootstrap=args.bootstrap,
            resample=args.resample,
            steps=args.steps,
            seed=args.seed,
            level=level,
        ),
        "loss": result.loss,
        "params": {},
        "on_bound": result.on_bound,
        "disagree": result.disagree,
        "undetermined": [k for k, v in result.undetermined.items() if v],
        "capped": result.capped,
        "residual_rms": float(np.sqrt(np.mean(result.residuals**2))),
        "goodness": _goodness(result, data, groups, x_name, len(params)),
        "floors": [],
        "synthetic_limits": [],
        "predictions": [],
    }
    for name, value in result.params.items():
        low, high = result.interval(name, level) if result.bootstrap else (math.nan, math.nan)
        summary["params"][name] = dict(value=value, low=low, high=high)
    if result.bootstrap:
        for group in groups:
            cols = {k: v for k, v in group.items()}
            est = result.floor(level, **({} if family.name == "tails" else cols))
            summary["floors"].append(dict(at=cols, value=float(est.value), low=float(est.low), high=float(est.high)))
            if family.name == "tails":
                break
        if family.name in ("ridge", "random-projections"):
            real = data["n"] * (1 - data["p2"])
            n_real = float(real.max())
            for group in _groups({k: v for k, v in data.items() if k != "p2"}, "n"):
                est = result.synthetic_limit(n_real, level, **group)
                summary["synthetic_limits"].append(
                    dict(n_real=n_real, at=group, value=float(est.value), low=float(est.low), high=float(est.high))
                )
    for point in predict:
        value = float(np.asarray(result.predict(**point)).reshape(()))
        row = dict(at=point, value=value)
        if result.bootstrap:
            low, high = result.predict_interval(level, **point)
            row.update(low=float(np.asarray(low).reshape(())), high=float(np.asarray(high).reshape(())))
            if family.name == "ridge" and point.get("p2", 0.0) > 0:  # at p2 = 0 no weight matters
                w = result.optimal_weight(level, **{k: v for k, v in point.items() if k != "weight"})
                row["optimal_weight"] = dict(value=float(w.value), low=float(w.low), high=float(w.high))
        summary["predictions"].append(row)
    folder = pathlib.Path(args.out) / f"fit-{pathlib.Path(args.data).stem}"
    folder.mkdir(parents=True, exist_ok=True)
    fig = _figure(result, data, groups, x_name, predict, level)
    fig.savefig(folder / "fit.png", dpi=150)
    fig.savefig(folder / "fit.pdf")
    import matplotlib.pyplot as plt

    plt.close(fig)
    summary["wall_time_s"] = round(time.perf_counter() - start, 3)
    (folder / "summary.json").write_text(json.dumps(_jsonable(summary), indent=2) + "\n")
    (folder / "report.md").write_text(_report(summary, family))
    return folder


def _goodness(result, data, groups, x_name, free):
    """Does the model describe the data? With standard errors (`sem`): χ² of the log-residuals in
    units of each row's relative error, its degrees of freedom (rows − free parameters) and the
    probability of a χ² at least as large were the model right. Always: the runs of one sign of the
    residuals along x within each curve (Wald–Wolfowitz): a model that misses a trend leaves long
    runs, fewer than chance gives (z ≤ −3: one-sided 0.13 % for a right model, by the normal
    approximation)."""
    from scipy.special import gammaincc  # SciPy comes with JAX

    r = np.asarray(result.residuals, np.float64)
    out = {"chi2": None, "dof": int(r.size - free), "p": None}
    if "sem" in data:
        z = r / (np.asarray(data["sem"], np.float64) / np.asarray(data["error"], np.float64))
        chi2 = float(np.sum(z**2))
        out.update(chi2=chi2, p=float(gammaincc(out["dof"] / 2, chi2 / 2)) if out["dof"] > 0 else None)
    runs, expected, variance = 0, 0.0, 0.0  # summed over the curves (independent under chance)
    for group in groups:
        rows = np.ones(r.size, bool)
        for k, v in group.items():
            rows &= data[k] == v
        signs = np.sign(r[rows][np.argsort(data[x_name][rows], kind="stable")])
        signs = signs[signs != 0]
        if not signs.size:
            continue
        runs += 1 + int(np.sum(signs[1:] != signs[:-1]))
        a, b = int(np.sum(signs > 0)), int(np.sum(signs < 0))
        n = a + b
        expected += 1 + 2 * a * b / n
        if n > 1:
            variance += 2 * a * b * (2 * a * b - n) / (n**2 * (n - 1))
    z = (runs - expected) / math.sqrt(variance) if variance > 0 else math.nan
    out.update(runs=runs, expected_runs=expected, runs_z=z)
    return out


def _groups(data, x_name):
    """The distinct settings of the columns other than `x_name`, `error`, `sem` (one curve each)."""
    others = sorted(k for k in data if k not in (x_name, "error", "sem"))
    if not others:
        return [{}]
    table = np.stack([data[k] for k in others], axis=1)
    unique = np.unique(table, axis=0)
    return [dict(zip(others, (float(v) for v in row))) for row in unique]


def _figure(result, data, groups, x_name, predict, level):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5), constrained_layout=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    x = data[x_name]
    x_hi = max([x.max() * 100] + [p[x_name] for p in predict if x_name in p])
    grid = np.geomspace(x.min(), x_hi, 160)
    for i, group in enumerate(groups):
        color = colors[i % len(colors)]
        rows = np.ones(x.size, bool)
        for k, v in group.items():
            rows &= data[k] == v
        label = ", ".join(f"{k} = {v:g}" for k, v in group.items()) or "data"
        yerr = data["sem"][rows] if "sem" in data else None
        ax.errorbar(x[rows], data["error"][rows], yerr=yerr, fmt="o", ms=4, color=color, label=label)
        cols = {k: np.full(grid.size, v) for k, v in group.items()}
        cols[x_name] = grid
        ax.plot(grid, result.predict(**cols), color=color, lw=1.5)
        if result.bootstrap:
            low, high = result.predict_interval(level, **cols)
            ax.fill_between(grid, low, high, color=color, alpha=0.2, lw=0)
    ax.axvspan(x.max(), x_hi, color="0.9", zorder=0, label="extrapolation")
    for point in predict:
        if x_name in point:
            ax.plot([point[x_name]], [result.predict(**point)], "k*", ms=10)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x_name)
    ax.set_ylabel("test error")
    fitted = ", ".join(f"{k} = {v:.4g}" for k, v in result.params.items())
    ax.set_title(f"{result.family}: {fitted}; band: {100 * level:.0f} % bootstrap", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def _fmt(v):
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:.4g}"
    return str(v)


def _at(point):
    return ", ".join(f"{k} = {_fmt(v)}" for k, v in point.items()) or "—"


def _report(summary, family):
    level = summary["settings"]["level"]
    pct = f"{100 * level:.0f} %"
    lines = [f"# Fit of `{family.name}` to {summary['data']}", "", f"{family.description}; {summary['rows']} rows.", ""]
    lines += ["![fit](fit.png)", ""]
    if summary["predictions"]:
        lines += ["## Predictions", "", f"| at | predicted error | {pct} interval |", "|---|---|---|"]
        for p in summary["predictions"]:
            interval = f"{_fmt(p['low'])} – {_fmt(p['high'])}" if "low" in p else "—"
            lines.append(f"| {_at(p['at'])} | {_fmt(p['value'])} | {interval} |")
            if "optimal_weight" in p:
                w = p["optimal_weight"]
                lines.append(
                    f"| optimal synthetic weight there | {_fmt(w['value'])} | {_fmt(w['low'])} – {_fmt(w['high'])} |"
                )
        lines.append("")
    lines += ["## Parameters", "", f"| parameter | value | {pct} interval | on a bound |", "|---|---|---|---|"]
    for name, p in summary["params"].items():
        if name in summary.get("undetermined", ()):
            interval = "not determined by these data"
        else:
            interval = f"{_fmt(p['low'])} – {_fmt(p['high'])}"
        lines.append(f"| {name} | {_fmt(p['value'])} | {interval} | {'yes' if summary['on_bound'][name] else 'no'} |")
    lines.append("")
    if summary["floors"]:
        lines += [
            "## Floors (error as the data grow without bound)",
            "",
            f"| at | floor | {pct} interval |",
            "|---|---|---|",
        ]
        for f in summary["floors"]:
            lines.append(f"| {_at(f['at'])} | {_fmt(f['value'])} | {_fmt(f['low'])} – {_fmt(f['high'])} |")
        lines.append("")
    if summary["synthetic_limits"]:
        where = any(s["at"] for s in summary["synthetic_limits"])  # a column only when rows differ in it
        lines += [
            "## When more synthetic data stop helping",
            "",
            "Synthetic samples that, added to the real ones, give the smallest error (0: any synthetic data hurt; inf: they help throughout).",
            "",
            f"| real samples |{' at |' if where else ''} synthetic samples | {pct} interval |",
            "|---|---|---|" + ("---|" if where else ""),
        ]
        for s in summary["synthetic_limits"]:
            at = f" {_at(s['at'])} |" if where else ""
            lines.append(f"| {_fmt(s['n_real'])} |{at} {_fmt(s['value'])} | {_fmt(s['low'])} – {_fmt(s['high'])} |")
        lines.append("")
    flags = []
    bound = [k for k, v in summary["on_bound"].items() if v]
    if bound:
        flags.append(
            f"on a bound: {', '.join(bound)} (the data do not pin them inside their range; widen the bounds or fix them)"
        )
    if summary.get("undetermined"):
        flags.append(
            f"not determined by these data: {', '.join(summary['undetermined'])} (the predictions do not move "
            "with it, or only as other parameters can; its value is one of many that fit as well: fix it, or "
            "add data that depend on it)"
        )
    if summary["disagree"]:
        flags.append(
            "the starts that reach the best loss disagree: the parameters are not identifiable from these data"
        )
    if summary["capped"]:
        flags.append(
            f"{summary['capped']} fits (starts and bootstrap refits) stopped at the iteration budget before "
            "converging: raise --steps"
        )
    g = summary.get("goodness") or dict(chi2=None, p=None, runs_z=math.nan)
    if g["p"] is not None and g["p"] < 1e-3:
        flags.append(
            f"the model does not describe these data: χ²/dof = {g['chi2'] / g['dof']:.3g} ({g['chi2']:.4g} on "
            f"{g['dof']} degrees of freedom; a model that is right gives this much or more with probability "
            f"{g['p']:.2g}); the intervals assume it does"
        )
    if math.isfinite(g["runs_z"]) and g["runs_z"] <= -3:
        flags.append(
            f"the residuals run in long stretches of one sign along {'T' if summary['model'] == 'tails' else 'n'} "
            f"({g['runs']} runs where chance gives {g['expected_runs']:.3g}, z = {g['runs_z']:.2g}): the model "
            "misses a trend in the data"
        )
    lines += ["## Checks", ""]
    lines += [f"- {f}" for f in flags] or ["- every parameter is inside its bounds and the starts agree"]
    lines += [f"- residuals: rms {summary['residual_rms']:.3g} in log error; loss {summary['loss']:.4g}"]
    if "goodness" not in summary:
        pass
    elif g["chi2"] is not None:
        p = "n/a" if g["p"] is None else f"{g['p']:.2g}"
        lines += [
            f"- χ² = {g['chi2']:.4g} on {g['dof']} degrees of freedom (χ²/dof = {g['chi2'] / max(g['dof'], 1):.3g}, p = {p})"
        ]
    else:
        lines += ["- no standard errors given (a `sem` column): the fit is judged by its residuals' pattern only"]
    if math.isfinite(g["runs_z"]):
        lines += [
            f"- runs of one sign in the residuals: {g['runs']} (chance: {g['expected_runs']:.3g}, z = {g['runs_z']:.2g})"
        ]
    if summary["ignored_columns"]:
        lines.append(f"- columns not used by the model: {', '.join(summary['ignored_columns'])}")
    s = summary["settings"]
    lines += [
        "",
        f"Settings: {s['starts']} starts, {s['bootstrap']} bootstrap replicates ({s['resample']}), at most {s['steps']} Levenberg–Marquardt iterations per fit, seed {s['seed']}; "
        f"fixed: {_at(summary['fixed']) if summary['fixed'] else 'nothing'}. Computed in {summary['wall_time_s']:.1f} s.",
        "",
    ]
    return "\n".join(lines)
