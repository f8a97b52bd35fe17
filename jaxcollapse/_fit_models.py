r"""The named model families `jc.fit` knows: `"ridge"`, `"random-projections"`, `"retraining"`, `"tails"`,
and `"power-law"`, the generic law $E_\infty + An^{-\alpha}$ with no theory behind it (the baseline the
theories are compared with, one curve per setting of the other columns: fit each p2 separately).

Each family is a theory kernel on a parametric problem: the mixtures and the retraining chain on
`jc.power_law(d, β, source=r, signal=…, shift=tr ΣΔ, noise_var=σ²)`, the tails on a Zipf law of
exponent β cut at rank k and mixed with a fraction p1 of clean data (`jc.tails.mix`). A family names
its fittable parameters (with defaults, used when a parameter is neither free nor fixed, and default
bounds, used by the command line when `--free` gives none), the columns it reads from the data (or
from `fixed`), and the keywords that must stay Python values (`d`).

The tails' cut k is an integer rank: it is fitted by profiling over integers (every integer in its
bounds when there are at most `grid` of them, else `grid` log-spaced integers), never by a
continuous relaxation, so every fitted curve is one the model can produce.
"""

from __future__ import annotations

import dataclasses
import functools

import jax.numpy as jnp
import numpy as np

from . import tails as _tails, theory as _theory
from ._problem import Mixture

__all__ = ["FAMILIES", "Family"]


@dataclasses.dataclass(frozen=True)
class Family:
    """A named model for `jc.fit`: `kernel(**params, **columns, **static)` → predicted error."""

    name: str
    kernel: object  # a module-level function (hashable: compiled fits are cached per kernel)
    params: dict  # fittable parameters: {name: default}
    bounds: dict  # default bounds of each fittable parameter
    columns: tuple  # keywords read from the data (or fixed), all required
    optional: dict  # more columns with their defaults
    static: dict  # keywords kept as Python values, with their defaults (None: must be given)
    required: tuple = ("beta",)  # parameters with no default: free or fixed
    integer: tuple = ()  # parameters profiled over integers
    description: str = ""


_EXACT = 32  # indices kept one by one (`index_rule`)
_PANEL_NODES = 8  # nodes per octave beyond them


@functools.lru_cache(maxsize=16)
def index_rule(d: int) -> tuple[np.ndarray, np.ndarray]:
    r"""`(j, w)`: a quadrature for sums over the indices, $\sum_{j=1}^d g(j) \approx \sum_k w_kg(j_k)$,
    that does not depend on the function: the first 32 indices exactly, then each octave
    $[2^p, 2^{p+1})$ by the 8-point Gauss rule of the uniform measure on its integers (exact for
    polynomials of degree 15 in j there). For $g(j) = f(j^{-\beta})$ with f smooth — every trace the
    theory takes of a power law — the error is about 1e-9 relative (`tests/test_fit.py`), and the
    nodes stay fixed while β is traced: a fit's power law costs O(log d) instead of O(d)."""
    nodes, weights = [np.arange(1.0, min(d, _EXACT) + 1)], [np.ones(min(d, _EXACT))]
    start = _EXACT + 1
    while start <= d:
        stop = min(2 * start - 1, d)
        x = np.arange(start, stop + 1, dtype=np.float64)
        if x.size <= _PANEL_NODES:
            nodes.append(x)
            weights.append(np.ones(x.size))
        else:
            # Stieltjes: the recurrence of the polynomials orthogonal on these integers (scaled
            # to [-1, 1]), then Golub–Welsch
            u = (2 * x - (start + stop)) / (stop - start)
            p_prev, p = np.zeros_like(u), np.ones_like(u)
            norm_prev, alpha, beta = 1.0, [], []
            for k in range(_PANEL_NODES):
                norm = p @ p
                alpha.append((u * p) @ p / norm)
                if k:
                    beta.append(norm / norm_prev)
                p_prev, p, norm_prev = p, (u - alpha[-1]) * p - (beta[-1] if k else 0.0) * p_prev, norm
            J = np.diag(alpha) + np.diag(np.sqrt(beta), 1) + np.diag(np.sqrt(beta), -1)
            theta, vectors = np.linalg.eigh(J)
            nodes.append((start + stop) / 2 + theta * (stop - start) / 2)
            weights.append(x.size * vectors[0] ** 2)
        start = stop + 1
    return np.concatenate(nodes), np.concatenate(weights)


def _mixture(d, beta, source, signal, shift, noise_var):
    """`power_law(d, β, …)` as a compressed mixture on `index_rule(d)`'s nodes (β may be traced)."""
    j, w = (jnp.asarray(a) for a in index_rule(int(d)))
    eigs = j ** (-beta)
    gamma = jnp.ones_like(j) if source is None else j ** (-(1.0 + 2.0 * beta * source)) / eigs
    signal_mass = w * gamma * signal / jnp.sum(w * eigs * gamma)
    shift_mass = w * shift / jnp.sum(w * eigs)
    return Mixture(eigs, signal_mass, shift_mass, noise_var, multiplicity=w, dimension=d)


def ridge_model(*, beta, signal, shift, noise_var, n, p2, lam, weight=1.0, source=None, d=1000):
    """Ridge on a real + synthetic mixture (Strong Model Collapse, Theorem 1) on a power law."""
    mix = _mixture(d, beta, source, signal, shift, noise_var)
    return _theory.ridge(mix, n=n, p2=p2, lam=lam, weight=weight).total


def random_projections_model(*, beta, signal, shift, noise_var, n, m, p2, lam, source=None, d=1000):
    """Ridge on m random projections of a real + synthetic mixture on a power law."""
    mix = _mixture(d, beta, source, signal, shift, noise_var)
    return _theory.random_projections(mix, n=n, m=m, p2=p2, lam=lam).total


def retraining_model(*, beta, signal, noise_var, generator_noise_var, n, n0, generations, lam, source=None, d):
    """Ridge trained on labels of the `generations`-th model of a self-training chain, on a power law."""
    mix = _mixture(d, beta, source, signal, 1.0, noise_var)
    return _theory.retraining(
        mix, n=n, n0=n0, generations=generations, lam=lam, generator_noise_var=generator_noise_var
    ).total


def tails_model(*, beta, k, p1, T):
    """Zipf(β) test data; T training samples, a fraction p1 clean and the rest cut at rank k (`jc.tails.mix`)."""
    return _tails.mix(beta, T=T, k=k, p1=p1).total


def power_law_curve(*, floor, amplitude, alpha, n):
    """The generic law E = E∞ + A n^(−α): `floor` E∞, `amplitude` A, exponent `alpha` α."""
    return floor + amplitude * n ** (-alpha)


_POWER_LAW = dict(beta=None, signal=1.0, shift=1.0, noise_var=0.0, source=None)
_POWER_LAW_BOUNDS = dict(
    beta=(1.01, 5.0), signal=(1e-3, 1e3), shift=(1e-4, 1e2), noise_var=(1e-6, 10.0), source=(0.05, 5.0)
)

FAMILIES = {
    "ridge": Family(
        "ridge",
        ridge_model,
        params=_POWER_LAW,
        bounds=_POWER_LAW_BOUNDS,
        columns=("n", "p2", "lam"),
        optional=dict(weight=1.0),
        static=dict(d=1000),
        description="ridge on a real + synthetic mixture (jc.theory.ridge on jc.power_law)",
    ),
    "random-projections": Family(
        "random-projections",
        random_projections_model,
        params=_POWER_LAW,
        bounds=_POWER_LAW_BOUNDS,
        columns=("n", "m", "p2", "lam"),
        optional={},
        static=dict(d=1000),
        description="ridge on m random projections of the mixture (jc.theory.random_projections)",
    ),
    "retraining": Family(
        "retraining",
        retraining_model,
        params={**{k: v for k, v in _POWER_LAW.items() if k != "shift"}, "generator_noise_var": 0.0},
        bounds={**{k: v for k, v in _POWER_LAW_BOUNDS.items() if k != "shift"}, "generator_noise_var": (1e-6, 10.0)},
        columns=("n", "n0", "generations", "lam"),
        optional={},
        static=dict(d=None),
        description="ridge on labels of a self-training chain's G-th model (jc.theory.retraining)",
    ),
    "tails": Family(
        "tails",
        tails_model,
        params=dict(beta=None, k=None, p1=0.0),
        bounds=dict(beta=(1.05, 4.0), k=(1.0, 1e6), p1=(1e-4, 1.0)),
        columns=("T",),
        optional={},
        static={},
        required=("beta", "k"),
        integer=("k",),
        description="Zipf tails cut at rank k, mixed with a fraction p1 of clean data (jc.tails.mix)",
    ),
    "power-law": Family(
        "power-law",
        power_law_curve,
        params=dict(floor=None, amplitude=None, alpha=None),
        bounds=dict(floor=(1e-8, 1e3), amplitude=(1e-6, 1e6), alpha=(0.01, 5.0)),
        columns=("n",),
        optional={},
        static={},
        required=("floor", "amplitude", "alpha"),
        description="the generic law E∞ + A n^−α (no theory behind it; one curve: fit each setting separately)",
    ),
}


def integer_grid(lo: float, hi: float, size: int) -> jnp.ndarray:
    """The integers profiled for a parameter with bounds (lo, hi): all of them when there are at most
    `size`, else `size` log-spaced ones (rounded, distinct)."""
    import numpy as np

    first, last = int(np.ceil(lo)), int(np.floor(hi))
    if last < first:
        raise ValueError(f"bounds ({lo:g}, {hi:g}) contain no integer")
    if last - first + 1 <= size:
        return np.arange(first, last + 1, dtype=float)
    values = np.unique(np.round(np.geomspace(max(first, 1), last, size)))
    return values.astype(float)
