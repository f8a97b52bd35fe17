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
- chaos 4 (`order=4`, the default) on the `TOP` = 10 largest eigenvalues that stand for one
  coordinate each: with $b_4 = -1/(24\sqrt{2\pi})$ the feature's coefficient on the orthonormal
  direction α ($|\alpha| = 4$) is $24\,b_4\,s^{\alpha/2}w^\alpha\tau_w^{-3}/\sqrt{\alpha!}$; its matrix
  elements with the others are again integrals in one variable (`_chaos_four`). By sign flips, the
  all-even directions $4e_i$, $2e_i + 2e_j$ join the block above, those of odd pattern {i, j}
  ($3e_i + e_j$, $e_i + 3e_j$, $e_i + e_j + 2e_k$) join the pair $z_iz_j$ in a block of their own, and
  each $e_i + e_j + e_k + e_l$ is an eigenvector alone;
- the rest of chaos ≥ 4 white, of trace $\tau^2(1/4 - 3/(4\pi))$ less what chaos 4 resolved (the
  whole chaos-4 trace is $\tau^2/(48\pi)$).

On a compressed spectrum (nodes $s_k$ standing for $\mu_k$ directions) every quantity depends on a
direction only through its node: pairs within a node share one eigenvalue ($\mu_k(\mu_k - 1)/2$ of
them), pairs across nodes another ($\mu_k\mu_l$); within a node the block is $aI + b\mathbf 1\mathbf
1^\top$, so $\mu_k - 1$ eigenvalues equal $a = s_k^2G_{kk}/(2\pi)$ and one node mode per node enters a
$(K + 1)\times(K + 1)$ matrix with the constant. The pair spectrum is then itself compressed.

`compress` keeps the 12 largest distinct eigenvalues as nodes of their own, so a compressed power
law has the same top coordinates as the full one.

**How exact.** Chaos 0 and 2 are exact, chaos 4 on the top coordinates; the truncation of the rest to
white noise is what remains. It matters where the ridge is small against the features' scale on
steep spectra: the chaos series of $|u|$ converges slowly (its trace beyond order L falls like
$L^{-3/2}$), and the kink of relu along the few dominant directions puts higher-chaos eigenvalues just
above the effective ridge (numbers: `random_features`' docstring). Ten top coordinates are enough for
chaos 4: on β = 2 scaled to tr Σ = d (d = 300, the 24 points of the docs' table) the error moves by
at most 12 % from none to 4, 2.7 % from 4 to 10, 0.6 % from 10 to 15 and 0.3 % from 15 to 20.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import OrderedDict

import jax
import numpy as np

from .._compress import compress_counts
from .._problem import Mixture

_C2 = 1.0 / (2.0 * math.sqrt(2.0 * math.pi))  # He₂ coefficient of |g|/2
# b_k: the He_k/k! coefficients of |g|/2 (E[|g|He_k(g)]/(2 k!)) for k = 0, 2, 4
_B = {0: 1.0 / math.sqrt(2.0 * math.pi), 2: _C2, 4: -1.0 / (24.0 * math.sqrt(2.0 * math.pi))}
ORDERS = (2, 4)  # the highest chaos kept exactly (4: on the TOP largest single coordinates)
TOP = 10
_STRIDE = 5
_T_NODES = 2500  # trapezoid nodes in log t
_T_CHECK = 1e-8


def _grid(s, mult, d):
    r"""The trapezoid rule in $u = \log t$: `(t, step, ρ(t), q(t))` on the nodes `s` (counts `mult`)."""
    u0 = math.log(d / float(mult @ s))
    u = np.linspace(u0 - 60.0, u0 + 40.0, _T_NODES)  # e_k decays only like √t as t → 0
    t = np.exp(u)
    step = np.full(u.size, u[1] - u[0])
    step[[0, -1]] *= 0.5
    rho = np.exp(-0.5 * (np.log1p(2.0 * t[:, None] * s[None, :] / d) @ mult))
    q = 1.0 / (d + 2.0 * t[:, None] * s[None, :])
    return t, step, rho, q


def t_integrals(s, mult, d):
    r"""`(G, e)` on the nodes `s` (counts `mult`): $G_{kl} = \int_0^\infty\rho q_kq_l\,dt$ and
    $e_k = \pi^{-1/2}\int_0^\infty t^{-1/2}\rho q_k\,dt$, by the trapezoid rule in $\log t$ (the
    integrands are smooth and decay at both ends). Checked: $\sum_k\mu_ks_k\int\rho q_k\,dt = 1$."""
    t, step, rho, q = _grid(s, mult, d)
    weight = step * t * rho  # dt = t du
    G = q.T @ (weight[:, None] * q)
    e = (step * np.sqrt(t) * rho) @ q / math.sqrt(math.pi)
    check = float((mult * s) @ (weight @ q))
    if not abs(check - 1.0) < _T_CHECK:  # pragma: no cover - a spectrum outside the rule's range
        raise ValueError(f"mix: the operator's t-integrals lost accuracy (check {check!r} instead of 1)")
    return G, e


def relu_even_spectrum(s, mult, d, order=4, top=TOP):
    """`(eigenvalues, counts, white)` of relu's even operator: chaos 0 and 2 exact; with `order=4`
    also chaos 4 on the `top` largest directions that are single coordinates (`top_nodes`); the rest
    of chaos ≥ 4 white."""
    s = np.asarray(s, np.float64)
    mult = np.asarray(mult, np.float64)
    tau2 = float(mult @ s) / d
    tau = math.sqrt(tau2)
    G, e = t_integrals(s, mult, d)
    diag = np.diag(G)
    within = np.maximum(mult - 1.0, 0.0)  # a compressed node's masses need not be integers
    # pairs: within a node, and across two nodes
    iu = np.triu_indices(s.size, 1)
    pair_counts = (mult[:, None] * mult[None, :])[iu]
    values = [s**2 * diag / (2 * math.pi), (s[:, None] * s[None, :] * G)[iu] / (2 * math.pi)]
    counts = [mult * within / 2.0, pair_counts]
    # the all-even block: a I + b 11ᵀ inside a node (a: μ_k - 1 zero-sum modes), node sums with the constant
    values.append(s**2 * diag / (2 * math.pi))
    counts.append(within)
    root = np.sqrt(mult)
    block = np.empty((s.size + 1, s.size + 1))
    block[0, 0] = (tau2 - tau * float((mult * s) @ e)) / math.pi
    block[0, 1:] = block[1:, 0] = root * s * (1.0 / d - tau * e) / (2 * math.sqrt(2) * math.pi)
    block[1:, 1:] = (root * s)[:, None] * (root * s)[None, :] * G / (4 * math.pi)
    block[1:, 1:][np.diag_indices(s.size)] = s**2 * diag * (3.0 + within) / (4 * math.pi)
    white = tau2 * (0.25 - 3.0 / (4 * math.pi))
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    chosen = top_nodes(s, mult, top) if order == 4 else np.zeros(0, int)
    if chosen.size:
        block, blocks, kept_trace = _chaos_four(s, mult, d, tau, chosen, block)
        # the pairs of two chosen coordinates now live in their blocks with chaos 4
        in_top = np.isin(iu[0], chosen) & np.isin(iu[1], chosen)
        counts[1] = np.where(in_top, 0.0, pair_counts)
        values.append(blocks)
        counts.append(np.ones(blocks.size))
        white -= kept_trace
    values.append(np.linalg.eigvalsh(block))
    counts.append(np.ones(block.shape[0]))
    values, counts = np.concatenate(values), np.concatenate(counts)
    return values, counts, max(white, 0.0)


def top_nodes(s, mult, top=TOP):
    """The nodes chaos 4 is kept on: the largest eigenvalues that stand for one coordinate each
    (multiplicity 1), in decreasing order, at most `top`, stopping at the first node that stands for
    several (or a fraction)."""
    chosen = []
    for k in np.argsort(-s, kind="stable"):
        if mult[k] == 0.0:
            continue
        if mult[k] != 1.0 or len(chosen) == top:
            break
        chosen.append(k)
    return np.asarray(chosen, int)


_gammaln = np.vectorize(math.lgamma, otypes=[np.float64])


def _double_factorial_odd(g):
    """(g − 1)!! for even g ≥ 0, elementwise, as floats."""
    g = np.asarray(g, np.float64)
    return np.exp(_gammaln(g + 1) - (g / 2) * math.log(2.0) - _gammaln(g / 2 + 1))


def _chaos_four(s, mult, d, tau, chosen, block):
    r"""Chaos 4 on the `chosen` coordinates (K of them): returns the all-even `block` grown by its
    K + K(K − 1)/2 all-even chaos-4 directions, the eigenvalues of the other sectors it enters (one
    block per pair i < j with $z_iz_j$ and the chaos-4 directions of odd pattern {i, j}; one value
    per four distinct coordinates), and the chaos-4 trace so resolved.

    A feature's coefficient on the orthonormal Hermite direction α of chaos k is
    $P_k(\alpha)\,w^\alpha\tau_w^{1-k}$ with $P_k(\alpha) = b_kk!\,s^{\alpha/2}/\sqrt{\alpha!}$ ($b_k$ the
    $He_k/k!$ coefficient of $|g|/2$), so the matrix element of two directions is
    $P_k(\alpha)P_l(\beta)E[w^{\alpha+\beta}\tau_w^{2-k-l}]$ with
    $E[w^\gamma\tau_w^{-p}] = \Gamma(p/2)^{-1}\int_0^\infty t^{p/2-1}\rho\prod_i(\gamma_i - 1)!!\,q_i^{\gamma_i/2}dt$;
    against the constant, $P_l(\beta)(E[w^\beta\tau_w^{2-l}] - \tau E[w^\beta\tau_w^{1-l}])/\sqrt{2\pi}$."""
    K = chosen.size
    t, step, rho, q = _grid(s, mult, d)
    # these integrands vanish like t^{p/2}, p ≥ 2, as t → 0 and are analytic in log t: a fifth of the
    # nodes (spacing 0.2 in log t) meets the same accuracy (measured: 1e-13 relative on the elements)
    t, rho, q = t[::_STRIDE], rho[::_STRIDE], q[::_STRIDE]
    step = np.full(t.size, math.log(t[1] / t[0]))
    step[[0, -1]] *= 0.5
    logq = np.log(q[:, chosen])  # (T, K)
    sk = s[chosen]

    def moment(gammas, p, extra=False):
        """E[w^γ τ_w^{-p}] (p > 0) for rows γ over the chosen coordinates (even entries); with
        `extra`, the (A, N) table of the same times a further coordinate of each node squared (the
        node's q; its (2 − 1)!! = 1)."""
        gammas = np.atleast_2d(np.asarray(gammas, np.float64))
        f = np.exp(logq @ (gammas / 2).T)  # (T, A)
        weight = step * t ** (p / 2) * rho / math.gamma(p / 2)
        factor = np.prod(_double_factorial_odd(gammas), axis=1)
        if extra:
            return factor[:, None] * (f.T @ (weight[:, None] * q))
        return factor * (weight @ f)

    def prefactor(alphas, k):
        alphas = np.atleast_2d(np.asarray(alphas, np.float64))
        fact = np.exp(0.5 * np.sum(_gammaln(alphas + 1), axis=1))
        return _B[k] * math.factorial(k) * np.prod(sk ** (alphas / 2), axis=1) / fact

    def unit(*idx):
        v = np.zeros(K)
        for i in idx:
            v[i] += 1
        return v

    # all-even chaos 4: 4e_i, 2e_i + 2e_j
    even4 = [unit(i, i, i, i) for i in range(K)] + [unit(i, i, j, j) for i in range(K) for j in range(i + 1, K)]
    even4 = np.array(even4)
    P4 = prefactor(even4, 4)
    A = even4.shape[0]
    N = s.size
    grown = np.zeros((N + 1 + A, N + 1 + A))
    grown[: N + 1, : N + 1] = block
    # with the constant
    c0 = P4 * (moment(even4, 2) - tau * moment(even4, 3)) / math.sqrt(2 * math.pi)
    # with each node's normalised sum of (z_c² − 1)/√2: √μ_c · √2 b_2 s_c · P4 · E[w^{α + 2e_c} τ^{-4}]
    m4 = moment(even4, 4, extra=True).T  # (N, A); a chosen node's own coordinate is not "further":
    for i, c in enumerate(chosen):
        m4[c] = moment(even4 + 2 * unit(i), 4)
    node = (np.sqrt(mult) * math.sqrt(2.0) * _B[2] * s)[:, None] * P4[None, :] * m4
    # among themselves
    sums = even4[:, None, :] + even4[None, :, :]
    four = (P4[:, None] * P4[None, :]) * moment(sums.reshape(-1, K), 6).reshape(A, A)
    grown[0, N + 1 :] = grown[N + 1 :, 0] = c0
    grown[1 : N + 1, N + 1 :] = node
    grown[N + 1 :, 1 : N + 1] = node.T
    grown[N + 1 :, N + 1 :] = four
    trace = float(np.trace(four))
    values = []
    # one sector per pair i < j: z_i z_j and the chaos-4 directions of odd pattern {i, j}
    for i in range(K):
        for j in range(i + 1, K):
            basis = [unit(i, j), unit(i, i, i, j), unit(i, j, j, j)]
            basis += [unit(i, j, k, k) for k in range(K) if k not in (i, j)]
            basis = np.array(basis)
            P = np.concatenate([prefactor(basis[:1], 2), prefactor(basis[1:], 4)])
            sums = basis[:, None, :] + basis[None, :, :]
            chaos = np.array([2] + [4] * (basis.shape[0] - 1))
            p = chaos[:, None] + chaos[None, :] - 2
            M = np.empty((basis.shape[0],) * 2)
            for power in (2, 4, 6):
                where = p == power
                M[where] = moment(sums[where], power)
            M *= P[:, None] * P[None, :]
            trace += float(np.trace(M)[()] - M[0, 0])
            values.append(np.linalg.eigvalsh(M))
    # four distinct coordinates: one direction each, alone in its sector
    quads = np.array([unit(*c) for c in itertools.combinations(range(K), 4)]).reshape(-1, K)
    if quads.size:
        lone = prefactor(quads, 4) ** 2 * moment(2 * quads, 6)
        trace += float(lone.sum())
        values.append(lone)
    values = np.concatenate(values) if values else np.zeros(0)
    return grown, values, trace


_BUILT: OrderedDict = OrderedDict()  # the last few spectra built (a sweep or a picture reuses one)
_KEEP = 8


def augmented(mix: Mixture, activation: str, order: int = 4) -> tuple[Mixture, float, float]:
    """`_augmented`, remembered for the last few mixtures (keyed by their values)."""
    digest = hashlib.sha256(f"{activation} {order}".encode())
    for leaf in jax.tree_util.tree_leaves(mix):
        leaf = np.asarray(leaf)
        digest.update(str((leaf.shape, leaf.dtype)).encode())
        digest.update(leaf.tobytes())
    key = digest.hexdigest()
    if key not in _BUILT:
        with jax.ensure_compile_time_eval():  # concrete arrays even when called inside a trace
            _BUILT[key] = _augmented(mix, activation, order)
        while len(_BUILT) > _KEEP:
            _BUILT.popitem(last=False)
    _BUILT.move_to_end(key)
    return _BUILT[key]


def _augmented(mix: Mixture, activation: str, order: int = 4, rtol: float = 1e-10) -> tuple[Mixture, float, float]:
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
    values, counts, white = relu_even_spectrum(s, mult, d, order)
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
