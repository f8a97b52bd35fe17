"""`jc.nn`: the training loop, two-layer networks on the Gaussian mixtures, the digits data."""

import builtins
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse import nn
from jaxcollapse._validate import MissingExtra
from jaxcollapse.nn._mlp import weighted_mse


def _regression(key, n=200, d=8):
    kx, kv = jax.random.split(key)
    f = lambda X: jnp.sin(X @ jnp.linspace(-1.0, 1.0, d))  # noqa: E731
    X, Xv = jax.random.normal(kx, (n, d)), jax.random.normal(kv, (n, d))
    w = jnp.full((n,), 1.0 / n)
    return (X, f(X), w), (Xv, f(Xv), w)


def _train(key, **kw):
    data, val = _regression(jax.random.key(1))
    model = nn.two_layer(8, 32, key=key)
    return eqx.filter_jit(lambda m: nn.fit(m, weighted_mse, data, val, key=key, **kw))(model)


def test_fit_decreases_the_loss_and_keeps_the_best_checkpoint():
    best, hist = _train(jax.random.key(0), steps=600, eval_every=20, lr=1e-2, patience=None)
    train, val = np.asarray(hist.train_loss), np.asarray(hist.val_loss)
    assert np.all(np.isfinite(train)) and int(hist.steps) == 600
    assert train[-1] < 0.2 * train[0]  # training works
    _, val_batch = _regression(jax.random.key(1))
    kept = float(weighted_mse(best, val_batch))
    # the returned model is the evaluation with the lowest validation loss, at the recorded step
    assert kept == pytest.approx(val.min(), rel=1e-12)
    assert int(hist.best_step) == int(np.asarray(hist.step)[val.argmin()])


def test_early_stopping_stops_and_never_loses_ground():
    # a high learning rate on 200 rows overfits: validation turns up and patience stops the run
    data, val = _regression(jax.random.key(1), n=40)
    model = nn.two_layer(8, 64, key=jax.random.key(0))
    best, hist = eqx.filter_jit(
        lambda m: nn.fit(
            m, weighted_mse, data, val, key=jax.random.key(0), steps=4000, eval_every=20, lr=3e-2, patience=5
        )
    )(model)
    taken = int(hist.steps)
    assert taken < 4000
    evals = taken // 20
    v = np.asarray(hist.val_loss)
    assert np.all(np.isfinite(v[:evals])) and np.all(np.isnan(v[evals:]))
    assert np.argmin(v[:evals]) == evals - 1 - 5  # five evaluations without a new best, then stop
    assert float(weighted_mse(best, val)) == pytest.approx(v[:evals].min(), rel=1e-12)


def test_training_is_deterministic_for_a_fixed_key():
    a, ha = _train(jax.random.key(3), steps=200, eval_every=20, batch_size=50)
    b, hb = _train(jax.random.key(3), steps=200, eval_every=20, batch_size=50)
    c, _ = _train(jax.random.key(4), steps=200, eval_every=20, batch_size=50)
    X = jax.random.normal(jax.random.key(9), (20, 8))
    np.testing.assert_array_equal(jax.vmap(a)(X), jax.vmap(b)(X))
    np.testing.assert_array_equal(ha.train_loss, hb.train_loss)
    assert not np.allclose(jax.vmap(a)(X), jax.vmap(c)(X))


def test_streamed_data_and_vmap_over_seeds():
    d = 6

    def sample(k):
        X = jax.random.normal(k, (64, d))
        return X, X.sum(1), jnp.full((64,), 1.0 / 64)

    val = sample(jax.random.key(99))

    def one(k):
        best, hist = nn.fit(
            nn.two_layer(d, 16, key=k, activation="tanh"),
            weighted_mse,
            sample,
            val,
            key=k,
            steps=300,
            eval_every=30,
            lr=1e-2,
        )
        return weighted_mse(best, val), hist

    keys = jax.random.split(jax.random.key(0), 3)
    losses, hist = eqx.filter_jit(eqx.filter_vmap(one))(keys)
    assert losses.shape == (3,) and hist.train_loss.shape == (3, 10)
    assert np.all(np.asarray(losses) < 0.1 * np.asarray(hist.train_loss)[:, 0])
    # member 1 of the vmapped run is the same as training seed 1 alone
    alone, _ = eqx.filter_jit(one)(keys[1])
    assert float(alone) == pytest.approx(float(losses[1]), rel=1e-9)


def test_linear_two_layer_network_reaches_the_ridgeless_linear_theory():
    """With a linear activation and n > d, full training converges to least squares on the mixture:
    the real test error must match the linear theory at λ → 0, collapse term included."""
    d, n = 10, 200
    mix = jc.isotropic(d, signal=1.0, shift=1.0, noise_var=0.1)
    est, hist = nn.train_on_mixture(
        mix,
        n=n,
        m=16,
        p2=np.array([0.0, 0.5]),
        trials=12,
        key=jax.random.key(5),
        activation="linear",
        steps=3000,
        lr=1e-2,
        weight_decay=0.0,
        patience=None,
        test_size=4000,
        eval_every=100,
    )
    theory = np.asarray(jc.theory.ridge(mix, n=float(n), p2=jnp.array([0.0, 0.5]), lam=1e-8).total)
    mean, sem = np.asarray(est.mean), np.asarray(est.sem)
    # the network also fits an intercept (one more parameter than the theory's d): + σ²/(n − d) at most
    intercept = 0.1 / (n - d)
    assert np.all(np.abs(mean - theory) <= 3 * sem + intercept), (mean, sem, theory)
    assert mean[1] > 10 * mean[0]  # the collapse term dominates the mixture


def test_two_layer_bad_input():
    with pytest.raises(ValueError, match="activation must be one of"):
        nn.two_layer(4, 8, key=jax.random.key(0), activation="softplus")
    for width in (0, -3, 2.5):
        with pytest.raises(ValueError, match="width must be a positive integer"):
            nn.two_layer(4, width, key=jax.random.key(0))
    mix = jc.isotropic(4)
    with pytest.raises(ValueError, match="p2"):
        nn.train_on_mixture(mix, n=10, m=4, p2=1.5, trials=2, key=jax.random.key(0))
    with pytest.raises(ValueError, match="n must be positive integers"):
        nn.train_on_mixture(mix, n=10.5, m=4, p2=0.5, trials=2, key=jax.random.key(0))
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        nn.fit(nn.two_layer(4, 4, key=jax.random.key(0)), weighted_mse, None, None, steps=0, key=jax.random.key(0))
    data, val = _regression(jax.random.key(1), n=20, d=4)
    with pytest.raises(ValueError, match="batch_size must be at most"):
        nn.fit(
            nn.two_layer(4, 4, key=jax.random.key(0)),
            weighted_mse,
            data,
            val,
            steps=5,
            key=jax.random.key(0),
            batch_size=21,
        )


def test_digits_data_and_generator():
    X, y = nn.digits.load()
    assert X.shape == (1797, 64) and y.shape == (1797,) and set(np.unique(y)) == set(range(10))
    np.testing.assert_allclose(X.mean(0), 0.0, atol=1e-12)
    assert X.std() == pytest.approx(1.0)
    # more real images make a better generator (the quality knob), and both beat chance by far
    X, y = jnp.asarray(X), jnp.asarray(y)
    test = slice(1400, None)
    acc = [float(jnp.mean(nn.digits.ridge_generator(X[:g], y[:g])(X[test]) == y[test])) for g in (30, 1000)]
    assert 0.3 < acc[0] < acc[1] and acc[1] > 0.8


def test_digits_bad_input():
    with pytest.raises(ValueError, match="n must be at most the training pool"):
        nn.digits.train_on_digits(n=1500, m=8, p2=0.0, trials=2, key=jax.random.key(0))
    with pytest.raises(ValueError, match="width must be a positive integer"):
        nn.digits.train_on_digits(n=100, m=0, p2=0.0, trials=2, key=jax.random.key(0))


def test_missing_scikit_learn_is_one_clear_error(monkeypatch):
    real_import = builtins.__import__

    def blocked(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", blocked)
    with pytest.raises(MissingExtra, match=r"pip install 'jaxcollapse\[images\]'"):
        nn.digits.load()


def test_cli_reports_a_missing_extra_in_one_line(tmp_path):
    # a sitecustomize that hides scikit-learn, as on a machine without the extra
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nclass _Hide:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'sklearn' or name.startswith('sklearn.'):\n"
        "            raise ModuleNotFoundError(\"No module named 'sklearn'\")\n"
        "sys.meta_path.insert(0, _Hide())\n"
    )
    import os

    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-m", "jaxcollapse", "run", "nn-digits", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 2
    lines = [line for line in out.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and "jaxcollapse[images]" in lines[0] and "Traceback" not in out.stderr


def test_mixture_and_digits_runs_share_draws_across_the_grid():
    """Tiny runs of both grid trainers: shapes, statistics over trials, common random numbers
    (every (n, p2) of a trial sees the same data, so p2 = 0 lanes of one n agree), determinism."""
    mix = jc.isotropic(4, signal=1.0, shift=1.0, noise_var=0.1)
    kw = dict(n=np.array([[12], [24]]), m=4, p2=np.array([0.0, 0.0, 0.5]), trials=2, steps=6, eval_every=3)
    est, hist = nn.train_on_mixture(mix, key=jax.random.key(2), n_val=8, test_size=16, **kw)
    assert est.mean.shape == est.sem.shape == (2, 3) and hist.val_loss.shape == (2, 3, 2, 2)
    err = np.asarray(est.samples)
    assert err.shape == (2, 3, 2) and np.all(np.isfinite(err) & (err > 0))
    np.testing.assert_allclose(np.asarray(est.mean), err.mean(-1), rtol=1e-12)
    np.testing.assert_array_equal(err[:, 0], err[:, 1])  # the same n and p2: the same draws, the same fit
    again, _ = nn.train_on_mixture(mix, key=jax.random.key(2), n_val=8, test_size=16, **kw)
    np.testing.assert_array_equal(np.asarray(again.samples), err)

    run = nn.digits.train_on_digits(key=jax.random.key(3), test_size=200, n_val=40, generator_size=30, **kw)
    acc, sq = np.asarray(run.accuracy.samples), np.asarray(run.squared_error.samples)
    assert acc.shape == sq.shape == (2, 3, 2) and np.all((acc >= 0) & (acc <= 1)) and np.all(sq > 0)
    np.testing.assert_array_equal(acc[:, 0], acc[:, 1])
    assert run.generator_accuracy.shape == (2,) and np.all(
        (run.generator_accuracy > 0.1) & (run.generator_accuracy <= 1)
    )
