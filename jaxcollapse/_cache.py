"""A persistent compilation cache: compiled programs kept on disk across processes.

JAX can store every compiled program on disk and load it in the next process instead of compiling
again. The command line turns this on by default (a second `jaxcollapse run` of an experiment then
compiles nothing); the library offers it as one call and never turns it on by itself.
"""

from __future__ import annotations

import os

ENV = "JAXCOLLAPSE_CACHE"  # a directory, or "off"


def default_cache_dir() -> str:
    """`$JAXCOLLAPSE_CACHE` if it names a directory, else `$XDG_CACHE_HOME/jaxcollapse/jax`
    (`~/.cache/jaxcollapse/jax` when `XDG_CACHE_HOME` is unset)."""
    named = os.environ.get(ENV, "")
    if named and named.lower() != "off":
        return os.path.expanduser(named)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jaxcollapse", "jax")


def enable_compilation_cache(path: str | os.PathLike | None = None) -> str:
    """Keep compiled programs in `path` (default `default_cache_dir()`) for later processes.

    Every program is kept, however fast it compiled (JAX's own default keeps only those that took
    over a second, and most of ours take less). Safe to call more than once; affects the whole
    process. Returns the directory.
    """
    import jax

    path = os.fspath(default_cache_dir() if path is None else os.path.expanduser(os.fspath(path)))
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


def cli_cache() -> str | None:
    """The command line's choice: off with `JAXCOLLAPSE_CACHE=off`; a directory JAX was already
    given (`JAX_COMPILATION_CACHE_DIR`) is kept; otherwise `default_cache_dir()`."""
    import jax

    if os.environ.get(ENV, "").lower() == "off":
        return None
    existing = jax.config.jax_compilation_cache_dir
    if existing and not os.environ.get(ENV):
        return enable_compilation_cache(existing)
    return enable_compilation_cache()


# XLA's CPU backend compiles about a third faster with its loop emitters than with its newer fusion
# emitters, and the programs run as fast (benchmarks/latency.py: a first call on a new bucket
# 2.5 s -> 1.6 s, the first theory result of a fresh process 1.2 s -> 0.8 s, the same median per
# call). XLA aborts on a flag it does not know, so the flag is given only to the jaxlib version it
# was checked on.
_FAST_COMPILE = {(0, 10): "--xla_cpu_use_fusion_emitters=false"}
# jaxlib 0.10.2 (and 0.11.0) turn on XLA:CPU's "ynn" fusions, which crash the process (SIGSEGV on an
# Eigen worker thread, so Python's traceback shows whatever the main thread was doing: compiling,
# loading a cached program) on some reductions of rank-7 and rank-8 arrays (jax-ml/jax issues
# 39257, 40412). Our CI crashed twice this way; an empty fusion type turns them off (they are new in
# 0.10.2, so 0.10.0–0.10.1 lose nothing). 0.11 is not pinned here: add it when it is installable.
_CPU_SAFETY = {(0, 10): "--xla_cpu_experimental_ynn_fusion_type="}


def fast_compile_flags() -> str:
    """XLA flags that make CPU compilation faster without slowing the programs, for this jaxlib
    (empty when none is known for it)."""
    return _FAST_COMPILE.get(_jaxlib_version(), "")


# Programs that run far longer than they compile (the transformer's training and evaluation)
# compile at XLA's full backend optimisation (level 3, XLA's default) when called at top
# level, even where XLA_FLAGS lowers it for the whole process, as the test suite does for its
# thousands of small theory programs. Measured in the suite: the gcd quick run 51 s -> 26 s. The
# Monte Carlo simulators and the small networks' training are not among them: at the suite's quick
# sizes the slower compilation outweighed the faster run (data-loops 25 s -> 44 s, nn-width
# 17 s -> 36 s). JAX accepts compiler options only on a top-level jit, so inside another trace
# (`jc.sweep`'s program, a user's jit, vmap or grad) the same function is the plain
# `eqx.filter_jit` one.
EXECUTION_BOUND = {"xla_backend_optimization_level": 3}


def _inside_a_trace(args) -> bool:
    import jax
    import jax.numpy as jnp

    if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(args)):
        return True
    return isinstance(jnp.zeros(()) + 0.0, jax.core.Tracer)  # staged: an enclosing jit with constant inputs


def execution_bound_jit(fun):
    """`eqx.filter_jit(fun)`, compiled with the `EXECUTION_BOUND` options when called outside any trace."""
    import functools

    import equinox as eqx

    plain = eqx.filter_jit(fun)
    optimised = eqx.filter_jit(fun, compiler_options=EXECUTION_BOUND)

    @functools.wraps(fun)
    def call(*args, **kwargs):
        return (plain if _inside_a_trace((args, kwargs)) else optimised)(*args, **kwargs)

    return call


def _jaxlib_version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return tuple(int(p) for p in version("jaxlib").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return None


def cpu_flags() -> str:
    """`fast_compile_flags()` and the flags that keep this jaxlib's CPU backend from crashing
    (`_CPU_SAFETY`): what the command line and the tests give XLA."""
    return " ".join(f for f in (_CPU_SAFETY.get(_jaxlib_version(), ""), fast_compile_flags()) if f)


def cli_xla_flags() -> None:
    """The command line's choice: `cpu_flags()` unless `XLA_FLAGS` is set (to anything, even
    empty). Takes effect only before JAX starts its backend (importing jaxcollapse does not)."""
    if "XLA_FLAGS" not in os.environ and (flags := cpu_flags()):
        os.environ["XLA_FLAGS"] = flags


# Every program XLA compiles for the CPU keeps its machine code in memory mappings of its own (about
# 20–40 per program, measured in the test suite), and JAX keeps every compiled program for reuse.
# Linux caps the mappings of a process (`vm.max_map_count`, 65530 by default): past the cap the next
# compilation cannot map its code and jaxlib dies (SIGSEGV or SIGABRT on a compiler thread, with a
# Python traceback that shows only what the main thread was doing). A process that compiles
# thousands of programs — a test worker, a long-lived server — has to let some go.
_MAP_LIMIT = "/proc/sys/vm/max_map_count"


def memory_maps() -> tuple[int, int] | None:
    """`(mappings this process holds, the kernel's limit)`, or None where the system does not say."""
    try:
        with open(_MAP_LIMIT) as f:
            limit = int(f.read())
        with open("/proc/self/maps", "rb") as f:
            return f.read().count(b"\n"), limit
    except (OSError, ValueError):
        return None


def release_compiled_programs(fraction: float = 0.5) -> bool:
    """Drop JAX's in-memory compiled programs (`jax.clear_caches()`) if this process holds more than
    `fraction` of its memory-mapping limit; later calls compile again. Returns whether it did."""
    maps = memory_maps()
    if maps is None or maps[0] <= fraction * maps[1]:
        return False
    import gc

    import jax

    jax.clear_caches()
    gc.collect()
    return True
