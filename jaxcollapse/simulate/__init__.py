"""Monte Carlo twins of the theory kernels: same signatures plus `trials` and `key`."""

from .random_features import random_features as random_features
from .random_projections import random_projections as random_projections
from .retraining import retraining as retraining
from .ridge import ridge as ridge
