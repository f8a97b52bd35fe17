"""Activations shared by the random-features theory, its simulator and the networks of `jc.nn`:
the functions themselves and their Hermite constants (a neutral module: theory, simulate and nn
all read it, none of them reads another)."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS = ("relu", "tanh", "erf", "linear")
FUNCTIONS = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "erf": jax.scipy.special.erf,
    "linear": lambda x: x,
}


def check_activation(activation) -> str:
    """`activation` if it names one of `ACTIVATIONS`, else a `ValueError` listing them."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return activation


@functools.cache
def activation_constants(activation: str) -> tuple[float, float, float]:
    r"""$(\mu_0, \mu_1, \mu_*)$ of an activation for a standard normal input $g$:
    $\mu_0 = E\sigma(g)$, $\mu_1 = E g\sigma(g)$, $\mu_*^2 = E\sigma(g)^2 - \mu_0^2 - \mu_1^2$.

    relu: $(1/\sqrt{2\pi},\ 1/2,\ \sqrt{1/4 - 1/(2\pi)})$; erf: $(0,\ 2/\sqrt{3\pi},\ \sqrt{(2/\pi)\arcsin(2/3) -
    4/(3\pi)})$; linear: (0, 1, 0); tanh: by 200-point Gauss–Hermite quadrature (smooth integrand).
    """
    check_activation(activation)
    if activation == "relu":
        mu0, mu1, second = 1 / math.sqrt(2 * math.pi), 0.5, 0.5
    elif activation == "erf":
        mu0, mu1, second = 0.0, 2 / math.sqrt(3 * math.pi), (2 / math.pi) * math.asin(2 / 3)
    elif activation == "linear":
        mu0, mu1, second = 0.0, 1.0, 1.0
    else:  # tanh
        t, w = np.polynomial.hermite_e.hermegauss(200)
        w = w / w.sum()
        s = np.tanh(t)
        mu0, mu1, second = float(w @ s), float(w @ (t * s)), float(w @ s**2)
    return mu0, mu1, math.sqrt(max(second - mu0**2 - mu1**2, 0.0))


_TANH_NODES, _TANH_RANGE = 4001, 13.0  # trapezoidal nodes for tanh on [-13, 13] (1e-13 at τ ≤ 20)


def constants_at(activation: str, tau):
    r"""$(\mu_0, \mu_1, \mu_*^2)$ at pre-activation scale $\tau$ (traceable in $\tau$): for $u = \tau g$,
    $\sigma(u) = \mu_0 + \mu_1 u + (\text{a part uncorrelated with } u \text{ of variance } \mu_*^2)$, i.e.
    $\mu_0 = E\sigma(\tau g)$, $\mu_1 = E[g\sigma(\tau g)]/\tau$, $\mu_*^2 = \mathrm{Var}\,\sigma(\tau g) - \mu_1^2\tau^2$.
    At $\tau = 1$ these are `activation_constants` (with $\mu_*$ squared).

    relu is homogeneous: $(\tau/\sqrt{2\pi},\ 1/2,\ \tau^2(1/4 - 1/(2\pi)))$; erf in closed form,
    $\mu_1 = \frac{2}{\sqrt\pi}(1 + 2\tau^2)^{-1/2}$, $E\,\mathrm{erf}(\tau g)^2 = \frac2\pi\arcsin\frac{2\tau^2}{1 + 2\tau^2}$;
    linear: (0, 1, 0); tanh by the trapezoidal rule on [-13, 13] (4001 nodes).
    """
    check_activation(activation)
    tau = jnp.asarray(tau)
    if activation == "relu":
        return tau / math.sqrt(2 * math.pi), 0.5 + 0.0 * tau, tau**2 * (0.25 - 1 / (2 * math.pi))
    if activation == "linear":
        return 0.0 * tau, 1.0 + 0.0 * tau, 0.0 * tau
    if activation == "erf":
        mu1 = (2 / math.sqrt(math.pi)) / jnp.sqrt(1 + 2 * tau**2)
        second = (2 / math.pi) * jnp.arcsin(2 * tau**2 / (1 + 2 * tau**2))
        return 0.0 * tau, mu1, jnp.maximum(second - mu1**2 * tau**2, 0.0)
    # the trapezoidal rule on the Gaussian weight: geometric in 1/h for tanh's poles at ±iπ/(2τ)
    # (Gauss–Hermite converges slowly once τ > 1)
    t = np.linspace(-_TANH_RANGE, _TANH_RANGE, _TANH_NODES)
    w = np.exp(-t * t / 2)
    t, w = jnp.asarray(t, tau.dtype), jnp.asarray(w / w.sum(), tau.dtype)
    values = jnp.tanh(tau[..., None] * t)
    mu1 = jnp.sum(w * t * values, axis=-1) / tau
    return 0.0 * tau, mu1, jnp.maximum(jnp.sum(w * values**2, axis=-1) - mu1**2 * tau**2, 0.0)


def mean_at(activation: str, tau):
    r"""$\mu_0(\tau) = E\,\sigma(\tau g)$, $g \sim N(0, 1)$: the feature mean at pre-activation scale $\tau$
    (traceable in $\tau$). relu is homogeneous, $\mu_0(\tau) = \tau/\sqrt{2\pi}$; tanh, erf and linear
    are odd, $\mu_0 = 0$ at every scale."""
    check_activation(activation)
    return tau * activation_constants("relu")[0] if activation == "relu" else jnp.zeros_like(tau)
