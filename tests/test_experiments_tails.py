"""The tails experiments in --quick mode: their files, and numbers that make sense."""

import numpy as np
import pytest
from _experiment_files import check_outcome, run_quick as _run

from jaxcollapse.experiments import EXPERIMENTS


@pytest.mark.parametrize("name", [name for name in EXPERIMENTS if name.startswith("tails-")])
def test_quick_run_draws_and_summarises(name):
    check_outcome(name, _run(name))


def test_tails_experiments_numbers():
    cut = _run("tails-cutting").summary
    n = cut
    assert abs(n["clean_slope"] - n["predicted_slope"]) < 0.01
    np.testing.assert_allclose([n["plateau_k10"], n["plateau_k100"]], [0.0578542, 0.00604898], rtol=1e-5)
    nar = _run("tails-narrowing").summary
    for b in (2.5, 3.0, 4.0):
        assert abs(nar[f"slope_beta_narrow_{b:g}"] - nar[f"predicted_slope_beta_narrow_{b:g}"]) < 0.01
    mix = _run("tails-mixing").summary
    drops = [mix[f"T_half_plateau_pi_{pi:g}"] for pi in (1e-2, 1e-1)]
    assert drops[0] > drops[1] > mix["T_k"]  # less clean data, later grokking
    gen = _run("tails-generations").summary
    for chain in ("known", "empirical", "top_p"):
        plateaus = gen[f"{chain}_plateaus"]
        assert plateaus[0] == 0 and np.all(np.diff(plateaus) > 0)
    for summary in (cut, nar, mix, gen):
        se = [v for k, v in summary.items() if k.endswith("theory_vs_simulation_se")]
        assert se and max(se) < 4.0
