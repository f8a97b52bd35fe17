"""jaxcollapse: model collapse, computable.

Deterministic-equivalent theory (`jaxcollapse.theory`) and Monte Carlo twins
(`jaxcollapse.simulate`) for models trained on a mix of real and synthetic data.
"""

from . import nn as nn, simulate as simulate, tails as tails, theory as theory
from ._cache import enable_compilation_cache as enable_compilation_cache
from ._compress import compress as compress
from ._optimal import optimal as optimal
from ._problem import (
    Mixture as Mixture,
    fixed_teachers as fixed_teachers,
    isotropic as isotropic,
    power_law as power_law,
)
from ._results import Estimate as Estimate, Risk as Risk, Status as Status, status_message as status_message
from ._sweep import sweep as sweep

__version__ = "0.1.0"
