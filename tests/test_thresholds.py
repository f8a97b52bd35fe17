"""Every ridgeless interpolation threshold, on every solver path, against its exact expectation.

At lam = 0 a square design is inverted exactly, so the test error is +inf (`Status.INFINITE`)
unless every diverging term has a zero coefficient, and then it is a finite closed form:

* ridge, n = d with a positive synthetic weight, or n1 = d with weight 0: w_hat = X^{-1} y, so the
  bias is 0; the noise costs +inf when its weighted variance p1 s1² + p2 w s2² is positive; the label
  shift costs +inf when real and synthetic rows are mixed (0 < p2 < 1, w > 0, tr(Sigma Delta) > 0)
  and exactly tr(Sigma Delta) when every row is synthetic (p2 = 1: w_hat = w2* + noise);
* random projections, m = n < d: the features leave directions unfitted, so the bias (as well as any
  noise or shift) is +inf; d = n <= m: as for ridge at n = d.

Each case runs on the full spectrum and on its compressed copy (`jc.compress`), and as a batch
below the tabulation threshold, as a batch above it (the df1-table path) and as scalar calls: a
result must not depend on how many other points share the call. All threshold inputs are exact in
binary (n = d, dyadic p2 for n1 = d), so the expectation cannot depend on rounding.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse.theory._common import TABLE_ABOVE

D = 480
WEIGHTS = (1e-2, 1.0, 3.0)
P2 = np.linspace(0.0, 1.0, 21)
P2_DYADIC = (0.0, 0.25, 0.5, 0.75, 0.875)  # n1 = d at n = d/(1 - p2), exact in binary

NOISY = jc.power_law(3000, 2.6, source=0.3, noise_var=0.05)  # where a compressed threshold once came out finite
CLEAN = jc.isotropic(D, signal=1.0, shift=0.5, noise_var=0.0)
SHALLOW = jc.power_law(2000, 1.5, shift=0.5, noise_var=0.0)
rng = np.random.default_rng(3)
_eigs = np.arange(1, D + 1) ** -1.2
FIXED = jc.fixed_teachers(_eigs, rng.normal(size=D) / np.sqrt(D), rng.normal(size=D) / np.sqrt(D), noise_var=0.1)
MIXTURES = {
    "noisy power law": NOISY,
    "noisy power law, compressed": jc.compress(NOISY),
    "noiseless isotropic": CLEAN,
    "noiseless isotropic, compressed": jc.compress(CLEAN),
    "noiseless shallow power law, compressed": jc.compress(SHALLOW),
    "fixed teachers, compressed": jc.compress(FIXED),
    "different covariances": jc.Mixture(_eigs, np.ones(D) / D, 0.5 * np.ones(D) / D, 0.0, synthetic_eigs=1.5 * _eigs),
}


def _ridge_points(d):
    """(n, p2, weight) of every ridgeless threshold of ridge on d directions."""
    n, p2, w = [], [], []
    for weight in WEIGHTS:
        n += [float(d)] * P2.size
        p2 += list(P2)
        w += [weight] * P2.size
    for q in P2_DYADIC:
        n.append(d / (1.0 - q))
        p2.append(q)
        w.append(0.0)
    return np.array(n), np.array(p2), np.array(w)


def _ridge_expected(mix, p2, weight):
    """The exact total at a ridge threshold (above), from the problem's own traces."""
    trace_shift = float(np.sum(np.asarray(mix.shift) * np.asarray(mix.eigs)))
    noise = (1 - p2) * float(mix.noise_var) + np.where(weight > 0, p2 * float(mix.synthetic_noise_var), 0.0)
    mixed_shift = (weight > 0) & (p2 > 0) & (p2 < 1) & (trace_shift > 0)
    finite = np.where((weight > 0) & (p2 == 1), trace_shift, 0.0)
    return np.where((noise > 0) | mixed_shift, np.inf, finite)


def _check(risk, expected):
    total, status = np.asarray(risk.total), np.asarray(risk.status)
    infinite = np.isinf(expected)
    assert np.all(np.isposinf(total[infinite])), total[infinite]
    assert np.all(status[infinite] == jc.Status.INFINITE)
    assert np.all(status[~infinite] == jc.Status.OK)
    np.testing.assert_allclose(total[~infinite], expected[~infinite], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(MIXTURES))
def test_ridge_thresholds_scalar_batch_and_table(name):
    mix = MIXTURES[name]
    n, p2, weight = _ridge_points(mix.d)
    expected = _ridge_expected(mix, p2, weight)
    batch = jc.theory.ridge(mix, n=n, p2=p2, lam=0.0, weight=weight)
    _check(batch, expected)
    # Above TABLE_ABOVE points the df1 table narrows the brackets: same answers.
    reps = TABLE_ABOVE // n.size + 1
    table = jc.theory.ridge(mix, n=np.tile(n, reps), p2=np.tile(p2, reps), lam=0.0, weight=np.tile(weight, reps))
    _check(table, np.tile(expected, reps))
    np.testing.assert_array_equal(np.asarray(table.status)[: n.size], np.asarray(batch.status))
    # Scalar calls (one compiled program per mixture), on a spread of the points.
    for i in range(0, n.size, 9):
        one = jc.theory.ridge(mix, n=float(n[i]), p2=float(p2[i]), lam=0.0, weight=float(weight[i]))
        _check(jax.tree.map(lambda x: x[None] if x is not None else None, one), expected[i : i + 1])


@pytest.mark.parametrize("name", ["noisy power law", "noiseless isotropic"])
def test_ridge_near_thresholds_full_equals_compressed(name):
    """n = d ± 1 and lam in {1e-12, 1e-9}: finite, and the compressed spectrum agrees with the full
    one to the compression's trace tolerance (rtol 1e-10) times the conditioning of the threshold,
    which is at most d/|n - d| here."""
    full, small = MIXTURES[name], MIXTURES[name + ", compressed"]
    d = full.d
    n = np.array([d - 1.0, d + 1.0, d, d])[:, None, None]
    lam = np.array([0.0, 0.0, 1e-12, 1e-9])[:, None, None]
    p2 = np.array([0.0, 0.15, 0.5, 1.0])[None, :, None]
    weight = np.array([1e-2, 1.0, 3.0])[None, None, :]
    a = jc.theory.ridge(full, n=n, p2=p2, lam=lam, weight=weight)
    b = jc.theory.ridge(small, n=n, p2=p2, lam=lam, weight=weight)
    assert np.all(np.asarray(a.status) == jc.Status.OK) and np.all(np.asarray(b.status) == jc.Status.OK)
    np.testing.assert_allclose(np.asarray(b.total), np.asarray(a.total), rtol=1e-10 * d)


def _rp_points(d):
    """(n, m, p2) of the random-projection thresholds: m = n < d and d = n <= m."""
    n, m, p2 = [], [], []
    for nn, mm in ((d / 2, d / 2), (d / 4, d / 4), (d, d), (d, 2 * d)):
        n += [nn] * P2.size
        m += [mm] * P2.size
        p2 += list(P2)
    return np.array(n), np.array(m), np.array(p2)


@pytest.mark.parametrize("name", ["noisy power law", "noisy power law, compressed", "noiseless isotropic, compressed"])
def test_random_projection_thresholds(name):
    mix = MIXTURES[name]
    n, m, p2 = _rp_points(mix.d)
    trace_shift = float(np.sum(np.asarray(mix.shift) * np.asarray(mix.eigs)))
    signal = float(np.sum(np.asarray(mix.signal) * np.asarray(mix.eigs)))
    noise = float(mix.noise_var)
    under = n < mix.d  # m = n < d: unfitted directions, the bias diverges too
    diverges = np.where(
        under,
        (signal > 0) | (noise > 0) | ((p2 > 0) & (trace_shift > 0)),
        (noise > 0) | ((p2 > 0) & (p2 < 1) & (trace_shift > 0)),
    )
    expected = np.where(diverges, np.inf, np.where(p2 == 1, trace_shift, 0.0))
    _check(jc.theory.random_projections(mix, n=n, m=m, p2=p2, lam=0.0), expected)
    reps = TABLE_ABOVE // n.size + 1
    table = jc.theory.random_projections(mix, n=np.tile(n, reps), m=np.tile(m, reps), p2=np.tile(p2, reps), lam=0.0)
    _check(table, np.tile(expected, reps))


def test_random_features_threshold_is_infinite():
    """m = n at lam = 0: the feature Gram matrix is square (the nonlinear part is noise, so +inf)."""
    mix = jc.isotropic(100, signal=1.0, shift=0.5, noise_var=0.0)
    risk = jc.theory.random_features(
        mix, n=jnp.full(P2.size, 60.0), m=60, p2=jnp.asarray(P2), lam=0.0, activation="relu"
    )
    _check(risk, np.full(P2.size, np.inf))
