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
