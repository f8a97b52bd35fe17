"""The package a lab depends on: a wheel and an sdist built from this tree (`python -m build`,
without an isolated build environment: nothing is downloaded), the wheel installed into a clean
virtual environment and imported and run there — not the checkout's editable install."""

import pathlib
import subprocess
import sys
import tarfile
import tomllib
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # sdist first, then the wheel built from the unpacked sdist (what `python -m build` does)
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


def test_the_distributions_carry_what_a_user_needs(dist):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    (wheel,) = dist.glob(f"jaxcollapse-{version}-py3-none-any.whl")
    (sdist,) = dist.glob(f"jaxcollapse-{version}.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "jaxcollapse/py.typed" in names and "jaxcollapse/theory/_operator.py" in names
    assert f"jaxcollapse-{version}.dist-info/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"jaxcollapse-{version}.dist-info/METADATA").decode()
    assert "Apache" in metadata and "Requires-Dist: jax" in metadata
    assert not any(name.startswith(("tests/", "docs/", "benchmarks/")) for name in names)
    members = tarfile.open(sdist).getnames()
    for path in ("pyproject.toml", "LICENSE", "README.md", "jaxcollapse/__init__.py", "jaxcollapse/py.typed"):
        assert f"jaxcollapse-{version}/{path}" in members, path


def test_the_wheel_installs_into_a_clean_environment_and_runs(dist, tmp_path):
    (wheel,) = dist.glob("jaxcollapse-*.whl")
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True)
    # The dependencies (jax, …) come from this test run's environment, appended after the clean
    # environment's own site-packages: the jaxcollapse imported is the wheel's, never the checkout.
    site = next(p for p in sys.path if p.endswith("site-packages"))
    (next((env / "lib").glob("python3*/site-packages")) / "deps.pth").write_text(site + "\n")
    script = (
        "import jax; jax.config.update('jax_enable_x64', True)\n"
        "import jaxcollapse as jc\n"
        "print(jc.__file__); print(jc.__version__)\n"
        "mix = jc.isotropic(50, signal=1.0, shift=0.0, noise_var=0.0)\n"
        "print(float(jc.theory.ridge(mix, n=100.0, p2=0.0, lam=0.0).total))\n"
    )
    out = subprocess.run([python, "-c", script], check=True, capture_output=True, text=True, cwd=tmp_path)
    where, version, error = out.stdout.split()
    assert where.startswith(str(env)) and "site-packages" in where
    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert abs(float(error) - 0.0) < 1e-12  # noiseless, no shift, n > d: ridgeless OLS is exact
    cli = subprocess.run([env / "bin" / "jaxcollapse", "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert cli.returncode == 0 and "run" in cli.stdout
