r"""The spectrum of the random-feature kernel operator, for the operator equivalent of
`random_features` (`equivalent="operator"`).

**The object.** Ridge on m random features $\phi_w(x) = \sigma(w^\top x) - \mu_0(\tau)$,
$w \sim N(0, I/d)$, $x \sim N(0, \Sigma)$, has (to leading order) a test error that depends on the
features only through the eigenvalues $\Lambda_k$ of the operator $T$ with kernel
$K(x, x') = E_w\,\phi_w(x)\phi_w(x')$ on $L^2(N(0, \Sigma))$ and on the teacher's coefficients in its
eigenbasis (Defilippis, Loureiro, Misiakiewicz, *Dimension-free deterministic equivalents and scaling
laws for random feature regression*, 2024, arXiv 2405.15699). Given them, the features are equivalent
to *linear* random features of an input whose covariance is that spectrum, plus white noise of the
operator's unresolved trace $W$. That is the model `random_features` already solves (its Gaussian
equivalent is the special case "chaos 1 exact, everything else white"), so the operator equivalent
feeds it an augmented spectrum: chaos 1 at $\mu_1^2 s_j/d$ with the teacher on it, the even spectrum
below with no teacher on it, and $W$ as $\mu_*^2$.

**relu, exactly in chaos 0 and 2.** In whitened coordinates $z = \Sigma^{-1/2}x$ with the orthonormal
Hermite basis, relu$(u) = u/2 + |u|/2$: the odd part is exactly linear (chaos 1: $\Lambda_j = s_j/(4d)$,
eigenvectors $z_j$; a linear teacher lives only there). The even part is expanded at each feature's
own scale $\tau_w^2 = w^\top\Sigma w$, which on a steep spectrum varies from feature to feature (why
one common τ is not enough). With $c_2 = 1/(2\sqrt{2\pi})$ (the $He_2$ coefficient of $|g|/2$) the
feature's coefficients are $(\tau_w - \tau)/\sqrt{2\pi}$ on 1 (τ² = tr Σ/d, the centring),
$c_2\sqrt2\,s_iw_i^2/\tau_w$ on $(z_i^2 - 1)/\sqrt2$ and $2c_2\sqrt{s_is_j}\,w_iw_j/\tau_w$ on $z_iz_j$.
The operator's matrix elements are their second moments over w, reduced to integrals in one
variable by $1/\tau_w^2 = \int_0^\infty e^{-t\tau_w^2}dt$, $1/\tau_w = \pi^{-1/2}\int_0^\infty
t^{-1/2}e^{-t\tau_w^2}dt$ and $E_w[w_i^2w_j^2e^{-t\tau_w^2}] = \rho(t)(1 + 2\delta_{ij})q_iq_j$, with
$\rho(t) = \prod_k(1 + 2ts_k/d)^{-1/2}$ and $q_i = 1/(d + 2ts_i)$. With $G_{ij} = \int\rho q_iq_j\,dt$
and $e_i = E[w_i^2/\tau_w] = \pi^{-1/2}\int t^{-1/2}\rho q_i\,dt$, sign-flip symmetry makes the even
operator block-diagonal:

- pairs $z_iz_j$ ($i < j$): one eigenvalue each, $s_is_jG_{ij}/(2\pi)$;
- the block on $\{1, (z_i^2 - 1)/\sqrt2\}$: $A_{00} = (\tau^2 - \tau E\tau_w)/\pi$,
  $A_{0i} = s_i(1/d - \tau e_i)/(2\sqrt2\pi)$, $A_{ij} = s_is_jG_{ij}/(4\pi)$, $A_{ii} = 3s_i^2G_{ii}/(4\pi)$;
- chaos ≥ 4: white, of trace $\tau^2(1/4 - 3/(4\pi))$.

On a compressed spectrum (nodes $s_k$ standing for $\mu_k$ directions) every quantity depends on a
direction only through its node: pairs within a node share one eigenvalue ($\mu_k(\mu_k - 1)/2$ of
them), pairs across nodes another ($\mu_k\mu_l$); within a node the block is $aI + b\mathbf 1\mathbf
1^\top$, so $\mu_k - 1$ eigenvalues equal $a = s_k^2G_{kk}/(2\pi)$ and one node mode per node enters a
$(K + 1)\times(K + 1)$ matrix with the constant. The pair spectrum is then itself compressed.

**How exact.** Chaos 0 and 2 are exact; the truncation of chaos ≥ 4 to white noise is what remains.
It matters where the ridge is small against the features' scale on steep spectra: the chaos series of
$|u|$ converges slowly (its trace beyond order L falls like $L^{-3/2}$), and the kink of relu along
the few dominant directions puts higher-chaos eigenvalues just above the effective ridge (numbers:
`random_features`' docstring).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict

import jax
import numpy as np

from .._compress import compress_counts
from .._problem import Mixture

_C2 = 1.0 / (2.0 * math.sqrt(2.0 * math.pi))  # He₂ coefficient of |g|/2
_T_NODES = 2500  # trapezoid nodes in log t
_T_CHECK = 1e-8


def t_integrals(s, mult, d):
    r"""`(G, e)` on the nodes `s` (counts `mult`): $G_{kl} = \int_0^\infty\rho q_kq_l\,dt$ and
    $e_k = \pi^{-1/2}\int_0^\infty t^{-1/2}\rho q_k\,dt$, by the trapezoid rule in $\log t$ (the
    integrands are smooth and decay at both ends). Checked: $\sum_k\mu_ks_k\int\rho q_k\,dt = 1$."""
    u0 = math.log(d / float(mult @ s))
    u = np.linspace(u0 - 60.0, u0 + 40.0, _T_NODES)  # e_k decays only like √t as t → 0
    t = np.exp(u)
    step = np.full(u.size, u[1] - u[0])
    step[[0, -1]] *= 0.5
    rho = np.exp(-0.5 * (np.log1p(2.0 * t[:, None] * s[None, :] / d) @ mult))
    q = 1.0 / (d + 2.0 * t[:, None] * s[None, :])
    weight = step * t * rho  # dt = t du
    G = q.T @ (weight[:, None] * q)
    e = (step * np.sqrt(t) * rho) @ q / math.sqrt(math.pi)
    check = float((mult * s) @ (weight @ q))
    if not abs(check - 1.0) < _T_CHECK:  # pragma: no cover - a spectrum outside the rule's range
        raise ValueError(f"mix: the operator's t-integrals lost accuracy (check {check!r} instead of 1)")
    return G, e


def relu_even_spectrum(s, mult, d):
    """`(eigenvalues, counts, white)` of relu's even operator (chaos 0 and 2 exact, chaos ≥ 4 white)."""
    s = np.asarray(s, np.float64)
    mult = np.asarray(mult, np.float64)
    tau2 = float(mult @ s) / d
    tau = math.sqrt(tau2)
    G, e = t_integrals(s, mult, d)
    diag = np.diag(G)
    within = np.maximum(mult - 1.0, 0.0)  # a compressed node's masses need not be integers
    # pairs: within a node, and across two nodes
    iu = np.triu_indices(s.size, 1)
    values = [s**2 * diag / (2 * math.pi), (s[:, None] * s[None, :] * G)[iu] / (2 * math.pi)]
    counts = [mult * within / 2.0, (mult[:, None] * mult[None, :])[iu]]
    # the all-even block: a I + b 11ᵀ inside a node (a: μ_k - 1 zero-sum modes), node sums with the constant
    values.append(s**2 * diag / (2 * math.pi))
    counts.append(within)
    root = np.sqrt(mult)
    block = np.empty((s.size + 1, s.size + 1))
    block[0, 0] = (tau2 - tau * float((mult * s) @ e)) / math.pi
    block[0, 1:] = block[1:, 0] = root * s * (1.0 / d - tau * e) / (2 * math.sqrt(2) * math.pi)
    block[1:, 1:] = (root * s)[:, None] * (root * s)[None, :] * G / (4 * math.pi)
    block[1:, 1:][np.diag_indices(s.size)] = s**2 * diag * (3.0 + within) / (4 * math.pi)
    values.append(np.linalg.eigvalsh(block))
    counts.append(np.ones(s.size + 1))
    values, counts = np.concatenate(values), np.concatenate(counts)
    white = tau2 * (0.25 - 3.0 / (4 * math.pi))
    return values, counts, white


_BUILT: OrderedDict = OrderedDict()  # the last few spectra built (a sweep or a picture reuses one)
_KEEP = 8


def augmented(mix: Mixture, activation: str) -> tuple[Mixture, float, float]:
    """`_augmented`, remembered for the last few mixtures (keyed by their values)."""
    digest = hashlib.sha256(activation.encode())
    for leaf in jax.tree_util.tree_leaves(mix):
        leaf = np.asarray(leaf)
        digest.update(str((leaf.shape, leaf.dtype)).encode())
        digest.update(leaf.tobytes())
    key = digest.hexdigest()
    if key not in _BUILT:
        with jax.ensure_compile_time_eval():  # concrete arrays even when called inside a trace
            _BUILT[key] = _augmented(mix, activation)
        while len(_BUILT) > _KEEP:
            _BUILT.popitem(last=False)
    _BUILT.move_to_end(key)
    return _BUILT[key]


def _augmented(mix: Mixture, activation: str, rtol: float = 1e-10) -> tuple[Mixture, float, float]:
    r"""`(mixture, μ1, W)`: the spectrum the operator equivalent feeds to the random-feature kernel.

    The returned mixture is compressed with `dimension` = the original d (the scale of the projection
    rows): its first entries are `mix`'s own (chaos 1, the teachers on them), then the even spectrum
    as $d\Lambda/\mu_1^2$ with no teacher on it. `W` is the white trace (the kernel's $\mu_*^2$)."""
    s = np.asarray(mix.eigs, np.float64)
    mult = np.ones_like(s) if mix.multiplicity is None else np.asarray(mix.multiplicity, np.float64)
    d = float(mix.d)
    if activation == "linear":
        return _with_even(mix, np.zeros(0), np.zeros(0)), 1.0, 0.0
    mu1 = 0.5
    values, counts, white = relu_even_spectrum(s, mult, d)
    keep = (values > 1e-15 * values.max()) & (counts > 0)
    white += float(counts[~keep] @ np.maximum(values[~keep], 0.0))  # rounding-level eigenvalues
    scaled = d * values[keep] / mu1**2
    nodes, masses = compress_counts(scaled, counts[keep], rtol=rtol)
    return _with_even(mix, nodes, masses), mu1, white


def _with_even(mix, nodes, masses):
    k = nodes.size
    zeros = np.zeros(k)
    mult = np.ones(mix.eigs.shape[0]) if mix.multiplicity is None else np.asarray(mix.multiplicity)
    cross = None
    if mix.cross is not None:
        cross = np.concatenate([np.asarray(mix.cross), zeros])
    return Mixture(
        np.concatenate([np.asarray(mix.eigs), nodes]),
        np.concatenate([np.asarray(mix.signal), zeros]),
        np.concatenate([np.asarray(mix.shift), zeros]),
        mix.noise_var,
        None,
        mix.synthetic_noise_var,
        multiplicity=np.concatenate([mult, masses]),
        cross=cross,
        dimension=mix.d,
    )
