"""The `jaxcollapse` command (also `python -m jaxcollapse`).

For now it runs the main job: the strong-collapse scaling-law figure, theory against simulation.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="jaxcollapse",
        description="Model collapse, computable. With no arguments: draw the strong-collapse scaling law "
        "(test error against n for synthetic fractions p2 in {0, 0.001, 0.01, 0.1}; theory and simulation).",
    )
    parser.add_argument("--out", default="jaxcollapse-out", help="output folder (default: ./jaxcollapse-out)")
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds (used by the tests)")
    parser.add_argument("--trials", type=int, default=None, help="Monte Carlo trials per point")
    args = parser.parse_args(argv)
    if args.trials is not None and args.trials < 2:
        parser.error("--trials must be an integer ≥ 2 (a standard error needs two trials)")

    import jax

    jax.config.update("jax_enable_x64", True)
    import dataclasses

    from . import plot
    from .experiments.scaling_law import ScalingLawConfig, scaling_law

    config = ScalingLawConfig.quick() if args.quick else ScalingLawConfig()
    if args.trials is not None:
        config = dataclasses.replace(config, trials=args.trials)
    start = time.perf_counter()
    data = scaling_law(config)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig = plot.scaling_law(data)
    path = out / "scaling-law.png"
    fig.savefig(path, dpi=150)
    fig.savefig(out / "scaling-law.pdf")
    elapsed = time.perf_counter() - start
    print(f"wrote {path} (and .pdf) in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
