"""The command line: the main job, list, run, sweep, bench, and its errors."""

import json
import os
import subprocess
import sys

import pytest


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "jaxcollapse", *args], capture_output=True, text=True, timeout=timeout)


def _main(capsys, *args):
    """The command line in this process (`jaxcollapse.cli.main`, which `python -m jaxcollapse` calls):
    (exit code, stdout, stderr). A subprocess costs an interpreter and a JAX import per call; the
    real entry point is exercised by the subprocess tests in this file."""
    from jaxcollapse.cli import main

    capsys.readouterr()
    environ = dict(os.environ)  # main() sets MPLBACKEND=Agg, which a notebook kernel started later would inherit
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
        if not isinstance(exit_.code, (int, type(None))):
            print(exit_.code, file=sys.stderr)  # `raise SystemExit(message)` prints the message
    finally:
        os.environ.clear()
        os.environ.update(environ)
    out, err = capsys.readouterr()
    return code or 0, out, err


def test_main_job_runs_the_phase_diagram(tmp_path):
    proc = _cli("--quick", "--out", str(tmp_path), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "phase-diagram"
    assert (folder / "phase-diagram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["finding"] in proc.stdout


def test_list_names_every_experiment(capsys):
    from jaxcollapse.experiments import EXPERIMENTS

    code, out, _ = _main(capsys, "list")
    assert code == 0
    for name, module in EXPERIMENTS.items():
        assert f"{name}  " in out and module.DESCRIPTION in out


def test_errors_are_one_clear_line(tmp_path, capsys):
    cases = [
        (("run", "nope"), "unknown experiment 'nope'"),
        (("run", "scaling-law", "--set", "d=abc"), "d='abc': expected an integer"),
        (("run", "scaling-law", "--set", "zzz=1"), "unknown setting 'zzz'"),
        (("run", "scaling-law", "--set", "novalue"), "expected KEY=VALUE"),
        (("run", "scaling-law", "--trials", "1"), "--trials"),
        (("sweep", str(tmp_path / "missing.toml")), "cannot read the config file"),
        (("run", "phase-diagram", "--devices", "99"), "--devices"),
    ]
    for args, message in cases:
        code, _, err = _main(capsys, *args, "--out", str(tmp_path)) if args[0] == "run" else _main(capsys, *args)
        assert code != 0, args
        lines = [line for line in err.strip().splitlines() if line.startswith("jaxcollapse")]
        assert lines and message in lines[-1], (args, err)
        assert "Traceback" not in err  # any other exception would have propagated out of main


def test_sweep_from_toml(tmp_path, capsys):
    config = tmp_path / "grid.toml"
    config.write_text(
        'name = "tiny"\n[problem]\nspectrum = "power_law"\nd = 50\nbeta = 1.5\nshift = 0.5\n'
        '[kernel]\nname = "ridge"\nlam = 0.01\n[axes]\nn = { geomspace = [10, 1000, 7] }\np2 = [0.0, 0.5]\n'
        '[output]\nfields = ["total", "collapse"]\n'
    )
    code, _, err = _main(capsys, "sweep", str(config), "--out", str(tmp_path), "--no-progress")
    assert code == 0, err
    import numpy as np
    import xarray as xr

    import jaxcollapse as jc

    ds = xr.open_zarr(tmp_path / "tiny" / "data.zarr").load()  # consolidated: opens without a warning
    assert ds["total"].dims == ("n", "p2") and set(ds.data_vars) == {"total", "collapse"}
    import jax

    jax.config.update("jax_enable_x64", True)
    ref = jc.theory.ridge(
        jc.power_law(50, 1.5, shift=0.5), n=ds["n"].values[:, None], p2=ds["p2"].values[None, :], lam=0.01
    )
    np.testing.assert_allclose(ds["total"].values, np.asarray(ref.total), rtol=1e-12)
    assert (tmp_path / "tiny" / "tiny.png").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text('[problem]\nd = 50\nbeta = 1.5\n[kernel]\nname = "ridge"\n[axes]\nm = [1, 2]\n')
    code, _, err = _main(capsys, "sweep", str(bad), "--out", str(tmp_path))
    assert code == 2 and "[axes] m: not a keyword of ridge" in err


def test_bench_prints_its_table(capsys):
    code, out, err = _main(capsys, "bench", "--size", "8")
    assert code == 0, err
    assert "| ridge κ + risk, d = 1000 | 8×8 |" in out
    assert "compressed vs exact" in out


def test_float32_run_agrees_with_float64(tmp_path):
    import jax
    import numpy as np
    import xarray as xr

    from jaxcollapse.experiments import EXPERIMENTS, _framework

    proc = _cli("run", "width-pareto", "--quick", "--out", str(tmp_path), "--float32", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    f32 = xr.open_zarr(tmp_path / "width-pareto" / "data.zarr", consolidated=False).load()
    jax.config.update("jax_enable_x64", True)
    module = EXPERIMENTS["width-pareto"]
    f64 = module.compute(_framework.make_config(module, quick=True))
    assert f32["mixed"].dtype == np.float32 and f64["mixed"].dtype == np.float64
    # λ = 1e-3 keeps these widths away from the ridgeless threshold: float32 within 1e-4 relative
    np.testing.assert_allclose(f32["mixed"].values, f64["mixed"].values, rtol=1e-4)
    assert np.any(f32["mixed"].values != f64["mixed"].values.astype(np.float32))  # really computed in float32
    assert json.loads((tmp_path / "width-pareto" / "summary.json").read_text())["precision"] == "float32"


def test_persistent_compilation_cache(tmp_path):
    """The command line keeps compiled programs on disk (in XDG_CACHE_HOME unless told otherwise);
    `JAXCOLLAPSE_CACHE` moves it or turns it off; importing the library never turns it on."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("JAX_COMPILATION_CACHE_DIR", "JAX_ENABLE_COMPILATION_CACHE", "JAXCOLLAPSE_CACHE")
    }
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")

    def run(*args, **extra):
        return subprocess.run(
            [sys.executable, *args], capture_output=True, text=True, timeout=300, env={**env, **extra}
        )

    assert run("-m", "jaxcollapse", "list").returncode == 0
    assert (tmp_path / "xdg" / "jaxcollapse" / "jax").is_dir()
    assert run("-m", "jaxcollapse", "list", JAXCOLLAPSE_CACHE=str(tmp_path / "moved")).returncode == 0
    assert (tmp_path / "moved").is_dir()
    assert (
        run("-m", "jaxcollapse", "list", JAXCOLLAPSE_CACHE="off", XDG_CACHE_HOME=str(tmp_path / "off")).returncode == 0
    )
    assert not (tmp_path / "off").exists()
    script = (
        "import os, sys, jax, jaxcollapse as jc\n"
        "assert not jax.config.jax_compilation_cache_dir, 'import turned the cache on'\n"
        "path = jc.enable_compilation_cache(sys.argv[1])\n"
        "jax.jit(lambda x: x * 2.0 + 1.0)(3.0).block_until_ready()\n"
        "print(len(os.listdir(path)))\n"
        # x64 switched on after the import (as the command line does): nothing made at import time
        # may keep float32 (the tails' quadrature nodes once did, 2e-10 off)
        "jax.config.update('jax_enable_x64', True)\n"
        "print(repr(float(jc.tails.generations(2.0, T=1e5, T0=1e4, generations=3).total)))\n"
    )
    proc = run("-c", script, str(tmp_path / "lib"))
    assert proc.returncode == 0, proc.stderr
    written, late_x64 = proc.stdout.split()
    assert int(written) >= 1  # the program was written
    import jaxcollapse as jc

    assert float(late_x64) == pytest.approx(
        float(jc.tails.generations(2.0, T=1e5, T0=1e4, generations=3).total), rel=1e-13, abs=0
    )


def test_compile_flags_only_when_xla_flags_is_unset(monkeypatch):
    """The command line adds XLA's faster CPU compilation flags for a jaxlib it knows, never
    over a user's XLA_FLAGS (even an empty one)."""
    from jaxcollapse import _cache

    monkeypatch.setattr(_cache, "_FAST_COMPILE", {(0, 10): "--a", (99, 1): "--b"})
    monkeypatch.setattr(_cache, "_CPU_SAFETY", {(99, 1): "--c"})
    monkeypatch.setattr("importlib.metadata.version", lambda name: "99.1.3")
    assert _cache.fast_compile_flags() == "--b"
    monkeypatch.setattr("importlib.metadata.version", lambda name: "99.2.0")
    assert _cache.fast_compile_flags() == ""  # an unknown jaxlib: XLA would abort on a flag it lacks
    monkeypatch.setattr("importlib.metadata.version", lambda name: "99.1.3")
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    _cache.cli_xla_flags()
    assert os.environ["XLA_FLAGS"] == "--c --b"
    monkeypatch.setenv("XLA_FLAGS", "")
    _cache.cli_xla_flags()
    assert os.environ["XLA_FLAGS"] == ""


def test_the_cpu_flags_keep_jaxlib_from_crashing():
    """jaxlib 0.10.2's XLA:CPU "ynn" fusions crash on this rank-7 reduction (jax-ml/jax#40412): with
    the flags the command line and the tests give XLA, it runs and is right."""
    from jaxcollapse import _cache

    script = (
        "import jax, jax.numpy as jnp, numpy as np\n"
        "a = jax.random.normal(jax.random.PRNGKey(0), (3, 1, 2, 2, 8, 8, 8), dtype=jnp.float32)\n"
        "b = jax.random.normal(jax.random.PRNGKey(1), (3, 1, 2, 2, 8, 8, 8), dtype=jnp.float32)\n"
        "out = jax.jit(lambda a, b: jnp.sum(a * b, axis=3))(a, b)\n"
        "ref = np.sum(np.asarray(a, np.float64) * np.asarray(b, np.float64), axis=3)\n"
        "assert out.shape == (3, 1, 2, 8, 8, 8) and np.allclose(out, ref, rtol=1e-5, atol=1e-5)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "XLA_FLAGS": _cache.cpu_flags()}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (proc.returncode, proc.stderr[-2000:])


def test_execution_bound_programs_are_plain_inside_another_trace():
    """`execution_bound_jit` compiles with its own options at top level (JAX refuses them on a
    nested jit): inside a jit with constant inputs, a vmap and a grad the plain program runs, and
    every route gives the same numbers."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from jaxcollapse._cache import execution_bound_jit

    f = execution_bound_jit(lambda x, scale: jnp.sin(x) * scale)
    x = jnp.linspace(0.0, 1.0, 5)
    want = np.sin(np.linspace(0.0, 1.0, 5)) * 3.0
    np.testing.assert_allclose(f(x, 3.0), want, rtol=1e-14)
    np.testing.assert_allclose(jax.jit(lambda: f(x, 3.0))(), want, rtol=1e-14)
    np.testing.assert_allclose(jax.vmap(f, in_axes=(0, None))(x[:, None], 3.0)[:, 0], want, rtol=1e-14)
    np.testing.assert_allclose(
        jax.grad(lambda s: f(x, s).sum())(3.0), np.sin(np.linspace(0.0, 1.0, 5)).sum(), rtol=1e-14
    )


def test_compiled_programs_are_released_when_memory_maps_run_short():
    """Each compiled CPU program holds memory mappings until JAX lets it go; `release_compiled_programs`
    drops them past a fraction of the kernel's cap (the cap that crashed long test workers)."""
    import jax
    import jax.numpy as jnp

    from jaxcollapse._cache import memory_maps, release_compiled_programs

    if memory_maps() is None:
        pytest.skip("this system does not report memory mappings (/proc)")
    for i in range(1, 41):  # forty programs the process did not hold before
        jax.jit(lambda x, i=i: jnp.cumsum(jnp.sin(x) * i) ** 2)(jnp.ones(1000 + i)).block_until_ready()
    held, limit = memory_maps()
    assert limit > 0 and not release_compiled_programs(fraction=1.0)  # under the cap: nothing happens
    assert memory_maps()[0] >= held - 5
    assert release_compiled_programs(fraction=0.0)
    assert memory_maps()[0] < held - 40  # the forty programs' code is unmapped
