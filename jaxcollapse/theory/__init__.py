"""Deterministic equivalents (theory): one module per model, pure functions of arrays."""

from .random_projections import random_projections as random_projections
from .ridge import ridge as ridge, ridge_floor as ridge_floor, ridge_isotropic as ridge_isotropic
