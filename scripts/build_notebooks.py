"""Build notebooks/01_backend.ipynb and 02_reproduce.ipynb and execute them in place.

.venv/bin/python scripts/build_notebooks.py   (needs the test extra: nbclient, ipykernel)
"""

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

nb1 = new_notebook(
    cells=[
        new_markdown_cell(
            "# jaxcollapse as a backend\n\nA problem, a risk, a gradient, a sweep and a plot: the theory of *Strong Model Collapse* "
            "(Dohmatob, Feng, Subramonian, Kempe, ICLR 2025) from your own code."
        ),
        new_code_cell(
            'import functools\nimport jax\njax.config.update("jax_enable_x64", True)\nimport numpy as np\nimport jaxcollapse as jc'
        ),
        new_markdown_cell(
            "A real + synthetic mixture: power-law covariance, synthetic teacher at distance tr(ΣΔ) = 0.5."
        ),
        new_code_cell(
            "mix = jc.power_law(1000, 1.5, signal=1.0, shift=0.5, noise_var=0.1)\n"
            "r = jc.theory.random_projections(mix, n=500, m=250, p2=0.2, lam=1e-3)\n"
            'print(f"E = {float(r.total):.4f} = B {float(r.bias):.4f} + V {float(r.variance):.4f} + ζ {float(r.collapse):.4f}")'
        ),
        new_markdown_cell("Does a wider model help here? Differentiate the theory with respect to the width."),
        new_code_cell(
            "dE_dm = jax.grad(lambda m: jc.theory.random_projections(mix, n=500.0, m=m, p2=0.2, lam=1e-3).total)(250.0)\n"
            'print(f"dE/dm at m = 250: {float(dE_dm):+.2e}")'
        ),
        new_markdown_cell("A grid over width and synthetic fraction, as an `xarray.Dataset`."),
        new_code_cell(
            "ds = jc.sweep(functools.partial(jc.theory.random_projections, mix, n=500.0, lam=1e-3),\n"
            '              {"m": np.geomspace(10, 5000, 120), "p2": [0.0, 0.1, 0.3, 0.6]}, progress=False)\n'
            "ds"
        ),
        new_code_cell(
            'ax = ds.total.plot.line(x="m", xscale="log", yscale="log")\n'
            'ax[0].axes.axvline(500, color="gray", ls="--")\n'
            'ax[0].axes.set_title("random projections: error against width (dashed: m = n)");'
        ),
    ]
)

nb2 = new_notebook(
    cells=[
        new_markdown_cell(
            "# Reproduce two experiments\n\nRun two named experiments (quick settings), then load their saved data and redraw them."
        ),
        new_code_cell(
            'import json, pathlib, tempfile\nimport jax\njax.config.update("jax_enable_x64", True)\nimport matplotlib\nmatplotlib.rcParams["figure.dpi"] = 60  # keeps the stored notebook small\nimport xarray as xr\n'
            "from jaxcollapse.experiments import EXPERIMENTS, _framework\nout = pathlib.Path(tempfile.mkdtemp())"
        ),
        new_code_cell(
            'folders = {}\nfor name in ("mixing", "width-pareto"):\n'
            "    module = EXPERIMENTS[name]\n"
            "    folders[name] = _framework.run(module, _framework.make_config(module, quick=True), out, quick=True)\n"
            '    print(name, "->", json.loads((folders[name] / "summary.json").read_text())["finding"])'
        ),
        new_markdown_cell("The saved Dataset is all a figure needs: redraw the mixing experiment from `data.zarr`."),
        new_code_cell(
            'ds = xr.open_zarr(folders["mixing"] / "data.zarr", consolidated=False).load()\n'
            'EXPERIMENTS["mixing"].figures(ds)["mixing"]'
        ),
        new_code_cell(
            'ds = xr.open_zarr(folders["width-pareto"] / "data.zarr", consolidated=False).load()\n'
            'EXPERIMENTS["width-pareto"].figures(ds)["width-pareto"]'
        ),
    ]
)
for path, nb in (("notebooks/01_backend.ipynb", nb1), ("notebooks/02_reproduce.ipynb", nb2)):
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()
    nbformat.write(nb, path)
    print("wrote", path)
