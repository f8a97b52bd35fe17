"""Self-consuming data loops (`jc.theory.data_loop`, `jc.simulate.data_loop`): replace, accumulate,
accumulate-subsample with a fixed or fresh design.

References held apart from the kernel: the coefficients of the generation noises obtained by
iterating each policy's linear recursion on coefficient vectors (no closed form used), the
inverse-Wishart mean d/(n0 - d - 1), Gerstgrasser et al.'s π²/6 bound, `jc.theory.retraining`
where the two models coincide, and Monte Carlo of the estimator itself."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc

G = np.array([0, 1, 2, 5, 20])
S1, S0 = 0.2, 0.5
UNDER = jc.power_law(12, 1.2, signal=1.0, shift=0.3, noise_var=S1)  # n0 = 40 ≥ d + 2, anisotropic Σ
OVER = jc.isotropic(30, signal=1.0, shift=0.3, noise_var=S1)  # n0 = 12 ≤ d - 2, isotropic Σ
TRIALS = 1500


def _coefficients(policy, generations):
    """Coefficients c_j of the noise vectors u_j = A ε_j in ŵ_G − P w*, from the recursion itself:
    replace ŵ_g = P ŵ_{g−1} + u_g; accumulate (g+1) ŵ_g = Σ_{j<g} ŵ_j + Σ_{j≤g} u_j (in e = ŵ − P w*)."""
    rows = []
    for g in range(generations + 1):
        unit = np.eye(generations + 1)[g]
        if policy == "replace":
            rows.append((rows[-1] if rows else 0) + unit)
        else:
            rows.append((sum(rows) + np.eye(generations + 1)[: g + 1].sum(0)) / (g + 1))
    return rows[-1]


@pytest.mark.parametrize("policy", ["replace", "accumulate"])
def test_fixed_design_is_the_recursion_with_the_inverse_wishart_mean(policy):
    d, n0 = UNDER.d, 40
    trace = d / (n0 - d - 1)
    for g in (0, 1, 3, 20):
        c = _coefficients(policy, g)
        expected = trace * (S1 * c[0] ** 2 + S0 * np.sum(c[1:] ** 2))
        got = jc.theory.data_loop(
            UNDER, n0=n0, generations=g, lam=0.0, generator_noise_var=S0, policy=policy, design="fixed"
        )
        assert float(got.total) == pytest.approx(expected, rel=1e-12)
        assert int(got.status) == jc.Status.OK
    # over-parameterised, isotropic: the unreached part of w* stays, the noise trace is n0/(d - n0 - 1)
    d, n0, g = OVER.d, 12, 5
    c = _coefficients(policy, g)
    expected = (1 - n0 / d) * float(OVER.signal_energy) + n0 / (d - n0 - 1) * (S1 * c[0] ** 2 + S0 * np.sum(c[1:] ** 2))
    got = jc.theory.data_loop(
        OVER, n0=n0, generations=g, lam=0.0, generator_noise_var=S0, policy=policy, design="fixed"
    )
    assert float(got.total) == pytest.approx(expected, rel=1e-12)


def test_accumulate_is_bounded_and_replace_grows_linearly():
    n0 = 40
    acc = jc.theory.data_loop(
        UNDER, n0=n0, generations=1e6, lam=0.0, generator_noise_var=S0, policy="accumulate", design="fixed"
    )
    bound = jc.theory.data_loop_bound(UNDER, n0=n0, generator_noise_var=S0)
    d = UNDER.d
    assert float(bound) == pytest.approx(d / (n0 - d - 1) * (S1 + S0 * (math.pi**2 / 6 - 1)), rel=1e-14)
    assert float(acc.total) == pytest.approx(float(bound), rel=1e-5)  # the tail of Σ 1/k² is ~1/G
    rep = jc.theory.data_loop(
        UNDER, n0=n0, generations=jnp.array([3.0, 4.0]), lam=0.0, generator_noise_var=S0, policy="replace"
    )
    slope = float(rep.total[1] - rep.total[0])
    assert slope == pytest.approx(float(jc.theory.data_loop_growth(UNDER, n0=n0, generator_noise_var=S0)), rel=1e-12)


def test_accumulate_with_a_fresh_design_adds_each_generations_noise_through_its_wishart():
    # ŵ_g = ŵ_{g−1} + M_g⁻¹X_gᵀε_g with M_g = Σ_{k≤g} X_kᵀX_k: the added noise of generation g costs
    # σ0² E tr(Σ M_g⁻¹X_gᵀX_g M_g⁻¹) = σ0² d/((g+1)((g+1)n0 − d − 1)). That lemma by Monte Carlo of
    # the matrices themselves (d = 4, anisotropic Σ, n0 = 9), then the sum against the kernel.
    rng = np.random.default_rng(0)
    d, n0, s = 4, 9, np.array([2.0, 1.0, 0.5, 0.25])
    for g in (1, 2):
        X = rng.standard_normal((40_000, (g + 1) * n0, d)) * np.sqrt(s)
        M = np.einsum("tni,tnj->tij", X, X)
        last = np.einsum("tni,tnj->tij", X[:, -n0:], X[:, -n0:])
        inv = np.linalg.inv(M)
        draws = np.einsum("i,tij,tjk,tki->t", s, inv, last, inv)
        expected = d / ((g + 1) * ((g + 1) * n0 - d - 1))
        assert abs(draws.mean() - expected) < 4 * draws.std() / math.sqrt(draws.size), (g, draws.mean(), expected)
    # the kernel: integer G by the plain sum, real G by SciPy's digamma (the kernel uses JAX's polygamma)
    from scipy.special import digamma

    d, n0 = UNDER.d, 40
    for g in (0, 1, 3, 20):
        expected = S1 * d / (n0 - d - 1) + S0 * sum(d / (k * (k * n0 - d - 1)) for k in range(2, g + 2))
        got = jc.theory.data_loop(
            UNDER, n0=n0, generations=g, lam=0.0, generator_noise_var=S0, policy="accumulate", design="fresh"
        )
        assert float(got.total) == pytest.approx(expected, rel=1e-12) and int(got.status) == jc.Status.OK
        fixed = jc.theory.data_loop(
            UNDER, n0=n0, generations=g, lam=0.0, generator_noise_var=S0, policy="accumulate", design="fixed"
        )
        assert float(got.total) < float(fixed.total) if g > 0 else float(got.total) == float(fixed.total)
    a = (d + 1) / n0
    g = 2.5
    expected = S1 * d / (n0 - d - 1) + S0 * d / (d + 1) * (
        digamma(g + 2 - a) - digamma(2 - a) - digamma(g + 2) + digamma(2)
    )
    real = jc.theory.data_loop(
        UNDER, n0=n0, generations=g, lam=0.0, generator_noise_var=S0, policy="accumulate", design="fresh"
    )
    assert float(real.total) == pytest.approx(expected, rel=1e-12)
    bound = jc.theory.data_loop_bound(UNDER, n0=n0, generator_noise_var=S0, design="fresh")
    assert float(bound) == pytest.approx(
        S1 * d / (n0 - d - 1) + S0 * d / (d + 1) * (digamma(2) - digamma(2 - a)), rel=1e-12
    )
    far = jc.theory.data_loop(
        UNDER, n0=n0, generations=1e6, lam=0.0, generator_noise_var=S0, policy="accumulate", design="fresh"
    )
    assert float(far.total) == pytest.approx(float(bound), rel=1e-5)
    assert float(bound) < float(jc.theory.data_loop_bound(UNDER, n0=n0, generator_noise_var=S0))
    # over-parameterised, isotropic: generation 0's unreached part of w* stays; later fits see 2n0 ≥ d + 2 rows
    d, n0, g = OVER.d, 16, 4
    expected = (1 - n0 / d) * float(OVER.signal_energy) + S1 * n0 / (d - n0 - 1)
    expected += S0 * sum(d / (k * (k * n0 - d - 1)) for k in range(2, g + 2))
    got = jc.theory.data_loop(
        OVER, n0=n0, generations=g, lam=0.0, generator_noise_var=S0, policy="accumulate", design="fresh"
    )
    assert float(got.total) == pytest.approx(expected, rel=1e-12)

    # and its gradient in (n0, G, σ0²), real-valued
    def f(x):
        return jc.theory.data_loop(
            UNDER, n0=x[0], generations=x[1], lam=0.0, generator_noise_var=x[2], policy="accumulate", design="fresh"
        ).total

    x = jnp.array([40.0, 3.5, S0])
    grad = jax.grad(f)(x)
    for k in range(3):
        h = 1e-5 * float(x[k])
        fd = (float(f(x.at[k].add(h))) - float(f(x.at[k].add(-h)))) / (2 * h)
        assert float(grad[k]) == pytest.approx(fd, rel=1e-6), k


def _block_equivalent(s, gamma, s1, s0, lam, n0, G, policy, design):
    """The stacked-fits equivalent (every fit 0..G at once, H × H blocks), written out in NumPy for the
    four policies without subsampling: row types with their P_r = Σ c_kg e_g(e_g − e_{k−1})ᵀ and noise
    vectors, χ = Σ_j s_j K_j with K_j = (s_j A + Λ)⁻¹ and A = Σ_r w_r (I + P_r χ)⁻¹ P_r by damped
    iteration, then Ω = (I − ℳ)⁻¹(sources) as a dense H² solve and E_g = Σ s_jγ_j (K_jν)_g² + Σ s_j²(K_jΩK_jᵀ)_gg."""
    H = G + 1
    e = np.eye(H)
    prev = lambda k: e[k - 1] if k >= 1 else np.zeros(H)  # noqa: E731
    later = lambda k: (np.arange(H) >= k).astype(float)  # noqa: E731
    if policy == "replace" and design == "fresh":
        types = [(np.outer(e[b], e[b] - prev(b)), [(b, e[b])]) for b in range(H)]
    elif policy == "replace":
        types = [(sum(np.outer(e[g], e[g] - prev(g)) for g in range(H)), [(k, e[k]) for k in range(H)])]
    elif design == "fixed":
        P = sum(np.outer(e[g], e[g] - prev(k)) for g in range(H) for k in range(g + 1))
        types = [(P, [(k, later(k)) for k in range(H)])]
    else:
        types = [(sum(np.outer(e[g], e[g] - prev(b)) for g in range(b, H)), [(b, later(b))]) for b in range(H)]
    N = n0 * (np.arange(H) + 1.0) if policy == "accumulate" else np.full(H, float(n0))
    nu = N * lam
    chi = np.zeros((H, H))
    for _ in range(5000):
        A = sum(n0 * np.linalg.solve(np.eye(H) + P @ chi, P) for P, _ in types)
        K = np.linalg.inv(s[:, None, None] * A + np.diag(nu))
        new = np.einsum("j,jab->ab", s, K)
        if np.max(np.abs(new - chi)) < 1e-15:
            break
        chi = (chi + new) / 2
    T = [np.linalg.inv(np.eye(H) + P @ chi) for P, _ in types]
    Q = [t @ P for t, (P, _) in zip(T, types)]
    M = sum(n0 * np.einsum("ac,bd->abcd", q, q) for q in Q).reshape(H * H, H * H)
    M = M @ np.einsum("j,jac,jbd->abcd", s**2, K, K).reshape(H * H, H * H)
    Kn = K @ nu
    sources = sum(n0 * q @ np.einsum("j,ja,jb->ab", s * gamma, Kn, Kn) @ q.T for q in Q)
    for t, (_, noises) in zip(T, types):
        for k, u in noises:
            sources = sources + (s1 if k == 0 else s0) * n0 * np.outer(t @ u, t @ u)
    omega = np.linalg.solve(np.eye(H * H) - M, sources.reshape(-1)).reshape(H, H)
    return np.einsum("j,ja->a", s * gamma, Kn**2) + np.einsum("j,jab,bc,jac->a", s**2, K, omega, K)


def test_accumulate_with_a_fresh_design_and_a_ridge_is_the_stacked_fits_equivalent():
    # The reference above, held first against the three ridge chains the library computes in other
    # ways (contour integrals of one sample covariance; a recursion on second moments), then against
    # the library's accumulate-fresh kernel (JAX, implicit derivatives), and at λ → 0 against the OLS
    # formula with the equivalent's d/(N − d) for the exact d/(N − d − 1).
    mix = jc.power_law(20, 1.2, signal=1.0, noise_var=S1)
    s, gamma = np.asarray(mix.eigs), np.asarray(mix.signal)
    G6 = np.arange(7.0)
    for lam in (0.01, 0.2):
        for policy, design in (
            ("replace", "fresh"),
            ("replace", "fixed"),
            ("accumulate", "fixed"),
            ("accumulate", "fresh"),
        ):
            ref = _block_equivalent(s, gamma, S1, S0, lam, 40, 6, policy, design)
            got = jc.theory.data_loop(
                mix, n0=40, generations=G6, lam=lam, generator_noise_var=S0, policy=policy, design=design
            )
            assert np.all(np.asarray(got.status) == jc.Status.OK)
            np.testing.assert_allclose(np.asarray(got.total), ref, rtol=1e-10, err_msg=f"{policy} {design} {lam}")
    fresh = dict(policy="accumulate", design="fresh", generator_noise_var=S0)
    d, n0 = 20, 40
    tiny = jc.theory.data_loop(mix, n0=n0, generations=G6, lam=1e-9, **fresh).total
    limit = [S1 * d / (n0 - d) + S0 * sum(d / (k * (k * n0 - d)) for k in range(2, g + 2)) for g in range(7)]
    np.testing.assert_allclose(np.asarray(tiny), limit, rtol=1e-6)
    # a ridge never does worse than OLS's equivalent here, and accumulating fresh rows beats a fixed design
    fixed = jc.theory.data_loop(mix, n0=n0, generations=G6, lam=0.05, **{**fresh, "design": "fixed"}).total
    assert np.all(
        np.asarray(jc.theory.data_loop(mix, n0=n0, generations=G6, lam=0.05, **fresh).total)[1:] < np.asarray(fixed)[1:]
    )
    # transforms: a vmapped batch is the points one by one; gradients in (n0, λ, σ0²) by implicit differentiation

    def f(x):
        return jc.theory.data_loop(
            mix,
            n0=x[0],
            generations=5,
            lam=x[1],
            generator_noise_var=x[2],
            **{k: v for k, v in fresh.items() if k != "generator_noise_var"},
        ).total

    x = jnp.array([40.0, 0.05, S0])
    batch = jax.vmap(f)(jnp.stack([x, x.at[1].set(0.2)]))
    assert float(batch[1]) == pytest.approx(float(f(x.at[1].set(0.2))), rel=1e-12)
    grad = jax.jit(jax.grad(f))(x)
    for k in range(3):
        h = 1e-5 * float(x[k])
        fd = (float(f(x.at[k].add(h))) - float(f(x.at[k].add(-h)))) / (2 * h)
        assert float(grad[k]) == pytest.approx(fd, rel=1e-6), k


def test_accumulate_with_a_fresh_design_and_a_ridge_up_to_its_largest_horizon():
    # 31 generations in one block solve; beyond it no theory yet, said so (not a number)
    mix = jc.power_law(20, 1.2, signal=1.0, noise_var=S1)
    kw = dict(n0=40, lam=0.05, generator_noise_var=S0, policy="accumulate", design="fresh")
    far = jc.theory.data_loop(mix, generations=jnp.array([20.0, 31.0, 32.0]), **kw)
    assert np.asarray(far.status).tolist() == [jc.Status.OK, jc.Status.OK, jc.Status.NO_THEORY]
    assert np.isnan(float(far.total[2])) and 0 < float(far.total[0]) < float(far.total[1])
    near = jc.theory.data_loop(mix, generations=20, **kw)  # a smaller horizon gives the same generation
    assert float(near.total) == pytest.approx(float(far.total[0]), rel=1e-12)


def test_replace_fresh_is_retraining_where_the_models_coincide():
    """λ = 0, n0 ≥ d + 2: G + 1 unbiased OLS steps whose noises add; the order does not matter."""
    g = jnp.array([0.0, 1.0, 4.0, 20.0])
    loop = jc.theory.data_loop(UNDER, n0=40.0, generations=g, lam=0.0, generator_noise_var=S0, policy="replace")
    chain = jc.theory.retraining(UNDER, n=40.0, n0=40.0, generations=g, lam=0.0, generator_noise_var=S0)
    np.testing.assert_allclose(loop.total, chain.total, rtol=1e-12)


RIDGE = jc.power_law(24, 1.0, signal=1.0, noise_var=S1)  # n0 = 72: a ridge inside the documented range


@pytest.mark.parametrize(
    "mix, n0, lams, policy, design",
    [
        (RIDGE, 72, (0.0, 0.05), "replace", "fixed"),
        (RIDGE, 72, (0.0, 0.05), "accumulate", "fixed"),
        (RIDGE, 72, (0.0, 0.05), "replace", "fresh"),
        (RIDGE, 36, (0.0, 0.05), "accumulate", "fresh"),
        (OVER, 12, (0.0, 0.1), "replace", "fixed"),
        (OVER, 12, (0.0, 0.1), "accumulate", "fixed"),
        (OVER, 12, (0.0, 0.1), "replace", "fresh"),
    ],
)
def test_theory_against_simulation(mix, n0, lams, policy, design):
    """Exact at λ = 0; deterministic equivalents at λ > 0 (a little low at finite n0: max(4 s.e., 3 %))."""
    lam = jnp.array(lams)[:, None]
    kw = dict(n0=n0, lam=lam, generator_noise_var=S0, policy=policy, design=design)
    est = jc.simulate.data_loop(mix, generations=G, trials=TRIALS, key=jax.random.key(3), **kw)
    risk = jc.theory.data_loop(mix, generations=G.astype(float), **kw)
    assert np.all(np.asarray(risk.status) == jc.Status.OK)
    mean, sem, th = np.asarray(est.mean), np.asarray(est.sem), np.asarray(risk.total)
    assert np.all(np.abs(mean - th) <= np.maximum(4 * sem, 0.03 * th)), (mean, sem, th)


@pytest.mark.parametrize("design", ["fixed", "fresh"])
def test_generation_zero_is_one_ridge_fit(design):
    """G = 0 is ridge on n0 real rows: `jc.theory.ridge` (an independent kernel) at λ > 0."""
    lam = jnp.array([0.01, 0.1, 1.0])
    for mix, n0 in ((RIDGE, 72.0), (OVER, 12.0), (RIDGE, 24.0)):
        loop = jc.theory.data_loop(mix, n0=n0, generations=0, lam=lam, generator_noise_var=S0, design=design)
        ridge = jc.theory.ridge(mix, n=n0, p2=0.0, lam=lam)
        np.testing.assert_allclose(loop.total, ridge.total, rtol=1e-9)
        np.testing.assert_allclose(loop.kappa, ridge.kappa, rtol=1e-10)


def _marchenko_pastur(f, ratio):
    """∫ f dMP for the spectrum of X^T X/n, X with i.i.d. N(0, 1) entries, d/n = ratio (atom included)."""
    from scipy import integrate

    lo, hi = (1 - np.sqrt(ratio)) ** 2, (1 + np.sqrt(ratio)) ** 2

    def density(x):
        return np.sqrt(max((hi - x) * (x - lo), 0.0)) / (2 * np.pi * ratio * x)

    # the substitution x = lo + (hi - lo) sin²(φ) removes both square-root edges
    def g(phi):
        x = lo + (hi - lo) * np.sin(phi) ** 2
        return f(x) * density(x) * (hi - lo) * 2 * np.sin(phi) * np.cos(phi)

    value = integrate.quad(g, 0.0, np.pi / 2, epsabs=1e-14, epsrel=1e-12, limit=400)[0]
    return value + max(0.0, 1 - 1 / ratio) * f(0.0)


def _scalar_chain(policy, t, generations):
    """Coefficients (α, β_0..β_G) of w* and of the noise vectors in ŵ_G, for one eigenvalue t of T, by
    running the policy's recursion on coefficient vectors (no closed form)."""
    models = []
    for g in range(generations + 1):
        unit = np.eye(generations + 2)[g + 1]  # index 0: w*, index j + 1: u_j
        if policy == "replace":
            previous = models[-1] if models else np.eye(generations + 2)[0]
            models.append(t * previous + unit)
        else:
            stacked = np.eye(generations + 2)[0] + sum(models)
            models.append((t * stacked + np.eye(generations + 2)[1 : g + 2].sum(0)) / (g + 1))
    return models[-1][0], models[-1][1:]


@pytest.mark.parametrize("policy", ["replace", "accumulate"])
def test_fixed_ridge_on_isotropic_data_is_the_marchenko_pastur_integral(policy):
    """Σ = I, Γ = (r/d) I: every trace is (1/d) tr φ(Σ̂) → ∫ φ dMP. The reference integrates the
    recursion's coefficients against the Marchenko–Pastur density (SciPy quadrature), holding the
    contour rule and the two-point equivalent to a different route."""
    d, r, g = 30, 1.0, 7
    mix = jc.isotropic(d, signal=r, noise_var=S1)
    n0 = np.array([12.0, 29.0, 30.0, 31.0, 90.0])[:, None]
    lam = np.array([0.01, 0.3])[None, :]
    got = jc.theory.data_loop(mix, n0=n0, generations=g, lam=lam, generator_noise_var=S0, policy=policy, design="fixed")
    for i in range(n0.shape[0]):
        for j in range(lam.shape[1]):
            n, la = float(n0[i, 0]), float(lam[0, j])

            def chain(x):
                return _scalar_chain(policy, x / (x + la), g)

            bias = r * _marchenko_pastur(lambda x: (1 - chain(x)[0]) ** 2, d / n)
            sig = np.array([S1] + [S0] * g)
            noise = d * _marchenko_pastur(lambda x: np.sum(sig * chain(x)[1] ** 2) * x / (n * (x + la) ** 2), d / n)
            assert float(got.total[i, j]) == pytest.approx(bias + noise, rel=1e-8), (n, la)


def test_no_theory_where_no_formula_is_known():
    """(accumulate-subsample's statuses: tests/test_data_loop_subsample.py)"""
    aniso_over = jc.theory.data_loop(jc.power_law(30, 1.2), n0=12, generations=3.0, lam=0.0, generator_noise_var=S0)
    assert int(aniso_over.status) == jc.Status.NO_THEORY
    for mix, n0 in ((jc.power_law(30, 1.2), 16), (OVER, 12)):  # anisotropic over-parameterised; 2n0 < d + 2
        r = jc.theory.data_loop(mix, n0=n0, generations=3.0, lam=0.0, generator_noise_var=S0, policy="accumulate")
        assert int(r.status) == jc.Status.NO_THEORY and np.isnan(float(r.total)), n0
    at_threshold = jc.theory.data_loop(UNDER, n0=13, generations=2.0, lam=0.0, generator_noise_var=S0, design="fixed")
    assert np.isinf(float(at_threshold.total)) and int(at_threshold.status) == jc.Status.INFINITE
    noiseless = jc.theory.data_loop(
        jc.power_law(12, 1.2, noise_var=0.0), n0=13, generations=2.0, lam=0.0, generator_noise_var=0.0
    )
    assert float(noiseless.total) == 0.0 and int(noiseless.status) == jc.Status.OK  # OLS of exact labels
    # n0 = d - 1 without noise: min-norm fits of exact labels miss the part of w* outside the row
    # space, 1 - n0/d of the signal (isotropic), whatever the noise trace's divergence
    iso = jc.isotropic(12, signal=1.0, noise_var=0.0)
    for design, expected in (("fixed", 1 / 12), ("fresh", 1 - (11 / 12) ** 3)):
        r = jc.theory.data_loop(iso, n0=11, generations=2.0, lam=0.0, generator_noise_var=0.0, design=design)
        assert float(r.total) == pytest.approx(expected, rel=1e-12) and int(r.status) == jc.Status.OK


def test_simulator_policies_share_generation_zero_and_trials_are_independent_of_chunks():
    kw = dict(n0=40, generations=np.array([0, 2]), lam=jnp.array([0.0, 0.1]), generator_noise_var=S0, trials=6)
    key = jax.random.key(11)
    base = jc.simulate.data_loop(UNDER, policy="replace", design="fixed", key=key, **kw)
    assert base.samples.shape == (2, 6)
    for policy in ("accumulate", "accumulate-subsample"):
        other = jc.simulate.data_loop(UNDER, policy=policy, design="fixed", key=key, **kw)
        # generation 0 fits the same real rows (the subsample of a one-generation pool is all of it)
        np.testing.assert_allclose(other.samples[0], base.samples[0], rtol=1e-9)
    chunked = jc.simulate.data_loop(UNDER, policy="replace", design="fixed", key=key, chunk_size=4, **kw)
    np.testing.assert_allclose(chunked.samples, base.samples, rtol=1e-12)  # the same trials, batched otherwise


EXACT_GENERATOR = dict(n0=40, generations=np.array([0, 1, 3]), lam=0.0, generator_noise_var=0.0, trials=4)


def _exact_generator_loops(design, policies):
    """σ0² = 0, λ = 0, n0 ≥ d: later rows are labelled exactly by ŵ_{g−1}, which OLS (replace) and the
    least squares on every row so far (accumulate: ŵ_0 already fits the earlier rows best) return
    again, so every generation has generation 0's error, trial by trial; every policy fits the same
    real rows at generation 0."""
    first = None
    for policy in policies:
        est = jc.simulate.data_loop(UNDER, policy=policy, design=design, key=jax.random.key(11), **EXACT_GENERATOR)
        s = np.asarray(est.samples)
        assert s.shape == (3, 4) and np.all(np.isfinite(s)) and np.all(s > 0)
        if policy == "accumulate-subsample":  # a subsample mixes noisy real rows and exact ones
            assert np.all(s[1:] != s[0])
        else:
            np.testing.assert_allclose(s, np.broadcast_to(s[0], s.shape), rtol=1e-9)
        if first is not None:
            np.testing.assert_allclose(s[0], first, rtol=1e-10)
        first = s[0]


def test_simulated_loops_with_an_exact_generator_stay_at_generation_zero():
    _exact_generator_loops("fixed", ("replace", "accumulate", "accumulate-subsample"))
    # without real noise either, every fit of a subsample recovers w*
    exact = jc.Mixture(UNDER.eigs, UNDER.signal, UNDER.shift, noise_var=0.0)
    kw = dict(policy="accumulate-subsample", design="fixed", key=jax.random.key(11))
    sub = jc.simulate.data_loop(exact, **kw, **EXACT_GENERATOR)
    assert np.all(np.abs(np.asarray(sub.samples)) < 1e-20 * float(UNDER.signal_energy))


def test_simulated_loops_with_an_exact_generator_and_a_fresh_design():
    _exact_generator_loops("fresh", ("replace", "accumulate"))


def test_transforms_and_gradients():
    def f(g, s0):
        kw = dict(n0=40.0, lam=0.0, policy="accumulate", design="fixed")
        return jc.theory.data_loop(UNDER, generations=g, generator_noise_var=s0, **kw).total

    g = jnp.array([0.5, 3.0, 7.25])
    np.testing.assert_allclose(jax.jit(jax.vmap(f, (0, None)))(g, S0), f(g, S0), rtol=1e-13)
    dg = jax.grad(lambda x: f(x, S0))(3.0)
    h = 1e-5
    fd = (f(3.0 + h, S0) - f(3.0 - h, S0)) / (2 * h)
    assert float(dg) == pytest.approx(float(fd), rel=1e-7)
    ds0 = jax.grad(lambda s: f(3.0, s))(S0)
    assert float(ds0) == pytest.approx(float((f(3.0, S0 + h) - f(3.0, S0 - h)) / (2 * h)), rel=1e-8)


@pytest.mark.parametrize("policy, design", [("accumulate", "fixed"), ("replace", "fresh")])
def test_ridge_transforms_and_gradients(policy, design):
    def f(lam, n0):
        kw = dict(generations=7, generator_noise_var=S0, policy=policy, design=design)
        return jc.theory.data_loop(RIDGE, n0=n0, lam=lam, **kw).total

    lams = jnp.array([0.02, 0.3])
    # traced inputs take the largest contour that concrete ones might not: equal to its accuracy
    np.testing.assert_allclose(jax.jit(jax.vmap(f, (0, None)))(lams, 50.0), f(lams, 50.0), rtol=1e-9)
    for lam, n0 in ((0.05, 50.0), (0.05, 20.0)):
        d_lam, d_n0 = jax.grad(f, argnums=(0, 1))(lam, n0)
        h_lam, h_n0 = 1e-6, 1e-4
        fd_lam = (f(lam + h_lam, n0) - f(lam - h_lam, n0)) / (2 * h_lam)
        fd_n0 = (f(lam, n0 + h_n0) - f(lam, n0 - h_n0)) / (2 * h_n0)
        assert float(d_lam) == pytest.approx(float(fd_lam), rel=1e-6)
        assert float(d_n0) == pytest.approx(float(fd_n0), rel=1e-6)


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda: jc.theory.data_loop(UNDER, n0=40, generations=1, lam=0.0, generator_noise_var=S0, policy="keep"),
            "policy",
        ),
        (
            lambda: jc.theory.data_loop(UNDER, n0=40, generations=1, lam=0.0, generator_noise_var=S0, design="new"),
            "design",
        ),
        (lambda: jc.theory.data_loop(UNDER, n0=0, generations=1, lam=0.0, generator_noise_var=S0), "n0"),
        (lambda: jc.theory.data_loop(UNDER, n0=40, generations=1.5, lam=0.1, generator_noise_var=S0), "generations"),
        (lambda: jc.theory.data_loop(UNDER, n0=40, generations=-1, lam=0.0, generator_noise_var=S0), "generations"),
        (lambda: jc.theory.data_loop(UNDER, n0=40, generations=1, lam=-0.1, generator_noise_var=S0), "lam"),
        (
            lambda: jc.theory.data_loop(UNDER, n0=40, generations=1, lam=0.0, generator_noise_var=-1.0),
            "generator_noise_var",
        ),
        (
            lambda: jc.simulate.data_loop(
                UNDER, n0=40, generations=1.5, lam=0.0, generator_noise_var=S0, trials=2, key=jax.random.key(0)
            ),
            "generations",
        ),
        (
            lambda: jc.simulate.data_loop(
                UNDER, n0=0, generations=1, lam=0.0, generator_noise_var=S0, trials=2, key=jax.random.key(0)
            ),
            "n0",
        ),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=f"^{match} "):
        call()


def test_invalid_points_in_a_traced_batch_are_nan():
    r = jax.jit(lambda g: jc.theory.data_loop(UNDER, n0=40.0, generations=g, lam=0.0, generator_noise_var=S0))(
        jnp.array([1.0, -1.0])
    )
    assert np.isfinite(float(r.total[0])) and np.isnan(float(r.total[1]))
    assert int(r.status[1]) == jc.Status.INVALID_INPUT
    ridge = jax.jit(lambda g: jc.theory.data_loop(UNDER, n0=40.0, generations=g, lam=0.1, generator_noise_var=S0))(
        jnp.array([2.0, 2.5])
    )
    assert np.isfinite(float(ridge.total[0])) and np.isnan(float(ridge.total[1]))
    assert int(ridge.status[1]) == jc.Status.INVALID_INPUT  # no real-G form of the ridge chains


def test_a_compressed_mixture_gives_the_same_ridge_theory():
    """`jc.compress` nodes carry multiplicities (traces) and masses (signal): every λ > 0 branch must
    count them, which a full spectrum of the same problem checks."""
    full = jc.power_law(300, 1.3, signal=1.0, noise_var=S1)
    small = jc.compress(full)
    assert small.eigs.shape[0] < 100
    g = np.array([0.0, 3.0, 20.0])
    for policy, design in (("replace", "fixed"), ("accumulate", "fixed"), ("replace", "fresh")):
        kw = dict(n0=np.array([200.0, 450.0])[:, None], generations=g, lam=0.02, generator_noise_var=S0)
        a = jc.theory.data_loop(full, policy=policy, design=design, **kw)
        b = jc.theory.data_loop(small, policy=policy, design=design, **kw)
        np.testing.assert_allclose(b.total, a.total, rtol=1e-8)
