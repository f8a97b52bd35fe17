"""The problem description: a real + synthetic Gaussian mixture for linear regression.

Everything is diagonal in one shared eigenbasis (that of Σ1), so a problem is a handful of
length-d vectors. See `shared/theory/strong_model_collapse.md` §1 for the model.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._validate import check_positive_int, check_scalar, check_vector, is_concrete


class Mixture(eqx.Module):
    r"""Real and synthetic data distributions for linear regression, diagonal in one eigenbasis.

    Real samples: $x \sim N(0, \Sigma_1)$, $y = x^\top w_1^* + \epsilon_1$; synthetic samples:
    $x \sim N(0, \Sigma_2)$, $y = x^\top w_2^* + \epsilon_2$, with $w_1^* \sim N(0, \Gamma)$ and
    $\delta = w_2^* - w_1^* \sim N(0, \Delta)$ independent (or fixed vectors, see `fixed_teachers`).

    **Arguments:**

    - `eigs`: `(d,)` eigenvalues of $\Sigma_1$, all `> 0`.
    - `signal`: `(d,)` diagonal of $\Gamma = \mathrm{Cov}(w_1^*)$, `≥ 0`
      (so $E\|w_1^*\|^2_{\Sigma_1} = \sum_j$ `eigs[j] * signal[j]`).
    - `shift`: `(d,)` diagonal of $\Delta = \mathrm{Cov}(w_2^* - w_1^*)$, `≥ 0`; the synthetic data's
      quality is $C_2 = \mathrm{tr}(\Sigma_1\Delta)$ (`quality`), smaller is better.
    - `noise_var`: label-noise variance $\sigma_1^2 \ge 0$ of the real data.
    - `synthetic_eigs`: `(d,)` eigenvalues of $\Sigma_2$ in the same basis; `None` (default) means
      $\Sigma_2 = \Sigma_1$, the label-shift setting of Theorem 1, solved by one scalar equation.
    - `synthetic_noise_var`: $\sigma_2^2$; `None` means equal to `noise_var`.
    - `teacher`, `teacher_shift`: fixed (non-random) $w_1^*$ and $\delta$ in the eigenbasis, or
      `None` for the Gaussian priors. Prefer the `fixed_teachers` constructor.
    `cross` (derived) is the diagonal of $E[w_1^*\delta^\top]$: `teacher * teacher_shift`, or `None`
    for independent priors (then it is zero).

    - `multiplicity`, `cross`, `dimension`: set by `compress` only. A compressed mixture's entries
      are quadrature nodes: `eigs[k]` stands for `multiplicity[k]` directions (for the traces
      $\sum_j f(s_j)$), and `signal`, `shift`, `cross` hold the masses of the weighted traces
      ($\sum_j \Gamma_j s_j f(s_j) \approx \sum_k$ `signal[k] * eigs[k] * f(eigs[k])`);
      `dimension` is the exact $d$ they stand for. Theory kernels accept it; simulators cannot.
      `dimension` is an array (a traced leaf, like the spectra), so a kernel compiled for one $d$
      serves every $d$ whose spectrum has the same number of entries.
    """

    eigs: Float[Array, " d"]
    signal: Float[Array, " d"]
    shift: Float[Array, " d"]
    noise_var: Float[Array, ""]
    synthetic_eigs: Float[Array, " d"] | None
    synthetic_noise_var: Float[Array, ""]
    teacher: Float[Array, " d"] | None
    teacher_shift: Float[Array, " d"] | None
    multiplicity: Float[Array, " d"] | None
    cross: Float[Array, " d"] | None
    dimension: Float[Array, ""]

    def __init__(
        self,
        eigs,
        signal,
        shift,
        noise_var=0.0,
        synthetic_eigs=None,
        synthetic_noise_var=None,
        *,
        teacher=None,
        teacher_shift=None,
        multiplicity=None,
        cross=None,
        dimension=None,
    ):
        eigs = check_vector("eigs", eigs, positive=True)
        d = eigs.shape[0]
        self.eigs = eigs
        self.signal = check_vector("signal", signal, size=d)
        self.shift = check_vector("shift", shift, size=d)
        self.noise_var = check_scalar("noise_var", noise_var, low=0.0)
        self.synthetic_eigs = (
            None if synthetic_eigs is None else check_vector("synthetic_eigs", synthetic_eigs, size=d, positive=True)
        )
        self.synthetic_noise_var = (
            self.noise_var
            if synthetic_noise_var is None
            else check_scalar("synthetic_noise_var", synthetic_noise_var, low=0.0)
        )
        if (teacher is None) != (teacher_shift is None):
            raise ValueError("teacher and teacher_shift: give both fixed vectors or neither")
        self.teacher = None if teacher is None else check_vector("teacher", teacher, size=d, nonnegative=False)
        self.teacher_shift = (
            None if teacher_shift is None else check_vector("teacher_shift", teacher_shift, size=d, nonnegative=False)
        )
        if (multiplicity is None) != (dimension is None):
            raise ValueError("multiplicity and dimension: give both (a compressed mixture) or neither")
        if cross is not None and (multiplicity is None or teacher is not None):
            raise ValueError(
                "cross: only a compressed mixture (multiplicity given, no teacher) takes explicit cross masses"
            )
        if multiplicity is not None and synthetic_eigs is not None:
            raise ValueError("multiplicity: a compressed mixture needs Σ2 = Σ1 (synthetic_eigs=None)")
        self.multiplicity = None if multiplicity is None else check_vector("multiplicity", multiplicity, size=d)
        self.dimension = jnp.asarray(float(d if dimension is None else check_positive_int("dimension", dimension)))
        if teacher is not None:
            self.cross = self.teacher * self.teacher_shift
        else:
            self.cross = None if cross is None else check_vector("cross", cross, size=d, nonnegative=False)

    @property
    def d(self):
        """Dimension $d$ (for a compressed mixture, the dimension it stands for): a Python `int`, or
        a traced scalar when the mixture itself is traced (inside a kernel)."""
        return int(self.dimension) if is_concrete(self.dimension) else self.dimension

    @property
    def compressed(self) -> bool:
        """Whether the entries are quadrature nodes (see `compress`) rather than directions (static)."""
        return self.multiplicity is not None

    @property
    def same_covariance(self) -> bool:
        """Whether Σ2 = Σ1 (a structural, static property: `synthetic_eigs is None`)."""
        return self.synthetic_eigs is None

    @property
    def eigs2(self) -> Float[Array, " d"]:
        """Eigenvalues of Σ2."""
        return self.eigs if self.synthetic_eigs is None else self.synthetic_eigs

    @property
    def quality(self) -> Float[Array, ""]:
        """C2 = tr(Σ1 Δ): excess risk of the synthetic teacher on real data (smaller is better)."""
        return jnp.sum(self.eigs * self.shift)

    @property
    def signal_energy(self) -> Float[Array, ""]:
        """tr(Σ1 Γ) = E||w1*||²_Σ1: the error of the null predictor."""
        return jnp.sum(self.eigs * self.signal)

    def trace(self, values):
        r"""$\sum_j f(s_j)$ over the $d$ directions, given `values` $= f(s)$ per entry (last axis):
        a compressed entry counts `multiplicity` times. (Sums weighted by `signal`, `shift` or
        `cross` are plain sums: those already hold masses.)"""
        if self.multiplicity is None:
            return jnp.sum(values, axis=-1)
        return jnp.sum(self.multiplicity * values, axis=-1)


def _totals(eigs, signal_weights, total):
    """Scale per-direction prior variances so that sum(eigs * prior) == total."""
    return signal_weights * (total / jnp.sum(eigs * signal_weights))


def isotropic(
    d: int, *, signal=1.0, shift=1.0, noise_var=0.0, synthetic_noise_var=None, synthetic_scale=None
) -> Mixture:
    """Σ1 = I_d, Γ = (signal/d) I, Δ = (shift/d) I: so tr(ΣΓ) = `signal` and tr(ΣΔ) = `shift`.

    `synthetic_scale`, if given, makes Σ2 = `synthetic_scale` · I (a covariate shift on top of the
    label shift); the default is Σ2 = Σ1.
    """
    d = check_positive_int("d", d)
    check_scalar("signal", signal, low=0.0)
    check_scalar("shift", shift, low=0.0)
    eigs = jnp.ones(d)
    syn = (
        None
        if synthetic_scale is None
        else check_scalar("synthetic_scale", synthetic_scale, low=0.0, strict=True) * eigs
    )
    return Mixture(
        eigs,
        jnp.full(d, signal / d),
        jnp.full(d, shift / d),
        noise_var,
        syn,
        synthetic_noise_var,
    )


def power_law(
    d: int,
    beta,
    *,
    source=None,
    signal=1.0,
    shift=1.0,
    noise_var=0.0,
    synthetic_noise_var=None,
    synthetic_beta=None,
) -> Mixture:
    r"""Power-law spectrum $s_j = j^{-\beta}$ (unnormalised), $j = 1..d$.

    **Arguments:**

    - `beta`: capacity exponent, `> 0`.
    - `source`: source exponent $r > 0$ or `None`. With `r`, the teacher's signal energy per
      direction is $s_j \Gamma_j \propto j^{-(1 + 2\beta r)}$ (the capacity/source condition
      $\sum_j s_j^{1-2r} w_j^2 < \infty$ at the boundary); with `None`, $\Gamma \propto I$.
    - `signal`, `shift`: the totals tr(ΣΓ) and tr(ΣΔ) (Δ ∝ I).
    - `synthetic_beta`: if given, Σ2 has eigenvalues $j^{-\tilde\beta}$ (a covariate shift).
    """
    d = check_positive_int("d", d)
    beta = check_scalar("beta", beta, low=0.0, strict=True)
    check_scalar("signal", signal, low=0.0)
    check_scalar("shift", shift, low=0.0)
    j = jnp.arange(1, d + 1, dtype=float)
    eigs = j ** (-beta)
    if source is None:
        gamma = jnp.ones(d)
    else:
        r = check_scalar("source", source, low=0.0, strict=True)
        gamma = j ** (-(1.0 + 2.0 * beta * r)) / eigs
    syn = None
    if synthetic_beta is not None:
        syn = j ** (-check_scalar("synthetic_beta", synthetic_beta, low=0.0, strict=True))
    return Mixture(
        eigs,
        _totals(eigs, gamma, signal),
        _totals(eigs, jnp.ones(d), shift),
        noise_var,
        syn,
        synthetic_noise_var,
    )


def fixed_teachers(
    eigs, teacher, synthetic_teacher, *, noise_var=0.0, synthetic_eigs=None, synthetic_noise_var=None
) -> Mixture:
    r"""A mixture with fixed (non-random) teachers $w_1^*$ and $w_2^*$ given in the eigenbasis.

    The theory then uses $w_1^{*\top} M w_1^*$ for tr(ΓM), $\delta^\top M \delta$ for tr(ΔM), and adds
    the cross term of `shared/theory/strong_model_collapse.md` §2.2 (part of `Risk.collapse`).
    """
    teacher = check_vector("teacher", teacher, nonnegative=False)
    synthetic_teacher = check_vector("synthetic_teacher", synthetic_teacher, size=teacher.shape[0], nonnegative=False)
    delta = synthetic_teacher - teacher
    return Mixture(
        eigs,
        teacher**2,
        delta**2,
        noise_var,
        synthetic_eigs,
        synthetic_noise_var,
        teacher=teacher,
        teacher_shift=delta,
    )
