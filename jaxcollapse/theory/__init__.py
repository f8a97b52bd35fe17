"""Deterministic equivalents (theory): one module per model, pure functions of arrays."""

from .ridge import ridge as ridge, ridge_floor as ridge_floor, ridge_isotropic as ridge_isotropic
