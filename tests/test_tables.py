"""The checkable numbers of *Strong Model Collapse* (Dohmatob et al., ICLR 2025) for ridge on a mixture: two independently computed reference tables (T1, T2) and the fixed-teacher cross term (D1)."""

import jax.numpy as jnp
import pytest
from conftest import close_to_table

import jaxcollapse as jc

# phi, lam, p2, r2, c2, sigma2 | kappa, u, B, V, zeta, E   (T1, isotropic, classical)
T1 = [
    ("0.5", "0.1", "0.2", 1, 1, 1, "0.174166", "0.569045", "0.034522", "0.569045", "0.120562", "0.724129"),
    ("0.5", "0", "0.2", 1, 1, 1, "0", "1", "0", "1", "0.2", "1.2"),
    ("2", "0", "0.2", 1, 0.5, 0.25, "1", "1", "0.5", "0.25", "0.09", "0.84"),
    ("2", "0.1", "0.3", 1, 0.5, 0.25, "1.184429", "0.721571", "0.506136", "0.180393", "0.094742", "0.781270"),
    ("1", "0.05", "0.1", 1, 1, 0.5, "0.25", "1.777778", "0.111111", "0.888889", "0.167111", "1.167111"),
]


def _check_row(risk, kappa, B, V, zeta, E):
    assert int(risk.status) == jc.Status.OK
    for value, printed in [
        (risk.kappa, kappa),
        (risk.bias, B),
        (risk.variance, V),
        (risk.collapse, zeta),
        (risk.total, E),
    ]:
        assert close_to_table(value, printed), (float(value), printed)


@pytest.mark.parametrize("row", T1)
@pytest.mark.parametrize("how", ["closed_form", "scalar_solver", "coupled_solver"])
def test_T1(row, how):
    phi, lam, p2, r2, c2, s2, kappa, _u, B, V, zeta, E = row
    phi, lam, p2 = float(phi), float(lam), float(p2)
    d = 200
    if how == "closed_form":
        risk = jc.theory.ridge_isotropic(phi=phi, p2=p2, lam=lam, signal=r2, shift=c2, noise_var=s2)
    else:
        mix = jc.isotropic(d, signal=r2, shift=c2, noise_var=s2)
        if how == "coupled_solver":  # Σ2 given explicitly: the general (e1, e2) path
            mix = jc.Mixture(mix.eigs, mix.signal, mix.shift, s2, synthetic_eigs=mix.eigs)
        risk = jc.theory.ridge(mix, n=d / phi, p2=p2, lam=lam)
    _check_row(risk, kappa, B, V, zeta, E)


def test_T1_last_row_small_bias():
    # phi = 0.1, lam = 1e-3: B is "~1e-6" in the table; everything else to its printed precision.
    risk = jc.theory.ridge(jc.isotropic(100, noise_var=1.0), n=1000, p2=0.1, lam=1e-3)
    assert close_to_table(risk.kappa, "0.001111")
    assert close_to_table(risk.variance, "0.110837")
    assert close_to_table(risk.collapse, "0.019953")
    assert close_to_table(risk.total, "0.130792")
    assert 5e-7 < float(risk.bias) < 5e-6


def _t2_mixture():
    d = 200
    s = jnp.arange(1, d + 1.0) ** -1.5
    return jc.Mixture(s, jnp.full(d, 1 / d), jnp.full(d, 0.5 / d), 0.1)


@pytest.mark.parametrize(
    "n, kappa, u, B, V, zeta, E",
    [
        (100, "0.00315635", "0.559051", "7.98651e-4", "0.0559051", "7.72554e-4", "0.0574763"),
        (400, "0.0013306", "0.179148", "3.02896e-4", "0.0179148", "4.03803e-4", "0.0186215"),
    ],
)
def test_T2(n, kappa, u, B, V, zeta, E):
    mix = _t2_mixture()
    assert close_to_table(mix.quality, "0.00617783")
    _check_row(jc.theory.ridge(mix, n=n, p2=0.2, lam=1e-3), kappa, B, V, zeta, E)


@pytest.mark.parametrize("coupled", [False, True])
def test_D1_fixed_teachers_cross_term(coupled):
    d = 400
    w = jnp.full(d, 1 / jnp.sqrt(d))
    mix = jc.fixed_teachers(jnp.ones(d), w, 1.5 * w, noise_var=0.1, synthetic_eigs=jnp.ones(d) if coupled else None)
    risk = jc.theory.ridge(mix, n=800, p2=0.3, lam=0.1)
    # The table lists zeta = 0.046477 and cross = -0.034143 separately; Risk.collapse holds their sum.
    _check_row(risk, "0.174166", "0.034522", "0.056904", "0.012334", "0.103761")
    no_cross = jc.theory.ridge(jc.Mixture(mix.eigs, mix.signal, mix.shift, 0.1), n=800, p2=0.3, lam=0.1)
    assert close_to_table(no_cross.collapse, "0.046477")
    assert close_to_table(risk.collapse - no_cross.collapse, "-0.034143")


# phi, psi, p2, lam | theta, kappa, B, V, zeta, E  (T3: random projections, isotropic, r2=1, sigma2=0.25, c2=0.5)
T3 = [
    ("1.5", "0.5", "0.2", "1e-2", "2.08634", "0.0194557", "1.26477", "0.224019", "0.089942", "1.57874"),
    ("1.5", "2", "0.2", "1e-2", "0.541576", "0.370788", "0.636233", "0.632024", "0.22092", "1.48918"),
    ("2", "0.5", "0.2", "0", "3", "0", "1.5", "0.25", "0.1", "1.85"),
    ("2", "2", "0.3", "0", "1", "0.5", "1", "0.5", "0.255", "1.755"),
]


@pytest.mark.parametrize("row", T3)
@pytest.mark.parametrize("d", [300, 1200])
def test_T3(row, d):
    """Isotropic values depend only on (phi, psi): every d must give the table."""
    phi, psi, p2, lam, theta, kappa, B, V, zeta, E = row
    n = d / float(phi)
    mix = jc.isotropic(d, signal=1.0, shift=0.5, noise_var=0.25)
    risk = jc.theory.random_projections(mix, n=n, m=float(psi) * n, p2=float(p2), lam=float(lam))
    assert close_to_table(risk.theta, theta), (float(risk.theta), theta)
    _check_row(risk, kappa, B, V, zeta, E)


# T4: ridgeless, phi = 2, p2 = 0.2, c2 = 0.5, r2 = 1, sigma = 0
T4_PSI = ["0.1", "0.25", "0.5", "0.75", "0.9", "1.1", "1.5", "2", "4", "10", "100", "inf"]
T4_B = ["1.05556", "1.16667", "1.5", "2.5", "5.5", "5.5", "1.5", "1", "0.66667", "0.55556", "0.50505", "0.5"]
T4_ZETA = ["0.012", "0.035", "0.1", "0.285", "0.828", "0.99", "0.27", "0.18", "0.12", "0.1", "0.09091", "0.09"]


def test_T4():
    d = 400
    n = d / 2
    mix = jc.isotropic(d, signal=1.0, shift=0.5, noise_var=0.0)
    psi = jnp.array([1e12 if p == "inf" else float(p) for p in T4_PSI])
    risk = jc.theory.random_projections(mix, n=n, m=psi * n, p2=0.2, lam=0.0)
    assert jnp.all(risk.status == jc.Status.OK)
    assert jnp.all(risk.variance == 0)
    for i in range(len(T4_PSI)):
        assert close_to_table(risk.bias[i], T4_B[i]), (T4_PSI[i], float(risk.bias[i]))
        assert close_to_table(risk.collapse[i], T4_ZETA[i]), (T4_PSI[i], float(risk.collapse[i]))
