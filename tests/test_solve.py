"""The safeguarded solvers on problems with known answers, and the non-converged path."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse import _solve


def cube(x, a):
    return x**3 - a


@pytest.mark.parametrize("a", [1e-12, 0.5, 8.0, 1e9])
def test_bracketed_root_and_its_implicit_gradient(a):
    hi = max(a, 1.0) + 1.0
    x, ok = _solve.bracketed_root(cube, jnp.asarray(a), 0.0, hi)
    assert bool(ok)
    np.testing.assert_allclose(x, a ** (1 / 3), rtol=1e-13)
    g = jax.grad(lambda a: _solve.bracketed_root(cube, a, 0.0, hi)[0])(jnp.asarray(a))
    np.testing.assert_allclose(g, a ** (-2 / 3) / 3, rtol=1e-10)


def test_bracketed_root_degenerate_bracket_returns_its_end():
    x, ok = _solve.bracketed_root(cube, jnp.asarray(2.0), 0.0, 0.0)
    assert float(x) == 0.0 and bool(ok)


def test_bracketed_root_vmaps():
    a = jnp.array([0.1, 1.0, 27.0])
    x, ok = jax.vmap(lambda a: _solve.bracketed_root(cube, a, 0.0, 30.0))(a)
    np.testing.assert_allclose(x, np.cbrt(a), rtol=1e-13)
    assert np.all(np.asarray(ok))


def sqrt_map(x, a):
    # increasing map with largest fixed point x* = (1 + sqrt(1 + 4a)) / 2 of x = sqrt(x + a)
    return jnp.sqrt(x + a)


def test_monotone_fixed_point_and_its_implicit_gradient():
    a = jnp.asarray(2.0)
    x, ok = _solve.monotone_fixed_point(sqrt_map, a, jnp.array([10.0]))
    assert bool(ok)
    np.testing.assert_allclose(x[0], 2.0, rtol=1e-14)
    g = jax.grad(lambda a: _solve.monotone_fixed_point(sqrt_map, a, jnp.array([10.0]))[0][0])(a)
    np.testing.assert_allclose(g, 1 / np.sqrt(1 + 4 * 2.0), rtol=1e-10)  # d/da of (1 + sqrt(1 + 4a)) / 2


@pytest.mark.parametrize("coupled", [False, True])
def test_non_converged_points_are_nan_with_status(coupled):
    d = 37
    mix = jc.power_law(d, 1.2, noise_var=0.1)
    if coupled:
        mix = jc.Mixture(mix.eigs, mix.signal, mix.shift, 0.1, synthetic_eigs=mix.eigs**0.5)
    before = jc.theory.ridge(mix, n=20.0, p2=0.3, lam=0.01)  # traced and compiled with the full limits
    with _solve.step_limits(1, 1):  # the solvers limited to one step: a fresh trace, the cached program untouched
        risk = jc.theory.ridge(mix, n=20.0, p2=0.3, lam=0.01)
    assert int(risk.status) == jc.Status.NOT_CONVERGED
    assert np.isnan(risk.total) and np.isnan(risk.kappa)
    assert "did not converge" in jc.status_message(risk.status)
    # outside the block the program traced before it is used again, with its full limits
    after = jc.theory.ridge(mix, n=20.0, p2=0.3, lam=0.01)
    assert int(before.status) == int(after.status) == jc.Status.OK and np.isfinite(after.total)
    assert float(after.total) == float(before.total)


def test_step_limits_do_not_leak_into_shared_programs():
    f = lambda x, a: x**3 - a  # noqa: E731
    solve = jax.jit(lambda a: _solve.bracketed_root(f, a, 0.0, 4.0))
    grad = jax.jit(jax.grad(lambda a: _solve.bracketed_root(f, a, 0.0, 4.0)[0]))
    _, ok = solve(jnp.asarray(2.0))
    assert bool(ok)
    with _solve.step_limits(1, 1):
        _, ok1 = solve(jnp.asarray(2.0))
        g1 = grad(jnp.asarray(2.0))  # the implicit derivative holds at whatever point the solver stopped
    assert not bool(ok1) and np.isfinite(g1)
    x, ok = solve(jnp.asarray(2.0))
    assert bool(ok) and abs(float(x) - 2.0 ** (1 / 3)) < 1e-14
    np.testing.assert_allclose(grad(jnp.asarray(2.0)), 2.0 ** (-2 / 3) / 3, rtol=1e-10)


def test_step_counts_are_reported_and_small_from_a_good_start():
    from jaxcollapse import _solve

    f = lambda x, a: x**3 - a  # noqa: E731
    x, ok, steps = _solve.bracketed_root_steps(f, jnp.asarray(2.0), 0.0, 4.0)
    assert bool(ok) and abs(float(x) - 2.0 ** (1 / 3)) < 1e-14 and 1 <= int(steps) < _solve._MAX_STEPS
    _, ok, near = _solve.bracketed_root_steps(f, jnp.asarray(2.0), 0.0, 4.0, x0=1.26)
    assert bool(ok) and int(near) <= 5 and int(near) < int(steps)
