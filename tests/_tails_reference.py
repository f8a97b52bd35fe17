"""An independent float64 NumPy/SciPy reference for the Hutter-model sums (tests only).

Direct summation over ranks 1..N in chunks, N chosen so that the total exposure Σ_s T_s q_s(N) is at
most `floor`; beyond N the mass is the SciPy Hurwitz zeta, less the first-order revealed mass
Σ_s T_s a_s ζ(β + b_s, N+1)/ζ(β) (its error is O(floor) of that, i.e. O(floor²) of the tail mass).
"""

import numpy as np
from scipy.special import zeta

CHUNK = 5_000_000


def reference(beta, sources, *, floor=1e-6, n_max=2e8):
    """Σ_i p_i Π_s (1 − a_s i^-b_s)^{T_s} over ranks in (lo_s, hi_s]; sources = [(T, a, b, lo, hi)]."""
    zb = zeta(beta)
    n = 1.0
    for t, a, b, _lo, hi in sources:
        if t > 0:
            n = max(n, min(hi, (len(sources) * t * a / floor) ** (1.0 / b)))
    n = int(min(np.ceil(n), n_max))
    total = 0.0
    for start in range(1, n + 1, CHUNK):
        i = np.arange(start, min(start + CHUNK, n + 1), dtype=float)
        log_s = np.zeros_like(i)
        for t, a, b, lo, hi in sources:
            on = (i > lo) & (i <= hi)
            q = np.where(on, a * i**-b, 0.0)
            if t > 0:
                with np.errstate(divide="ignore"):  # q = 1 (a cut at k = 1): never unseen
                    log_s += t * np.log1p(-np.minimum(q, 1.0))
        total += np.sum(i**-beta / zb * np.exp(log_s))
    far = zeta(beta, n + 1) / zb
    for t, a, b, lo, hi in sources:
        if t > 0 and hi > n:
            assert lo <= n, "reference: a source starting beyond N"
            far -= t * a * (zeta(beta + b, n + 1) - (zeta(beta + b, hi + 1) if np.isfinite(hi) else 0.0)) / zb
    return total + far, n
