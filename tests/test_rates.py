"""Power-law rates of *Model Collapse Demystified* against the full deterministic equivalent."""

import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc

BETA, SOURCE = 2.0, 0.5
T = np.geomspace(1e5, 1e7, 9)


@pytest.fixture(scope="module")
def spectrum():
    # d = 10^6 eigenvalues j^-β, signal energy j^-(1 + 2βr); compressed (cost independent of d)
    return jc.compress(jc.power_law(10**6, BETA, source=SOURCE, signal=1.0, noise_var=1.0))


@pytest.fixture(scope="module")
def generator_spectrum():
    # the fake-data law needs κ^(-1/β) ≪ d ≪ T (the notes' 1 + O(d/T)): d = 10^4 with T ≥ 10^5
    return jc.compress(jc.power_law(10**4, BETA, source=SOURCE, signal=1.0, noise_var=1.0))


def _slope(y):
    return np.polyfit(np.log(T), np.log(np.asarray(y)), 1)[0]


@pytest.mark.parametrize("ell", [0.5, 0.8, 1.0, 1.5])
def test_fitted_slopes_match_the_exponents(spectrum, generator_spectrum, ell):
    bias_exp, var_exp, fake_exp = jc.theory.rate_exponents(BETA, SOURCE, ell)
    r = jc.theory.retraining(
        spectrum, n=jnp.asarray(T), n0=3e6, generations=1.0, lam=jnp.asarray(T) ** -ell, generator_noise_var=1.0
    )
    assert _slope(r.bias) == pytest.approx(-float(bias_exp), abs=0.03)
    assert _slope(r.variance) == pytest.approx(-float(var_exp), abs=0.03)
    if ell <= 1.0:  # κ^(-1/β) = T^(ℓ/β) must stay well below d = 10^4
        g = jc.theory.retraining(
            generator_spectrum,
            n=jnp.asarray(T),
            n0=3e4,
            generations=1.0,
            lam=jnp.asarray(T) ** -ell,
            generator_noise_var=1.0,
        )
        assert _slope(g.collapse) == pytest.approx(float(fake_exp), abs=0.03)  # T0 fixed: the fake term grows


def test_critical_exponent_gives_the_optimal_rate(spectrum):
    ell = float(jc.theory.critical_exponent(BETA, SOURCE))
    assert ell == pytest.approx(BETA / (1 + 2 * BETA * min(SOURCE, 1.0)))
    rbar = min(SOURCE, 1.0)
    optimal = 2 * BETA * rbar / (2 * BETA * rbar + 1)
    r = jc.theory.retraining(
        spectrum, n=jnp.asarray(T), n0=3e6, generations=0.0, lam=jnp.asarray(T) ** -ell, generator_noise_var=0.0
    )
    assert _slope(r.total) == pytest.approx(-optimal, abs=0.03)
    # any other schedule is slower asymptotically: its law's slope is shallower
    for other in (0.5 * ell, 1.5 * ell):
        law = jc.theory.retraining_scaling_law(
            jnp.asarray(T) * 1e6,
            beta=BETA,
            source=SOURCE,
            ell=other,
            noise_var=1.0,
            generations=0,
            generator_noise_var=0.0,
        )
        assert _slope(law) > -optimal


def test_scaling_law_and_crossover_formulas():
    law = jc.theory.retraining_scaling_law(
        1e4, beta=2.0, source=0.5, ell=1.0, noise_var=0.1, generations=2, generator_noise_var=0.5, T0=5e3, phi0=0.5
    )
    assert float(law) == pytest.approx(1e4**-1.0 + (0.1 + 2 * 0.5 * 2 / 0.5) * 1e4**-0.5, rel=1e-12)
    t_star = float(
        jc.theory.crossover_sample_size(beta=2.0, source=0.5, ell=2.0, generations=1, generator_noise_var=0.01)
    )
    # at T*, the two terms of the law (T0 = T, σ = 0) are equal
    bias = t_star ** (-2 * 2.0 * 0.5)
    fake = 0.01 * t_star ** (-(1 - 2.0 / 2.0))
    assert bias == pytest.approx(fake, rel=1e-9)
    with pytest.raises(ValueError, match="beta"):
        jc.theory.critical_exponent(1.0, 0.5)
    with pytest.raises(ValueError, match="source"):
        jc.theory.critical_exponent(2.0, 0.0)
