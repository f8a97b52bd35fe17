"""`jc.fit` (issue 21, first part): parameter recovery from data simulated at known parameters, the
bounds, the flags, the bootstrap intervals and predictions, and bad input."""

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
