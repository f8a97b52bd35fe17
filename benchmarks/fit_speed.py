"""How long a real fit takes: `jc.fit` with 64 starts and 200 bootstrap refits of a 40-row table,
against the same work done the usual way — one start or one refit at a time, SciPy's L-BFGS-B on
the same loss with JAX gradients (jitted once) — in one run.

    .venv/bin/python benchmarks/fit_speed.py [REPEATS]       (default 3; about 1 minute)

Setting: ridge (λ = 1e-3) on `jc.power_law(d, β, shift = tr ΣΔ)`, d ∈ {100, 400}, rows n ∈ 20…2000 ×
p2 ∈ {0, 0.2} (40 rows, 3 % noise); β and tr ΣΔ free. `jc.fit` times: the first call of a process
(compilation included) and the median of later calls on new data of the same shape (compiled
programs are kept). The loop's time is measured on 8 starts and 8 refits and scaled to 64 + 200.
"""

import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

import jaxcollapse as jc  # noqa: E402
from jaxcollapse._fit_models import ridge_model  # noqa: E402

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
N = np.tile(np.geomspace(20, 2000, 20), 2)
P2 = np.repeat([0.0, 0.2], 20)
BOUNDS = dict(beta=(1.05, 4.0), shift=(0.01, 10.0))


def table(d, seed):
    clean = np.asarray(
        ridge_model(
            beta=1.5, signal=1.0, shift=0.8, noise_var=0.05, n=jnp.asarray(N), p2=jnp.asarray(P2), lam=1e-3, d=d
        )
    )
    return dict(n=N, p2=P2, error=clean * np.exp(0.03 * np.random.default_rng(seed).standard_normal(N.size)))


def loop(d, data, starts, refits):
    """One L-BFGS-B run per start and per bootstrap refit (the same Huber loss on log errors)."""
    import optax

    n, p2, err = (jnp.asarray(data[k]) for k in ("n", "p2", "error"))

    @jax.jit
    def value_and_grad(x, e):
        def loss(x):
            pred = ridge_model(beta=x[0], shift=x[1], signal=1.0, noise_var=0.05, n=n, p2=p2, lam=1e-3, d=d)
            return jnp.mean(optax.huber_loss(jnp.log(pred) - jnp.log(e), delta=1e-3))

        return jax.value_and_grad(loss)(x)

    def one(x0, e):
        fun = lambda x: tuple(np.asarray(v, float) for v in value_and_grad(jnp.asarray(x), e))  # noqa: E731
        return minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=list(BOUNDS.values())).x

    rng = np.random.default_rng(0)
    start = time.perf_counter()
    jax.block_until_ready(value_and_grad(jnp.asarray([1.5, 0.8]), err))  # compile outside the timing
    compile_time = time.perf_counter() - start
    start = time.perf_counter()
    best = None
    for _ in range(starts):
        x0 = [rng.uniform(*BOUNDS["beta"]), np.exp(rng.uniform(*np.log(BOUNDS["shift"])))]
        best = one(x0, err)
    for _ in range(refits):
        one(best, err * np.exp(0.03 * rng.standard_normal(err.size)))
    return compile_time, time.perf_counter() - start


print(
    "| d | jc.fit, first call (compiles) | jc.fit, later calls (median) | one fit at a time: compile + 264 fits "
    "(L-BFGS-B loop, scaled) | loop / jc.fit, later calls |"
)
print("|---|---|---|---|---|")
for d in (100, 400):
    times = []
    for r in range(REPEATS + 1):
        data = table(d, r)
        t = time.perf_counter()
        f = jc.fit(
            "ridge",
            data,
            params=BOUNDS,
            fixed=dict(lam=1e-3, d=d, noise_var=0.05),
            starts=64,
            bootstrap=200,
            key=jax.random.key(r),
        )
        np.asarray(f.bootstrap["beta"])
        times.append(time.perf_counter() - t)
    warm = float(np.median(times[1:]))
    compile_time, base = loop(d, table(d, 0), 8, 8)
    base *= (64 + 200) / 16
    print(
        f"| {d} | {times[0]:.1f} s | {warm:.1f} s | {compile_time:.1f} s + {base:.1f} s | {base / warm:.2f} |",
        flush=True,
    )
