"""Deterministic equivalents (theory): one module per model, pure functions of arrays."""

from .random_features import activation_constants as activation_constants, random_features as random_features
from .random_projections import random_projections as random_projections
from .rates import (
    critical_exponent as critical_exponent,
    crossover_sample_size as crossover_sample_size,
    rate_exponents as rate_exponents,
    retraining_scaling_law as retraining_scaling_law,
)
from .retraining import retraining as retraining
from .ridge import ridge as ridge, ridge_floor as ridge_floor, ridge_isotropic as ridge_isotropic
