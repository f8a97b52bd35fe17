"""The notebooks run from top to bottom (any error fails), and say what they claim to."""

import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = pathlib.Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name", ["01_backend.ipynb", "02_reproduce.ipynb"])
def test_notebook_executes(name, tmp_path):
    nb = nbformat.read(ROOT / name, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # at least one figure drawn
    if name == "01_backend.ipynb":
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert sum(len(s.splitlines()) for s in code) < 40  # "under 40 lines of user code"
        text = "".join(o.get("text", "") for o in outputs)
        assert "E = " in text and "dE/dm" in text
