"""Bad input: one clear ValueError when values are concrete; NaN + status inside a traced batch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc

MIX = jc.isotropic(20, noise_var=0.1)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n=0.0, p2=0.1, lam=0.1), "n"),
        (dict(n=-5.0, p2=0.1, lam=0.1), "n"),
        (dict(n=10.0, p2=-0.1, lam=0.1), "p2"),
        (dict(n=10.0, p2=1.5, lam=0.1), "p2"),
        (dict(n=10.0, p2=0.1, lam=-1e-3), "lam"),
        (dict(n=10.0, p2=0.1, lam=float("nan")), "lam"),
        (dict(n=float("inf"), p2=0.1, lam=0.1), "n"),
        (dict(n=10.0, p2=0.1, lam=0.1, weight=-1.0), "weight"),
        (dict(n=10.0, p2=1.0, lam=0.1, weight=0.0), "weight"),
        (dict(n=jnp.array([10.0, -1.0]), p2=0.1, lam=0.1), "n"),
    ],
)
def test_theory_scalars(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        jc.theory.ridge(MIX, **kwargs)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: jc.Mixture(jnp.array([1.0, 0.0]), jnp.ones(2), jnp.ones(2)), "eigs"),
        (lambda: jc.Mixture(jnp.array([1.0, -2.0]), jnp.ones(2), jnp.ones(2)), "eigs"),
        (lambda: jc.Mixture(jnp.array([1.0, jnp.nan]), jnp.ones(2), jnp.ones(2)), "eigs"),
        (lambda: jc.Mixture(jnp.ones(2), jnp.array([1.0, -1.0]), jnp.ones(2)), "signal"),
        (lambda: jc.Mixture(jnp.ones(2), jnp.ones(2), jnp.array([-1.0, 1.0])), "shift"),
        (lambda: jc.Mixture(jnp.ones(2), jnp.ones(3), jnp.ones(2)), "signal"),
        (lambda: jc.Mixture(jnp.ones(2), jnp.ones(2), jnp.ones(2), noise_var=-0.1), "noise_var"),
        (lambda: jc.Mixture(jnp.ones(2), jnp.ones(2), jnp.ones(2), synthetic_eigs=jnp.ones(3)), "synthetic_eigs"),
        (lambda: jc.Mixture(jnp.ones(2), jnp.ones(2), jnp.ones(2), synthetic_noise_var=jnp.nan), "synthetic_noise_var"),
        (lambda: jc.Mixture(jnp.ones((2, 2)), jnp.ones(2), jnp.ones(2)), "eigs"),
        (lambda: jc.isotropic(0), "d"),
        (lambda: jc.power_law(10, -1.0), "beta"),
        (lambda: jc.power_law(10, 1.0, source=0.0), "source"),
    ],
)
def test_problem_construction(make, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        make()


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n=10.5, p2=0.1, lam=0.1), "n"),
        (dict(n=10, p2=0.1, lam=0.1, trials=0), "trials"),
        (dict(n=10, p2=2.0, lam=0.1), "p2"),
        (dict(n=10, p2=0.1, lam=-0.1), "lam"),
    ],
)
def test_simulation_arguments(kwargs, name):
    kwargs = {"trials": 2, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} "):
        jc.simulate.ridge(MIX, key=jax.random.key(0), **kwargs)


def test_message_names_the_allowed_range():
    with pytest.raises(ValueError, match=r"p2 must be a number in \[0, 1\], got 1.5"):
        jc.theory.ridge(MIX, n=10.0, p2=1.5, lam=0.1)


@pytest.mark.parametrize("coupled", [False, True])
def test_invalid_points_in_a_traced_batch_are_nan_with_status(coupled):
    mix = MIX if not coupled else jc.Mixture(MIX.eigs, MIX.signal, MIX.shift, 0.1, synthetic_eigs=2 * MIX.eigs)
    n = jnp.array([30.0, -1.0, 30.0, 30.0, 30.0, jnp.nan])
    p2 = jnp.array([0.2, 0.2, 1.7, 0.2, 0.2, 0.2])
    lam = jnp.array([0.1, 0.1, 0.1, -0.5, 0.1, 0.1])
    risk = jax.jit(lambda n, p2, lam: jc.theory.ridge(mix, n=n, p2=p2, lam=lam))(n, p2, lam)
    expected_status = [jc.Status.OK, 1, 1, 1, jc.Status.OK, 1]
    np.testing.assert_array_equal(risk.status, expected_status)
    assert np.all(np.isnan(np.asarray(risk.total)[1:4])) and np.isnan(risk.total[5])
    good = jc.theory.ridge(mix, n=30.0, p2=0.2, lam=0.1)
    np.testing.assert_allclose(np.asarray(risk.total)[[0, 4]], float(good.total), rtol=1e-12)
    assert "invalid" in jc.status_message(risk.status[1])


def test_invalid_spectrum_inside_vmap_is_nan_not_a_crash():
    import equinox as eqx

    bad = eqx.tree_at(lambda m: m.eigs, MIX, MIX.eigs.at[0].set(-1.0))
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), MIX, bad)
    risk = eqx.filter_vmap(lambda m: jc.theory.ridge(m, n=30.0, p2=0.2, lam=0.1))(stacked)
    np.testing.assert_array_equal(risk.status, [jc.Status.OK, jc.Status.INVALID_INPUT])
    assert np.isfinite(risk.total[0]) and np.isnan(risk.total[1])


@pytest.mark.parametrize(
    "call",
    [
        lambda mix: jc.theory.ridge(mix, n=10.0, p2=0.1, lam=0.1),
        lambda mix: jc.theory.ridge_floor(mix, p2=0.1),
        lambda mix: jc.theory.random_projections(mix, n=10.0, m=5.0, p2=0.1, lam=0.1),
        lambda mix: jc.theory.random_features(mix, n=10.0, m=5.0, p2=0.1, lam=0.1),
        lambda mix: jc.theory.retraining(mix, n=10.0, n0=30.0, generations=1.0, lam=0.1, generator_noise_var=0.1),
        lambda mix: jc.theory.data_loop(mix, n0=30.0, generations=1.0, lam=0.1, generator_noise_var=0.1),
        lambda mix: jc.theory.data_loop_bound(mix, n0=30.0, generator_noise_var=0.1),
        lambda mix: jc.simulate.ridge(mix, n=10, p2=0.1, lam=0.1, trials=2, key=jax.random.key(0)),
        lambda mix: jc.simulate.random_projections(mix, n=10, m=5, p2=0.1, lam=0.1, trials=2, key=jax.random.key(0)),
        lambda mix: jc.simulate.random_features(mix, n=10, m=5, p2=0.1, lam=0.1, trials=2, key=jax.random.key(0)),
    ],
)
def test_something_else_than_a_mixture_is_a_type_error_naming_mix(call):
    for wrong in ("not a mixture", np.ones(20), None):
        with pytest.raises(TypeError, match=r"^mix must be a jc\.Mixture .*got (str|ndarray|NoneType)$"):
            call(wrong)


def test_results_print_their_values_when_small():
    risk = jc.theory.ridge(MIX, n=jnp.array([30.0, 40.0]), p2=0.2, lam=0.1)
    text = repr(risk)
    assert text.startswith("Risk(total=[") and "status=[0, 0]" in text and "theta=None" in text
    assert f"{float(risk.total[0]):.6f}"[:7] in text  # the value itself, not f64[2]
    assert "total=float64[50]" in repr(jc.theory.ridge(MIX, n=jnp.linspace(10.0, 60.0, 50), p2=0.2, lam=0.1))
    estimate = jc.simulate.ridge(MIX, n=30, p2=0.2, lam=0.1, trials=3, key=jax.random.key(0))
    assert f"mean={float(estimate.mean):.6g}" in repr(estimate)


def test_float32_is_said_once_unless_asked_for(monkeypatch):
    # JAX's default precision is float32; a theory call then warns once per process, not at all when
    # asked for (`--float32`) or in float64. (This suite runs in float64: switched off here, restored.)
    import warnings

    from jaxcollapse import _validate

    mix = jc.isotropic(10, noise_var=0.1)

    def count():
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            for _ in range(2):
                jc.theory.ridge(mix, n=20.0, p2=0.1, lam=0.1)
            jc.theory.ridge_floor(mix, p2=0.1)
        return sum(issubclass(w.category, jc.Float32Warning) for w in seen)

    monkeypatch.setitem(_validate._PRECISION, "warned", False)
    monkeypatch.setitem(_validate._PRECISION, "asked", False)
    assert count() == 0  # float64
    jax.config.update("jax_enable_x64", False)
    try:
        assert count() == 1  # once, for three calls
        assert count() == 0  # and once per process
        monkeypatch.setitem(_validate._PRECISION, "warned", False)
        monkeypatch.setitem(_validate._PRECISION, "asked", True)  # what `--float32` does
        assert count() == 0
    finally:
        jax.config.update("jax_enable_x64", True)
