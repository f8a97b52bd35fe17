"""Monte Carlo twins of the theory kernels: same signatures plus `trials` and `key`."""

from ._data_loop import data_loop
from ._random_features import random_features
from ._random_projections import random_projections
from ._retraining import retraining
from ._ridge import ridge

__all__ = ["data_loop", "random_features", "random_projections", "retraining", "ridge"]

# Named by their public path (`jaxcollapse.simulate.ridge`) in reprs, sweeps' attrs and checkpoints.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
