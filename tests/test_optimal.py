"""`jc.optimal`: 1-D minimisation in log-space, pointwise, differentiable at the optimum."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc


def test_clean_isotropic_optimal_ridge_is_sigma2_phi_over_r2():
    """Classical identity (demystified.md §3.5): λ* = σ² φ / ||w0||² for clean isotropic ridge."""
    d, T = 100, 200
    for s2, r2 in ((0.25, 1.0), (1.0, 0.5), (0.1, 2.0)):
        mix = jc.isotropic(d, signal=r2, noise_var=s2)
        lam, risk = jc.optimal(
            functools.partial(jc.theory.retraining, mix),
            over="lam",
            bounds=(1e-6, 1e2),
            n=float(T),
            n0=400.0,
            generations=0.0,
            generator_noise_var=1.0,
        )
        assert float(lam) == pytest.approx(s2 * (d / T) / r2, rel=1e-6)
        direct = jc.theory.retraining(mix, n=T, n0=400, generations=0, lam=float(lam), generator_noise_var=1.0).total
        assert float(risk) == pytest.approx(float(direct), rel=1e-12)


def test_vmap_of_optimal_matches_the_broadcast_call():
    mix = jc.isotropic(30, signal=1.0, noise_var=0.3)
    kernel = functools.partial(jc.theory.retraining, mix)
    s = jnp.array([0.3, 0.9])
    kw = dict(over="lam", bounds=(1e-4, 1e2), n=60.0, n0=90.0, generations=2.0)
    mapped = jax.vmap(lambda v: jc.optimal(kernel, generator_noise_var=v, **kw)[0])(s)
    broadcast = jc.optimal(kernel, generator_noise_var=s, **kw)[0]
    np.testing.assert_allclose(mapped, broadcast, rtol=1e-9)


def test_vectorised_over_other_axes_and_matches_a_dense_scan():
    mix = jc.isotropic(100, signal=1.0, noise_var=0.25)
    G = jnp.array([0.0, 1.0, 5.0, 10.0])
    lam, risk = jc.optimal(
        functools.partial(jc.theory.retraining, mix),
        over="lam",
        bounds=(1e-4, 1e2),
        n=200.0,
        n0=400.0,
        generations=G,
        generator_noise_var=1.0,
    )
    assert lam.shape == (4,) and risk.shape == (4,)
    assert np.all(np.diff(np.asarray(lam)) > 0)  # adaptive regularisation: λ* grows with generations
    scan = np.geomspace(1e-4, 1e2, 20001)
    for g, l_star, r_star in zip(G, lam, risk):
        vals = np.asarray(
            jc.theory.retraining(mix, n=200.0, n0=400.0, generations=float(g), lam=scan, generator_noise_var=1.0).total
        )
        assert float(r_star) <= vals.min() * (1 + 1e-12)
        assert float(l_star) == pytest.approx(scan[np.argmin(vals)], rel=2e-3)


def test_optimum_on_a_bound_and_weight_and_width():
    mix = jc.power_law(200, 1.5, signal=1.0, shift=0.5, noise_var=0.0)
    # noiseless clean ridge with n > d: the best ridge is the smallest allowed
    lam, _ = jc.optimal(functools.partial(jc.theory.ridge, mix), over="lam", bounds=(1e-6, 1.0), n=1000.0, p2=0.0)
    assert float(lam) == pytest.approx(1e-6, rel=1e-6)
    # loss weight on synthetic samples
    w, r = jc.optimal(
        functools.partial(jc.theory.ridge, mix), over="weight", bounds=(1e-4, 1e2), n=300.0, p2=0.5, lam=1e-3
    )
    ws = np.geomspace(1e-4, 1e2, 4001)
    vals = np.asarray(jc.theory.ridge(mix, n=300.0, p2=0.5, lam=1e-3, weight=ws).total)
    assert float(r) <= vals.min() * (1 + 1e-12) and float(w) == pytest.approx(ws[np.argmin(vals)], rel=1e-2)
    # width of the projection model
    m, _ = jc.optimal(
        functools.partial(jc.theory.random_projections, mix), over="m", bounds=(1.0, 1e4), n=300.0, p2=0.3, lam=1e-2
    )
    ms = np.geomspace(1.0, 1e4, 4001)
    vals = np.asarray(jc.theory.random_projections(mix, n=300.0, m=ms, p2=0.3, lam=1e-2).total)
    assert float(m) == pytest.approx(ms[np.argmin(vals)], rel=1e-2)


def test_derivatives_at_the_optimum():
    mix = jc.isotropic(80, signal=1.0, noise_var=0.3)
    kernel = functools.partial(jc.theory.retraining, mix)

    def solve(s02):
        return jc.optimal(
            kernel, over="lam", bounds=(1e-5, 1e2), n=150.0, n0=200.0, generations=3.0, generator_noise_var=s02
        )

    x0 = 0.7
    # one program gives the values and the forward-mode derivatives (jitted: not op by op)
    tangent = jax.jit(lambda s: jax.jvp(solve, (s,), (jnp.ones_like(s),)))
    _, (dl, dr) = tangent(x0)
    h = 1e-4
    (lp, rp), _ = tangent(x0 + h)
    (lm, rm), _ = tangent(x0 - h)
    assert float(dr) == pytest.approx((float(rp) - float(rm)) / (2 * h), rel=1e-5)
    assert float(dl) == pytest.approx((float(lp) - float(lm)) / (2 * h), rel=1e-4)
    g = jax.jit(jax.grad(lambda s: solve(s)[1]))(x0)  # reverse mode through the envelope rule
    assert float(g) == pytest.approx(float(dr), rel=1e-10)


def test_bad_input():
    k = functools.partial(jc.theory.ridge, jc.isotropic(10))
    for kwargs, match in (
        (dict(bounds=(0.0, 1.0)), "bounds"),
        (dict(bounds=(2.0, 1.0)), "bounds"),
        (dict(bounds="x"), "bounds"),
        (dict(grid=2), "grid"),
        (dict(xtol=0.0), "xtol"),
        (dict(over=""), "over"),
        (dict(lam=0.1), "also given"),
    ):
        args = dict(over="lam", n=20.0, p2=0.1) | kwargs
        with pytest.raises(ValueError, match=match):
            jc.optimal(k, **args)
