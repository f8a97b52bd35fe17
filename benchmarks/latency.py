"""What a user waits for: latency per call, compilations, a repeated sweep, a fresh process.

    .venv/bin/python benchmarks/latency.py            (about 3 minutes on 2 cores)
    .venv/bin/python benchmarks/latency.py --quick    (fewer calls, for a smoke run)

1. Latency. In one process, after one warm-up call per kernel, 100 calls per kernel: 20 grid sizes
   from 10 to 10^5 points (log-spaced) at each of 5 dimensions d (power law s_j = j^-1.5). Each call
   is timed to the finished result (`block_until_ready`); compilations are counted with
   `jax.monitoring` (programs traced and lowered). Side by side, the same 100 calls through the
   kernel's jitted core with the exact shapes — what every call did before shape buckets (at one
   d only: 20 calls, 20 compilations).
   Random features: 20 calls at 20 widths m (d = 400, 1000 points).
2. `jc.sweep` of a 256 x 256 ridge grid (n, lam; d = 1000, p2 = 0.3): first and second call, against
   a SciPy `brentq` loop (one point at a time, as in benchmarks/theory_grid.py) on 1024 of the same
   points, checked to agree to 1e-8 on kappa and on the risk.
3. A fresh process with a warm persistent compilation cache: seconds from the start of `import
   jaxcollapse` to the first theory result; and the main job (`python -m jaxcollapse`, what `make
   demo` runs) a second time.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import tempfile
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax._src.dispatch import JAXPR_TO_MLIR_MODULE_EVENT  # noqa: E402

import jaxcollapse as jc  # noqa: E402
from jaxcollapse.theory._random_projections import _random_projections_jit  # noqa: E402
from jaxcollapse.theory._ridge import _ridge_jit  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from theory_grid import ridge_scipy  # noqa: E402

_LOWERED = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, *_, **__: _LOWERED.append(1) if event == JAXPR_TO_MLIR_MODULE_EVENT else None
)


def timed(call):
    start = time.perf_counter()
    out = call()
    jax.block_until_ready(out)
    return time.perf_counter() - start


def latency(name, call, sizes, dims):
    """Over sizes × dims after one warm-up call: (name, calls, median s and worst s up to 10⁴ points
    over the calls that compiled nothing (a call that compiles is the first of its bucket),
    compilations, every call's seconds)."""
    mixes = {d: jc.power_law(d, 1.5, signal=1.0, shift=0.5, noise_var=0.1) for d in dims}
    call(mixes[dims[0]], 100)  # warm-up
    start = len(_LOWERED)
    times, small, all_calls = [], [], []
    for d in dims:
        for size in sizes:
            before = len(_LOWERED)
            t = timed(lambda: call(mixes[d], size))
            all_calls.append(t)
            if len(_LOWERED) == before:
                times.append(t)
                if size <= 10_000:
                    small.append(t)
    worst_small = max(small) if small else float("nan")
    return (
        name,
        len(sizes) * len(dims),
        statistics.median(times) if times else float("nan"),
        worst_small,
        len(_LOWERED) - start,
        all_calls,
    )


_RNG = np.random.default_rng(0)


def grid(size, rng=_RNG):
    return rng.uniform(10, 5000, size), rng.uniform(0, 1, size), 10.0 ** rng.uniform(-6, 0, size)


def ridge_bucketed(mix, size):
    n, p2, lam = grid(size)
    return jc.theory.ridge(mix, n=n, p2=p2, lam=lam).total


def ridge_exact(mix, size):
    n, p2, lam = grid(size)
    return _ridge_jit(mix, jnp.asarray(n), jnp.asarray(p2), jnp.asarray(lam), jnp.asarray(1.0)).total


def rp_bucketed(mix, size):
    n, p2, lam = grid(size)
    return jc.theory.random_projections(mix, n=400.0, m=n, p2=p2, lam=lam).total


def rp_exact(mix, size):
    n, p2, lam = grid(size)
    return _random_projections_jit(mix, jnp.asarray(400.0), jnp.asarray(n), jnp.asarray(p2), jnp.asarray(lam)).total


def random_features(widths):
    iso = jc.isotropic(400, signal=1.0, shift=0.5, noise_var=0.1)
    n, p2, lam = grid(1000)
    jc.theory.random_features(iso, n=n, m=37, p2=p2, lam=lam)  # warm-up
    start = len(_LOWERED)
    times = [timed(lambda m=m: jc.theory.random_features(iso, n=n, m=int(m), p2=p2, lam=lam).total) for m in widths]
    return (
        "random_features, 20 widths m (d = 400, 1000 points)",
        len(widths),
        statistics.median(times),
        max(times),
        len(_LOWERED) - start,
        times,
    )


def sweep_against_scipy(side, sample):
    d = 1000
    s = np.arange(1, d + 1) ** -1.5
    mix = jc.power_law(d, 1.5, signal=1.0, shift=0.5, noise_var=0.1)
    axes = {"n": np.geomspace(1e2, 1e5, side), "lam": np.geomspace(1e-8, 10, side)}

    def run():  # a new partial each time, as a user's second cell would make
        return jc.sweep(functools.partial(jc.theory.ridge, mix, p2=0.3), axes, progress=False)

    first = timed(lambda: run().total.values)
    second_times = [timed(lambda: run().total.values) for _ in range(3)]
    ds = run()
    rng = np.random.default_rng(1)
    i, j = rng.integers(0, side, sample), rng.integers(0, side, sample)
    start = time.perf_counter()
    kappa_s, total_s = [], []
    for a, b in zip(i, j):
        k, t = ridge_scipy(s, np.asarray(mix.signal), np.asarray(mix.shift), 0.1, [axes["n"][a]], [axes["lam"][b]], 0.3)
        kappa_s.append(k[0, 0])
        total_s.append(t[0, 0])
    scipy_per_point = (time.perf_counter() - start) / sample
    err_k = np.max(np.abs(np.array(kappa_s) / ds.kappa.values[i, j] - 1))
    err_t = np.max(np.abs(np.array(total_s) / ds.total.values[i, j] - 1))
    return first, statistics.median(second_times), scipy_per_point * side * side, err_k, err_t


def fresh_process(cache):
    code = (
        "import time; t0 = time.perf_counter()\n"
        "import jax; jax.config.update('jax_enable_x64', True)\n"
        "import numpy as np, jaxcollapse as jc\n"
        "t1 = time.perf_counter()\n"
        f"jc.enable_compilation_cache({cache!r})\n"
        "r = jc.theory.ridge(jc.power_law(1000, 1.5, noise_var=0.1), n=np.geomspace(10, 1e4, 100), p2=0.3, lam=1e-3)\n"
        "r.total.block_until_ready(); print(t1 - t0, time.perf_counter() - t1)\n"
    )
    runs = [
        tuple(
            map(
                float,
                subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(),
            )
        )
        for _ in range(3)
    ]
    env = {**os.environ, "JAXCOLLAPSE_CACHE": cache, "MPLBACKEND": "Agg"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    demo = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(2):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "jaxcollapse", "--out", out, "--no-progress"],
                env=env,
                check=True,
                capture_output=True,
            )
            demo.append(time.perf_counter() - start)
    return runs, demo


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = np.unique(np.geomspace(10, 1e5, 8 if args.quick else 20).astype(int))
    dims = (600, 700, 800, 900, 1000) if not args.quick else (800, 1000)
    print(
        f"{len(sizes)} grid sizes from {sizes[0]} to {sizes[-1]} points × d in {dims}; jax {jax.__version__}, {jax.default_backend()}"
    )
    print(
        "| kernel, path | calls | median ms, all calls | median ms, calls that compiled nothing | worst ms up to 10⁴ points, same | compilations |"
    )
    print("|---|---|---|---|---|---|")
    rows = [
        latency("ridge, exact shapes (before), one d", ridge_exact, sizes, dims[-1:]),
        latency("ridge, buckets", ridge_bucketed, sizes, dims),
        latency("random_projections, exact shapes (before), one d", rp_exact, sizes, dims[-1:]),
        latency("random_projections, buckets", rp_bucketed, sizes, dims),
        random_features(np.unique(np.geomspace(20, 2000, 20).astype(int))),
    ]
    for name, calls, med, worst_small, compiles, every in rows:
        print(
            f"| {name} | {calls} | {1e3 * statistics.median(every):.1f} | {1e3 * med:.1f} | {1e3 * worst_small:.1f} | {compiles} |",
            flush=True,
        )

    side = 64 if args.quick else 256
    first, second, scipy_grid, err_k, err_t = sweep_against_scipy(side, 256 if args.quick else 1024)
    print(
        f"\njc.sweep of a {side} × {side} ridge grid: first call {first:.2f} s, second call {second:.3f} s "
        f"({1e6 * second / side**2:.1f} µs/point); SciPy brentq loop {scipy_grid:.1f} s for the same grid "
        f"(from a sample) → second call {scipy_grid / second:.1f}× SciPy, first call {scipy_grid / first:.1f}×; "
        f"agreement on the sample: kappa {err_k:.1e}, risk {err_t:.1e}"
    )

    with tempfile.TemporaryDirectory() as cache:
        runs, demo = fresh_process(cache)
    print(
        f"\nfresh process: import {runs[1][0]:.2f} s; then to the first theory result {runs[0][1]:.2f} s with an "
        f"empty cache, {runs[1][1]:.2f} s and {runs[2][1]:.2f} s with it warm"
    )
    print(f"main job (python -m jaxcollapse): {demo[0]:.1f} s with an empty cache, {demo[1]:.1f} s the second time")


if __name__ == "__main__":
    main()
