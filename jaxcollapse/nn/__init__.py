"""Networks trained with optax: where the linear theory of collapse stops predicting.

- `fit`: one training loop (AdamW, warm-up + cosine schedule, full batch / minibatch / streamed,
  early stopping on a held-out real split), pure, so it jits and `eqx.filter_vmap`s over seeds.
- `two_layer`, `train_on_mixture`: fully trained two-layer networks on the Gaussian real + synthetic
  mixtures of the linear theory.
- `digits`: scikit-learn's bundled 8×8 digits with synthetic labels from a weaker generator
  (needs the optional extra `jaxcollapse[images]`).
- `gcd`: a small transformer on greatest common divisors (a Zipf law with β = 2).
"""

from . import digits as digits, gcd as gcd
from ._mlp import MixtureRun as MixtureRun, train_on_mixture as train_on_mixture, two_layer as two_layer
from ._train import History as History, Trained as Trained, fit as fit, schedule as schedule
from .digits import DigitsRun as DigitsRun

__all__ = [
    "DigitsRun",
    "History",
    "MixtureRun",
    "Trained",
    "digits",
    "fit",
    "gcd",
    "schedule",
    "train_on_mixture",
    "two_layer",
]
