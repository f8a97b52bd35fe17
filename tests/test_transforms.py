"""jit, vmap and grad of the theory kernels; gradients against central finite differences."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc

D = 80


def _mixtures():
    pl = jc.power_law(D, 1.4, signal=1.0, shift=0.6, noise_var=0.15)
    shifted = jc.Mixture(pl.eigs, pl.signal, pl.shift, 0.15, synthetic_eigs=pl.eigs**0.6, synthetic_noise_var=0.3)
    return {"same covariance": pl, "Σ1≠Σ2": shifted}


POINTS = [
    dict(n=50.0, p2=0.3, lam=0.02, weight=1.0),
    dict(n=240.0, p2=0.6, lam=0.3, weight=0.4),
    dict(n=60.0, p2=0.2, lam=0.0, weight=2.0),  # ridgeless, under-determined
    dict(n=400.0, p2=0.4, lam=0.0, weight=1.0),  # ridgeless, over-determined
]


def _fd(f, x, rel=1e-5):
    h = rel * max(abs(x), 1e-3)
    return (f(x + h) - f(x - h)) / (2 * h)


# d/dlam at lam = 0 is one-sided: see test_grad_at_ridgeless_is_right_derivative
GRAD_CASES = [(p, a) for p in POINTS for a in ["n", "p2", "lam", "weight"] if not (a == "lam" and p["lam"] == 0)]


@pytest.mark.parametrize("which", list(_mixtures()))
@pytest.mark.parametrize("point, arg", GRAD_CASES, ids=[f"n{p['n']:g}-lam{p['lam']:g}-{a}" for p, a in GRAD_CASES])
def test_grad_matches_finite_differences(which, point, arg):
    mix = _mixtures()[which]

    def f(x):
        return jc.theory.ridge(mix, **{**point, arg: x}).total

    g = float(jax.grad(f)(point[arg]))
    fd = float(_fd(f, point[arg]))
    assert g == pytest.approx(fd, rel=1e-5, abs=1e-9 * float(f(point[arg])))


@pytest.mark.parametrize("which", list(_mixtures()))
def test_second_derivatives_match_finite_differences(which):
    """Second derivatives go through the implicit derivative of the root twice (the root's own
    derivative enters the derivative rule): the Hessian in (n, p2, lam, weight), one jitted
    forward-over-reverse program, against central differences of one jitted gradient."""
    mix = _mixtures()[which]
    x0 = jnp.array([120.0, 0.3, 0.05, 0.7])

    def total(x):
        return jc.theory.ridge(mix, n=x[0], p2=x[1], lam=x[2], weight=x[3]).total

    gradient = jax.jit(jax.grad(total))
    hessian = np.asarray(jax.jit(jax.jacfwd(jax.grad(total)))(x0))
    for i in range(4):
        h = 1e-5 * float(x0[i])
        e = jnp.zeros(4).at[i].set(h)
        fd = (np.asarray(gradient(x0 + e)) - np.asarray(gradient(x0 - e))) / (2 * h)
        np.testing.assert_allclose(hessian[i], fd, rtol=1e-5, atol=1e-7 * np.abs(hessian).max())
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-8, atol=1e-12 * np.abs(hessian).max())


@pytest.mark.parametrize("which", list(_mixtures()))
@pytest.mark.parametrize("n", [50.0, 400.0])
def test_grad_at_ridgeless_is_right_derivative(which, n):
    mix = _mixtures()[which]
    f = lambda lam: jc.theory.ridge(mix, n=n, p2=0.3, lam=lam).total  # noqa: E731
    g = float(jax.grad(f)(0.0))
    h = 1e-7
    # second-order one-sided difference
    fd = float((-3 * f(0.0) + 4 * f(h) - f(2 * h)) / (2 * h))
    assert g == pytest.approx(fd, rel=1e-4)


@pytest.mark.parametrize("which", list(_mixtures()))
@pytest.mark.parametrize("field", ["eigs", "signal", "shift"])
def test_grad_with_respect_to_spectra(which, field):
    mix = _mixtures()[which]

    def f(vec):
        return jc.theory.ridge(eqx.tree_at(lambda m: getattr(m, field), mix, vec), n=70.0, p2=0.4, lam=0.01).total

    base = getattr(mix, field)
    direction = jax.random.normal(jax.random.key(0), (D,)) * base
    g = float(jax.grad(f)(base) @ direction)
    h = 1e-6
    fd = float((f(base + h * direction) - f(base - h * direction)) / (2 * h))
    assert g == pytest.approx(fd, rel=1e-5)


@pytest.mark.parametrize("which", list(_mixtures()))
def test_jit_vmap_and_compositions_agree_with_eager(which):
    mix = _mixtures()[which]
    ns = jnp.array([30.0, 80.0, 300.0])
    lams = jnp.array([0.0, 0.01, 1.0])
    eager = jc.theory.ridge(mix, n=ns, p2=0.3, lam=lams)
    vmapped = jax.vmap(lambda n, lam: jc.theory.ridge(mix, n=n, p2=0.3, lam=lam))(ns, lams)
    jitted = jax.jit(lambda n, lam: jc.theory.ridge(mix, n=n, p2=0.3, lam=lam))(ns, lams)
    for other in (vmapped, jitted):
        np.testing.assert_allclose(other.total, eager.total, rtol=1e-12)
        np.testing.assert_array_equal(other.status, eager.status)
    # jit(vmap(grad)) against per-point grads
    grad_p2 = jax.jit(
        jax.vmap(jax.grad(lambda p2, n: jc.theory.ridge(mix, n=n, p2=p2, lam=0.05).total), in_axes=(None, 0))
    )
    batched = grad_p2(0.3, ns)
    single = [jax.grad(lambda p2: jc.theory.ridge(mix, n=n, p2=p2, lam=0.05).total)(0.3) for n in ns]
    np.testing.assert_allclose(batched, single, rtol=1e-10)
    # vmap over mixtures (the spectra are data, not constants)
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), mix, eqx.tree_at(lambda m: m.shift, mix, 2 * mix.shift))
    both = eqx.filter_vmap(lambda m: jc.theory.ridge(m, n=80.0, p2=0.3, lam=0.01))(stacked)
    assert float(both.collapse[1]) == pytest.approx(2 * float(both.collapse[0]), rel=1e-10)


def test_float32_is_sensible_away_from_the_threshold():
    mix = jc.power_law(D, 1.4, signal=1.0, shift=0.6, noise_var=0.15)
    ref = jc.theory.ridge(mix, n=jnp.array([40.0, 400.0]), p2=0.3, lam=0.05)
    mix32 = jax.tree.map(lambda x: x.astype(jnp.float32) if eqx.is_array(x) else x, mix)
    got = jc.theory.ridge(mix32, n=jnp.array([40.0, 400.0], jnp.float32), p2=jnp.float32(0.3), lam=jnp.float32(0.05))
    assert got.total.dtype == jnp.float32
    np.testing.assert_allclose(got.total, ref.total, rtol=1e-4)
