"""Deterministic equivalents (theory): one private module per model, pure functions of arrays."""

from .._activations import activation_constants
from ._data_loop import data_loop, data_loop_bound, data_loop_growth
from ._random_features import random_features
from ._random_projections import random_projections
from ._rates import critical_exponent, crossover_sample_size, rate_exponents, retraining_scaling_law
from ._retraining import retraining
from ._ridge import ridge, ridge_floor, ridge_isotropic

__all__ = [
    "activation_constants",
    "critical_exponent",
    "crossover_sample_size",
    "data_loop",
    "data_loop_bound",
    "data_loop_growth",
    "random_features",
    "random_projections",
    "rate_exponents",
    "retraining",
    "retraining_scaling_law",
    "ridge",
    "ridge_floor",
    "ridge_isotropic",
]

# Named by their public path (`jaxcollapse.theory.ridge`) in reprs, sweeps' attrs and checkpoints.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
