"""Random projections under jit, vmap and grad; the phase boundary by a vmapped root solve; bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc

D = 120
MIX = jc.power_law(D, 1.3, signal=1.0, shift=0.6, noise_var=0.2)

POINTS = [
    dict(n=60.0, m=25.0, p2=0.3, lam=1e-2),  # m < n < d
    dict(n=60.0, m=90.0, p2=0.5, lam=1e-3),  # n < m < d
    dict(n=60.0, m=400.0, p2=0.2, lam=0.1),  # m > d
    dict(n=300.0, m=200.0, p2=0.4, lam=1e-2),  # d < m < n
    dict(n=60.0, m=25.0, p2=0.3, lam=0.0),  # ridgeless, below the threshold
    dict(n=60.0, m=150.0, p2=0.3, lam=0.0),  # ridgeless, above it
    dict(n=300.0, m=500.0, p2=0.3, lam=0.0),  # ridgeless OLS regime (theta = 0)
]
ARGS = ["m", "n", "p2", "lam"]
GRAD_CASES = [(p, a) for p in POINTS for a in ARGS if not (a == "lam" and p["lam"] == 0)]


def _fd(f, x, rel=1e-5):
    h = rel * abs(x)
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("field", ["total", "collapse"])
@pytest.mark.parametrize(
    "point, arg", GRAD_CASES, ids=[f"n{p['n']:g}-m{p['m']:g}-lam{p['lam']:g}-{a}" for p, a in GRAD_CASES]
)
def test_grad_matches_finite_differences(point, arg, field):
    def f(x):
        return getattr(jc.theory.random_projections(MIX, **{**point, arg: x}), field)

    g = float(jax.grad(f)(point[arg]))
    fd = float(_fd(f, point[arg]))
    assert g == pytest.approx(fd, rel=1e-5, abs=1e-9 * float(f(point[arg])))


@pytest.mark.parametrize("n, m", [(60.0, 25.0), (60.0, 150.0), (300.0, 500.0)])
def test_grad_at_ridgeless_is_right_derivative(n, m):
    f = lambda lam: jc.theory.random_projections(MIX, n=n, m=m, p2=0.3, lam=lam).total  # noqa: E731
    g = float(jax.grad(f)(0.0))
    h = 1e-8
    fd = float((-3 * f(0.0) + 4 * f(h) - f(2 * h)) / (2 * h))
    assert g == pytest.approx(fd, rel=1e-4)
    assert g != 0.0


@pytest.mark.parametrize("field", ["eigs", "signal", "shift"])
def test_grad_with_respect_to_spectra(field):
    def f(vec):
        mix = eqx.tree_at(lambda m: getattr(m, field), MIX, vec)
        return jc.theory.random_projections(mix, n=70.0, m=90.0, p2=0.4, lam=0.01).total

    base = getattr(MIX, field)
    direction = jax.random.normal(jax.random.key(1), (D,)) * base
    g = float(jax.grad(f)(base) @ direction)
    h = 1e-6
    fd = float((f(base + h * direction) - f(base - h * direction)) / (2 * h))
    assert g == pytest.approx(fd, rel=1e-5)


def test_jit_vmap_and_compositions_agree_with_eager():
    ms = jnp.array([20.0, 59.0, 61.0, 500.0])
    lams = jnp.array([0.0, 1e-3, 0.0, 1.0])
    eager = jc.theory.random_projections(MIX, n=60.0, m=ms, p2=0.3, lam=lams)
    vmapped = jax.vmap(lambda m, lam: jc.theory.random_projections(MIX, n=60.0, m=m, p2=0.3, lam=lam))(ms, lams)
    jitted = jax.jit(lambda m, lam: jc.theory.random_projections(MIX, n=60.0, m=m, p2=0.3, lam=lam))(ms, lams)
    for other in (vmapped, jitted):
        np.testing.assert_allclose(other.total, eager.total, rtol=1e-12)
        np.testing.assert_allclose(other.theta, eager.theta, rtol=1e-12)
        np.testing.assert_array_equal(other.status, eager.status)
    grid = jc.theory.random_projections(MIX, n=jnp.array([40.0, 80.0])[:, None], m=ms, p2=0.3, lam=0.01)
    assert grid.total.shape == (2, 4)
    for i, n in enumerate([40.0, 80.0]):
        for j in range(4):
            single = jc.theory.random_projections(MIX, n=n, m=float(ms[j]), p2=0.3, lam=0.01)
            assert float(grid.total[i, j]) == pytest.approx(float(single.total), rel=1e-12)


def test_float32_is_sensible_away_from_the_threshold():
    kw = dict(n=jnp.array([40.0, 300.0]), m=jnp.array([20.0, 900.0]), p2=0.3, lam=0.05)
    ref = jc.theory.random_projections(MIX, **kw)
    mix32 = jax.tree.map(lambda x: x.astype(jnp.float32) if eqx.is_array(x) else x, MIX)
    got = jc.theory.random_projections(mix32, **{k: jnp.asarray(v, jnp.float32) for k, v in kw.items()})
    assert got.total.dtype == jnp.float32
    np.testing.assert_allclose(got.total, ref.total, rtol=1e-4)


def _bisect(f, lo, hi, steps=80):
    """Plain bisection for a sign change of f on [lo, hi] (f(lo) > 0 > f(hi)); vmappable."""

    def body(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        above = f(mid) > 0
        return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

    lo, hi = jax.lax.fori_loop(0, steps, body, (lo, hi))
    return 0.5 * (lo + hi)


def test_width_where_bigger_stops_hurting_by_a_vmapped_root_solve():
    """With a ridge the error peaks at a finite width m*(p2) near n; ∂E/∂m changes sign there."""
    d, n, lam = 300, 100.0, 1e-3
    mix = jc.isotropic(d, signal=1.0, shift=0.5, noise_var=0.1)

    def slope(m, p2):
        return jax.grad(lambda m: jc.theory.random_projections(mix, n=n, m=m, p2=p2, lam=lam).total)(m)

    p2s = jnp.linspace(0.0, 0.9, 7)
    peak = jax.jit(jax.vmap(lambda p2: _bisect(lambda m: slope(m, p2), 0.5 * n, 2.0 * n)))(p2s)
    assert bool(jnp.all(jnp.abs(peak / n - 1) < 0.1))
    # a sign change, not a flat spot: rising just below, falling just above
    below = jax.vmap(slope)(peak * (1 - 1e-3), p2s)
    above = jax.vmap(slope)(peak * (1 + 1e-3), p2s)
    assert bool(jnp.all(below > 0)) and bool(jnp.all(above < 0))
    # and it is the maximum of E over a fine grid of widths
    ms = n * jnp.linspace(0.5, 2.0, 3001)
    for p2, m_star in zip(p2s, peak):
        curve = jc.theory.random_projections(mix, n=n, m=ms, p2=p2, lam=lam).total
        assert abs(float(ms[jnp.argmax(curve)]) - float(m_star)) <= float(ms[1] - ms[0])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n=30.0, m=0.0, p2=0.1, lam=0.1), "m"),
        (dict(n=30.0, m=-3.0, p2=0.1, lam=0.1), "m"),
        (dict(n=30.0, m=float("nan"), p2=0.1, lam=0.1), "m"),
        (dict(n=30.0, m=float("inf"), p2=0.1, lam=0.1), "m"),
        (dict(n=0.0, m=10.0, p2=0.1, lam=0.1), "n"),
        (dict(n=30.0, m=10.0, p2=1.1, lam=0.1), "p2"),
        (dict(n=30.0, m=10.0, p2=0.1, lam=-0.1), "lam"),
    ],
)
def test_theory_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        jc.theory.random_projections(MIX, **kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(m=0), "m"),
        (dict(m=10.5), "m"),
        (dict(m=np.array([10, -1])), "m"),
        (dict(m=float("nan")), "m"),
        (dict(n=30.5), "n"),
        (dict(trials=0), "trials"),
        (dict(p2=-0.2), "p2"),
        (dict(lam=float("nan")), "lam"),
    ],
)
def test_simulation_bad_input(kwargs, name):
    kwargs = {"n": 30, "m": 10, "p2": 0.2, "lam": 0.1, "trials": 2, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} "):
        jc.simulate.random_projections(MIX, key=jax.random.key(0), **kwargs)


def test_invalid_points_in_a_traced_batch_are_nan_with_status():
    m = jnp.array([30.0, -1.0, jnp.nan, 30.0, 30.0, 60.0])
    p2 = jnp.array([0.2, 0.2, 0.2, 1.5, 0.2, 0.2])
    lam = jnp.array([0.1, 0.1, 0.1, 0.1, -1.0, 0.0])
    risk = jax.jit(lambda m, p2, lam: jc.theory.random_projections(MIX, n=60.0, m=m, p2=p2, lam=lam))(m, p2, lam)
    np.testing.assert_array_equal(risk.status, [0, 1, 1, 1, 1, jc.Status.INFINITE])
    assert np.all(np.isnan(np.asarray(risk.total)[1:5])) and np.isnan(risk.theta[1])
    assert np.isinf(risk.total[5]) and risk.total[5] > 0
    good = jc.theory.random_projections(MIX, n=60.0, m=30.0, p2=0.2, lam=0.1)
    assert float(risk.total[0]) == pytest.approx(float(good.total), rel=1e-12)
