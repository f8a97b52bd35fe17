"""jaxcollapse: model collapse, computable.

Deterministic-equivalent theory (`jaxcollapse.theory`) and Monte Carlo twins
(`jaxcollapse.simulate`) for models trained on a mix of real and synthetic data.
"""

from . import nn, simulate, tails, theory
from ._cache import enable_compilation_cache
from ._compress import compress
from ._fit import Fit, Interval, fit
from ._optimal import optimal
from ._problem import Mixture, Sample, fixed_teachers, isotropic, power_law
from ._results import Estimate, Risk, Status, status_message
from ._sweep import sweep
from ._validate import Float32Warning
from .nn import History, Trained
from .tails import Tail


def _version() -> str:
    """The installed distribution's version (pyproject.toml is its one source)."""
    from importlib import metadata

    try:
        return metadata.version("jaxcollapse")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree never installed
        return "0+unknown"


__version__ = _version()

__all__ = [
    "Estimate",
    "Fit",
    "Float32Warning",
    "Interval",
    "History",
    "Mixture",
    "Risk",
    "Sample",
    "Status",
    "Tail",
    "Trained",
    "compress",
    "enable_compilation_cache",
    "fit",
    "fixed_teachers",
    "isotropic",
    "nn",
    "optimal",
    "power_law",
    "simulate",
    "status_message",
    "sweep",
    "tails",
    "theory",
]
