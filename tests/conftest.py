import os
import tempfile

# One BLAS thread per test process. `make test` runs two xdist workers on two cores; SciPy's
# threaded OpenBLAS (which jaxlib's CPU LAPACK calls) would start a thread per core in each, and
# the workers then fight (the Monte Carlo files ran 6-8 times slower side by side than alone). The
# variables reach SciPy (imported later) and every subprocess; NumPy's BLAS, already loaded by
# pytest's plugins, is limited through threadpoolctl.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
try:
    import threadpoolctl

    threadpoolctl.threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]), user_api="blas")
except ImportError:  # an optional dependency: the variables above still pin SciPy's BLAS
    pass

# One persistent compilation cache for the whole session, inherited by the subprocesses the CLI
# and notebook tests start: identical programs (the same experiment in-process, from the command
# line and in a notebook; the same kernel under a new closure) compile once.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), "jaxcollapse-tests-jax-cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
# The suite is bound by XLA compilation (about 2,600 programs). The lowest backend optimisation
# level compiles about 20 % faster, and XLA's CPU loop emitters about twice as fast as its newer
# fusion emitters where the jaxlib has them (`jaxcollapse._cache.fast_compile_flags`; measured:
# 37.8 s -> 18.5 s of compilation on a sample of the suite, 9:35 -> 7:45 for the whole suite).
# Neither changes a result beyond rounding (the tests' tolerances are far wider). Importing
# jaxcollapse here starts no backend: the flags still take effect.
from jaxcollapse._cache import fast_compile_flags  # noqa: E402

os.environ.setdefault("XLA_FLAGS", f"--xla_backend_optimization_level=0 {fast_compile_flags()}".strip())

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update(
    "jax_numpy_rank_promotion", os.environ.get("JC_RANK_PROMOTION", "raise")
)  # broadcasting across ranks must be explicit


def close_to_table(value, printed: str) -> bool:
    """Agreement with a table entry to the precision it is printed with (half a unit in the last digit),
    or 1e-6 relative, whichever is looser: the tables round to about six significant digits."""
    digits = printed.lower().split("e")[0]
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    exponent = int(printed.lower().split("e")[1]) if "e" in printed.lower() else 0
    half_unit = 0.5 * 10.0 ** (exponent - decimals)
    expected = float(printed)
    return abs(float(value) - expected) <= max(half_unit * (1 + 1e-9), 1e-6 * abs(expected))


@pytest.fixture
def key():
    return jax.random.key(20261124)
