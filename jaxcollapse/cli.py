"""The `jaxcollapse` command (also `python -m jaxcollapse`).

jaxcollapse                      the main job: the phase-diagram experiment
jaxcollapse list                 experiments, one line each
jaxcollapse run NAME [options]   one experiment: figures, data, summary.json, report.md
jaxcollapse sweep CONFIG.toml    a user-defined sweep (problem, kernel, axes, outputs)
jaxcollapse bench                the quick version of benchmarks/, as a table
jaxcollapse fit DATA.csv --model M   fit a model to measured errors: figure, summary.json, report.md
jaxcollapse explore              phase diagrams that follow sliders, in a browser (localhost)
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_EXPERIMENT = "phase-diagram"


def _run_options(parser):
    parser.add_argument(
        "--quick", action="store_true", help="small settings: every experiment in under a minute on 2 cores"
    )
    parser.add_argument(
        "--out",
        default="jaxcollapse-out",
        metavar="DIR",
        help="output folder (default: ./jaxcollapse-out); a run writes DIR/NAME/",
    )
    parser.add_argument(
        "--trials",
        type=int,
        default=None,
        metavar="N",
        help="Monte Carlo trials per point (experiments with simulation)",
    )
    parser.add_argument(
        "--float32",
        action="store_true",
        help="compute in float32 (default float64; float32 agrees to about 1e-4 relative away from ridgeless thresholds)",
    )
    parser.add_argument(
        "--devices",
        default=None,
        metavar="SPEC",
        help="devices to shard sweeps over: 'all' (default), a count K (the first K), or indices such as 0,2",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting of the experiment's config (repeatable; lists are comma-separated); "
        "`jaxcollapse list --settings` shows them",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _parser():
    from .experiments import EXPERIMENTS

    names = ", ".join(EXPERIMENTS)
    parser = argparse.ArgumentParser(
        prog="jaxcollapse",
        description="Model collapse, computable. With no command: run the phase-diagram experiment "
        "(where a bigger model hurts or helps when part of the data is synthetic).",
        epilog=f"experiments: {names}. `jaxcollapse COMMAND --help` for each command.",
    )
    _run_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_list = sub.add_parser("list", help="list the experiments", description="List the experiments, one line each.")
    p_list.add_argument("--settings", action="store_true", help="also show each experiment's settings and defaults")
    p_run = sub.add_parser(
        "run", help="run one experiment", description="Run one named experiment and write DIR/NAME/."
    )
    p_run.add_argument("name", metavar="NAME", help=f"one of: {names}")
    _run_options(p_run)
    p_sweep = sub.add_parser(
        "sweep",
        help="a user-defined sweep from a TOML file",
        description="Evaluate a theory kernel over the grid a TOML file describes (see the docs, 'Command line').",
    )
    p_sweep.add_argument("config", metavar="CONFIG.toml")
    p_sweep.add_argument(
        "--out", default="jaxcollapse-out", metavar="DIR", help="output folder (default: ./jaxcollapse-out)"
    )
    p_sweep.add_argument("--float32", action="store_true", help="compute in float32 (default float64)")
    p_sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    p_bench = sub.add_parser(
        "bench", help="quick speed table", description="Quick versions of benchmarks/, side by side, as a table."
    )
    p_bench.add_argument("--size", type=int, default=64, metavar="K", help="grid is K x K (default 64)")
    _fit_parser(sub)
    p_explore = sub.add_parser(
        "explore",
        help="live phase diagrams in a browser",
        description="Serve a page on 127.0.0.1 with the phase diagram of the default experiment: sliders for "
        "tr ΣΔ, λ, d/n and β, the model and spectrum, the curves under the cursor, and a save button that "
        "writes what `jaxcollapse run` writes. Needs the explore extra: pip install 'jaxcollapse[explore]'.",
    )
    p_explore.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    p_explore.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; another than 127.0.0.1, localhost or ::1 needs --allow-remote)",
    )
    p_explore.add_argument(
        "--allow-remote",
        action="store_true",
        help="serve other machines on --host: any host name is accepted and the session token in the printed "
        "address is then the only lock (an SSH tunnel to 127.0.0.1 is safer)",
    )
    p_explore.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    p_explore.add_argument(
        "--out", default="jaxcollapse-out", metavar="DIR", help="where 'save' writes (default: ./jaxcollapse-out)"
    )
    return parser


def _fit_parser(sub):
    from ._fit_models import FAMILIES

    p = sub.add_parser(
        "fit",
        help="fit a model to a measured table",
        description="Fit a named model's free parameters to a CSV table of measured errors (columns: the "
        "model's keywords, e.g. n,p2,lam, and error, optionally sem), with a bootstrap; write DIR/fit-STEM/ "
        "(figure, summary.json, report.md). See the docs, 'Fitting measured curves'.",
    )
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--model", required=True, choices=sorted(FAMILIES), help="the model family")
    p.add_argument(
        "--free",
        default=None,
        metavar="NAMES",
        help="free parameters, comma-separated, each optionally with bounds: beta=1.1:3,shift,noise "
        "(default: the family's required ones, e.g. beta)",
    )
    p.add_argument(
        "--fixed", action="append", default=[], metavar="NAME=VALUE,...", help="fixed values, e.g. d=200,lam=1e-3"
    )
    p.add_argument(
        "--predict",
        action="append",
        default=[],
        metavar="NAME=VALUE,...",
        help="a point to predict, e.g. n=1e6,p2=0.1 (repeatable)",
    )
    p.add_argument("--starts", type=int, default=32, help="starting points (default 32)")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates (default 200; 0: none)")
    p.add_argument(
        "--resample", default="normal", choices=("normal", "residuals", "cases"), help="bootstrap kind (default normal)"
    )
    p.add_argument("--steps", type=int, default=100, help="most Levenberg–Marquardt iterations per fit (default 100)")
    p.add_argument("--level", type=float, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    p.add_argument("--out", default="jaxcollapse-out", metavar="DIR", help="output folder (default: ./jaxcollapse-out)")
    p.add_argument("--float32", action="store_true", help="compute in float32 (default float64)")


def _devices(spec):
    import jax

    if spec is None or spec == "all":
        return None
    every = jax.devices()
    try:
        if "," in spec:
            picked = [every[int(i)] for i in spec.split(",")]
        else:
            count = int(spec)
            if not 1 <= count <= len(every):
                raise IndexError
            picked = every[:count]
    except (ValueError, IndexError):
        raise SystemExit(
            f"jaxcollapse: error: --devices {spec!r}: expected 'all', a count in 1..{len(every)}, or indices in 0..{len(every) - 1}"
        ) from None
    return picked


def _overrides(items, parser):
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            parser.error(f"--set {item!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def main(argv: list[str] | None = None) -> int:
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")  # the command draws to files only
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "trials", None) is not None and args.trials < 2:
        parser.error("--trials must be an integer ≥ 2 (a standard error needs two trials)")

    from ._cache import cli_cache, cli_xla_flags

    cli_xla_flags()  # faster CPU compilation, no crashing fusions (XLA_FLAGS, if set, is left as it is)
    import jax

    jax.config.update("jax_enable_x64", not getattr(args, "float32", False))
    if getattr(args, "float32", False):
        from ._validate import allow_float32

        allow_float32()

    cli_cache()  # a second run of an experiment compiles nothing (JAXCOLLAPSE_CACHE=off turns it off)
    from ._validate import MissingExtra
    from .experiments import EXPERIMENTS
    from .experiments._framework import ConfigError

    try:
        if args.command == "list":
            return _list(EXPERIMENTS, args.settings)
        if args.command == "bench":
            from ._bench import main as bench

            return bench(size=args.size)
        if args.command == "fit":
            from ._fit_cli import InputError, run_fit

            try:
                folder = run_fit(args)
            except (InputError, ValueError) as err:
                parser.exit(2, f"jaxcollapse fit: error: {err}\n")
            print(f"wrote {folder}/ (fit.png, summary.json, report.md)")
            print((folder / "report.md").read_text().split("## Parameters")[0].strip())
            return 0
        if args.command == "explore":
            from .explore import serve

            try:
                serve(
                    args.port,
                    open_browser=not args.no_browser,
                    out=args.out,
                    ready=lambda url: print(f"jaxcollapse explore: {url} (Ctrl-C stops it)", flush=True),
                    host=args.host,
                    allow_remote=args.allow_remote,
                )
            except ValueError as err:
                parser.exit(2, f"jaxcollapse explore: error: {err}\n")
            return 0
        if args.command == "sweep":
            from .experiments._toml import run_file

            folder = run_file(args.config, args.out, progress=not args.no_progress, float32=args.float32)
            print(f"wrote {folder}/ (data.zarr, summary.json, report.md, figure)")
            return 0
        name = DEFAULT_EXPERIMENT if args.command is None else args.name
        if name not in EXPERIMENTS:
            parser.exit(2, f"jaxcollapse: error: unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}\n")
        return _run(EXPERIMENTS[name], args, parser)
    except (ConfigError, MissingExtra) as err:
        parser.exit(2, f"jaxcollapse: error: {err}\n")


def _list(experiments, settings: bool) -> int:
    import dataclasses

    width = max(map(len, experiments))
    for name, module in experiments.items():
        print(f"{name:<{width}}  {module.DESCRIPTION}")
        if settings:
            for f in dataclasses.fields(module.Config):
                print(f"{'':<{width}}    {f.name} = {f.default!r}")
    return 0


def _run(module, args, parser) -> int:
    import time

    from .experiments._framework import make_config, run

    config = make_config(module, quick=args.quick, overrides=_overrides(args.overrides, parser), trials=args.trials)
    devices = _devices(args.devices)
    start = time.perf_counter()
    progress = not getattr(args, "no_progress", False)
    folder = run(module, config, args.out, quick=args.quick, devices=devices, progress=progress, float32=args.float32)
    print(f"{module.NAME}: wrote {folder}/ in {time.perf_counter() - start:.1f} s")
    import json

    print(json.loads((folder / "summary.json").read_text())["finding"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
