"""Roofline line for the exact theory path: per-lane Newton iterations and achieved throughput.

    .venv/bin/python benchmarks/roofline.py

Ridge on the 256 x 256 (n, λ) grid of benchmarks/theory_grid.py (power law, d = 1000, float64).
1. Iterations per lane of the κ root solve, reproduced with the library's own pieces (bracket,
   df1 table, tabulated bracket, fused value-and-derivative) and `_solve.bracketed_root_steps`.
2. The machine's throughput for the kernel's inner expression, sum_j w_j / (s_j + x)^2 over
   (point, j) pairs, measured by a jitted microbenchmark in the same run.
3. The full kernel's achieved rate: (iterations + 1 moment pass) x d inner evaluations per point,
   divided by the kernel's time, as a fraction of (2).
"""

import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxcollapse as jc  # noqa: E402
from jaxcollapse import _solve  # noqa: E402
from jaxcollapse.theory import _common, _ridge as ridge_module  # noqa: E402

D = 1000
mix = jc.power_law(D, 1.5, signal=1.0, shift=0.5, noise_var=0.1)
s = mix.eigs
ns = np.geomspace(100, 1e5, 256)
lams = np.geomspace(1e-8, 10, 256)
N, L = (jnp.asarray(a.ravel()) for a in np.meshgrid(ns, lams, indexing="ij"))
p2, weight = 0.2, 1.0


def median_time(fn, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@jax.jit
def steps_per_lane(N, L):
    table = _common.df1_table(s)

    def one(n, lam):
        lo, hi = ridge_module.kappa_bracket(s, n, p2, lam, weight)
        residual = lambda k, df1: k * ridge_module._a_of_delta(df1 / n, p2, weight) - lam  # noqa: E731
        lo, hi, x0 = _common.narrow_bracket(table, residual, lo, hi)
        args = (n, p2, lam, weight, s)
        _, ok, steps = _solve.bracketed_root_steps(
            ridge_module._kappa_equation, args, lo, hi, x0, ridge_module._kappa_value_and_derivative
        )
        return steps, ok

    return jax.lax.map(lambda nl: one(*nl), (N, L), batch_size=512)


steps, ok = (np.asarray(a) for a in steps_per_lane(N, L))
W = jnp.stack([s, s * s, mix.signal * s, mix.shift * s])
X = jnp.asarray(np.geomspace(1e-6, 1.0, N.size))
inner = jax.jit(lambda X: jax.lax.map(lambda x: W @ (1.0 / (s + x)) ** 2, X, batch_size=512))
t_inner = median_time(lambda: inner(X))
throughput = X.size * D / t_inner  # (point, j) evaluations per second
t_kernel = median_time(lambda: jc.theory.ridge(mix, n=N, p2=p2, lam=L).total)
evaluations = float(np.sum(steps + 1)) * D
print(f"grid {N.size:,} points, d = {D}, float64, {jax.devices()[0].platform}")
print(
    f"Newton iterations per lane: median {np.median(steps):.0f}, worst {steps.max()}, cap {_solve._MAX_STEPS}; converged {ok.mean():.0%}"
)
print(f"inner expression sum_j w_j/(s_j+x)^2: {throughput / 1e9:.2f} G (point, j)/s")
print(
    f"ridge kernel: {1e6 * t_kernel / N.size:.2f} µs/point, {evaluations / t_kernel / 1e9:.2f} G (point, j)/s "
    f"= {100 * evaluations / t_kernel / throughput:.0f} % of the inner-expression rate"
)
