"""The examples the docs show run as written."""

import runpy
import sys

import pytest


def test_model_size_example_writes_its_figure(tmp_path, monkeypatch):
    out = tmp_path / "model-size.png"
    monkeypatch.setattr(sys, "argv", ["model_size.py", str(out)])
    scope = runpy.run_path("examples/model_size.py")
    assert out.stat().st_size > 10_000
    r, psi = scope["r"], scope["psi"]
    below, above = psi < 1, psi > 1
    # ridgeless: the collapse term rises up to the threshold and falls beyond it
    zeta = r.collapse[0]
    assert bool((zeta[below][1:] > zeta[below][:-1]).all()) and bool((zeta[above][1:] < zeta[above][:-1]).all())
    assert float(r.total[1].max()) < float(r.total[0].max())  # a ridge caps the peak
    assert float(psi[r.total[1].argmax()]) == pytest.approx(1.0, rel=0.1)
