"""`jc.fit` (issue 21, first part): parameter recovery from data simulated at known parameters, the
bounds, the flags, the bootstrap intervals and predictions, and bad input."""

import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc


def model(*, beta, shift, n, p2):
    return jc.theory.ridge(jc.power_law(60, beta, signal=1.0, shift=shift, noise_var=0.05), n=n, p2=p2, lam=1e-3)


N = np.tile(np.geomspace(20, 2000, 8), 2)
P2 = np.repeat([0.0, 0.2], 8)
TRUTH = dict(beta=1.5, shift=0.8)
CLEAN = np.asarray(model(**TRUTH, n=jnp.asarray(N), p2=jnp.asarray(P2)).total)
NOISY = CLEAN * np.exp(0.03 * np.random.default_rng(0).standard_normal(CLEAN.size))  # 3 % multiplicative noise
BOUNDS = dict(beta=(1.05, 4.0), shift=(0.01, 10.0))


@pytest.fixture(scope="module")
def fitted():
    return jc.fit(
        model, dict(n=N, p2=P2, error=NOISY), params=BOUNDS, starts=8, bootstrap=24, steps=40, key=jax.random.key(0)
    )


def test_exact_data_are_fitted_exactly():
    f = jc.fit(
        model, dict(n=N, p2=P2, error=CLEAN), params=BOUNDS, starts=4, bootstrap=0, steps=40, key=jax.random.key(1)
    )
    assert f.params["beta"] == pytest.approx(1.5, rel=1e-5) and f.params["shift"] == pytest.approx(0.8, rel=1e-4)
    assert f.loss < 1e-9 and np.max(np.abs(f.residuals)) < 1e-5 and not f.disagree


def test_noisy_data_recover_the_parameters(fitted):
    # 16 rows with 3 % noise pin β to about 1 % and tr ΣΔ to about 5 % (its signal is the p2 = 0.2 rows)
    assert abs(fitted.params["beta"] - 1.5) < 0.03 and abs(fitted.params["shift"] / 0.8 - 1) < 0.1
    assert not any(fitted.on_bound.values()) and not fitted.disagree
    assert np.all(np.abs(fitted.start_losses / fitted.loss - 1) < 1e-4)  # every start found the same optimum
    assert fitted.capped == 0  # every start and refit converged within its 40 iterations
    assert np.std(fitted.residuals) == pytest.approx(0.03, rel=0.5)
    for name, (lo, hi) in BOUNDS.items():
        draws = fitted.bootstrap[name]
        assert draws.shape == (24,) and np.all((draws > lo) & (draws < hi))
        low, high = fitted.interval(name)
        assert low < fitted.params[name] < high and high - low < 0.2 * fitted.params[name]


def test_predictions_and_their_band(fitted):
    n_new = np.array([5000.0, 20000.0])
    p2_new = np.array([0.2, 0.2])
    truth = np.asarray(model(**TRUTH, n=jnp.asarray(n_new), p2=jnp.asarray(p2_new)).total)
    pred = fitted.predict(n=jnp.asarray(n_new), p2=jnp.asarray(p2_new))
    low, high = fitted.predict_interval(0.9, n=jnp.asarray(n_new), p2=jnp.asarray(p2_new))
    assert np.all(np.abs(pred / truth - 1) < 0.1) and np.all(low <= pred) and np.all(pred <= high)


def test_a_truth_outside_the_bounds_is_flagged():
    f = jc.fit(
        model,
        dict(n=N, p2=P2, error=CLEAN),
        params=dict(beta=(1.05, 4.0), shift=(0.01, 0.3)),
        starts=4,
        bootstrap=0,
        steps=40,
        key=jax.random.key(2),
    )
    assert f.on_bound["shift"] and not f.on_bound["beta"] and 0.01 <= f.params["shift"] <= 0.3


def test_a_parameter_the_data_cannot_determine_is_flagged(fitted):
    # Without synthetic rows (p2 = 0) the model does not depend on tr ΣΔ: every refit would keep the
    # start's value, a zero-width "interval". The fit says the data do not determine it instead.
    p2 = np.zeros_like(P2)
    clean = np.asarray(model(**TRUTH, n=jnp.asarray(N), p2=jnp.asarray(p2)).total)
    noisy = clean * np.exp(0.03 * np.random.default_rng(1).standard_normal(clean.size))
    f = jc.fit(
        model, dict(n=N, p2=p2, error=noisy), params=BOUNDS, starts=4, bootstrap=8, steps=40, key=jax.random.key(3)
    )
    assert f.undetermined == {"beta": False, "shift": True}
    assert np.all(np.isnan(f.interval("shift"))) and np.all(np.isfinite(f.interval("beta")))
    assert fitted.undetermined == {"beta": False, "shift": False}  # with p2 = 0.2 rows it is determined
    # two parameters that move the predictions only together (through their product): both flagged
    n = np.geomspace(10.0, 1e4, 12)

    def product(*, a, b, n):
        return a * b / n

    def separate(*, a, b, n):
        return a / n + b / n**2

    bounds = dict(a=(0.1, 10.0), b=(0.1, 10.0))
    together = jc.fit(product, dict(n=n, error=2.0 / n), params=bounds, starts=4, bootstrap=0, key=jax.random.key(4))
    assert together.undetermined == {"a": True, "b": True}
    apart = jc.fit(
        separate, dict(n=n, error=2 / n + 3 / n**2), params=bounds, starts=4, bootstrap=0, key=jax.random.key(4)
    )
    assert apart.undetermined == {"a": False, "b": False}
    assert apart.params["a"] == pytest.approx(2.0, rel=1e-4) and apart.params["b"] == pytest.approx(3.0, rel=1e-3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(params=dict(beta=(2.0, 1.0))), "params\\['beta'\\]"),
        (dict(params=dict(beta="x")), "params\\['beta'\\]"),
        (dict(params={}), "params"),
        (dict(data=dict(n=N, p2=P2)), "error"),
        (dict(data=dict(n=N[:3], p2=P2, error=CLEAN)), "data\\['n'\\]"),
        (dict(data=dict(n=N, p2=P2, error=-CLEAN)), "data\\['error'\\]"),
        (dict(starts=0), "starts"),
        (dict(loss="l2"), "loss"),
        (dict(fixed=dict(beta=1.5)), "beta"),
    ],
)
def test_bad_input(kwargs, match):
    base = dict(
        data=dict(n=N, p2=P2, error=CLEAN), params=BOUNDS, starts=2, bootstrap=0, steps=2, key=jax.random.key(0)
    )
    with pytest.raises(ValueError, match=match):
        jc.fit(model, **{**base, **kwargs})


# ----------------------------------------------------------------------------- derived quantities
# A `Fit` built by hand (best parameters and a few bootstrap draws), checked against quantities
# computed here by brute force: no fitting, one small compiled program per quantity.


def _hand_fit(params, draws, family="ridge", **fixed):
    from jaxcollapse._fit_models import FAMILIES

    spec = FAMILIES[family]
    defaults = {k: v for k, v in spec.params.items() if k not in params}
    return jc.Fit(
        params=params,
        loss=0.0,
        start_params={},
        start_losses=np.zeros(1),
        bootstrap={k: np.asarray(v, float) for k, v in draws.items()},
        residuals=np.zeros(1),
        on_bound={},
        disagree=False,
        model=spec.kernel,
        fixed={**defaults, **spec.static, **fixed},
        family=family,
    )


def test_ridgeless_floor_is_p2_squared_times_the_shift():
    # OLS (λ = 0) on infinitely many samples converges to (1 − p2) w* + p2 (w* + δ): error p2² tr ΣΔ
    shifts = [0.5, 0.6, 0.7, 0.8, 0.9]
    f = _hand_fit(dict(beta=1.5, shift=0.7), dict(beta=[1.5] * 5, shift=shifts), d=60, lam=0.0)
    est = f.floor(0.5, p2=0.3)  # the 25th and 75th percentiles of five draws: the 2nd and 4th
    assert float(est.value) == pytest.approx(0.09 * 0.7, rel=1e-6)
    assert float(est.low) == pytest.approx(0.09 * 0.6, rel=1e-6) and float(est.high) == pytest.approx(
        0.09 * 0.8, rel=1e-6
    )


def test_synthetic_limit_and_optimal_weight_against_a_dense_grid():
    # noisy real labels, synthetic ones somewhat off: about 100 synthetic samples help, more hurt
    p = dict(beta=1.5, shift=0.2, noise_var=0.5)
    f = _hand_fit(p, {k: [v] * 3 for k, v in p.items()}, d=60, lam=1e-2)
    est = f.synthetic_limit(50.0)
    n2 = np.geomspace(0.05, 5e7, 20001)
    dense = np.asarray(model_ridge(p, n=50.0 + n2, p2=n2 / (50.0 + n2), lam=1e-2))
    assert 10.0 < float(est.value) < 1e3 and float(est.value) == pytest.approx(n2[np.argmin(dense)], rel=2e-3)
    assert float(est.low) == float(est.value) == float(est.high)  # identical replicates
    w = np.geomspace(1e-4, 1e3, 20001)
    dense = np.asarray(model_ridge(p, n=200.0, p2=0.5, lam=1e-2, weight=w))
    assert float(f.optimal_weight(n=200.0, p2=0.5).value) == pytest.approx(w[np.argmin(dense)], rel=2e-3)
    # labels far off: the first synthetic sample already hurts, and the best weight is to drop them
    bad = _hand_fit(dict(p, shift=5.0), {k: [v] * 3 for k, v in dict(p, shift=5.0).items()}, d=60, lam=1e-2)
    assert float(bad.synthetic_limit(50.0).value) == 0.0


def model_ridge(p, **cols):
    mix = jc.power_law(60, p["beta"], signal=1.0, shift=p["shift"], noise_var=p["noise_var"])
    return jc.theory.ridge(mix, **{k: jnp.asarray(v) for k, v in cols.items()}).total


def test_tails_floor_is_the_tail_mass():
    from scipy.special import zeta

    f = _hand_fit(dict(beta=1.7, k=300.0), dict(beta=[1.6, 1.7, 1.8], k=[300.0] * 3), family="tails")
    est = f.floor(0.99)
    mass = lambda b: zeta(b, 301) / zeta(b)  # noqa: E731
    assert float(est.value) == pytest.approx(mass(1.7), rel=1e-9)
    assert float(est.low) == pytest.approx(mass(1.8), rel=1e-9) and float(est.high) == pytest.approx(
        mass(1.6), rel=1e-9
    )


# ----------------------------------------------------------------------------- the command line


def _fit_cli(capsys, *args):
    import os

    from jaxcollapse.cli import main

    capsys.readouterr()
    environ = dict(os.environ)
    try:
        code = main(["fit", *args])
    except SystemExit as exit_:
        code = exit_.code
    finally:
        os.environ.clear()
        os.environ.update(environ)
    out, err = capsys.readouterr()
    return code or 0, out, err


def _write(path, header, rows):
    path.write_text(header + "\n" + "\n".join(",".join(str(v) for v in row) for row in rows) + "\n")
    return path


def test_cli_fit_writes_its_folder(tmp_path, capsys):
    import json

    rows = [(n, p2, e, 0.03 * e, 7) for n, p2, e in zip(N, P2, NOISY)]
    csv = _write(tmp_path / "curve.csv", "# measured\nn,p2,error,sem,seed", rows)
    code, out, err = _fit_cli(
        capsys,
        str(csv),
        "--model=ridge",
        "--free=beta,quality",
        "--fixed=d=60,lam=1e-3,noise=0.05",
        "--predict=n=5000,p2=0.2",
        "--starts=4",
        "--bootstrap=16",
        "--steps=30",
        f"--out={tmp_path}",
    )
    assert code == 0, err
    folder = tmp_path / "fit-curve"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["ignored_columns"] == ["seed"] and summary["rows"] == 16
    assert (
        abs(summary["params"]["beta"]["value"] - 1.5) < 0.03
        and abs(summary["params"]["shift"]["value"] / 0.8 - 1) < 0.1
    )
    truth = float(model(**TRUTH, n=jnp.asarray([5000.0]), p2=jnp.asarray([0.2])).total[0])
    (pred,) = summary["predictions"]
    assert pred["value"] == pytest.approx(truth, rel=0.1) and pred["low"] <= pred["value"] <= pred["high"]
    assert 0.0 <= pred["optimal_weight"]["value"] <= 1e3
    floors = {f["at"]["p2"]: f["value"] for f in summary["floors"]}
    assert floors[0.2] > floors[0.0] > 0  # the synthetic fraction raises the floor
    report = (folder / "report.md").read_text()
    assert f"{pred['value']:.4g}" in report and "## Floors" in report
    # 3 % noise with stated 3 % errors: χ²/dof near 1, nothing flagged
    assert "χ² = " in report and "does not describe" not in report and summary["goodness"]["p"] > 1e-3
    assert (folder / "fit.png").stat().st_size > 10_000 and f"{pred['value']:.4g}" in out


def test_cli_report_says_what_the_data_cannot_determine(tmp_path, capsys):
    p2 = np.zeros_like(P2)
    clean = np.asarray(model(**TRUTH, n=jnp.asarray(N), p2=jnp.asarray(p2)).total)
    csv = _write(tmp_path / "real.csv", "n,p2,error", list(zip(N, p2, clean)))
    args = ("--model=ridge", "--free=beta,quality", "--fixed=d=60,lam=1e-3,noise=0.05", "--starts=4", "--steps=30")
    code, out, err = _fit_cli(capsys, str(csv), *args, "--bootstrap=4", f"--out={tmp_path}")
    assert code == 0, err
    report = (tmp_path / "fit-real" / "report.md").read_text()
    (row,) = [line for line in report.splitlines() if line.startswith("| shift |")]
    assert "not determined by these data" in row
    assert "not determined by these data: shift" in report
    (row,) = [line for line in report.splitlines() if line.startswith("| beta |")]
    assert "not determined" not in row
    assert "no standard errors given" in report and "does not describe" not in report


def test_the_families_power_law_is_the_full_one_on_fewer_nodes():
    # The families evaluate a power law on index_rule's nodes (exact for j ≤ 32, an 8-point discrete
    # Gauss rule per octave beyond): the same theory as the full d-dimensional spectrum
    from jaxcollapse._fit_models import _mixture, index_rule

    for d in (40, 1000, 20_000):
        j, w = index_rule(d)
        assert w.sum() == pytest.approx(d, rel=1e-12) and (w * j).sum() == pytest.approx(d * (d + 1) / 2, rel=1e-12)
        assert j.size <= 32 + 8 * math.ceil(math.log2(d / 32 + 1))
    for d, beta, source in ((1000, 1.2, None), (1000, 2.5, 0.5), (20_000, 1.05, None)):
        full = jc.power_law(d, beta, source=source, signal=1.0, shift=0.7, noise_var=0.1)
        nodes = _mixture(d, beta, source, 1.0, 0.7, 0.1)
        point = dict(
            n=jnp.array([20.0, 900.0, 3000.0]), p2=jnp.array([0.0, 0.3, 0.6]), lam=jnp.array([1e-4, 1e-2, 1.0])
        )
        np.testing.assert_allclose(
            jc.theory.ridge(nodes, **point).total, jc.theory.ridge(full, **point).total, rtol=1e-9
        )
        m = jnp.array([10.0, 700.0, 5000.0])
        np.testing.assert_allclose(
            jc.theory.random_projections(nodes, m=m, **point).total,
            jc.theory.random_projections(full, m=m, **point).total,
            rtol=1e-9,
        )


def test_the_generic_power_law_family():
    # E∞ + A n^−α, the baseline a theory is compared with, as a named family: exact data recovered,
    # its floor the E∞ it was given
    n = np.geomspace(10.0, 1e5, 14)
    data = dict(n=n, error=0.05 + 2.0 * n**-0.7)
    f = jc.fit("power-law", data, params=("floor", "amplitude", "alpha"), starts=8, bootstrap=8, key=jax.random.key(6))
    assert f.params == pytest.approx(dict(floor=0.05, amplitude=2.0, alpha=0.7), rel=1e-4)
    assert not any(f.undetermined.values()) and not any(f.on_bound.values())
    assert float(f.floor().value) == pytest.approx(0.05, rel=1e-4)


def test_goodness_of_fit_tells_a_trend_from_noise():
    # χ² against SciPy's distribution, and the runs of residual signs along n (two curves of 15)
    from types import SimpleNamespace

    from scipy import stats

    from jaxcollapse._fit_cli import _goodness

    n = np.tile(np.geomspace(10, 1e4, 15), 2)
    data = dict(n=n, p2=np.repeat([0.0, 0.3], 15), error=np.ones(30), sem=np.full(30, 0.02))
    groups = [{"p2": 0.0}, {"p2": 0.3}]
    noise = 0.02 * np.random.default_rng(5).standard_normal(30)
    g = _goodness(SimpleNamespace(residuals=noise), data, groups, "n", 2)
    chi2 = float(np.sum((noise / 0.02) ** 2))
    assert g["chi2"] == pytest.approx(chi2) and g["dof"] == 28
    assert g["p"] == pytest.approx(stats.chi2.sf(chi2, 28), rel=1e-10) and g["p"] > 1e-3
    assert g["runs_z"] > -3
    # a model that misses a trend: smooth residuals, one sign over long stretches of n
    trend = 0.05 * np.cos(np.log(n) / 1.5)
    g = _goodness(SimpleNamespace(residuals=trend), data, groups, "n", 2)
    assert g["p"] < 1e-6 and g["runs_z"] <= -3
    # by hand: each curve's signs are +, nine −, five + (3 runs; 6 positive, 9 negative)
    assert g["runs"] == 6 and g["expected_runs"] == pytest.approx(2 * (1 + 2 * 6 * 9 / 15))
    variance = 2 * (2 * 6 * 9 * (2 * 6 * 9 - 15) / (15**2 * 14))
    assert g["runs_z"] == pytest.approx((6 - 2 * (1 + 2 * 6 * 9 / 15)) / math.sqrt(variance))
    del data["sem"]
    g = _goodness(SimpleNamespace(residuals=trend), data, groups, "n", 2)
    assert g["chi2"] is None and g["p"] is None and g["runs_z"] <= -3


def test_cli_fit_without_bootstrap_writes_the_point_fit(tmp_path, capsys):
    """The fast path of the command: no replicates, so no intervals, floors or limits, but the fit,
    the prediction, the figure and the report."""
    import json

    csv = _write(tmp_path / "plain.csv", "n,p2,error", zip(N, P2, NOISY))
    args = ["--model=ridge", "--free=beta,quality", "--fixed=d=60,lam=1e-3,noise=0.05", "--predict=n=5000,p2=0.2"]
    code, out, err = _fit_cli(capsys, str(csv), *args, "--starts=2", "--bootstrap=0", f"--out={tmp_path}")
    assert code == 0, err
    folder = tmp_path / "fit-plain"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["rows"] == 16 and summary["ignored_columns"] == [] and summary["settings"]["bootstrap"] == 0
    beta, shift = summary["params"]["beta"], summary["params"]["shift"]
    assert abs(beta["value"] - 1.5) < 0.03 and abs(shift["value"] / 0.8 - 1) < 0.1
    assert beta["low"] is None and shift["high"] is None  # no replicates: no interval (null in JSON)
    assert summary["floors"] == [] and summary["synthetic_limits"] == []
    truth = float(model(**TRUTH, n=jnp.asarray([5000.0]), p2=jnp.asarray([0.2])).total[0])
    (pred,) = summary["predictions"]
    assert set(pred) == {"at", "value"} and pred["value"] == pytest.approx(truth, rel=0.1)
    assert f"{pred['value']:.4g}" in (folder / "report.md").read_text() and f"{pred['value']:.4g}" in out
    assert (folder / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_fit_errors_are_one_line(tmp_path, capsys):
    good = [(n, p2, e) for n, p2, e in zip(N, P2, CLEAN)]
    files = {
        "cell": _write(tmp_path / "cell.csv", "n,p2,error", good[:2] + [(30, "abc", 0.1)] + good[3:]),
        "nan": _write(tmp_path / "nan.csv", "n,p2,error", good[:4] + [(30, 0.1, "")] + good[5:]),
        "short": _write(tmp_path / "short.csv", "n,p2,error", good[:2] + [(30, 0.1)]),
        "nop2": _write(tmp_path / "nop2.csv", "n,error", [(n, e) for n, _, e in good]),
        "neg": _write(tmp_path / "neg.csv", "n,p2,error", good[:-1] + [(30, 0.1, -0.2)]),
        "few": _write(tmp_path / "few.csv", "n,p2,error", good[:2]),
        "zero": _write(tmp_path / "zero.csv", "n,p2,error", good[:6] + [(30, 0.1, 0)] + good[7:]),
        "p2": _write(tmp_path / "p2.csv", "n,p2,error", good[:3] + [(30, 1.5, 0.1)] + good[4:]),
        "negn": _write(tmp_path / "negn.csv", "n,p2,error", [(-30, 0.1, 0.1)] + good[1:]),
        "noerror": _write(tmp_path / "noerror.csv", "n,p2,err", good),
        "semicolon": _write(tmp_path / "semicolon.csv", "n;p2;error", [(f"{n};{p2};{e}",) for n, p2, e in good]),
        "good": _write(tmp_path / "good.csv", "n,p2,error", good),
    }
    cases = [
        ("cell", (), "cell.csv, row 4, column 'p2': 'abc' is not a number"),
        ("nan", (), "nan.csv, row 6, column 'error': '' is not a number"),
        ("short", (), "short.csv, row 4: 2 fields, the header has 3"),
        ("nop2", (), "data has no column 'p2'"),
        ("neg", (), f"neg.csv, row {len(good) + 1}, column 'error': -0.2 — error must be a number > 0"),
        ("zero", (), "zero.csv, row 8, column 'error': 0 — error must be a number > 0"),
        ("p2", (), "p2.csv, row 5, column 'p2': 1.5 — p2 must be a number in [0, 1]"),
        ("negn", (), "negn.csv, row 2, column 'n': -30 — n must be a number > 0"),
        ("noerror", (), "noerror.csv: no column 'error' (the measured test errors); its columns are n, p2, err"),
        (
            "semicolon",
            (),
            "semicolon.csv, row 1: one column named 'n;p2;error': the file seems separated by semicolons",
        ),
        ("few", ("--free=beta,shift,noise",), "2 rows cannot pin 3 free parameters"),
        ("good", ("--free=gamma",), "--free: 'gamma' is not a parameter of 'ridge'"),
        ("good", ("--free=beta=3:1",), "params['beta'] must satisfy low < high"),
        ("good", ("--predict=n",), "--predict 'n': expected NAME=VALUE"),
    ]
    for name, extra, message in cases:
        args = [str(files[name]), "--model=ridge", "--fixed=lam=1e-3", "--bootstrap=0", f"--out={tmp_path}", *extra]
        code, _, err = _fit_cli(capsys, *args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and message in lines[0], (name, err)
    code, _, err = _fit_cli(capsys, str(tmp_path / "missing.csv"), "--model=ridge")
    assert code == 2 and "missing.csv: cannot read the file" in err


# ----------------------------------------------------------------------------- experiment fit-demo


def test_fit_demo_recovers_what_it_simulated():
    from _experiment_files import check_outcome, run_quick

    result = run_quick("fit-demo")
    check_outcome("fit-demo", result)
    summary = result.summary
    beta, lo, hi = summary["beta"]
    assert lo <= beta <= hi and abs(beta - 1.5) < 0.1
    shift, lo, hi = summary["shift"]
    assert lo <= shift <= hi and abs(shift / 0.3 - 1) < 0.5
    floor, lo, hi = summary["floor_at_largest_p2"]
    assert lo <= floor <= hi and floor == pytest.approx(summary["true_floor_at_largest_p2"], rel=0.3)
    k, lo, hi = summary["tails_k"]  # (quick mode: 4 replicates, too few for the tails' interval)
    assert 500 <= k <= 2000 and float(k).is_integer() and lo <= hi  # true k = 1000, profiled over integers
    beta, lo, hi = summary["tails_beta"]
    assert abs(beta / 1.6 - 1) < 0.05 and lo <= hi  # fitted jointly with k
    plateau, lo, hi = summary["plateau"]
    assert plateau == pytest.approx(summary["true_plateau"], rel=0.3)


def test_a_bad_entry_is_named_by_column_and_index():
    # one bad value among many valid ones: the message names it, not the column's first (valid) values
    base = dict(n=np.full(300, 50.0), p2=np.full(300, 0.1), lam=np.full(300, 1e-3), error=np.full(300, 0.1))
    for name, index, value, allowed in (
        ("error", 123, 0.0, "a number > 0"),
        ("p2", 7, 1.5, "a number in [0, 1]"),
        ("n", 299, -5.0, "a number > 0"),
        ("lam", 0, np.nan, "a number ≥ 0"),
    ):
        data = {k: v.copy() for k, v in base.items()}
        data[name][index] = value
        message = f"data[{name!r}][{index}] is {value!r}: each entry must be {allowed}"
        with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
            jc.fit(
                "ridge",
                data,
                params={"beta": (1.1, 3.0)},
                fixed={"shift": 0.5, "noise_var": 0.05},
                key=jax.random.key(0),
            )
