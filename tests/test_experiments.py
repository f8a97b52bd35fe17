"""Every named experiment in --quick mode: its files, and numbers that make sense."""

import numpy as np
import pytest
from _experiment_files import check_files, check_outcome, run_quick

import jaxcollapse as jc
from jaxcollapse.experiments import EXPERIMENTS, _framework, phase_diagram

_run = run_quick
# the tails and network experiments are checked in their own files (test_experiments_tails.py,
# test_experiments_networks.py; gcd-transformer in test_gcd.py; fit-demo in test_fit.py), so the workers share the load
ELSEWHERE = ("tails-", "rf-", "nn-", "gcd-", "fit-")


@pytest.mark.parametrize("name", [name for name in EXPERIMENTS if not name.startswith(ELSEWHERE)])
def test_quick_run_draws_and_summarises(name):
    check_outcome(name, _run(name))


def test_a_run_writes_what_it_computed(tmp_path):
    """`write_outcome`, once: the figures as PNG and PDF, data.zarr, summary.json and report.md."""
    result = _run("width-pareto")
    check_files("width-pareto", _framework.write_outcome(tmp_path / "width-pareto", result), result)


def test_phase_diagram_boundary():
    result = _run("phase-diagram")
    summary = result.summary
    assert summary["boundary_exists"]
    runs = summary["hurts_for_m_over_n_at_p2_0.5"]
    assert runs and 0 < runs[0][0] < 1 and runs[0][0] < runs[0][1]  # a band from below the threshold
    # every reported interval is exactly where the stored slope is positive, and nothing else is
    ratios, slope = result.ds["m_over_n"].values, result.ds["dE_dm"].sel(p2=0.5, method="nearest").values
    inside = np.zeros(ratios.size, bool)
    for lo, hi in runs:
        inside |= (ratios >= lo) & (ratios <= hi)
    np.testing.assert_array_equal(inside, slope > 0)
    assert phase_diagram.describe_intervals([tuple(r) for r in runs], ratios) in summary["finding"]
    ds = result.ds
    # the autodiff slope against a central difference of the theory, at a few grid points
    config = _framework.make_config(phase_diagram, quick=True)
    mix = phase_diagram._mixture(config)
    for i, j in ((5, 10), (20, 24), (40, 40)):
        r, p2 = float(ds["m_over_n"][i]), float(ds["p2"][j])
        m = r * config.n
        h = 1e-4 * m
        e = [
            float(jc.theory.random_projections(mix, n=config.n, m=m + s * h, p2=p2, lam=config.lam).total)
            for s in (-1, 1)
        ]
        assert float(ds["dE_dm"][i, j]) == pytest.approx((e[1] - e[0]) / (2 * h), rel=1e-4, abs=1e-9)
        assert float(ds["ratio"][i, j]) >= 1.0 - 1e-12  # the collapse term is non-negative


def test_scaling_law_floors():
    summary = _run("scaling-law").summary
    p2 = np.asarray(summary["parameters"]["p2s"])
    np.testing.assert_allclose(summary["floors"], p2**2 * summary["quality_tr_Sigma_Delta"], rtol=1e-10)
    for p, ratio in zip(p2, summary["error_at_largest_n_over_floor"]):
        if p > 0:
            assert abs(ratio - 1) < 0.02
    assert summary["max_theory_vs_simulation_se"] < 4


def test_width_decomposition_peak_and_simulation():
    summary = _run("width-decomposition").summary
    assert 0.8 < summary["isotropic_zeta_peak_m_over_n_worst_quality"] < 1.25
    assert 0 < summary["isotropic_zeta_limit_over_peak_worst_quality"] < 0.5
    assert summary["max_theory_vs_simulation_se"] < 4


def test_width_pareto_drifts_above_the_diagonal():
    result = _run("width-pareto")
    summary = result.summary
    ds = result.ds
    assert np.all(ds["mixed"].values >= ds["real"].values[None, None, :] * (1 - 1e-12))
    assert summary["low_quality_gap_grows_with_width_below_threshold"]
    lo, hi = summary["mixed_over_real_below_threshold_q0.01_largest_p2"]
    assert hi < 1.05


def test_mixing_quality_against_quantity():
    result = _run("mixing")
    summary = result.summary
    ds = result.ds
    q = ds["quality"].values
    assert 0 < summary[f"q{q[1]:g}_best_n2"] < ds["n2"].values[-1]  # an interior optimum
    assert summary[f"q{q[1]:g}_error_at_best_over_real_only"] < 1
    assert abs(summary[f"q{q[-1]:g}_error_at_largest_n2_over_quality"] - 1) < 0.1  # back to tr ΣΔ
    w = ds["best_weight"].values
    assert np.all(w >= 0) and np.all(w[-1] < 1)
    # the best weight is no worse than weight 1
    assert np.all(ds["error_best_weight"].values <= ds["error_unit_weight"].values * (1 + 1e-12))


def test_theory_vs_simulation_agree():
    summary = _run("theory-vs-simulation").summary
    assert summary["max_theory_vs_simulation_se"] < 4
    assert summary["points_beyond_3_se"] <= 1


def test_set_overrides_and_errors():
    module = EXPERIMENTS["scaling-law"]
    c = _framework.make_config(module, quick=True, overrides={"p2s": "0,0.5", "d": "50", "trials": "3"})
    assert c.p2s == (0.0, 0.5) and c.d == 50 and c.trials == 3
    with pytest.raises(_framework.ConfigError, match="unknown setting 'nope'"):
        _framework.make_config(module, overrides={"nope": "1"})
    with pytest.raises(_framework.ConfigError, match=r"d='1\.5': expected an integer"):
        _framework.make_config(module, overrides={"d": "1.5"})
    with pytest.raises(_framework.ConfigError, match="p2s='a': expected a comma-separated list of finite numbers"):
        _framework.make_config(module, overrides={"p2s": "a"})
    with pytest.raises(_framework.ConfigError, match="--trials"):
        _framework.make_config(EXPERIMENTS["phase-diagram"], trials=5)


def test_generations_lambda_adaptive_ridge():
    summary = _run("generations-lambda").summary
    assert summary["lam_star_grows_with_generations"]
    assert summary["clean_lam_star_over_sigma2_phi"] == pytest.approx(1.0, rel=1e-6)  # λ* = σ²φ/||w0||²
    assert summary["max_theory_vs_simulation_se"] < 4


def test_generations_scaling_turns_slow():
    summary = _run("generations-scaling").summary
    clean = summary["slope_last_decade_ell1.5_G0"]
    chained = summary["slope_last_decade_ell1.5_G10"]
    assert clean == pytest.approx(-1.5, abs=0.06) and chained > clean + 1.0  # fast → slow
    assert summary["ell_crit"] == pytest.approx(2.0 / 3.0)


def test_generations_overparameterised_is_exponential():
    summary = _run("generations-overparameterised").summary
    assert summary["fitted_contraction_rate"] == pytest.approx(summary["psi"], rel=1e-6)
    assert 0.99 < summary["noiseless_error_at_last_over_null"] < 1.0
    assert summary["max_theory_vs_simulation_se"] < 4


def test_data_loops_replace_grows_and_accumulate_stays_bounded():
    result = _run("data-loops")
    summary = result.summary
    final = summary["final_over_generation_0"]
    for design in ("fixed", "fresh"):
        assert final[f"replace/{design}/lam=0"] > 8  # linear growth: about 1 + 10 σ0²/σ1² here (quick: G = 10)
        assert final[f"accumulate/{design}/lam=0"] < 2.5  # bounded (π²/6-type sum)
        assert final[f"accumulate/{design}/lam=0"] < final[f"accumulate-subsample/{design}/lam=0"]
        assert final[f"accumulate-subsample/{design}/lam=0"] < final[f"replace/{design}/lam=0"]
    # every policy and design, at λ = 0 and at the ridge: 5 generations each (accumulate-subsample's
    # fixed design at λ = 0 is finite here: n0 = 4d, a fit seeing d + 1 distinct rows has a tiny chance)
    assert summary["theory_points"] == 3 * 2 * 2 * 5
    sub = result.ds.sel(policy="accumulate-subsample")["total"].values
    assert np.all(np.diff(sub, axis=-1) > 0)  # subsampling loses ground every generation
    assert summary["max_theory_vs_simulation_se"] < 4
    ds = result.ds
    acc = ds.sel(policy="accumulate", design="fixed", lam=0.0)
    assert np.all(np.diff(acc["total"].values) > 0) and acc["total"].values[-1] < ds.attrs["accumulate_bound"]
