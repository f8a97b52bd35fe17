"""The main job: `python -m jaxcollapse` writes the scaling-law figure."""

import subprocess
import sys

import numpy as np

from jaxcollapse.experiments.scaling_law import ScalingLawConfig, scaling_law


def test_demo_writes_figure(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "jaxcollapse", "--quick", "--out", str(out)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    png = out / "scaling-law.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "scaling-law.pdf").exists()
    assert str(png) in proc.stdout


def test_bad_cli_argument_is_an_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "jaxcollapse", "--trials", "1", "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "--trials" in proc.stderr


def test_scaling_law_data_shows_the_floors():
    data = scaling_law(ScalingLawConfig.quick())
    total, floor, p2 = data["total"], data["floor"], data["p2"]
    np.testing.assert_allclose(floor, p2**2 * data["quality"], rtol=1e-12)
    assert np.all(np.diff(total[0]) < 0)  # real only: more data always helps
    n = data["n"]
    for i in range(1, len(p2)):
        # With the ridge tuned, finite-n shrinkage can sit slightly *below* p2² tr(ΣΔ); the curve
        # still plateaus onto it: within 2 % at the largest n, and flat over the last decade.
        assert abs(total[i, -1] / floor[i] - 1) < 0.02
        last_decade = n >= n[-1] / 10
        assert total[i, last_decade].max() / total[i, -1] < 1.5
        assert total[i, -1] > 100 * total[0, -1]  # while real-only data keeps improving
    assert data["sim_mean"].shape == (len(p2), len(data["n_sim"]))
    # simulation at the tuned ridge lies on the theory curve (quick mode: few trials, so 4 s.e. or 10 %)
    for i in range(len(p2)):
        curve = np.exp(np.interp(np.log(data["n_sim"]), np.log(n), np.log(total[i])))
        gap = np.abs(data["sim_mean"][i] - curve)
        assert np.all(gap <= np.maximum(4 * data["sim_sem"][i], 0.1 * curve))
