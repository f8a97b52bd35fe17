"""Property-based checks of the theory kernels (hypothesis): invariants that must hold for every
mixture and grid, on generated spectra over 12 decades, priors with zeros, fixed teachers, Σ2 ≠ Σ1,
and grids with zeros, tiny and huge values and exact thresholds.

The budget is fixed and derandomised (`PROFILE`): every example has the same shapes (d = 12, 8
points), so each kernel compiles once and the examples cost their compute. The long profile
(`benchmarks/fuzz.py`, `JC_HYPOTHESIS_PROFILE=long`) draws 2000 per property.
"""

import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import jaxcollapse as jc

D, POINTS = 12, 8
settings.register_profile(
    "suite",
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long", parent=settings.get_profile("suite"), max_examples=int(os.environ.get("JC_HYPOTHESIS_EXAMPLES", "2000"))
)
PROFILE = os.environ.get("JC_HYPOTHESIS_PROFILE", "suite")


def budget(examples=None):
    """The profile's settings; `examples` caps a costly property in the suite (not in the long run)."""
    base = settings.get_profile(PROFILE)
    return settings(base, max_examples=examples if examples and PROFILE == "suite" else base.max_examples)


log_uniform = st.floats(-6.0, 6.0).map(lambda x: 10.0**x)
energy = st.one_of(st.just(0.0), st.floats(-3.0, 1.0).map(lambda x: 10.0**x))


def vector(element):
    return st.lists(element, min_size=D, max_size=D).map(lambda v: np.asarray(v, float))


@st.composite
def mixtures(draw, *, covariate_shift=False, fixed=True):
    eigs = draw(vector(log_uniform))
    noise = draw(st.one_of(st.just(0.0), st.floats(1e-3, 2.0)))
    synthetic_noise = draw(st.one_of(st.just(noise), st.floats(0.0, 2.0)))
    if fixed and draw(st.booleans()):
        teacher = draw(vector(st.floats(-2.0, 2.0)))
        shifted = teacher + draw(vector(st.floats(-1.0, 1.0)))
        return jc.fixed_teachers(eigs, teacher, shifted, noise_var=noise, synthetic_noise_var=synthetic_noise)
    synthetic = draw(vector(log_uniform)) if covariate_shift and draw(st.booleans()) else None
    return jc.Mixture(
        eigs,
        draw(vector(energy)),
        draw(vector(energy)),
        noise,
        synthetic_eigs=synthetic,
        synthetic_noise_var=synthetic_noise,
    )


sizes = st.one_of(st.sampled_from([1.0, 2.0, float(D), float(D - 1), float(D + 1)]), st.floats(0.5, 1e5))
fractions = st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0.0, 1.0))
ridges = st.one_of(st.sampled_from([0.0, 1e-12, 1e4]), st.floats(-8.0, 4.0).map(lambda x: 10.0**x))


@st.composite
def grids(draw, *, width=False):
    n = np.asarray(draw(st.lists(sizes, min_size=POINTS, max_size=POINTS)))
    grid = dict(
        n=n,
        p2=np.asarray(draw(st.lists(fractions, min_size=POINTS, max_size=POINTS))),
        lam=np.asarray(draw(st.lists(ridges, min_size=POINTS, max_size=POINTS))),
    )
    if width:  # m on n's threshold for some points, anywhere for the others
        other = np.asarray(draw(st.lists(sizes, min_size=POINTS, max_size=POINTS)))
        grid["m"] = np.where(np.arange(POINTS) % 3 == 0, n, other)
    return {k: jnp.asarray(v) for k, v in grid.items()}


KERNELS = {
    "ridge": (jc.theory.ridge, dict(covariate_shift=True), False),
    "random_projections": (jc.theory.random_projections, {}, True),
    "random_features": (lambda mix, **g: jc.theory.random_features(mix, activation="relu", **g), {}, True),
}


def check_invariants(risk, *, random_teachers):
    total, status = np.asarray(risk.total), np.asarray(risk.status)
    ok = status == jc.Status.OK
    assert np.array_equal(ok, np.isfinite(total)), (total, status)  # status OK ⇔ finite
    assert np.all(np.isnan(total[status == jc.Status.INVALID_INPUT]))
    assert np.all(np.isinf(total[status == jc.Status.INFINITE]))
    parts = [np.asarray(getattr(risk, k)) for k in ("bias", "variance", "collapse")]
    np.testing.assert_allclose(sum(p[ok] for p in parts), total[ok], rtol=1e-10, atol=1e-300)
    assert np.all(total[ok] >= 0)
    scale = np.abs(total[ok]) + 1e-300
    assert np.all(parts[0][ok] >= -1e-10 * scale) and np.all(parts[1][ok] >= -1e-10 * scale)
    if random_teachers:  # fixed teachers' cross term may make the collapse term negative
        assert np.all(parts[2][ok] >= -1e-10 * scale)


@pytest.mark.parametrize("name", list(KERNELS))
def test_invariants(name):
    kernel, options, width = KERNELS[name]

    @budget()
    @given(mix=mixtures(**options), grid=grids(width=width))
    def run(mix, grid):
        if name == "random_features" and not mix.same_covariance:
            return
        risk = kernel(mix, **grid)
        check_invariants(risk, random_teachers=mix.teacher is None)
        # no synthetic data: the synthetic teacher's shift cannot matter
        at_zero = {**grid, "p2": jnp.zeros(POINTS)}
        other = eqx.tree_at(lambda x: x.shift, mix, mix.shift * 3.0 + 0.1)
        if mix.teacher is not None:
            other = jc.fixed_teachers(
                mix.eigs,
                mix.teacher,
                mix.teacher + 2.0 * mix.teacher_shift + 0.1,
                noise_var=mix.noise_var,
                synthetic_noise_var=mix.synthetic_noise_var,
            )
        a, b = kernel(mix, **at_zero), kernel(other, **at_zero)
        np.testing.assert_array_equal(np.asarray(a.status), np.asarray(b.status))
        finite = np.isfinite(np.asarray(a.total))
        np.testing.assert_allclose(np.asarray(b.total)[finite], np.asarray(a.total)[finite], rtol=1e-12)

    run()


@budget()
@given(mix=mixtures(fixed=False), grid=grids(width=True))
def test_without_a_shift_the_synthetic_fraction_cannot_matter(mix, grid):
    """Δ = 0, Σ2 = Σ1, σ2 = σ1, weight 1: synthetic samples are real samples."""
    clean = jc.Mixture(mix.eigs, mix.signal, jnp.zeros(D), mix.noise_var)
    for kernel, keys in ((jc.theory.ridge, ("n", "lam")), (jc.theory.random_projections, ("n", "m", "lam"))):
        args = {k: grid[k] for k in keys}
        a = kernel(clean, p2=grid["p2"], **args)
        b = kernel(clean, p2=jnp.zeros(POINTS), **args)
        np.testing.assert_array_equal(np.asarray(a.status), np.asarray(b.status))
        finite = np.isfinite(np.asarray(a.total))
        np.testing.assert_allclose(np.asarray(a.total)[finite], np.asarray(b.total)[finite], rtol=1e-10)


@budget()
@given(
    eigs=vector(log_uniform),
    gamma=st.floats(-2.0, 1.0).map(lambda x: 10.0**x),
    noise=st.floats(1e-2, 2.0),
    n=st.lists(st.floats(1.0, 1e4), min_size=POINTS, max_size=POINTS),
)
def test_bayes_optimal_ridge_never_gets_worse_with_more_data(eigs, gamma, noise, n):
    """With Γ = γI and real data only, ridge at λ = σ²/(nγ) is the posterior mean, whose error cannot
    grow with n; the deterministic equivalent must keep that (n sorted, ties allowed)."""
    mix = jc.Mixture(eigs, np.full(D, gamma), np.zeros(D), noise)
    n = jnp.asarray(np.sort(n))
    total = np.asarray(jc.theory.ridge(mix, n=n, p2=0.0, lam=noise / (n * gamma)).total)
    assert np.all(np.isfinite(total))
    assert np.all(np.diff(total) <= 1e-10 * total[:-1]), total


@budget(10)
@given(mix=mixtures(fixed=False), grid=grids(width=True))
def test_jit_equals_eager_and_vmap_equals_a_loop(mix, grid):
    kernel = jc.theory.random_projections
    eager = np.asarray(kernel(mix, **grid).total)
    jitted = np.asarray(jax.jit(lambda g: kernel(mix, **g).total)(grid))
    looped = np.asarray([kernel(mix, **{k: v[i] for k, v in grid.items()}).total for i in range(POINTS)])
    mapped = np.asarray(jax.vmap(lambda g: kernel(mix, **g).total)(grid))
    for other in (jitted, looped, mapped):
        np.testing.assert_array_equal(np.isfinite(other), np.isfinite(eager))
        finite = np.isfinite(eager)
        np.testing.assert_allclose(other[finite], eager[finite], rtol=1e-12)


@budget(15)
@given(mix=mixtures(), grid=grids(width=True))
def test_compressed_equals_full(mix, grid):
    """`jc.compress` keeps every trace to its rtol: the kernels agree to about that, statuses exactly."""
    small = jc.compress(mix, rtol=1e-10)
    for kernel, keys in (
        (jc.theory.ridge, ("n", "p2", "lam")),
        (jc.theory.random_projections, ("n", "m", "p2", "lam")),
    ):
        args = {k: grid[k] for k in keys}
        a, b = kernel(mix, **args), kernel(small, **args)
        np.testing.assert_array_equal(np.asarray(a.status), np.asarray(b.status))
        finite = np.isfinite(np.asarray(a.total))
        np.testing.assert_allclose(np.asarray(b.total)[finite], np.asarray(a.total)[finite], rtol=1e-7)


moderate = st.floats(-2.0, 2.0).map(lambda x: 10.0**x)


@budget(12)
@given(
    eigs=vector(moderate),
    signal=vector(energy),
    shift=vector(energy),
    noise=st.floats(0.0, 1.0),
    phi=st.lists(st.floats(-2.0, 2.0), min_size=POINTS, max_size=POINTS),
    psi=st.lists(st.floats(-2.0, 2.0), min_size=POINTS, max_size=POINTS),
    p2=st.lists(fractions, min_size=POINTS, max_size=POINTS),
    lam=st.lists(st.floats(-3.0, 1.0).map(lambda x: 10.0**x), min_size=POINTS, max_size=POINTS),
)
def test_float32_agrees_with_float64_away_from_thresholds(eigs, signal, shift, noise, phi, psi, p2, lam):
    """Spectra over 4 decades, λ ≥ 1e-3 (so away from the thresholds as `benchmarks/reliability.py`
    defines it): float32 inputs give float32 results within 1e-4 of float64."""
    mix = jc.Mixture(eigs, signal, shift, noise)
    n = D / 10.0 ** np.asarray(phi)
    grid = dict(n=n, m=n * 10.0 ** np.asarray(psi), p2=np.asarray(p2), lam=np.asarray(lam))
    mix32 = jax.tree.map(lambda x: x.astype(jnp.float32) if eqx.is_array(x) else x, mix)
    for kernel, keys in (
        (jc.theory.ridge, ("n", "p2", "lam")),
        (jc.theory.random_projections, ("n", "m", "p2", "lam")),
    ):
        r64 = kernel(mix, **{k: jnp.asarray(grid[k]) for k in keys})
        r32 = kernel(mix32, **{k: jnp.asarray(grid[k], jnp.float32) for k in keys})
        assert r32.total.dtype == jnp.float32
        ok = np.asarray(r64.status) == jc.Status.OK
        np.testing.assert_array_equal(np.asarray(r32.status), np.asarray(r64.status))
        np.testing.assert_allclose(np.asarray(r32.total, np.float64)[ok], np.asarray(r64.total)[ok], rtol=1e-4)


@budget()
@given(
    mix=mixtures(fixed=False),
    n=st.lists(sizes, min_size=POINTS, max_size=POINTS),
    n0=st.lists(sizes, min_size=POINTS, max_size=POINTS),
    generations=st.lists(
        st.one_of(st.sampled_from([0.0, 1.0, 10.0]), st.floats(0.0, 50.0)), min_size=POINTS, max_size=POINTS
    ),
    lam=st.lists(ridges, min_size=POINTS, max_size=POINTS),
    noise0=st.lists(st.floats(0.0, 2.0), min_size=POINTS, max_size=POINTS),
)
def test_retraining_invariants(mix, n, n0, generations, lam, noise0):
    grid = dict(n=n, n0=n0, generations=generations, lam=lam, generator_noise_var=noise0)
    risk = jc.theory.retraining(mix, **{k: jnp.asarray(v) for k, v in grid.items()})
    status = np.asarray(risk.status)
    total = np.asarray(risk.total)
    assert np.all(np.isnan(total[status == jc.Status.NO_THEORY]))
    known = status != jc.Status.NO_THEORY
    ok = status == jc.Status.OK
    assert np.array_equal(ok[known], np.isfinite(total[known]))
    parts = sum(np.asarray(getattr(risk, k))[ok] for k in ("bias", "variance", "collapse"))
    np.testing.assert_allclose(parts, total[ok], rtol=1e-10, atol=1e-300)
    assert np.all(total[ok] >= 0)
    # generation 0 is clean training: the generator's noise cannot matter
    zero = {**grid, "generations": np.zeros(POINTS)}
    a = jc.theory.retraining(mix, **{k: jnp.asarray(v) for k, v in zero.items()})
    b = jc.theory.retraining(
        mix, **{k: jnp.asarray(v) for k, v in {**zero, "generator_noise_var": np.full(POINTS, 3.0)}.items()}
    )
    np.testing.assert_array_equal(np.asarray(a.status), np.asarray(b.status))
    finite = np.isfinite(np.asarray(a.total))
    np.testing.assert_allclose(np.asarray(b.total)[finite], np.asarray(a.total)[finite], rtol=1e-12)


@budget()
@given(
    beta=st.floats(1.05, 4.0),
    k=st.one_of(st.just(np.inf), st.integers(1, 10**6).map(float)),
    T=st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1e9)), min_size=POINTS, max_size=POINTS),
)
def test_tail_cut_is_a_falling_curve_above_its_plateau(beta, k, T):
    """Hutter model on a cut tail: 0 ≤ plateau ≤ E ≤ 1, E non-increasing in T, E(0) = 1."""
    T = jnp.asarray(np.sort(T))
    tail = jc.tails.cut(beta, T=T, k=k)
    total, plateau = np.asarray(tail.total), np.asarray(tail.plateau)
    assert np.all(np.asarray(tail.status) == jc.Status.OK) and np.all(np.isfinite(total))
    assert np.all(plateau >= 0) and np.all(total >= plateau * (1 - 1e-12)) and np.all(total <= 1 + 1e-12)
    assert np.all(np.diff(total) <= 1e-12)
    np.testing.assert_allclose(total[np.asarray(T) == 0], 1.0, rtol=1e-12)
