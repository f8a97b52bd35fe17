r"""Spectral compression: a long smooth spectrum replaced by a few hundred quadrature nodes.

Every trace the theory kernels take is a sum $\sum_j \nu_j\, g(s_j; x)$ over the $d$ directions, with
$\nu$ one of four measures (the direction count, $\Gamma_j s_j$, $\Delta_j s_j$, and for fixed
teachers $w_{1j}^*\delta_j s_j$) and $g \in \{s^p/(s+x)^2 : p = 0, 1, 2\}$ at the point's $\kappa$ or
$\theta = x \ge 0$. In $u = \log s$ these $g$ are analytic in the strip $|\mathrm{Im}\,u| < \pi$
(the pole $s = -x$ sits at $\mathrm{Im}\,u = \pi$), whatever $x$ is. So on a bin that spans one
decade of $s$, a $q$-point Gauss rule in $u$ for the bin's own (discrete) measure converges like
$\rho^{-2q}$ with $\rho \approx 5.6$ (the Bernstein ellipse of that strip), independently of how many
eigenvalues the bin holds. A bin with at most $q$ distinct eigenvalues is kept exactly, and so are
the 12 largest distinct eigenvalues, each a node of its own: the traces do not need them, but the
operator equivalent of random features (`jc.theory.random_features(..., equivalent="operator")`)
resolves the leading directions one by one and so sees the same top of the spectrum compressed or
not.

The rule is built once (NumPy, float64, O(d) work); a kernel then costs O(nodes) per point instead of
O(d). Its error is not assumed: `compress` measures the relative error of every trace above on a grid
of $x$ spanning the spectrum (where the error peaks) and far beyond it, including $x = 0$, and takes
the fewest nodes per bin that meet `rtol`. Traces are sign-definite in $x$ and the error is a smooth
function of $\log x$, so the grid (4 points per decade across the spectrum, where the error peaks,
then one per decade out to 8 decades beyond either end) bounds it in between.
"""

from __future__ import annotations

import numpy as np

from ._problem import Mixture
from ._validate import check_scalar

_NODES_PER_BIN = (4, 6, 8, 12, 16, 24, 32)
EXACT_TOP = 12  # the largest distinct eigenvalues kept as nodes of their own
_CHECK_PER_DECADE = 4
_CHECK_BEYOND = 8.0  # decades checked beyond each end of the spectrum


def compress(mix: Mixture, *, rtol: float = 1e-10, bin_ratio: float = 10.0) -> Mixture:
    r"""A compressed copy of `mix`: quadrature nodes standing for its $d$ directions.

    **Arguments:**

    - `mix`: a `Mixture` with $\Sigma_2 = \Sigma_1$ (random or fixed teachers).
    - `rtol`: the largest relative error allowed on any trace the theory takes (see the module
      docstring), measured, not estimated; in `(0, 1e-3]`.
    - `bin_ratio`: $s_{\max}/s_{\min}$ within one bin, in `[1.5, 1e3]`.

    **Returns:** a `Mixture` with `compressed` true, `d` the original dimension and a few nodes per
    bin and measure (for a power law, about 8 per decade of eigenvalues per distinct measure). Theory
    kernels accept it unchanged and cost O(nodes) per point; simulators refuse it. Gradients flow
    through the kernels' scalars (n, m, p2, λ, ...), not through the compression.

    Raises `ValueError` if no rule up to 32 nodes per bin meets `rtol`.
    """
    if not isinstance(mix, Mixture):
        raise ValueError(f"mix must be a Mixture, got {type(mix).__name__}")
    if mix.compressed:
        raise ValueError("mix is already compressed")
    if not mix.same_covariance:
        raise ValueError("compress needs Σ2 = Σ1 (synthetic_eigs=None): the two spectra would need one rule")
    rtol = float(check_scalar("rtol", rtol, low=0.0, high=1e-3, strict=True, scalar=True))
    if not 0.0 < rtol <= 1e-3:
        raise ValueError(f"rtol must be in (0, 1e-3], got {rtol!r}")
    bin_ratio = float(check_scalar("bin_ratio", bin_ratio, low=1.5, high=1e3, scalar=True))
    if not 1.5 <= bin_ratio <= 1e3:
        raise ValueError(f"bin_ratio must be in [1.5, 1e3], got {bin_ratio!r}")

    s = np.asarray(mix.eigs, dtype=np.float64)
    return _as_mixture(mix, _rules(s, _measures(mix, s), rtol, bin_ratio))


def compress_counts(values, counts, *, rtol: float = 1e-10, bin_ratio: float = 10.0):
    """`(nodes, masses)`: the rule of `compress` for one measure (eigenvalues `values` > 0 with counts)."""
    values = np.asarray(values, dtype=np.float64)
    nodes = _rules(values, {"count": np.asarray(counts, dtype=np.float64)}, rtol, bin_ratio)
    logs, masses = nodes["count"]
    return np.exp(logs)[::-1], masses[::-1]


def _rules(s, measures, rtol, bin_ratio):
    """Per measure `(log-nodes, masses)`: the fewest nodes per bin that meet `rtol` on every trace."""
    names = list(measures)
    check = _check_points(s)
    exact = _traces(s, np.stack([measures[k] for k in names]), check)

    # Distinct eigenvalues (ascending, in u = log s) with each measure's summed mass, then bins of
    # `bin_ratio` counted down from the largest eigenvalue: contiguous ranges of the sorted values.
    order = np.argsort(s, kind="stable")
    sorted_s = s[order]
    first = np.concatenate([[True], sorted_s[1:] != sorted_s[:-1]])
    starts = np.flatnonzero(first)
    u = np.log(sorted_s[starts])
    mass = {k: np.add.reduceat(measures[k][order], starts) for k in names}
    bins = np.floor((u[-1] - u) / np.log(bin_ratio)).astype(np.int64)
    # the largest few distinct eigenvalues are nodes of their own (one bin each), whatever the rule
    # would need: the operator equivalent of random features resolves their directions one by one
    top = min(EXACT_TOP, u.size)
    bins[u.size - top :] = -np.arange(1, top + 1)
    edges = np.concatenate([[0], np.flatnonzero(np.diff(bins)) + 1, [u.size]])
    rules = [_BinRules(u[lo:hi], {k: mass[k][lo:hi] for k in names}) for lo, hi in zip(edges[:-1], edges[1:])]

    worst = np.inf
    for q in _NODES_PER_BIN:
        nodes = {k: [np.concatenate(parts) for parts in zip(*(r.rule(k, q) for r in rules))] for k in names}
        worst = max(_worst_error(*nodes[k], exact[i], check) for i, k in enumerate(names))
        if worst <= rtol:
            return nodes
    raise ValueError(
        f"rtol={rtol:g} not reached with {_NODES_PER_BIN[-1]} nodes per bin (worst relative error {worst:.2e}): "
        "use a smaller bin_ratio or keep the full spectrum"
    )


def _measures(mix, s):
    """The measures the theory integrates against, as masses per direction."""
    out = {"count": np.ones_like(s), "signal": np.asarray(mix.signal) * s, "shift": np.asarray(mix.shift) * s}
    if mix.cross is not None:
        c = np.asarray(mix.cross) * s
        out["cross+"] = np.maximum(c, 0.0)
        out["cross-"] = np.maximum(-c, 0.0)
    return out


class _BinRules:
    """Gauss rules of every measure on one bin of distinct eigenvalues (log values `u`).

    A measure proportional to one met before in the bin shares its rule (a power law with Γ ∝ I
    needs one set of nodes for count, signal and shift alike). Rules grow by extending one Lanczos
    run, so trying more nodes costs only the new steps."""

    def __init__(self, u, masses):
        self.u = u
        lo, hi = u[0], u[-1]
        self.y = (2.0 * u - (lo + hi)) / (hi - lo) if hi > lo else np.zeros_like(u)
        self.shared = {}  # measure -> (representative, scale)
        self.runs = {}  # representative -> _Lanczos
        self.masses = masses
        shapes = []
        for name, w in masses.items():
            total = w.sum()
            if total <= 0.0:
                continue
            for rep, shape in shapes:
                if np.allclose(w / total, shape, rtol=1e-13, atol=0.0):
                    self.shared[name] = (rep, total / masses[rep].sum())
                    break
            else:
                shapes.append((name, w / total))
                self.shared[name] = (name, 1.0)

    def rule(self, name, q):
        """`(log-nodes, masses)` of measure `name` with at most q nodes."""
        if name not in self.shared:
            return np.zeros(0), np.zeros(0)
        rep, scale = self.shared[name]
        w = self.masses[rep]
        keep = w > 0
        if np.count_nonzero(keep) <= q:
            return self.u[keep], scale * w[keep]
        if rep not in self.runs:
            self.runs[rep] = _Lanczos(self.y[keep], w[keep] / w.sum())
        y, weights = self.runs[rep].gauss(q)
        lo, hi = self.u[0], self.u[-1]
        return lo + (y + 1.0) * (hi - lo) / 2.0, scale * w.sum() * weights


class _Lanczos:
    """Lanczos on diag(y) from the start vector sqrt(w) (w a probability vector): its q×q Jacobi
    matrix gives the q-point Gauss rule of the discrete measure sum_j w_j δ(y_j). For q ≤ 32 on a
    bin's points, orthogonality is lost only at rounding level; the measured check decides anyway."""

    def __init__(self, y, w):
        self.y = y
        self.basis = [np.sqrt(w)]  # only the last two vectors are kept
        self.alpha, self.beta = [], []

    def gauss(self, q):
        while len(self.alpha) < q:
            v = self.basis[-1]
            z = self.y * v
            self.alpha.append(float(v @ z))
            z -= self.alpha[-1] * v + (self.beta[-1] * self.basis[0] if self.beta else 0.0)
            for b in self.basis[-2:]:  # local reorthogonalisation (the check in `compress` guards the rest)
                z -= (b @ z) * b
            self.beta.append(float(np.linalg.norm(z)))
            self.basis = [self.basis[-1], z / self.beta[-1]]
        jacobi = np.diag(self.alpha[:q]) + np.diag(self.beta[: q - 1], 1) + np.diag(self.beta[: q - 1], -1)
        nodes, vecs = np.linalg.eigh(jacobi)
        return nodes, vecs[0] ** 2


def _check_points(s):
    """x = 0, and log-spaced x: `_CHECK_PER_DECADE` per decade over the spectrum (and one decade
    either side), where the error peaks, then one per decade out to `_CHECK_BEYOND` decades."""
    lo, hi = np.log10(s.min()) - 1.0, np.log10(s.max()) + 1.0
    inner = np.logspace(lo, hi, int(np.ceil((hi - lo) * _CHECK_PER_DECADE)) + 1)
    below = 10.0 ** (lo - np.arange(1.0, _CHECK_BEYOND))
    above = 10.0 ** (hi + np.arange(1.0, _CHECK_BEYOND))
    return np.concatenate([[0.0], below, inner, above])


def _traces(s, nu, x, block=1 << 16):
    """`(measures, 3, len(x))`: sum_j nu[i, j] s_j^p / (s_j + x)^2 for p = 0, 1, 2, over blocks of j."""
    out = np.zeros((nu.shape[0], 3, x.size))
    for start in range(0, s.size, block):
        sb, nb = s[start : start + block], nu[:, start : start + block]
        powers = np.concatenate([nb, nb * sb, nb * sb * sb])  # (3 * measures, block), p-major
        inv = 1.0 / (sb[:, None] + x[None, :])
        out += (powers @ (inv * inv)).reshape(3, nu.shape[0], x.size).transpose(1, 0, 2)
    return out


def _worst_error(logs, masses, exact, x):
    """Largest relative error of the rule `(logs, masses)` on the traces `exact` (3, len(x))."""
    approx = _traces(np.exp(logs), masses[None, :], x)[0]
    scale = np.maximum(np.abs(exact), np.finfo(float).tiny)
    return float(np.max(np.abs(approx - exact) / scale))


def _as_mixture(mix, nodes):
    """Merge the measures' nodes (identical nodes shared) into one compressed `Mixture`."""
    names = list(nodes)
    logs = np.concatenate([nodes[k][0] for k in names])
    points, inverse = np.unique(logs, return_inverse=True)
    masses = {}
    start = 0
    for k in names:
        size = nodes[k][0].size
        masses[k] = np.bincount(inverse[start : start + size], weights=nodes[k][1], minlength=points.size)
        start += size
    t = np.exp(points)
    cross = None
    if "cross+" in masses:
        cross = (masses["cross+"] - masses["cross-"]) / t
    return Mixture(
        t[::-1],
        (masses["signal"] / t)[::-1],
        (masses["shift"] / t)[::-1],
        mix.noise_var,
        None,
        mix.synthetic_noise_var,
        multiplicity=masses["count"][::-1],
        cross=None if cross is None else cross[::-1],
        dimension=mix.d,
    )
