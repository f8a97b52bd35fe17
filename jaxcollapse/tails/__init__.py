r"""Zipf tails and the Hutter memorisation model (*A Tale of Tails*, Dohmatob et al., ICML 2024).

Test inputs follow p_i = i^-β/ζ(β), β > 1; a model that memorises what it saw errs on the p-mass of
the ranks its training data never showed. Synthetic data cut the tail (`cut`), narrow it
(`narrow`), or, over generations, erode it (`generations`); real data mixed in (`mix`) or drawn from
the tail (`acquire_tail`) bring the scaling law back. Every function returns a `Tail` (exact expected
error, its T → ∞ plateau, a status) in float64 at any T; `simulate` is the Monte Carlo twin, and the
asymptotic laws (`clean_law`, `cut_law`, `narrow_law`, `mix_law`, `generations_law`, …) are separate.
`bigram` is a tailed bigram world: Zipf contexts, Zipf next tokens, a count-based learner.
"""

from . import bigram as bigram
from ._laws import (
    clean_constant as clean_constant,
    clean_law as clean_law,
    cut_law as cut_law,
    exponent as exponent,
    generations_law as generations_law,
    grokking_times as grokking_times,
    mix_law as mix_law,
    narrow_law as narrow_law,
    tail_mass_law as tail_mass_law,
    transition as transition,
)
from ._models import (
    CHAINS as CHAINS,
    Tail as Tail,
    acquire_tail as acquire_tail,
    clean as clean,
    cut as cut,
    generations as generations,
    mix as mix,
    narrow as narrow,
    tail_mass as tail_mass,
    top_p_rank as top_p_rank,
)
from ._simulate import simulate as simulate

__all__ = [
    "Tail",
    "acquire_tail",
    "bigram",
    "clean",
    "clean_constant",
    "clean_law",
    "cut",
    "cut_law",
    "exponent",
    "generations",
    "generations_law",
    "grokking_times",
    "mix",
    "mix_law",
    "narrow",
    "narrow_law",
    "simulate",
    "tail_mass",
    "tail_mass_law",
    "top_p_rank",
    "transition",
]
