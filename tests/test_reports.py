"""What reports say (issue 36): "agrees" only inside a stated tolerance, both gaps always given; a
report's table shows no raw Python values."""

import math

from jaxcollapse.experiments import _framework


def test_agreement_is_claimed_only_within_three_standard_errors():
    inside = _framework.agreement(1.2, 2.5)
    assert inside.startswith("simulation agrees with the theory within 3 standard errors")
    assert "1.2 s.e." in inside and "2.5 %" in inside and "weak" not in inside
    noisy = _framework.agreement(2.8, 14.3)  # within 3 s.e. but 14 % off: said to be a weak check
    assert "agrees" in noisy and "14.3 %" in noisy and "weak check" in noisy
    outside = _framework.agreement(4.1, 3.0, "the exact theory", start=True)
    assert outside.startswith("Simulation departs from the exact theory by up to 4.1 standard errors (3.0 %)")
    assert "agrees" not in outside
    assert "could not be compared" in _framework.agreement(math.nan, math.nan)


def test_report_values_are_never_raw_python():
    assert _framework._fmt(None) == "n/a" and _framework._fmt(math.nan) == "n/a"
    assert _framework._fmt([0.1234567, None]) == "0.1235, n/a"
    assert _framework._fmt({"0.01": 1234.5, "0.1": math.nan}) == "0.01: 1234; 0.1: n/a"


def test_hurt_intervals_are_every_run_named_where_cut():
    import numpy as np
    import xarray as xr

    from jaxcollapse.experiments import phase_diagram

    ratios = np.array([0.1, 0.5, 0.9, 1.2, 2.0, 3.0, 4.0, 5.0])
    slope = np.array([[-1, 1, 1, 1, -1, -1, 1, 1], [-1] * 8], float).T  # two runs at p2 = 0.5, none at 0
    ds = xr.Dataset({"dE_dm": (("m_over_n", "p2"), slope)}, coords={"m_over_n": ratios, "p2": [0.5, 0.0]})
    runs = phase_diagram.hurt_intervals(ds)
    assert runs == [[(0.5, 1.2), (4.0, 5.0)], []]
    text = phase_diagram.describe_intervals(runs[0], ratios)
    assert "m/n ∈ [0.50, 1.20] (across the interpolation threshold" in text
    assert "m/n ∈ [4.00, 5.00] (beyond the threshold" in text and text.endswith("cut by the grid's right edge")
    assert phase_diagram.describe_intervals(runs[1], ratios) == "no width on this grid"


def test_fit_report_has_no_meaningless_rows():
    from jaxcollapse import _fit_cli

    interval = dict(value=0.1, low=0.05, high=0.2)
    summary = {
        "data": "t.csv",
        "rows": 12,
        "settings": dict(level=0.9, starts=4, bootstrap=8, resample="rows", steps=40, seed=0),
        "predictions": [dict(at={"n": 1e4, "p2": 0.0}, **interval), dict(at={"n": 1e4, "p2": 0.2}, **interval)],
        "params": {"beta": interval},
        "on_bound": {"beta": False},
        "floors": [],
        "synthetic_limits": [dict(n_real=500.0, at={}, **interval)],
        "disagree": False,
        "capped": 0,
        "residual_rms": 0.01,
        "loss": 1e-3,
        "ignored_columns": [],
        "fixed": {},
        "wall_time_s": 1.0,
    }
    text = _fit_cli._report(summary, _fit_cli.FAMILIES["ridge"])
    section = text.split("## When")[1].split("## Checks")[0]
    assert "| real samples | synthetic samples | 90 % interval |" in section and "—" not in section.replace(" – ", "")
    assert "fixed: nothing." in text
    # the optimal weight is the summary's to give (the CLI gives it only where p2 > 0): here none
    assert "optimal synthetic weight" not in text
