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


def mean_at(activation: str, tau):
    r"""$\mu_0(\tau) = E\,\sigma(\tau g)$, $g \sim N(0, 1)$: the feature mean at pre-activation scale $\tau$
    (traceable in $\tau$). relu is homogeneous, $\mu_0(\tau) = \tau/\sqrt{2\pi}$; tanh, erf and linear
    are odd, $\mu_0 = 0$ at every scale."""
    check_activation(activation)
    return tau * activation_constants("relu")[0] if activation == "relu" else jnp.zeros_like(tau)
