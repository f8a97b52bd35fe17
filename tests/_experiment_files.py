"""What every experiment's quick run must have written (shared by the experiment tests)."""

import matplotlib.image
import xarray as xr

import jaxcollapse as jc


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
    assert 0 < summary["wall_time_s"] < 120
    assert len(summary["finding"]) > 40 and summary["parameters"]
    report = (folder / "report.md").read_text()
    assert f"({name}.png)" in report and summary["finding"] in report
