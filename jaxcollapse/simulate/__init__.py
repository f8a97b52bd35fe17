"""Monte Carlo twins of the theory kernels: same signatures plus `trials` and `key`."""

from .ridge import ridge as ridge
