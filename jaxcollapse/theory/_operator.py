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
- chaos 4 … `order` (6 by default) on the `TOP` = 10 largest eigenvalues that stand for one
  coordinate each: the feature's coefficient on the orthonormal direction α of degree k is
  $b_kk!\,s^{\alpha/2}w^\alpha\tau_w^{1-k}/\sqrt{\alpha!}$ ($b_k$: `hermite_b`); its matrix elements
  with the others are again integrals in one variable (`_chaos_top`). By sign flips, the all-even
  directions ($4e_i$, $2e_i + 2e_j$, …) join the block above, those of odd pattern {i, j}
  ($3e_i + e_j$, $e_i + e_j + 2e_k$, …) join the pair $z_iz_j$ in a block of their own, and every
  other pattern of odd entries is a sector of its own;
- the rest of chaos ≥ 4 white, of trace $\tau^2(1/4 - 3/(4\pi))$ less what was resolved (the whole
  chaos-k trace is $b_k^2k!\,\tau^2$: $\tau^2/(48\pi)$ for k = 4).

On a compressed spectrum (nodes $s_k$ standing for $\mu_k$ directions) every quantity depends on a
direction only through its node: pairs within a node share one eigenvalue ($\mu_k(\mu_k - 1)/2$ of
them), pairs across nodes another ($\mu_k\mu_l$); within a node the block is $aI + b\mathbf 1\mathbf
1^\top$, so $\mu_k - 1$ eigenvalues equal $a = s_k^2G_{kk}/(2\pi)$ and one node mode per node enters a
$(K + 1)\times(K + 1)$ matrix with the constant. The pair spectrum is then itself compressed.

`compress` keeps the 12 largest distinct eigenvalues as nodes of their own, so a compressed power
law has the same top coordinates as the full one.

**erf.** Odd, so only odd degrees, and every coefficient is in closed form at every scale:
$E[\mathrm{erf}(\tau g)He_k(g)] = e_k\tau^k(1 + 2\tau^2)^{-k/2}$ (`erf_e`), so a feature's coefficient on
the direction α of degree k is $e_ks^{\alpha/2}w^\alpha(1 + 2\tau_w^2)^{-k/2}/\sqrt{\alpha!}$ and every
matrix element is again one integral, through $(1 + 2\tau^2)^{-p} = \Gamma(p)^{-1}\int_0^\infty
t^{p-1}e^{-t(1 + 2\tau^2)}dt$. Unlike relu's, erf's linear part depends on the scale:
$\mu_1(\tau_w) = \frac{2}{\sqrt\pi}(1 + 2\tau_w^2)^{-1/2}$, so chaos 1 is $\Lambda_j = \frac4\pi s_j
E[w_j^2(1 + 2\tau_w^2)^{-1}]$ on $z_j$ — no longer proportional to $s_j$, and the teacher is carried
onto it by its energy $s_j\Gamma_j$. On the top coordinates, $z_c$ meets every resolved direction
whose only odd entry is c (degree 3: $3e_c$, $2e_i + e_c$; degree 5 likewise): the teacher's energy on
$z_c$ is shared among that sector's eigenvectors by their share of $z_c$. Everything else is white,
of the exact total trace $E_w\frac2\pi\arcsin\frac{2\tau_w^2}{1 + 2\tau_w^2}$ less what was resolved
(`erf_total_trace`, one integral through Dawson's function).

**How exact.** Chaos 0 and 2 are exact, chaos 4 and 6 on the top coordinates; the truncation of the
rest to white noise is what remains. It matters where the ridge is small against the features' scale on
steep spectra: the chaos series of $|u|$ converges slowly (its trace beyond order L falls like
$L^{-3/2}$), and the kink of relu along the few dominant directions puts higher-chaos eigenvalues just
above the effective ridge (numbers: `random_features`' docstring). Ten top coordinates are enough for
chaos 4: on β = 2 scaled to tr Σ = d (d = 300, the 24 points of the docs' table) the error moves by
at most 12 % from none to 4, 2.7 % from 4 to 10, 0.6 % from 10 to 15 and 0.3 % from 15 to 20. Each
further degree helps less (order 4 → 6 moves those points by up to 5 %; 8 on eight coordinates
would add about 1 % at about twice the cost), so 6 is the largest order offered.
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

ORDERS = (2, 4, 6)  # the highest chaos kept exactly (beyond 2: on the TOP largest single coordinates)
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


def relu_even_spectrum(s, mult, d, order=6, top=TOP):
    """`(eigenvalues, counts, white)` of relu's even operator: chaos 0 and 2 exact; with `order` 4 or
    6 also chaos 4 … `order` on the `top` largest directions that are single coordinates
    (`top_nodes`); the rest of chaos ≥ 4 white."""
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
    chosen = top_nodes(s, mult, top) if order >= 4 else np.zeros(0, int)
    if chosen.size:
        block, blocks, kept_trace = _chaos_top(s, mult, d, tau, chosen, block, order)
        # the pairs of two chosen coordinates now live in their blocks with chaos ≥ 4
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
    """The nodes chaos ≥ 4 is kept on: the largest eigenvalues that stand for one coordinate each
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


def hermite_b(k: int) -> float:
    r"""$b_k = E[|g|/2\,He_k(g)]/k!$ for even k: $b_0 = \varphi(0)$ and, with m = k/2 − 1,
    $b_k = \varphi(0)(-1)^m(2m - 1)!!/k!$ (from $He_k\varphi = \varphi^{(k)}$ and two integrations by parts)."""
    phi0 = 1.0 / math.sqrt(2.0 * math.pi)
    if k == 0:
        return phi0
    m = k // 2 - 1
    return phi0 * (-1) ** m * math.prod(range(2 * m - 1, 0, -2)) / math.factorial(k)


def _sectors(K, degrees) -> dict:
    """The directions α of the given degrees on K coordinates, by their pattern of odd entries (the
    tuple of the coordinates where α is odd): sign flips of single coordinates leave the operator
    invariant, so only directions of one pattern meet."""
    sectors: dict = {}
    for degree in degrees:
        for combo in itertools.combinations_with_replacement(range(K), degree):
            alpha = np.bincount(combo, minlength=K)
            sectors.setdefault(tuple(np.flatnonzero(alpha % 2)), []).append(alpha)
    return sectors


def _chaos_top(s, mult, d, tau, chosen, block, order):
    r"""Chaos 4 … `order` on the `chosen` coordinates (K of them): returns the all-even `block` grown
    by the all-even directions of those degrees, the eigenvalues of the other sectors they enter, and
    the trace of degree ≥ 4 so resolved.

    A feature's coefficient on the orthonormal Hermite direction α of chaos k is
    $P(\alpha)\,w^\alpha\tau_w^{1-k}$ with $P(\alpha) = b_kk!\,s^{\alpha/2}/\sqrt{\alpha!}$ (`hermite_b`),
    so the matrix element of two directions is $P(\alpha)P(\beta)E[w^{\alpha+\beta}\tau_w^{2-k-l}]$,
    $E[w^\gamma\tau_w^{-p}] = \Gamma(p/2)^{-1}\int_0^\infty t^{p/2-1}\rho\prod_i(\gamma_i - 1)!!\,q_i^{\gamma_i/2}dt$;
    against the constant, $P(\beta)(E[w^\beta\tau_w^{2-l}] - \tau E[w^\beta\tau_w^{1-l}])/\sqrt{2\pi}$; against
    the normalised sum of $(z_c^2 - 1)/\sqrt2$ over a node of mass μ, $\sqrt{\mu}\,\sqrt2\,b_2s_c\,P(\beta)
    E[w^{\beta + 2e_c}\tau_w^{-l}]$. Sign flips of single coordinates leave the operator invariant, so
    a direction couples only to those with the same pattern of odd entries: the all-even ones to the
    constant and the node sums (the `block`), pattern {i, j} to the pair $z_iz_j$, the others among
    themselves."""
    K = chosen.size
    t, step, rho, q = _grid(s, mult, d)
    # these integrands vanish like t^{p/2}, p ≥ 2, as t → 0 and are analytic in log t: a fifth of the
    # nodes (spacing 0.2 in log t) meets the same accuracy (measured: 1e-13 relative on the elements)
    t, rho, q = t[::_STRIDE], rho[::_STRIDE], q[::_STRIDE]
    step = np.full(t.size, math.log(t[1] / t[0]))
    step[[0, -1]] *= 0.5
    logt, logq = np.log(t), np.log(q[:, chosen])  # (T,), (T, K)
    logrho = -0.5 * (np.log1p(2.0 * t[:, None] * s[None, :] / d) @ mult)
    sk = s[chosen]

    digits = (4 * order + 3) ** np.arange(K, dtype=np.int64)  # a row γ as one integer (entries ≤ 4·order + 2)
    factorial = np.array([math.factorial(g) for g in range(order + 1)], np.float64)
    odd_factorial = np.array([math.prod(range(g - 1, 0, -2)) for g in range(4 * order + 3)], np.float64)

    known: dict = {}  # p -> (sorted keys of the rows integrated so far, their values)

    def moment(gammas, p, extra=False):
        """E[w^γ τ_w^{-p}] (p > 0) for rows γ over the chosen coordinates (even entries), each
        distinct row integrated once per call (and, without `extra`, once per build); with `extra`,
        the (A, N) table of the same times a further coordinate of each node squared (the node's q;
        its (2 − 1)!! = 1)."""
        gammas = np.asarray(gammas, np.int64)
        keys, first, back = np.unique(gammas @ digits, return_index=True, return_inverse=True)
        back = back.reshape(-1)

        def integrate(rows):
            f = np.exp((p / 2) * logt[:, None] + logrho[:, None] + logq @ (rows / 2.0).T)  # (T, rows)
            factor = np.prod(odd_factorial[rows], axis=1) / math.gamma(p / 2)
            return factor, f

        if extra:
            factor, f = integrate(gammas[first])
            return (factor[:, None] * (f.T @ (step[:, None] * q)))[back]
        old_keys, old_values = known.get(p, (np.zeros(0, np.int64), np.zeros(0)))
        at = np.minimum(np.searchsorted(old_keys, keys), max(old_keys.size - 1, 0))
        hit = (old_keys.size > 0) & (old_keys[at] == keys) if old_keys.size else np.zeros(keys.size, bool)
        values = np.empty(keys.size)
        values[hit] = old_values[at[hit]]
        if not hit.all():
            factor, f = integrate(gammas[first[~hit]])
            values[~hit] = factor * (step @ f)
            merged = np.concatenate([old_keys, keys[~hit]])
            order_ = np.argsort(merged)
            known[p] = (merged[order_], np.concatenate([old_values, values[~hit]])[order_])
        return values[back]

    def prefactor(alphas):
        degree = alphas.sum(axis=1).astype(int)
        b = np.array([hermite_b(k) * math.factorial(k) for k in degree])
        return b * np.prod(sk ** (alphas / 2), axis=1) / np.sqrt(np.prod(factorial[alphas.astype(int)], axis=1))

    def matrix(basis):
        """The elements among `basis` (rows α; degrees from the rows)."""
        degree = basis.sum(axis=1)
        power = (degree[:, None] + degree[None, :] - 2).astype(int)
        sums = basis[:, None, :] + basis[None, :, :]
        M = np.empty(power.shape)
        for p in np.unique(power):
            where = power == p
            M[where] = moment(sums[where], int(p))
        P = prefactor(basis)
        return M * P[:, None] * P[None, :]

    # every direction of degree 4 … order on the chosen coordinates, by its pattern of odd entries
    sectors = _sectors(K, range(4, order + 1, 2))
    N = s.size
    values, trace = [], 0.0
    grown = block
    for pattern, basis in sectors.items():
        basis = np.array(basis, np.float64)
        if len(pattern) == 2:  # with the pair z_i z_j of chaos 2
            pair = np.zeros((1, K))
            pair[0, list(pattern)] = 1.0
            M = matrix(np.concatenate([pair, basis]))
            trace += float(np.trace(M) - M[0, 0])
            values.append(np.linalg.eigvalsh(M))
            continue
        M = matrix(basis)
        trace += float(np.trace(M))
        if pattern:
            values.append(np.linalg.eigvalsh(M))
            continue
        # all even: with the constant and with every node's sum of (z_c² − 1)/√2
        A = basis.shape[0]
        degree = basis.sum(axis=1).astype(int)
        P = prefactor(basis)
        c0, node = np.empty(A), np.empty((N, A))
        for k in np.unique(degree):
            rows = np.flatnonzero(degree == k)
            c0[rows] = moment(basis[rows], k - 2) - tau * moment(basis[rows], k - 1)
            table = moment(basis[rows], k, extra=True).T  # (N, rows): a further coordinate of each node
            for i, c in enumerate(chosen):  # a chosen node's own coordinate is not a further one
                table[c] = moment(basis[rows] + 2.0 * np.eye(K)[i], k)
            node[:, rows] = table
        c0 *= P / math.sqrt(2.0 * math.pi)
        node *= (np.sqrt(mult) * math.sqrt(2.0) * hermite_b(2) * s)[:, None] * P[None, :]
        grown = np.zeros((N + 1 + A, N + 1 + A))
        grown[: N + 1, : N + 1] = block
        grown[0, N + 1 :] = grown[N + 1 :, 0] = c0
        grown[1 : N + 1, N + 1 :] = node
        grown[N + 1 :, 1 : N + 1] = node.T
        grown[N + 1 :, N + 1 :] = M
    values = np.concatenate(values) if values else np.zeros(0)
    return grown, values, trace


_BUILT: OrderedDict = OrderedDict()  # the last few spectra built (a sweep or a picture reuses one)
_KEEP = 8


def augmented(mix: Mixture, activation: str, order: int = 6) -> tuple[Mixture, float, float]:
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


def _augmented(mix: Mixture, activation: str, order: int = 6, rtol: float = 1e-10) -> tuple[Mixture, float, float]:
    r"""`(mixture, μ1, W)`: the spectrum the operator equivalent feeds to the random-feature kernel.

    The returned mixture is compressed with `dimension` = the original d (the scale of the projection
    rows): its first entries are `mix`'s own (chaos 1, the teachers on them), then the even spectrum
    as $d\Lambda/\mu_1^2$ with no teacher on it. `W` is the white trace (the kernel's $\mu_*^2$)."""
    s = np.asarray(mix.eigs, np.float64)
    mult = np.ones_like(s) if mix.multiplicity is None else np.asarray(mix.multiplicity, np.float64)
    d = float(mix.d)
    if activation == "linear":
        return _with_even(mix, np.zeros(0), np.zeros(0)), 1.0, 0.0
    if activation == "erf":
        return _erf_augmented(mix, s, mult, d, order, rtol)
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


# ---------------------------------------------------------------------------------------------
# erf: odd, so chaos 1, 3, 5, … with coefficients in closed form at every scale.


def erf_e(k: int) -> float:
    r"""$e_k$ with $E[\mathrm{erf}(\tau g)He_k(g)] = e_k\,\tau^k(1 + 2\tau^2)^{-k/2}$ for odd k:
    $e_k = \frac{2}{\sqrt\pi}(-1)^{(k-1)/2}\frac{(k-1)!}{((k-1)/2)!}$ (from $E[fHe_k] = E[f^{(k)}]$,
    $\mathrm{erf}' = \frac{2}{\sqrt\pi}e^{-u^2}$ and $E[e^{-a^2g^2}He_j(g)] = (1 + 2a^2)^{-1/2}
    \frac{j!}{(j/2)!}(-\frac{a^2}{1 + 2a^2})^{j/2}$); 0 for even k."""
    if k % 2 == 0:
        return 0.0
    j = (k - 1) // 2
    return 2.0 / math.sqrt(math.pi) * (-1) ** j * math.factorial(k - 1) / math.factorial(j)


def erf_total_trace(s, mult, d) -> float:
    r"""$E_w\,E_x\,\mathrm{erf}(w^\top x)^2 = E_w\,g(\tau_w^2)$, $g(v) = \frac2\pi\arcsin\frac{2v}{1 + 2v}$:
    g is a Bernstein function, $g(v) = \frac4\pi\int_0^\infty(1 - e^{-tv})h(t)\,dt/t$ with
    $h(t) = \pi^{-1/2}e^{-t/4}D(\sqrt t/2)$ (D: Dawson's integral; h is the inverse Laplace transform
    of $g'(v)\pi/4 = (1 + 2v)^{-1}(1 + 4v)^{-1/2}$), so $E_w\,g(\tau_w^2) = \frac4\pi\int(1 - \rho(t))h(t)\,dt/t$."""
    from scipy.special import dawsn

    t, step, _, _ = _grid(s, mult, d)
    one_minus_rho = -np.expm1(-0.5 * (np.log1p(2.0 * t[:, None] * s[None, :] / d) @ mult))
    h = np.exp(-t / 4) * dawsn(np.sqrt(t) / 2) / math.sqrt(math.pi)
    return float(4 / math.pi * (step * one_minus_rho) @ h)  # dt/t = du


def erf_spectrum(s, mult, d, order=6, top=TOP):
    r"""The operator of erf features (odd: chaos 1, 3, 5, …), exact in chaos 1 for every direction and
    in every degree 3 … `order` on the `top` largest single coordinates, the rest white.

    Returns `(linear, blocks, others, white)`: `linear` the chaos-1 eigenvalue of each node
    $\Lambda_k = e_1^2s_kE[w_k^2(1 + 2\tau_w^2)^{-1}]$; `blocks` a list `(node, values, fractions)`, one
    per chosen coordinate c, the spectrum of the sector of $z_c$ (its own chaos-1 direction with every
    resolved direction whose only odd entry is c) and each eigenvector's share of $z_c$; `others` the
    eigenvalues of the remaining sectors; `white` the unresolved trace.

    A feature's coefficient on the orthonormal direction α of degree k is $P(\alpha)w^\alpha(1 +
    2\tau_w^2)^{-k/2}$, $P(\alpha) = e_ks^{\alpha/2}/\sqrt{\alpha!}$ (`erf_e`), so two directions meet in
    $P(\alpha)P(\beta)E[w^{\alpha+\beta}(1 + 2\tau_w^2)^{-(k+l)/2}]$, with
    $E[w^\gamma(1 + 2\tau_w^2)^{-p}] = \frac{1}{2^p\Gamma(p)}\int_0^\infty u^{p-1}e^{-u/2}\rho(u)\prod_i
    (\gamma_i - 1)!!\,q_i(u)^{\gamma_i/2}du$ ($\rho$, $q$ as for relu)."""
    s = np.asarray(s, np.float64)
    mult = np.asarray(mult, np.float64)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    t, step, rho, q = _grid(s, mult, d)
    damp = np.exp(-t / 2)
    linear = erf_e(1) ** 2 * s * ((step * t * damp * rho) @ q) / 2.0
    total = erf_total_trace(s, mult, d)
    white = total - float(mult @ linear)
    chosen = top_nodes(s, mult, top) if order >= 3 else np.zeros(0, int)
    K = chosen.size
    if K == 0:
        return linear, [], np.zeros(0), max(white, 0.0)
    logt = np.log(t)
    logq = np.log(q[:, chosen])
    logw = np.log(step) - 0.5 * (np.log1p(2.0 * t[:, None] * s[None, :] / d) @ mult) - t / 2  # log(step ρ e^{-t/2})
    sk = s[chosen]
    odd_factorial = np.array([math.prod(range(g - 1, 0, -2)) for g in range(2 * order + 3)], np.float64)
    factorial = np.array([math.factorial(g) for g in range(order + 1)], np.float64)

    def moment(gammas, p):
        """E[w^γ (1 + 2τ_w²)^{-p}] for rows γ (even entries) over the chosen coordinates."""
        gammas = np.asarray(gammas, np.int64)
        f = np.exp(p * logt[:, None] + logw[:, None] + logq @ (gammas / 2.0).T)  # u^p du/u
        return np.prod(odd_factorial[gammas], axis=1) * f.sum(axis=0) / (2.0**p * math.gamma(p))

    def matrix(basis):
        degree = basis.sum(axis=1)
        P = np.array([erf_e(int(k)) for k in degree]) * np.prod(sk ** (basis / 2), axis=1)
        P /= np.sqrt(np.prod(factorial[basis], axis=1))
        M = np.empty((basis.shape[0], basis.shape[0]))
        power = (degree[:, None] + degree[None, :]) // 2
        sums = basis[:, None, :] + basis[None, :, :]
        for p in np.unique(power):
            where = power == p
            M[where] = moment(sums[where], int(p))
        return M * P[:, None] * P[None, :]

    sectors = _sectors(K, range(3, order + 1, 2))
    blocks, others = [], []
    for pattern, basis in sectors.items():
        basis = np.array(basis, np.int64)
        if len(pattern) == 1:  # with z_c itself
            own = np.zeros((1, K), np.int64)
            own[0, pattern[0]] = 1
            M = matrix(np.concatenate([own, basis]))
            white -= float(np.trace(M) - M[0, 0])
            values, vectors = np.linalg.eigh(M)
            blocks.append((int(chosen[pattern[0]]), values, vectors[0] ** 2))
        else:
            M = matrix(basis)
            white -= float(np.trace(M))
            others.append(np.linalg.eigvalsh(M))
    others = np.concatenate(others) if others else np.zeros(0)
    return linear, blocks, others, max(white, 0.0)


def _erf_augmented(mix, s, mult, d, order, rtol):
    """erf's spectrum as a mixture: chaos 1 takes the place of `mix`'s own entries, with the teachers
    carried over in energy (entry k's teacher energy s_k Γ_k, and Δ's and the cross term's, on the
    chaos-1 eigenvalue; a chosen coordinate's shared among its sector's eigenvectors by their share
    of z_c); the other sectors follow with no teacher on them."""
    linear, blocks, others, white = erf_spectrum(s, mult, d, order)
    mu1 = 2.0 / math.sqrt(math.pi * (1.0 + 2.0 * float(mult @ s) / d))  # μ1 at τ² = tr Σ / d (a scale only)
    scale = d / mu1**2
    energy = [np.asarray(mix.signal) * s, np.asarray(mix.shift) * s]
    if mix.cross is not None:
        energy.append(np.asarray(mix.cross) * s)
    own = np.ones(s.size, bool)
    eigs, masses, carried = [scale * linear], [mult], [e.copy() for e in energy]
    for c, values, share in blocks:
        own[c] = False
        eigs.append(scale * values)
        masses.append(np.ones(values.size))
        for i, e in enumerate(energy):
            carried[i] = np.concatenate([carried[i], e[c] * share])
    masses[0] = np.where(own, mult, 0.0)
    carried = [np.concatenate([e[: s.size] * own, e[s.size :]]) for e in carried]
    eigs, masses = np.concatenate(eigs), np.concatenate(masses)
    # A sector's null directions have rounding-level eigenvalues: raised to a floor far below any
    # ridge, they keep their share of the teacher (which the features cannot learn); the teacher-free
    # ones of the other sectors join the white trace.
    floor = 1e-15 * eigs.max()
    eigs = np.maximum(eigs, floor)
    rest = scale * others
    white += float(np.sum(np.maximum(rest[rest <= floor], 0.0))) / scale
    rest = rest[rest > floor]
    nodes, counts = compress_counts(rest, np.ones(rest.size), rtol=rtol) if rest.size else (np.zeros(0), np.zeros(0))
    zeros = np.zeros(nodes.size)
    fields = [np.concatenate([e / eigs, zeros]) for e in carried]
    out = Mixture(
        np.concatenate([eigs, nodes]),
        fields[0],
        fields[1],
        mix.noise_var,
        None,
        mix.synthetic_noise_var,
        multiplicity=np.concatenate([masses, counts]),
        cross=fields[2] if mix.cross is not None else None,
        dimension=mix.d,
    )
    return out, mu1, max(white, 0.0)
