"""Shape buckets: padded calls give the unpadded answers, and compile once per bucket."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax._src.dispatch import JAXPR_TO_MLIR_MODULE_EVENT

import jaxcollapse as jc
from jaxcollapse._buckets import POINT_BUCKETS, pad_spectrum, spectrum_length
from jaxcollapse.theory._random_projections import _random_projections_jit
from jaxcollapse.theory._retraining import _retraining_jit
from jaxcollapse.theory._ridge import _ridge_jit

D = 200
MIX = jc.power_law(D, 1.4, signal=1.0, shift=0.6, noise_var=0.15)


def _grid(size, rng):
    """`size` ridge points, thresholds (n = d at lam = 0) and ridgeless points among them."""
    n = rng.uniform(20, 600, size)
    lam = np.where(rng.uniform(size=size) < 0.3, 0.0, 10.0 ** rng.uniform(-6, 0, size))
    n[::5], lam[::5] = D, 0.0
    return n, rng.uniform(0, 1, size), lam


# The root solver stops once a Newton step is below 16 ulp (`_solve._rtol`), so two evaluations of
# one point whose arithmetic differs in the last bit may stop a few ulp apart; and XLA's CPU code
# does differ in the last bit between a batch of 7 lanes and one of 64 (vector and remainder loops
# contract multiply-adds differently). Measured: at most 6 ulp (1.3e-15) on kappa, 1e-15 of the
# total on any part. Tolerance: the solver's own 16 ulp.
TOL = 16 * np.finfo(np.float64).eps


def _same(bucketed, direct):
    """Statuses and non-finite values exactly; finite values to `TOL` — of themselves for the
    total, kappa and theta, of the total risk for its parts (a small bias beside a large variance
    inherits the root's last bits)."""
    total = np.abs(np.asarray(direct.total))
    for field in ("total", "bias", "variance", "collapse", "kappa", "theta", "status"):
        a, b = getattr(bucketed, field), getattr(direct, field)
        if a is None:
            assert b is None
            continue
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, field
        finite = np.isfinite(b)
        np.testing.assert_array_equal(a[~finite], b[~finite], err_msg=field)
        a, b, t = a[finite], b[finite], total[finite]
        own = field in ("total", "kappa", "theta")
        scale = np.abs(b) if own else np.where(np.isfinite(t), np.maximum(t, np.abs(b)), np.abs(b))
        assert np.all(np.abs(a - b) <= TOL * scale), (field, np.max(np.abs(a - b) / np.maximum(scale, 1e-300)))


@pytest.mark.parametrize("shape", [(), (7,), (3, 100), (5000,)])
def test_ridge_bucketed_equals_the_unpadded_points(shape):
    """Statuses and thresholds included: point padding adds independent lanes."""
    rng = np.random.default_rng(sum(shape) + 1)
    n, p2, lam = (x.reshape(shape) for x in _grid(max(1, int(np.prod(shape))), rng))
    weight = 2.0
    if shape == (3, 100):  # broadcasting: one axis of weights
        weight = np.array([0.0, 1.0, 3.0])[:, None]
    got = jc.theory.ridge(MIX, n=n, p2=p2, lam=lam, weight=weight)
    direct = _ridge_jit(pad_spectrum(MIX), jnp.asarray(n), jnp.asarray(p2), jnp.asarray(lam), jnp.asarray(weight))
    _same(got, direct)
    assert np.any(np.asarray(got.status) == jc.Status.INFINITE)


def test_other_kernels_bucketed_equal_the_unpadded_points():
    rng = np.random.default_rng(5)
    n, p2, lam = _grid(300, rng)
    m = rng.uniform(10, 800, 300)
    m[::7] = n[::7]  # interpolation thresholds m = n
    got = jc.theory.random_projections(MIX, n=n, m=m, p2=p2, lam=lam)
    _same(got, _random_projections_jit(pad_spectrum(MIX), *map(jnp.asarray, (n, m, p2, lam))))
    n0 = rng.uniform(50, 400, 7)
    gens, s0 = rng.integers(0, 5, 7).astype(float), rng.uniform(0, 1, 7)
    got = jc.theory.retraining(MIX, n=n[:7], n0=n0, generations=gens, lam=lam[:7], generator_noise_var=s0)
    _same(got, _retraining_jit(pad_spectrum(MIX), *map(jnp.asarray, (n[:7], n0, gens, lam[:7], s0))))


def test_padding_the_spectrum_changes_only_rounding():
    """Zero-multiplicity entries add exact zeros; sums over a longer axis may associate differently."""
    rng = np.random.default_rng(9)
    n, p2, lam = _grid(64, rng)
    padded = pad_spectrum(MIX)
    assert padded.eigs.shape == (spectrum_length(D),) == (256,) and padded.d == D
    assert float(jnp.sum(padded.multiplicity)) == D and float(jnp.min(padded.eigs)) == float(jnp.min(MIX.eigs))
    a = _ridge_jit(padded, *map(jnp.asarray, (n, p2, lam, 1.0)))
    b = _ridge_jit(MIX, *map(jnp.asarray, (n, p2, lam, 1.0)))
    np.testing.assert_array_equal(np.asarray(a.status), np.asarray(b.status))
    finite = np.isfinite(np.asarray(b.total))
    np.testing.assert_allclose(np.asarray(a.total)[finite], np.asarray(b.total)[finite], rtol=1e-15, atol=0)
    np.testing.assert_array_equal(np.asarray(a.total)[~finite], np.asarray(b.total)[~finite])


def test_one_program_per_bucket_whatever_the_grid_size_or_d():
    lowered = []

    def listen(event, duration, **_):
        if event == JAXPR_TO_MLIR_MODULE_EVENT:
            lowered.append(duration)

    # one problem per d, same spectrum bucket (129..256 entries); warm the three point buckets
    mixes = [jc.power_law(d, 1.4, signal=1.0, shift=0.6, noise_var=0.15) for d in (150, 200, 256)]
    for size in POINT_BUCKETS:
        jc.theory.ridge(mixes[0], n=np.full(size, 50.0), p2=0.2, lam=1e-2)
    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        for mix in mixes:
            for size in (1, 10, 63, 64, 65, 100, 256, 257, 1000, 4096, 9000):
                risk = jc.theory.ridge(mix, n=np.linspace(10, 400, size), p2=0.2, lam=1e-2)
                assert risk.total.shape == (size,) and np.all(np.isfinite(np.asarray(risk.total)))
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    assert len(lowered) == 0
