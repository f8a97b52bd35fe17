"""Spectral compression (`jc.compress`): theory on the nodes agrees with theory on the full spectrum."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse import _compress

FIELDS = ("total", "bias", "variance", "collapse", "kappa")


def _rough_fixed(d, seed=3):
    """Gamma-distributed eigenvalues (not smooth in j) and Gaussian fixed teachers (signed cross)."""
    rng = np.random.default_rng(seed)
    s = np.sort(rng.gamma(0.4, size=d))[::-1] + 1e-4
    w1 = rng.normal(size=d) / np.sqrt(d)
    w2 = w1 + 0.4 * rng.normal(size=d) / np.sqrt(d)
    return jc.fixed_teachers(s, w1, w2, noise_var=0.2, synthetic_noise_var=0.5)


MIXTURES = {
    "power law": lambda: jc.power_law(6000, 1.5, shift=0.5, noise_var=0.1),
    "power law, source": lambda: jc.power_law(6000, 1.1, source=0.8, shift=0.3, noise_var=0.2),
    "steep power law": lambda: jc.power_law(3000, 2.6, source=0.3, noise_var=0.05),
    "rough spectrum, fixed teachers": lambda: _rough_fixed(4000),
    "isotropic": lambda: jc.isotropic(700, signal=1.3, shift=0.4, noise_var=0.3),
}


def _max_rel(a, b):
    finite = jnp.isfinite(a)
    assert bool(jnp.all(finite == jnp.isfinite(b)))
    return float(jnp.max(jnp.where(finite & (a != 0), jnp.abs(b - a) / jnp.where(a != 0, jnp.abs(a), 1.0), 0.0)))


def _check_fields(full, approx, fields, rtol):
    for field in fields:
        a, b = getattr(full, field), getattr(approx, field)
        if field == "collapse":
            # With fixed teachers the collapse term holds a signed cross term, so its error is
            # bounded relative to the risk it is part of, not to itself.
            finite = jnp.isfinite(a)
            err = jnp.where(finite, jnp.abs(b - a) / jnp.where(finite, full.total, 1.0), 0.0)
            assert float(jnp.nanmax(err)) < rtol, field
        else:
            assert _max_rel(a, b) < rtol, field


def _grid(d):
    # Integer sample sizes so that n = d (and m = n) are hit exactly; λ = 0 and tiny λ included.
    n = np.unique(np.round(np.concatenate([np.geomspace(5, 20 * d, 11), [d, d // 2, 2 * d]])))
    lam = np.array([0.0, 1e-9, 1e-5, 1e-2, 3.0])
    p2 = np.array([0.0, 0.35, 0.9])
    return n[:, None, None], p2[None, :, None], lam[None, None, :]


@pytest.mark.parametrize("name", list(MIXTURES))
def test_ridge_on_nodes_matches_full_spectrum(name):
    mix = MIXTURES[name]()
    small = jc.compress(mix)
    assert small.compressed and small.d == mix.d
    assert small.eigs.shape[0] <= 300
    n, p2, lam = _grid(mix.d)
    for weight in (1.0, 0.3):
        full = jc.theory.ridge(mix, n=n, p2=p2, lam=lam, weight=weight)
        approx = jc.theory.ridge(small, n=n, p2=p2, lam=lam, weight=weight)
        np.testing.assert_array_equal(full.status, approx.status)
        _check_fields(full, approx, FIELDS, 1e-8)


@pytest.mark.parametrize("name", list(MIXTURES))
def test_random_projections_on_nodes_matches_full_spectrum(name):
    mix = MIXTURES[name]()
    small = jc.compress(mix)
    n, p2, lam = _grid(mix.d)
    for ratio in (0.3, 1.0, 4.0):  # below, at and above the interpolation threshold m = n
        m = np.round(ratio * n)
        full = jc.theory.random_projections(mix, n=n, m=m, p2=p2, lam=lam)
        approx = jc.theory.random_projections(small, n=n, m=m, p2=p2, lam=lam)
        np.testing.assert_array_equal(full.status, approx.status)
        _check_fields(full, approx, FIELDS + ("theta",), 1e-8)


def test_thresholds_stay_exact():
    """At λ = 0 the compressed kernels see the exact d: inf at n = d and at m = n < d, finite next to them."""
    mix = jc.power_law(2000, 1.3, noise_var=0.1)
    small = jc.compress(mix)
    r = jc.theory.ridge(small, n=jnp.array([1999.0, 2000.0, 2001.0]), p2=0.2, lam=0.0)
    assert np.isfinite(r.total[0]) and np.isinf(r.total[1]) and np.isfinite(r.total[2])
    assert int(r.status[1]) == jc.Status.INFINITE
    rp = jc.theory.random_projections(small, n=500.0, m=jnp.array([499.0, 500.0, 501.0]), p2=0.2, lam=0.0)
    assert np.isfinite(rp.total[0]) and np.isinf(rp.total[1]) and np.isfinite(rp.total[2])
    full = jc.theory.ridge(mix, n=jnp.array([1999.0, 2001.0]), p2=0.2, lam=0.0)
    assert _max_rel(full.total, r.total[jnp.array([0, 2])]) < 1e-8


def test_totals_and_dimension_are_kept():
    mix = _rough_fixed(3000)
    small = jc.compress(mix)
    assert small.d == 3000
    assert float(jnp.sum(small.multiplicity)) == pytest.approx(3000, rel=1e-13)
    assert float(small.signal_energy) == pytest.approx(float(mix.signal_energy), rel=1e-12)
    assert float(small.quality) == pytest.approx(float(mix.quality), rel=1e-12)
    assert float(jnp.sum(small.cross * small.eigs)) == pytest.approx(float(jnp.sum(mix.cross * mix.eigs)), rel=1e-10)


def test_node_count_does_not_grow_with_d():
    counts = [jc.compress(jc.power_law(d, 1.5)).eigs.shape[0] for d in (10**3, 10**4, 10**5)]
    # one decade of eigenvalues (a factor 10^(1/1.5) in d) adds a bin of at most 32 nodes
    assert counts[2] <= counts[0] + 2 * 32 * 1.5 + 32
    assert max(counts) <= 200


@pytest.mark.parametrize("rtol", [1e-6, 1e-10])
def test_trace_error_is_bounded_between_check_points(rtol):
    """The measured error bound also holds at x the construction never looked at."""
    mix = jc.power_law(20000, 1.2, source=0.6)
    small = jc.compress(mix, rtol=rtol)
    s = np.asarray(mix.eigs)
    x = np.concatenate([[0.0], 10.0 ** np.random.default_rng(0).uniform(np.log10(s.min()) - 9, 9, 400)])
    for nu, nu_small in (
        (np.ones_like(s), np.asarray(small.multiplicity)),
        (np.asarray(mix.signal) * s, np.asarray(small.signal * small.eigs)),
    ):
        exact = _compress._traces(s, nu[None], x)[0]
        approx = _compress._traces(np.asarray(small.eigs), nu_small[None], x)[0]
        assert np.max(np.abs(approx - exact) / exact) <= 2 * rtol


def test_looser_rtol_uses_fewer_nodes_and_still_meets_1e6_on_the_risk():
    mix = jc.power_law(8000, 1.7, source=0.5, noise_var=0.1)
    loose, tight = jc.compress(mix, rtol=1e-6), jc.compress(mix, rtol=1e-12)
    assert loose.eigs.shape[0] < tight.eigs.shape[0]
    n, p2, lam = _grid(mix.d)
    full = jc.theory.ridge(mix, n=n, p2=p2, lam=lam)
    assert _max_rel(full.total, jc.theory.ridge(loose, n=n, p2=p2, lam=lam).total) < 1e-6
    assert _max_rel(full.total, jc.theory.ridge(tight, n=n, p2=p2, lam=lam).total) < 1e-10


def test_gradients_through_compressed_kernels():
    mix = jc.power_law(3000, 1.4, shift=0.5, noise_var=0.2)
    small = jc.compress(mix)

    def total(m, lam, n):
        return jc.theory.random_projections(m, n=n, m=0.6 * n, p2=0.3, lam=lam).total

    for lam, n in ((1e-3, 800.0), (0.2, 5000.0)):
        g_full = jax.grad(total, argnums=(1, 2))(mix, lam, n)
        g_small = jax.grad(total, argnums=(1, 2))(small, lam, n)
        for a, b in zip(g_full, g_small):
            assert float(b) == pytest.approx(float(a), rel=1e-7)
    ridge = jax.jit(jax.vmap(jax.grad(lambda lam: jc.theory.ridge(small, n=900.0, p2=0.2, lam=lam).total)))
    lams = jnp.array([1e-4, 1e-2, 1.0])
    h = 1e-6 * lams
    fd = (
        jc.theory.ridge(small, n=900.0, p2=0.2, lam=lams + h).total
        - jc.theory.ridge(small, n=900.0, p2=0.2, lam=lams - h).total
    ) / (2 * h)
    np.testing.assert_allclose(ridge(lams), fd, rtol=1e-5)


def test_sweep_accepts_compressed_mixture():
    import functools

    mix = jc.power_law(5000, 1.5, noise_var=0.1)
    small = jc.compress(mix)
    axes = {"n": np.array([100.0, 1000.0, 20000.0]), "lam": np.array([0.0, 1e-3])}
    ds = jc.sweep(functools.partial(jc.theory.ridge, small, p2=0.2), axes, progress=False)
    ref = jc.theory.ridge(mix, n=axes["n"][:, None], p2=0.2, lam=axes["lam"][None, :])
    assert _max_rel(ref.total, jnp.asarray(ds["total"].values)) < 1e-8


def test_bad_input():
    mix = jc.power_law(100, 1.5)
    with pytest.raises(ValueError, match="rtol"):
        jc.compress(mix, rtol=0.0)
    with pytest.raises(ValueError, match="rtol"):
        jc.compress(mix, rtol=0.1)
    with pytest.raises(ValueError, match="bin_ratio"):
        jc.compress(mix, bin_ratio=1.0)
    with pytest.raises(ValueError, match="already compressed"):
        jc.compress(jc.compress(mix))
    with pytest.raises(ValueError, match="Σ2 = Σ1"):
        jc.compress(jc.power_law(100, 1.5, synthetic_beta=1.2))
    with pytest.raises(ValueError, match="mix must be a Mixture"):
        jc.compress(np.ones(3))
    small = jc.compress(mix)
    with pytest.raises(ValueError, match="compressed"):
        jc.simulate.ridge(small, n=50, p2=0.2, lam=0.1, trials=2, key=jax.random.key(0))
    with pytest.raises(ValueError, match="compressed"):
        jc.simulate.random_projections(small, n=50, m=20, p2=0.2, lam=0.1, trials=2, key=jax.random.key(0))
    with pytest.raises(ValueError, match="multiplicity and dimension"):
        jc.Mixture(mix.eigs, mix.signal, mix.shift, multiplicity=jnp.ones(100))
