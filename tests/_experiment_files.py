"""Quick runs of the named experiments, in memory and cached per test process, and what every run
must have produced.

An experiment's tests check its `Outcome` (the Dataset, the figures, summary.json's dict and
report.md's text) without writing files: `write_outcome` is tested once, on one experiment
(`test_experiments.py`), and the CLI writes a folder in `test_cli.py`. `make test-all` distributes
whole files over its workers (`--dist loadfile`), so the tests that share one quick run sit in one
file and that run happens once.
"""

import io
import json

import matplotlib.image
import matplotlib.pyplot as plt
import xarray as xr

import jaxcollapse as jc
from jaxcollapse.experiments import EXPERIMENTS, _framework

RUNS = {}


def run_quick(name, config=None):
    """The experiment's --quick run as an `Outcome` (summary as summary.json would read it back),
    computed once per process; its figures are checked (and closed) by `check_outcome`."""
    if name not in RUNS:
        module = EXPERIMENTS[name]
        config = config or _framework.make_config(module, quick=True)
        result = _framework.compute_outcome(module, config, quick=True)
        summary = json.loads(json.dumps(result.summary, allow_nan=True))  # what a reader of the file gets
        RUNS[name] = result._replace(summary=summary)
    return RUNS[name]


def png_pixels(fig):
    """The figure rendered as a PNG (in memory) and read back."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    buffer.seek(0)
    return matplotlib.image.imread(buffer)


def check_outcome(name, result):
    """What every experiment's run must produce: a drawn (not blank) figure named after it, a
    Dataset, a summary and a report that agree."""
    assert name in result.figs
    for fig in result.figs.values():
        pixels = png_pixels(fig)
        assert pixels.shape[0] > 300 and pixels.shape[1] > 300
        assert pixels[..., :3].std() > 0.05  # not blank
        plt.close(fig)
    ds, summary = result.ds, result.summary
    assert len(ds.data_vars) >= 2 and ds.attrs["experiment"] == name
    assert summary["experiment"] == name and summary["quick"] is True
    assert summary["jaxcollapse_version"] == jc.__version__ and summary["precision"] == "float64"
    assert summary["wall_time_s"] > 0  # recorded; durations belong in benchmarks, never in a pass/fail check
    assert len(summary["finding"]) > 40 and summary["parameters"]
    assert f"({name}.png)" in result.report and summary["finding"] in result.report


def check_files(name, folder, result):
    """What `write_outcome` wrote into `folder` for `result`: every figure as PNG and PDF, the
    Dataset in data.zarr, summary.json and report.md."""
    for fig_name in result.figs:
        png = folder / f"{fig_name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
        pixels = matplotlib.image.imread(png)
        assert pixels.shape[0] > 300 and pixels.shape[1] > 300 and pixels[..., :3].std() > 0.05
        assert (folder / f"{fig_name}.pdf").read_bytes()[:4] == b"%PDF"
    ds = xr.open_zarr(folder / "data.zarr").load()  # consolidated: no warning (warnings are errors here)
    assert ds.attrs["experiment"] == name and ds.attrs["config"] == result.ds.attrs["config"]
    xr.testing.assert_equal(ds, result.ds)
    assert (folder / "summary.json").read_text() == json.dumps(result.summary, indent=2, allow_nan=True) + "\n"
    assert (folder / "report.md").read_text() == result.report
