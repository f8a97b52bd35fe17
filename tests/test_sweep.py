"""jc.sweep: shapes and coordinates, one compilation, simulation kernels, sharding, checkpoints, progress."""

import functools
import io
import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sweep_kernels

import jaxcollapse as jc

HERE = os.path.dirname(__file__)
MIX = jc.power_law(80, 1.3, signal=1.0, shift=0.5, noise_var=0.1)
AXES = {
    "n": np.array([40.0, 80.0, 160.0]),
    "m": np.geomspace(10, 1000, 7),
    "p2": np.array([0.0, 0.3]),
    "lam": np.array([0.0, 1e-3]),
}


def _direct(axes):
    shape = [len(v) for v in axes.values()]
    grids = {
        k: np.reshape(v, [-1 if i == j else 1 for j in range(len(shape))]) for i, (k, v) in enumerate(axes.items())
    }
    return jc.theory.random_projections(MIX, **grids)


def test_dataset_layout_and_values_match_a_direct_call():
    fn = functools.partial(jc.theory.random_projections, MIX)
    ds = jc.sweep(fn, AXES, chunk_size=10, progress=False)
    assert list(ds.total.dims) == ["n", "m", "p2", "lam"] and ds.total.shape == (3, 7, 2, 2)
    for name, values in AXES.items():
        np.testing.assert_array_equal(ds[name].values, values)
    assert set(ds.data_vars) == {"total", "bias", "variance", "collapse", "kappa", "status", "theta"}
    direct = _direct(AXES)
    np.testing.assert_allclose(ds.total.values, direct.total, rtol=1e-13)
    np.testing.assert_array_equal(ds.status.values, direct.status)
    assert (ds.status.values == jc.Status.INFINITE).sum() > 0  # the grid has m = n at lam = 0
    assert "random_projections" in ds.attrs["kernel"] and ds.attrs["problem"] == "Mixture(d=80)"
    assert ds.attrs["jaxcollapse_version"] == jc.__version__ and ds.attrs["chunks_computed"] == -(-84 // 10)


def test_axis_order_is_the_dict_order():
    fn = functools.partial(jc.theory.random_projections, MIX)
    a = jc.sweep(fn, AXES, progress=False)
    b = jc.sweep(fn, dict(reversed(list(AXES.items()))), progress=False)
    assert list(b.total.dims) == ["lam", "p2", "m", "n"]
    np.testing.assert_allclose(b.total.transpose("n", "m", "p2", "lam").values, a.total.values, rtol=1e-13)


def test_compiled_once_for_all_chunks():
    traces = []

    def kernel(*, n, p2, lam):
        traces.append(1)
        return jc.theory.ridge(MIX, n=n, p2=p2, lam=lam)

    ds = jc.sweep(
        kernel,
        {"n": np.geomspace(10, 1000, 50), "p2": np.array([0.1, 0.5]), "lam": np.array([1e-3])},
        chunk_size=7,
        progress=False,
    )
    assert ds.attrs["chunks_computed"] == 15
    assert len(traces) == 1


def _lowerings(run):
    """How many programs `run()` traces and lowers (persistent-cache hits included)."""
    from jax._src.dispatch import JAXPR_TO_MLIR_MODULE_EVENT

    events = []

    def listen(event, duration, **_):
        if event == JAXPR_TO_MLIR_MODULE_EVENT:
            events.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        out = run()
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    return len(events), out


def test_a_second_sweep_reuses_the_compiled_program():
    """Same kernel, same problem structure and chunk shape: nothing is traced or compiled again,
    also for another problem of the same shapes (its arrays are arguments, not constants)."""
    axes = {"n": np.geomspace(20, 400, 9), "p2": np.array([0.0, 0.4]), "lam": np.array([0.0, 1e-3])}
    first = functools.partial(jc.theory.ridge, MIX)
    jc.sweep(first, axes, chunk_size=16, progress=False)
    other = jc.power_law(80, 1.7, signal=2.0, shift=0.1, noise_var=0.3)
    count, ds = _lowerings(
        lambda: jc.sweep(functools.partial(jc.theory.ridge, other), axes, chunk_size=16, progress=False)
    )
    assert count == 0
    direct = jc.theory.ridge(other, n=axes["n"][:, None, None], p2=axes["p2"][:, None], lam=axes["lam"])
    np.testing.assert_allclose(ds.total.values, direct.total, rtol=1e-13)
    np.testing.assert_array_equal(ds.status.values, direct.status)
    # a kernel that reads its problem's values while tracing gets them baked in, keyed by them
    iso = jc.isotropic(30, signal=1.0, shift=0.5, noise_var=0.2)
    rf = functools.partial(jc.theory.random_features, iso, m=20, activation="tanh")
    rf_axes = {"n": np.array([10.0, 40.0]), "p2": np.array([0.0, 0.5]), "lam": np.array([1e-2])}
    a = jc.sweep(rf, rf_axes, progress=False)
    count, b = _lowerings(lambda: jc.sweep(rf, rf_axes, progress=False))
    assert count == 0
    np.testing.assert_array_equal(a.total.values, b.total.values)
    direct = jc.theory.random_features(
        iso, n=rf_axes["n"][:, None, None], m=20, p2=rf_axes["p2"][:, None], lam=1e-2, activation="tanh"
    )
    np.testing.assert_allclose(b.total.values, direct.total, rtol=1e-13)


def test_simulation_kernel_adds_a_trial_dimension_and_matches_a_direct_call():
    key = jax.random.key(5)
    fn = functools.partial(jc.simulate.random_projections, MIX, trials=6, key=key)
    axes = {"m": np.array([20, 120]), "p2": np.array([0.0, 0.5]), "lam": np.array([0.0, 0.01]), "n": np.array([60])}
    ds = jc.sweep(fn, axes, chunk_size=3, progress=False)
    assert ds.samples.dims == ("m", "p2", "lam", "n", "trial") and ds.samples.shape == (2, 2, 2, 1, 6)
    direct = jc.simulate.random_projections(
        MIX,
        n=60,
        m=np.array([20, 120])[:, None, None],
        p2=np.array([0.0, 0.5])[:, None],
        lam=np.array([0.0, 0.01]),
        trials=6,
        key=key,
    )
    np.testing.assert_allclose(ds.samples.values[:, :, :, 0], direct.samples, rtol=1e-10)
    np.testing.assert_allclose(ds["mean"].values[..., 0], direct.mean, rtol=1e-10)


@pytest.mark.parametrize(
    "axes, chunk, match",
    [
        ({"q": np.array([1.0])}, None, "not a keyword"),
        ({"n": np.ones((2, 2))}, None, "1-D"),
        ({"n": np.array([])}, None, "non-empty"),
        ({}, None, "non-empty dict"),
        ({"n": np.array([10.0])}, 0, "chunk_size"),
        ({"p2": np.array([0.1])}, None, "needs n"),
    ],
)
def test_bad_axes_are_refused(axes, chunk, match):
    with pytest.raises(ValueError, match=match):
        jc.sweep(
            functools.partial(jc.theory.ridge, MIX, lam=0.1),
            {"p2": np.array([0.1]), **axes} if "n" in axes else axes,
            chunk_size=chunk,
            progress=False,
        )


def test_sharded_over_four_devices_equals_one_device():
    script = textwrap.dedent(
        """
        import functools, jax, numpy as np
        jax.config.update("jax_enable_x64", True)
        import jaxcollapse as jc
        assert len(jax.devices()) == 4
        mix = jc.power_law(80, 1.3, signal=1.0, shift=0.5, noise_var=0.1)
        fn = functools.partial(jc.theory.random_projections, mix, n=100.0)
        axes = {"m": np.geomspace(10, 1000, 23), "p2": np.array([0.0, 0.3, 0.9]), "lam": np.array([0.0, 1e-2])}
        many = jc.sweep(fn, axes, chunk_size=10, progress=False)
        one = jc.sweep(fn, axes, chunk_size=10, progress=False, devices=jax.devices()[:1])
        assert many.attrs["devices"] == 4 and one.attrs["devices"] == 1
        # 3 lanes per device against 12 on one: XLA's CPU loops may round the last bit differently
        # (the problem is an argument of the program, not folded constants); statuses exactly
        np.testing.assert_array_equal(many.status.values, one.status.values)
        for field in many.data_vars:
            np.testing.assert_allclose(many[field].values, one[field].values, rtol=1e-15, atol=0)

        def curve(*, n, lam):  # n sets a shape; with n the only axis every point is unbatched
            x = jax.numpy.arange(n, dtype=float)
            return {"value": jax.numpy.sum(x) / (n + lam), "ends": jax.numpy.stack([x[0] + lam, x[-1] * lam], axis=-1)}

        curve.static_arguments = ("n",)
        for fn, axes in [(functools.partial(curve, lam=0.5), {"n": np.array([3, 5])}), (curve, {"n": np.array([3, 5]), "lam": np.array([0.1, 0.2, 0.3])})]:
            many = jc.sweep(fn, axes, progress=False)
            one = jc.sweep(fn, axes, progress=False, devices=jax.devices()[:1])
            assert many.ends.dims == tuple(axes) + ("ends_dim0",)
            for field in many.data_vars:
                np.testing.assert_array_equal(many[field].values, one[field].values)
        print("ok")
        """
    )
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]


def _curve(*, n, m, scale):
    x = jnp.arange(n * m, dtype=float) * scale
    return {"total": jnp.sum(x**2) / n, "ends": jnp.stack([x[0], x[-1]], axis=-1)}


_curve.static_arguments = ("n", "m")  # set shapes: jc.sweep loops over them


def test_learning_curve_with_only_static_axes(tmp_path):
    """Every axis static (issue 15): one unbatched point per value, same layout, checkpoint and values as a direct call."""
    fn = functools.partial(_curve, scale=0.5)
    axes = {"n": np.array([3, 5]), "m": np.array([2.0, 4.0, 1.0])}
    path = tmp_path / "curve.zarr"
    first = jc.sweep(fn, axes, checkpoint=path, progress=False)
    assert (
        first.total.dims == ("n", "m") and first.ends.dims == ("n", "m", "ends_dim0") and first.ends.shape == (2, 3, 2)
    )
    assert first.attrs["chunks_computed"] == 6 and first.attrs["chunks_resumed"] == 0
    for i, n in enumerate(axes["n"]):
        for j, m in enumerate(axes["m"]):
            direct = fn(n=int(n), m=int(m))
            np.testing.assert_allclose(first.total.values[i, j], direct["total"], rtol=1e-14)  # compiled vs eager
            np.testing.assert_allclose(first.ends.values[i, j], direct["ends"], rtol=1e-14)
    again = jc.sweep(fn, axes, checkpoint=path, progress=False)
    assert again.attrs["chunks_computed"] == 0 and again.attrs["chunks_resumed"] == 6
    plain = jc.sweep(fn, axes, chunk_size=4, progress=False)
    for field in plain.data_vars:
        np.testing.assert_array_equal(again[field].values, first[field].values)
        np.testing.assert_array_equal(plain[field].values, first[field].values)


def test_checkpoint_resumes_without_recomputing(tmp_path):
    path = tmp_path / "sweep.zarr"
    fn = functools.partial(jc.theory.random_projections, MIX)
    first = jc.sweep(fn, AXES, chunk_size=16, checkpoint=path, progress=False)
    assert first.attrs["chunks_computed"] == 6 and first.attrs["chunks_resumed"] == 0
    again = jc.sweep(fn, AXES, chunk_size=16, checkpoint=path, progress=False)
    assert again.attrs["chunks_computed"] == 0 and again.attrs["chunks_resumed"] == 6
    plain = jc.sweep(fn, AXES, progress=False)
    for field in plain.data_vars:
        np.testing.assert_array_equal(again[field].values, first[field].values)
        np.testing.assert_allclose(again[field].values, plain[field].values, rtol=1e-13)


@pytest.mark.parametrize("change", ["grid", "problem", "kernel"])
def test_checkpoint_for_another_sweep_is_refused(tmp_path, change):
    path = tmp_path / "sweep.zarr"
    fn = functools.partial(jc.theory.random_projections, MIX)
    jc.sweep(fn, AXES, checkpoint=path, progress=False)
    axes, other = dict(AXES), fn
    if change == "grid":
        axes["p2"] = np.array([0.0, 0.31])
    elif change == "problem":
        other = functools.partial(
            jc.theory.random_projections, jc.power_law(80, 1.3, signal=1.0, shift=0.6, noise_var=0.1)
        )
    else:
        other = functools.partial(jc.theory.ridge, MIX)
        axes = {k: v for k, v in AXES.items() if k != "m"}
    with pytest.raises(ValueError, match="different sweep"):
        jc.sweep(other, axes, checkpoint=path, progress=False)


def _run_until_killed(path, markers_at_least, log):
    """Start the slow checkpointed sweep in a subprocess, SIGKILL it once `markers_at_least` chunks are
    marked done, and return the number of markers then."""
    script = textwrap.dedent(
        f"""
        import sys, jax
        jax.config.update("jax_enable_x64", True)
        sys.path.insert(0, {HERE!r})
        import sweep_kernels, jaxcollapse as jc
        jc.sweep(sweep_kernels.slow_ridge, sweep_kernels.AXES, chunk_size=12, checkpoint={str(path)!r}, progress=False)
        """
    )
    env = {**os.environ, "JC_SLOW_SWEEP": "0.4"}
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.DEVNULL, stderr=err)
    done_dir = path / "done"
    deadline = time.time() + 240
    while time.time() < deadline and not (done_dir.exists() and _markers(done_dir) >= markers_at_least):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return _markers(done_dir)


def _markers(done_dir):
    return sum(1 for name in os.listdir(done_dir) if not name.endswith(".tmp"))


def test_killed_runs_lose_at_most_the_chunk_in_flight(tmp_path):
    """Two real SIGKILLs at different moments, a resume after each: every chunk marked before a kill
    is resumed, nothing marked is recomputed, and the end result is the uninterrupted one."""
    path = tmp_path / "sweep.zarr"
    total_chunks = -(-135 // 12)
    first = _run_until_killed(path, 2, tmp_path / "first.txt")
    assert 2 <= first < total_chunks, (tmp_path / "first.txt").read_text()[-2000:]
    second = _run_until_killed(path, first + 3, tmp_path / "second.txt")  # resumes `first`, then computes
    assert first + 3 <= second < total_chunks, (tmp_path / "second.txt").read_text()[-2000:]
    resumed = jc.sweep(sweep_kernels.slow_ridge, sweep_kernels.AXES, chunk_size=12, checkpoint=path, progress=False)
    assert resumed.attrs["chunks_resumed"] == second and resumed.attrs["chunks_discarded"] == 0
    assert resumed.attrs["chunks_computed"] == total_chunks - second
    fresh = jc.sweep(sweep_kernels.slow_ridge, sweep_kernels.AXES, chunk_size=12, progress=False)
    for field in fresh.data_vars:
        np.testing.assert_array_equal(resumed[field].values, fresh[field].values)


def test_damaged_chunks_are_recomputed_never_read(tmp_path):
    """What a kill during a write leaves (a chunk's data half written and no marker, or a marker half
    written aside), and what a damaged disk leaves (a truncated or overwritten chunk file under a valid
    marker): each such chunk is recomputed, and the result is the undamaged one."""
    path = tmp_path / "sweep.zarr"
    fn = functools.partial(jc.theory.random_projections, MIX)
    clean = jc.sweep(fn, AXES, chunk_size=16, checkpoint=path, progress=False)
    chunk_files = sorted(p for p in (path / "total" / "c").rglob("*") if p.is_file())
    assert len(chunk_files) == 6
    # a chunk whose file was cut short, and one overwritten with other bytes of the same length
    chunk_files[1].write_bytes(chunk_files[1].read_bytes()[:7])
    data = bytearray(chunk_files[4].read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk_files[4].write_bytes(bytes(data))
    # killed during a write: chunk 2's marker gone (its data half written), a marker left aside
    os.remove(path / "done" / "0-2")
    (path / "done" / "0-3.999.tmp").write_text("partial")
    again = jc.sweep(fn, AXES, chunk_size=16, checkpoint=path, progress=False)
    assert again.attrs["chunks_discarded"] == 2
    assert again.attrs["chunks_computed"] == 3 and again.attrs["chunks_resumed"] == 3
    for field in clean.data_vars:
        np.testing.assert_array_equal(again[field].values, clean[field].values)
    third = jc.sweep(fn, AXES, chunk_size=16, checkpoint=path, progress=False)  # repaired for good
    assert third.attrs["chunks_resumed"] == 6 and third.attrs["chunks_discarded"] == 0


_SCALE = 2.0


def _scaled(*, n, p2, lam):
    return jc.theory.ridge(MIX, n=n, p2=p2, lam=lam).total * _SCALE


def test_fingerprint_covers_what_can_change_a_result(tmp_path, monkeypatch):
    """A checkpoint is refused when the kernel's globals, its bound values, the package version or
    the precision differ from those it was written with."""
    axes = {"n": np.array([50.0, 100.0]), "p2": np.array([0.0, 0.5]), "lam": np.array([0.1])}
    path = tmp_path / "sweep.zarr"
    jc.sweep(_scaled, axes, checkpoint=path, progress=False)
    assert jc.sweep(_scaled, axes, checkpoint=path, progress=False).attrs["chunks_resumed"] == 1
    monkeypatch.setattr(sys.modules[__name__], "_SCALE", 3.0)  # a global the kernel reads
    with pytest.raises(ValueError, match="different sweep"):
        jc.sweep(_scaled, axes, checkpoint=path, progress=False)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="different sweep"):  # a bound value
        jc.sweep(
            functools.partial(jc.theory.ridge, MIX, weight=0.5), axes, checkpoint=tmp_path / "p.zarr", progress=False
        )
        jc.sweep(
            functools.partial(jc.theory.ridge, MIX, weight=0.7), axes, checkpoint=tmp_path / "p.zarr", progress=False
        )
    monkeypatch.setattr(jc, "__version__", "0.0.0-other")
    with pytest.raises(ValueError, match="jaxcollapse"):
        jc.sweep(_scaled, axes, checkpoint=path, progress=False)
    monkeypatch.undo()
    from jaxcollapse import _sweep

    names, values = list(axes), list(axes.values())
    with_x64 = _sweep._fingerprint(_scaled, names, values)[0]
    jax.config.update("jax_enable_x64", False)
    try:
        without = _sweep._fingerprint(_scaled, names, values)[0]
    finally:
        jax.config.update("jax_enable_x64", True)
    assert with_x64 != without and _sweep._fingerprint(_scaled, names, values)[0] == with_x64


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_and_quiet_otherwise(monkeypatch):
    fn = functools.partial(jc.theory.ridge, MIX, p2=0.2, lam=1e-3)
    axes = {"n": np.geomspace(10, 1000, 40)}
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    jc.sweep(fn, axes, chunk_size=10, progress=True)
    shown = term.getvalue()
    assert "40/40 points" in shown and "points/s" in shown and "ETA" in shown
    quiet = _Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    jc.sweep(fn, axes, chunk_size=10, progress=False)
    assert quiet.getvalue() == ""
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    jc.sweep(fn, axes, chunk_size=10, progress=True)
    assert pipe.getvalue() == ""


def test_bound_numbers_are_chunk_inputs_not_constants():
    """Numbers bound with functools.partial travel with each chunk like a swept axis: sweeping n
    at one (p2, λ), then p2 at another (n, λ), runs one compiled program, with the right values."""
    from jaxcollapse import _sweep

    mix = jc.power_law(40, 1.3, signal=1.0, shift=0.5, noise_var=0.1)
    ns, p2s = np.array([10.0, 50.0, 90.0]), np.array([0.1, 0.9])
    before = set(_sweep._PROGRAMS)
    a = jc.sweep(functools.partial(jc.theory.ridge, mix, p2=0.5, lam=1e-2), {"n": ns}, progress=False)
    b = jc.sweep(functools.partial(jc.theory.ridge, mix, n=200, lam=1e-3), {"p2": p2s}, progress=False)
    assert len(set(_sweep._PROGRAMS) - before) == 1
    np.testing.assert_allclose(a["total"].values, jc.theory.ridge(mix, n=ns, p2=0.5, lam=1e-2).total, rtol=1e-13)
    np.testing.assert_allclose(b["total"].values, jc.theory.ridge(mix, n=200, p2=p2s, lam=1e-3).total, rtol=1e-13)

    def repeated(*, x, times):  # `times` must be a Python int: the sweep binds it again
        return sum([x] * times)

    ds = jc.sweep(functools.partial(repeated, times=3), {"x": np.array([1.0, 2.0])}, progress=False)
    np.testing.assert_array_equal(ds["value"].values, [3.0, 6.0])
