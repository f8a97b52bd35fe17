"""The network experiments (rf-nonlinear, nn-width, nn-digits) in --quick mode: their files, and
numbers that make sense. gcd-transformer is checked in test_gcd.py."""

import jax.numpy as jnp
import numpy as np
import pytest
from _experiment_files import check_outcome, run_quick as _run

import jaxcollapse as jc
from jaxcollapse.experiments import EXPERIMENTS, _framework, rf_nonlinear


@pytest.mark.parametrize("name", [name for name in EXPERIMENTS if name.startswith(("rf-", "nn-"))])
def test_quick_run_draws_and_summarises(name):
    check_outcome(name, _run(name))


def test_network_experiments_numbers():
    s = _run("nn-width").summary
    assert s["train_loss_last"] < 0.5 * s["train_loss_first"]  # training reduces the loss
    real, mixed = s["best_error_real_only_largest_n"], s["best_error_p2_0.5_largest_n"]
    assert real < 0.5 * mixed  # real data alone beat the p2 = 0.5 mixture at the largest n
    assert mixed > 0.8 * s["floor_p2_squared_shift_0.5"]  # the network does not escape the linear floor
    assert s["gain_from_more_data_real_only"] > s["gain_from_more_data_p2_0.5"]
    s = _run("nn-digits").summary
    assert s["train_loss_last"] < 0.5 * s["train_loss_first"]
    real, mixed = s["best_accuracy_real_only_largest_n"], s["best_accuracy_p2_0.5_largest_n"]
    assert real > mixed + 0.02 and real > 0.9
    assert mixed > s["generator_accuracy"]  # half real labels still beat the generator alone


@pytest.fixture
def rf_quick():
    result = _run("rf-nonlinear")
    config = _framework.make_config(rf_nonlinear, quick=True)
    return config, result, result.summary, result.ds


def test_rf_nonlinear_files_and_peak(rf_quick):
    config, result, summary, ds = rf_quick
    name = rf_nonlinear.NAME
    assert name == "rf-nonlinear"
    assert set(result.figs) == {name, f"{name}-activations"}
    for figure in result.figs:
        assert f"({figure}.png)" in result.report
    assert ds.attrs["experiment"] == name and summary["experiment"] == name and summary["quick"] is True
    assert set(ds["activation"].values) == {"relu", "tanh", "erf", "linear"}
    assert len(summary["finding"]) > 40 and summary["finding"] in result.report
    assert 0.5 < summary["relu_peak_m_over_n_p2_0"] < 2  # the error peaks near the interpolation threshold
    assert np.all(np.isfinite(ds["theory"].values)) and np.all(ds["sim_sem"].values > 0)


def test_rf_nonlinear_linear_activation_is_random_projections(rf_quick):
    config, _, summary, ds = rf_quick
    lin = ds["theory"].sel(activation="linear").values
    mix = jc.isotropic(config.d, signal=config.signal, shift=config.shift, noise_var=config.noise_var)
    rp = jc.theory.random_projections(
        mix,
        n=float(config.n),
        m=jnp.asarray(ds["m"].values, float)[None, :],
        p2=jnp.asarray(ds["p2"].values)[:, None],
        lam=config.lam,
    )
    np.testing.assert_allclose(lin, np.asarray(rp.total), rtol=1e-10)
    np.testing.assert_allclose(lin, ds["rp_theory"].values, rtol=1e-10)
    assert summary["linear_vs_random_projections_max_rel_diff"] < 1e-10
    assert (
        ds["m"].values.min() < config.n < ds["m"].values.max() and ds["m"].values.max() > config.d
    )  # both sides of m = n, past d


def test_rf_nonlinear_theory_against_simulation_away_from_the_threshold(rf_quick):
    _, _, summary, ds = rf_quick
    away = ~ds["near_threshold"].values
    assert away.sum() >= 2
    mean, sem, ref = (ds[k].values[..., away] for k in ("sim_mean", "sim_sem", "sim_theory"))
    gap = np.abs(mean - ref)
    assert np.all(gap <= np.maximum(3 * sem, 0.05 * ref)), (gap / sem, 100 * gap / ref)
    z, pct = _framework.sim_gap(mean, sem, ref)
    assert summary["max_gap_se_away"] == pytest.approx(z) and summary["max_gap_pct_away"] == pytest.approx(pct)


@pytest.fixture
def rf_scaling_quick():
    result = _run("rf-scaling")
    return result.summary, result.ds


def test_rf_scaling_numbers(rf_scaling_quick):
    summary, ds = rf_scaling_quick
    total = ds["total"].values  # (m, p2, n), p2 = (0, 0.1)
    assert np.all(np.isfinite(total)) and np.all(ds["sim_sem"].values > 0)
    assert np.all(total[:, 1] > total[:, 0])  # synthetic data cost something at every width and n
    # the n → ∞ plateaus fall with the width, and each p2 = 0 curve approaches its plateau from above
    plateau = ds["plateau"].values
    assert np.all(np.diff(plateau) < 0)
    assert np.all(total[:, 0, -1] >= plateau * (1 - 1e-9)) and np.all(total[:, 0, -1] < 1.5 * plateau)
    # with p2 = 0.1 the widest model gains least from its width at the largest n: the floor binds
    gain = total[:, 1, -1] / total[:, 0, -1]
    assert gain[-1] > gain[0]
    assert summary["width_exponent_theory"] > 0 and summary["data_exponent_theory"] > 0
    # the phase diagram: no collapse without synthetic data, and ∂E/∂m is the theory's derivative
    np.testing.assert_allclose(ds["ratio"].sel(p2_grid=0.0).values, 1.0, rtol=1e-12)
    n, lam = ds.attrs["phase_n"], ds.attrs["phase_lam"]
    mix = jc.compress(
        jc.power_law(ds.attrs["d"], ds.attrs["beta"], source=ds.attrs["source"], shift=1.0, noise_var=0.05)
    )
    i, j = 3, ds.sizes["p2_grid"] - 2
    x, q = float(ds["m_over_n"].values[i]), float(ds["p2_grid"].values[j])
    h = 1e-3 * x * n
    assert ds.attrs["equivalent"] == "operator"  # relu on a power law: the operator equivalent
    eq = ds.attrs["equivalent"]
    f = lambda m: float(jc.theory.random_features(mix, n=n, m=m, p2=q, lam=lam, equivalent=eq).total)  # noqa: E731
    assert ds["dE_dm"].values[i, j] == pytest.approx((f(x * n + h) - f(x * n - h)) / (2 * h), rel=1e-5)
