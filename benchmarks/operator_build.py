"""Time to build the operator equivalent's spectrum (`jc.theory.random_features(...,
equivalent="operator")` builds it once per mixture, then reuses it for every point).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/operator_build.py

Median of 5 builds per (spectrum, order): relu, power law β = 1.5, full d = 300 and d = 1000, and a
compressed d = 10⁶ (`jc.compress`).
"""

import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)

import jaxcollapse as jc  # noqa: E402
from jaxcollapse.theory import _operator  # noqa: E402


def main():
    cases = [
        ("full, d = 300", jc.power_law(300, 1.5)),
        ("full, d = 1000", jc.power_law(1000, 1.5)),
        ("compressed, d = 10⁶", jc.compress(jc.power_law(10**6, 1.5))),
    ]
    print("| spectrum | order 2 | order 4 | order 6 |")
    print("|---|---|---|---|")
    for name, mix in cases:
        cells = []
        for order in (2, 4, 6):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                _operator._augmented(mix, "relu", order)
                times.append(time.perf_counter() - start)
            cells.append(f"{statistics.median(times):.2f} s")
        print(f"| {name} | {' | '.join(cells)} |", flush=True)


def per_point():
    """Seconds per point of a 100 × 100 (n, λ) grid at one width, after compiling, for both
    equivalents on the compressed d = 10⁶ power law (median of 5 calls)."""
    import jax.numpy as jnp
    import numpy as np

    mix = jc.compress(jc.power_law(10**6, 1.5, signal=1.0, shift=0.5, noise_var=0.1))
    n = jnp.geomspace(1e2, 1e6, 100)[:, None]
    lam = jnp.geomspace(1e-6, 1.0, 100)[None, :]
    print("| equivalent | per point |")
    print("|---|---|")
    for equivalent in ("gaussian", "operator"):
        call = lambda: jc.theory.random_features(mix, n=n, m=1e4, p2=0.1, lam=lam, equivalent=equivalent)  # noqa: E731
        jax.block_until_ready(call().total)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            jax.block_until_ready(call().total)
            times.append(time.perf_counter() - start)
        print(
            f"| {equivalent} | {1e6 * statistics.median(times) / np.prod(jnp.broadcast_shapes(n.shape, lam.shape)):.1f} µs |"
        )


if __name__ == "__main__":
    main()
    per_point()
