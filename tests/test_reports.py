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
