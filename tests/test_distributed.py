"""Multi-process sweeps for real: K separate Python processes on this machine joined by
`jax.distributed` (CPU collectives by gloo), each running the same `jc.sweep` calls
(`tests/_distributed_worker.py`). The cluster recipe of the docs ("Large grids") is what these processes run."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import sweep_kernels

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "_distributed_worker.py")
HARNESS_TIMEOUT = 240  # the test's own limit: a hang fails here, the library sets none


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _start(count, out, *extra, env=None):
    port = _free_port()
    env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    procs = []
    for pid in range(count):
        log = open(os.path.join(out, f"log{pid}.txt"), "w")
        cmd = [sys.executable, WORKER, str(pid), str(count), str(port), str(out), *extra]
        procs.append((subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log))
    return procs


def _wait(procs, timeout=HARNESS_TIMEOUT):
    deadline = time.time() + timeout
    codes = []
    for proc, log in procs:
        try:
            codes.append(proc.wait(timeout=max(deadline - time.time(), 1)))
        except subprocess.TimeoutExpired:
            for p, _ in procs:
                p.kill()
            pytest.fail(f"a process hung past the harness timeout of {timeout} s")
        finally:
            log.close()
    return codes


def _load(path):
    data = np.load(path)
    return json.loads(str(data["attrs"])), {k[4:]: data[k] for k in data.files if k.startswith("var_")}


def _close(actual, want, tol=1e-15):
    """Equal up to `tol` of the field's scale, the same non-finite points. One lane layout per device
    count: XLA's CPU loops may round the last bits differently (measured on theory: at most 5 ulps
    of a small component; a simulator's batched eigendecompositions: 4e-15 of the scale)."""
    finite = np.isfinite(want)
    np.testing.assert_array_equal(np.isfinite(actual), finite)
    scale = np.max(np.abs(want[finite]), initial=0.0)
    np.testing.assert_allclose(actual[finite], want[finite], rtol=0, atol=tol * scale)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same sweeps in this one process (one device)."""
    path = tmp_path_factory.mktemp("single") / "single.zarr"
    return {name: ds for name, ds in sweep_kernels.distributed_sweeps(str(path))}


@pytest.mark.parametrize("count", [2, 3])
def test_every_process_gets_the_single_process_dataset(count, reference, tmp_path):
    codes = _wait(_start(count, tmp_path))
    logs = [(tmp_path / f"log{pid}.txt").read_text() for pid in range(count)]
    assert codes == [0] * count, "\n".join(log[-3000:] for log in logs)
    for pid in range(count):
        for name, ref in reference.items():
            attrs, values = _load(tmp_path / f"p{pid}-{name}.npz")
            assert attrs["processes"] == count and attrs["devices"] == count
            assert set(values) == set(ref.data_vars)
            if "status" in ref:
                np.testing.assert_array_equal(values["status"], ref["status"].values)
            for field in ref.data_vars:
                _close(values[field], ref[field].values, 1e-13 if name == "simulation" else 1e-15)
        chunks = reference["written"].attrs["chunks_computed"]
        written, _ = _load(tmp_path / f"p{pid}-written.npz")
        resumed, _ = _load(tmp_path / f"p{pid}-resumed.npz")
        # the checkpoint is written once, by process 0; every process resumes every chunk from it
        assert written["chunks_computed"] == chunks and written["chunks_saved"] == (chunks if pid == 0 else 0)
        assert resumed["chunks_resumed"] == chunks and resumed["chunks_computed"] == 0
        assert resumed["chunks_discarded"] == 0
    assert len(os.listdir(tmp_path / "shared.zarr" / "done")) == chunks


def test_a_killed_process_makes_the_others_fail_and_the_checkpoint_resumes(tmp_path):
    procs = _start(2, tmp_path, "slow", env={"JC_SLOW_SWEEP": "0.5"})
    done = tmp_path / "slow.zarr" / "done"
    deadline = time.time() + HARNESS_TIMEOUT
    while time.time() < deadline and not (done.exists() and len(os.listdir(done)) >= 1):
        time.sleep(0.05)
    procs[1][0].send_signal(signal.SIGKILL)
    codes = _wait(procs, timeout=120)  # process 0 must fail on its own (a collective loses its peer)
    log = (tmp_path / "log0.txt").read_text()
    assert codes[0] != 0 and codes[1] == -signal.SIGKILL
    assert "Gloo" in log or "heartbeat" in log or "distributed" in log, log[-3000:]
    assert not (tmp_path / "p0-slow.npz").exists()
    saved = len(os.listdir(done))
    total = -(-135 // 12)
    assert 1 <= saved < total
    # one process resumes what the two saved and computes the rest: the uninterrupted result
    import jaxcollapse as jc

    resumed = jc.sweep(
        sweep_kernels.slow_ridge, sweep_kernels.AXES, chunk_size=12, checkpoint=tmp_path / "slow.zarr", progress=False
    )
    assert resumed.attrs["chunks_resumed"] == saved and resumed.attrs["chunks_computed"] == total - saved
    fresh = jc.sweep(sweep_kernels.slow_ridge, sweep_kernels.AXES, chunk_size=12, progress=False)
    np.testing.assert_array_equal(resumed["status"].values, fresh["status"].values)
    for field in fresh.data_vars:
        _close(resumed[field].values, fresh[field].values)
