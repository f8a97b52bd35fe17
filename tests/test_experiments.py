"""Every named experiment in --quick mode: its files, and numbers that make sense."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr

import jaxcollapse as jc
from _experiment_files import check_files
from jaxcollapse.experiments import EXPERIMENTS, _framework, phase_diagram, rf_nonlinear

RUNS = {}


def _run(name, tmp_path_factory):
    if name not in RUNS:
        module = EXPERIMENTS[name]
        config = _framework.make_config(module, quick=True)
        folder = _framework.run(module, config, tmp_path_factory.mktemp(name), quick=True)
        RUNS[name] = (folder, json.loads((folder / "summary.json").read_text()))
    return RUNS[name]


# gcd-transformer trains a transformer: its one quick run is shared by the tests of tests/test_gcd.py
OWN_MODULE = {"gcd-transformer"}


@pytest.mark.parametrize("name", [name for name in EXPERIMENTS if name not in OWN_MODULE])
def test_quick_run_writes_its_files(name, tmp_path_factory):
    folder, summary = _run(name, tmp_path_factory)
    check_files(name, folder, summary)


def test_phase_diagram_boundary(tmp_path_factory):
    folder, summary = _run("phase-diagram", tmp_path_factory)
    assert summary["boundary_exists"]
    lo, hi = summary["hurts_for_m_over_n_at_p2_0.5"]
    assert 0 < lo < hi < 1  # a bigger model hurts on a band below the interpolation threshold
    ds = xr.open_zarr(folder / "data.zarr", consolidated=False).load()
    # the autodiff slope against a central difference of the theory, at a few grid points
    config = _framework.make_config(phase_diagram, quick=True)
    mix = phase_diagram._mixture(config)
    for i, j in ((5, 10), (20, 24), (40, 40)):
        r, p2 = float(ds["m_over_n"][i]), float(ds["p2"][j])
        m = r * config.n
        h = 1e-4 * m
        e = [float(jc.theory.random_projections(mix, n=config.n, m=m + s * h, p2=p2, lam=config.lam).total) for s in (-1, 1)]
        assert float(ds["dE_dm"][i, j]) == pytest.approx((e[1] - e[0]) / (2 * h), rel=1e-4, abs=1e-9)
        assert float(ds["ratio"][i, j]) >= 1.0 - 1e-12  # the collapse term is non-negative


def test_scaling_law_floors(tmp_path_factory):
    _, summary = _run("scaling-law", tmp_path_factory)
    p2 = np.asarray(summary["parameters"]["p2s"])
    np.testing.assert_allclose(summary["floors"], p2**2 * summary["quality_tr_Sigma_Delta"], rtol=1e-10)
    for p, ratio in zip(p2, summary["error_at_largest_n_over_floor"]):
        if p > 0:
            assert abs(ratio - 1) < 0.02
    assert summary["max_theory_vs_simulation_se"] < 4


def test_width_decomposition_peak_and_simulation(tmp_path_factory):
    _, summary = _run("width-decomposition", tmp_path_factory)
    assert 0.8 < summary["isotropic_zeta_peak_m_over_n_worst_quality"] < 1.25
    assert 0 < summary["isotropic_zeta_limit_over_peak_worst_quality"] < 0.5
    assert summary["max_theory_vs_simulation_se"] < 4


def test_width_pareto_drifts_above_the_diagonal(tmp_path_factory):
    folder, summary = _run("width-pareto", tmp_path_factory)
    ds = xr.open_zarr(folder / "data.zarr", consolidated=False).load()
    assert np.all(ds["mixed"].values >= ds["real"].values[None, None, :] * (1 - 1e-12))
    assert summary["low_quality_gap_grows_with_width_below_threshold"]
    lo, hi = summary["mixed_over_real_below_threshold_q0.01_largest_p2"]
    assert hi < 1.05


def test_mixing_quality_against_quantity(tmp_path_factory):
    folder, summary = _run("mixing", tmp_path_factory)
    ds = xr.open_zarr(folder / "data.zarr", consolidated=False).load()
    q = ds["quality"].values
    assert 0 < summary[f"q{q[1]:g}_best_n2"] < ds["n2"].values[-1]  # an interior optimum
    assert summary[f"q{q[1]:g}_error_at_best_over_real_only"] < 1
    assert abs(summary[f"q{q[-1]:g}_error_at_largest_n2_over_quality"] - 1) < 0.1  # back to tr ΣΔ
    w = ds["best_weight"].values
    assert np.all(w >= 0) and np.all(w[-1] < 1)
    # the best weight is no worse than weight 1
    assert np.all(ds["error_best_weight"].values <= ds["error_unit_weight"].values * (1 + 1e-12))


def test_theory_vs_simulation_agree(tmp_path_factory):
    _, summary = _run("theory-vs-simulation", tmp_path_factory)
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


def test_generations_lambda_adaptive_ridge(tmp_path_factory):
    _, summary = _run("generations-lambda", tmp_path_factory)
    assert summary["lam_star_grows_with_generations"]
    assert summary["clean_lam_star_over_sigma2_phi"] == pytest.approx(1.0, rel=1e-6)  # λ* = σ²φ/||w0||²
    assert summary["max_theory_vs_simulation_se"] < 4


def test_generations_scaling_turns_slow(tmp_path_factory):
    _, summary = _run("generations-scaling", tmp_path_factory)
    clean = summary["slope_last_decade_ell1.5_G0"]
    chained = summary["slope_last_decade_ell1.5_G10"]
    assert clean == pytest.approx(-1.5, abs=0.06) and chained > clean + 1.0  # fast → slow
    assert summary["ell_crit"] == pytest.approx(2.0 / 3.0)


def test_generations_overparameterised_is_exponential(tmp_path_factory):
    _, summary = _run("generations-overparameterised", tmp_path_factory)
    assert summary["fitted_contraction_rate"] == pytest.approx(summary["psi"], rel=1e-6)
    assert 0.99 < summary["noiseless_error_at_last_over_null"] < 1.0
    assert summary["max_theory_vs_simulation_se"] < 4


def test_tails_experiments_numbers(tmp_path_factory):
    _, cut = _run("tails-cutting", tmp_path_factory)
    n = cut
    assert abs(n["clean_slope"] - n["predicted_slope"]) < 0.01
    np.testing.assert_allclose([n["plateau_k10"], n["plateau_k100"]], [0.0578542, 0.00604898], rtol=1e-5)
    _, nar = _run("tails-narrowing", tmp_path_factory)
    for b in (2.5, 3.0, 4.0):
        assert abs(nar[f"slope_beta_narrow_{b:g}"] - nar[f"predicted_slope_beta_narrow_{b:g}"]) < 0.01
    _, mix = _run("tails-mixing", tmp_path_factory)
    drops = [mix[f"T_half_plateau_pi_{pi:g}"] for pi in (1e-2, 1e-1)]
    assert drops[0] > drops[1] > mix["T_k"]  # less clean data, later grokking
    _, gen = _run("tails-generations", tmp_path_factory)
    for chain in ("known", "empirical", "top_p"):
        plateaus = gen[f"{chain}_plateaus"]
        assert plateaus[0] == 0 and np.all(np.diff(plateaus) > 0)
    for summary in (cut, nar, mix, gen):
        se = [v for k, v in summary.items() if k.endswith("theory_vs_simulation_se")]
        assert se and max(se) < 4.0


def test_network_experiments_numbers(tmp_path_factory):
    _, s = _run("nn-width", tmp_path_factory)
    assert s["train_loss_last"] < 0.5 * s["train_loss_first"]  # training reduces the loss
    real, mixed = s["best_error_real_only_largest_n"], s["best_error_p2_0.5_largest_n"]
    assert real < 0.5 * mixed  # real data alone beat the p2 = 0.5 mixture at the largest n
    assert mixed > 0.8 * s["floor_p2_squared_shift_0.5"]  # the network does not escape the linear floor
    assert s["gain_from_more_data_real_only"] > s["gain_from_more_data_p2_0.5"]
    _, s = _run("nn-digits", tmp_path_factory)
    assert s["train_loss_last"] < 0.5 * s["train_loss_first"]
    real, mixed = s["best_accuracy_real_only_largest_n"], s["best_accuracy_p2_0.5_largest_n"]
    assert real > mixed + 0.02 and real > 0.9
    assert mixed > s["generator_accuracy"]  # half real labels still beat the generator alone

@pytest.fixture
def rf_quick(tmp_path_factory):
    folder, summary = _run("rf-nonlinear", tmp_path_factory)
    config = _framework.make_config(rf_nonlinear, quick=True)
    return config, folder, summary, xr.open_zarr(folder / "data.zarr", consolidated=False).load()


def test_rf_nonlinear_files_and_peak(rf_quick):
    config, folder, summary, ds = rf_quick
    name = rf_nonlinear.NAME
    assert name == "rf-nonlinear"
    for figure in (name, f"{name}-activations"):
        assert (folder / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (folder / f"{figure}.pdf").read_bytes()[:4] == b"%PDF"
    assert ds.attrs["experiment"] == name and summary["experiment"] == name and summary["quick"] is True
    assert set(ds["activation"].values) == {"relu", "tanh", "erf", "linear"}
    assert len(summary["finding"]) > 40 and summary["finding"] in (folder / "report.md").read_text()
    assert 0.5 < summary["relu_peak_m_over_n_p2_0"] < 2  # the error peaks near the interpolation threshold
    assert np.all(np.isfinite(ds["theory"].values)) and np.all(ds["sim_sem"].values > 0)


def test_rf_nonlinear_linear_activation_is_random_projections(rf_quick):
    config, _, summary, ds = rf_quick
    lin = ds["theory"].sel(activation="linear").values
    mix = jc.isotropic(config.d, signal=config.signal, shift=config.shift, noise_var=config.noise_var)
    rp = jc.theory.random_projections(
        mix, n=float(config.n), m=jnp.asarray(ds["m"].values, float)[None, :], p2=jnp.asarray(ds["p2"].values)[:, None], lam=config.lam
    )
    np.testing.assert_allclose(lin, np.asarray(rp.total), rtol=1e-10)
    np.testing.assert_allclose(lin, ds["rp_theory"].values, rtol=1e-10)
    assert summary["linear_vs_random_projections_max_rel_diff"] < 1e-10
    assert ds["m"].values.min() < config.n < ds["m"].values.max() and ds["m"].values.max() > config.d  # both sides of m = n, past d


def test_rf_nonlinear_theory_against_simulation_away_from_the_threshold(rf_quick):
    _, _, summary, ds = rf_quick
    away = ~ds["near_threshold"].values
    assert away.sum() >= 2
    mean, sem, ref = (ds[k].values[..., away] for k in ("sim_mean", "sim_sem", "sim_theory"))
    gap = np.abs(mean - ref)
    assert np.all(gap <= np.maximum(3 * sem, 0.05 * ref)), (gap / sem, 100 * gap / ref)
    z, pct = _framework.sim_gap(mean, sem, ref)
    assert summary["max_gap_se_away"] == pytest.approx(z) and summary["max_gap_pct_away"] == pytest.approx(pct)
