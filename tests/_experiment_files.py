"""Quick runs of the named experiments, cached per test process, and what every run must have written.

`make test` distributes whole files over its workers (`--dist loadfile`), so the tests that share
one quick run sit in one file and that run happens once.
"""

import json

import matplotlib.image
import xarray as xr

import jaxcollapse as jc
from jaxcollapse.experiments import EXPERIMENTS, _framework

RUNS = {}


def run_quick(name, tmp_path_factory):
    """The experiment's --quick run (folder, summary), computed once per process."""
    if name not in RUNS:
        module = EXPERIMENTS[name]
        config = _framework.make_config(module, quick=True)
        folder = _framework.run(module, config, tmp_path_factory.mktemp(name), quick=True)
        RUNS[name] = (folder, json.loads((folder / "summary.json").read_text()))
    return RUNS[name]


def check_files(name, folder, summary):
    png = folder / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    pixels = matplotlib.image.imread(png)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 300
    assert pixels[..., :3].std() > 0.05  # not blank
    assert (folder / f"{name}.pdf").read_bytes()[:4] == b"%PDF"
    ds = xr.open_zarr(folder / "data.zarr", consolidated=False)
    assert len(ds.data_vars) >= 2 and ds.attrs["experiment"] == name
    assert summary["experiment"] == name and summary["quick"] is True
    assert summary["jaxcollapse_version"] == jc.__version__ and summary["precision"] == "float64"
    assert summary["wall_time_s"] > 0  # recorded; durations belong in benchmarks, never in a pass/fail check
    assert len(summary["finding"]) > 40 and summary["parameters"]
    report = (folder / "report.md").read_text()
    assert f"({name}.png)" in report and summary["finding"] in report
