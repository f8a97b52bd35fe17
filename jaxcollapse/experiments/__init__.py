"""Named experiments: each computes the data behind one figure, draws it, and states its finding.

See `_framework` for what an experiment module provides and what a run writes.
"""

from . import (
    data_loops,
    fit_demo,
    gcd_transformer,
    mixing,
    nn_digits,
    nn_width,
    phase_diagram,
    rf_nonlinear,
    rf_scaling,
    scaling_law,
    tails_bigram,
    theory_vs_simulation,
    width_decomposition,
    width_pareto,
)
from .generations import generations_lambda, generations_overparameterised, generations_scaling
from .tails import tails_cutting, tails_generations, tails_mixing, tails_narrowing

EXPERIMENTS = {
    m.NAME: m
    for m in (
        phase_diagram,
        scaling_law,
        width_decomposition,
        width_pareto,
        mixing,
        theory_vs_simulation,
        generations_lambda,
        generations_scaling,
        generations_overparameterised,
        data_loops,
        tails_cutting,
        tails_narrowing,
        tails_mixing,
        tails_generations,
        tails_bigram,
        rf_nonlinear,
        rf_scaling,
        fit_demo,
        nn_width,
        nn_digits,
        gcd_transformer,
    )
}
