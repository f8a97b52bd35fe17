"""The problem description: a real + synthetic Gaussian mixture for linear regression.

Everything is diagonal in one shared eigenbasis (that of Σ1), so a problem is a handful of
length-d vectors. The model is that of *Strong Model Collapse* (Dohmatob et al., ICLR 2025), §2.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from ._types import Key, Scalars
from ._validate import check_int, check_scalar, check_vector, is_concrete

Scalar = float | Float[ArrayLike, ""]  # a number (a 0-d array, possibly traced)


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
        self.noise_var = check_scalar("noise_var", noise_var, low=0.0, scalar=True)
        self.synthetic_eigs = (
            None if synthetic_eigs is None else check_vector("synthetic_eigs", synthetic_eigs, size=d, positive=True)
        )
        self.synthetic_noise_var = (
            self.noise_var
            if synthetic_noise_var is None
            else check_scalar("synthetic_noise_var", synthetic_noise_var, low=0.0, scalar=True)
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
        self.dimension = jnp.asarray(float(d if dimension is None else check_int("dimension", dimension)))
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

    # -- sampling: the data of one Monte Carlo trial (every simulator draws through these) --------

    def draw_teachers(self, key: Key) -> tuple[Float[Array, " d"], Float[Array, " d"]]:
        r"""$(w_1^*, \delta)$: drawn from the priors $N(0, \Gamma)$, $N(0, \Delta)$ (two keys split from
        `key`), or the mixture's fixed vectors (`fixed_teachers`; `key` is then unused)."""
        if self.teacher is not None:
            return self.teacher, self.teacher_shift
        kw, kd = jax.random.split(key)
        d = self.eigs.shape[0]
        return jnp.sqrt(self.signal) * jax.random.normal(kw, (d,)), jnp.sqrt(self.shift) * jax.random.normal(kd, (d,))

    def inputs(self, key: Key, n: int, n2: Scalar = 0) -> Float[Array, "n d"]:
        r"""`(n, d)` covariates in the eigenbasis: row $i$ is $\Sigma_2^{1/2}z_i$ for $i < n_2$ (synthetic)
        and $\Sigma_1^{1/2}z_i$ otherwise, $z_i \sim N(0, I_d)$ drawn from `key`. `n2` may be traced."""
        _require_directions(self)
        z = jax.random.normal(key, (n, self.eigs.shape[0]))
        if self.synthetic_eigs is None:
            return z * jnp.sqrt(self.eigs)[None, :]
        synthetic = jnp.arange(n) < n2
        return z * jnp.where(synthetic[:, None], jnp.sqrt(self.eigs2)[None, :], jnp.sqrt(self.eigs)[None, :])

    def sample(
        self, key: Key, n: int, n2: Scalar = 0, *, teachers: tuple[Float[Array, " d"], Float[Array, " d"]] | None = None
    ) -> Sample:
        r"""A training set of `n` rows, the first `n2` synthetic (`n2` may be traced: round(p2·n)).

        `key` is split in three: covariates (`inputs`), teachers (`draw_teachers`, unless `teachers`
        gives `(w1, delta)` — e.g. a test set labelled by the training set's teachers) and one
        standard normal noise draw $\varepsilon$ per row. Real rows are labelled
        $x^\top w_1^* + \sigma_1\varepsilon$, synthetic rows $x^\top w_1^* + x^\top\delta + \sigma_2\varepsilon$.
        Returns a `Sample`; with $\Sigma_2 = \Sigma_1$ the same rows can be labelled for any other
        synthetic count (`Sample.labels`), which simulators use to share one design between values of $p_2$.
        """
        kx, kt, ke = jax.random.split(key, 3)
        X = self.inputs(kx, n, n2)
        w1, delta = self.draw_teachers(kt) if teachers is None else teachers
        eps = jax.random.normal(ke, (n,))
        return Sample(
            X=X,
            real=X @ w1 + jnp.sqrt(self.noise_var) * eps,
            synthetic=X @ w1 + X @ delta + jnp.sqrt(self.synthetic_noise_var) * eps,
            n2=n2,
            teacher=w1,
            teacher_shift=delta,
        )


class Sample(eqx.Module):
    r"""One training set drawn by `Mixture.sample`: covariates, labels, the teachers behind them.

    `real` and `synthetic` label every row both ways (same covariates, same noise draw); `y` takes
    the synthetic label for rows $i < n_2$. `X` holds the covariates of that split: with
    $\Sigma_2 \ne \Sigma_1$ the synthetic rows were drawn from $\Sigma_2$, so relabelling for another
    count is only meaningful when $\Sigma_2 = \Sigma_1$.
    """

    X: Float[Array, "n d"]
    real: Float[Array, " n"]
    synthetic: Float[Array, " n"]
    n2: Float[Array, ""] | int
    teacher: Float[Array, " d"]
    teacher_shift: Float[Array, " d"]

    def is_synthetic(self, n2: Scalars | None = None) -> Bool[Array, "*points n"]:
        """Boolean rows that are synthetic: `i < n2` (default: the sample's own `n2`); an array `n2`
        gives one row of flags per value (shape `n2.shape + (n,)`)."""
        n2 = jnp.asarray(self.n2 if n2 is None else n2)
        return _rows(jnp.arange(self.X.shape[0]), n2.ndim) < n2[..., None]

    def labels(self, n2: Scalars | None = None) -> Float[Array, "*points n"]:
        """The labels with the first `n2` rows synthetic (default: the sample's own `n2`); an array
        `n2` gives one label vector per value."""
        mask = self.is_synthetic(n2)
        return jnp.where(mask, _rows(self.synthetic, mask.ndim - 1), _rows(self.real, mask.ndim - 1))

    @property
    def y(self) -> Float[Array, " n"]:
        """The training labels: synthetic for rows `i < n2`, real after."""
        return self.labels()


def _rows(v, leading: int):
    """`v` with `leading` axes of length 1 in front (explicit broadcasting)."""
    return v.reshape((1,) * leading + v.shape)


def _require_directions(mix: Mixture) -> None:
    if mix.compressed:
        raise ValueError(
            "mix is compressed (its entries are quadrature nodes, not directions): sample from the original mixture"
        )


def _totals(eigs, signal_weights, total):
    """Scale per-direction prior variances so that sum(eigs * prior) == total."""
    return signal_weights * (total / jnp.sum(eigs * signal_weights))


def isotropic(
    d: int,
    *,
    signal: Scalar = 1.0,
    shift: Scalar = 1.0,
    noise_var: Scalar = 0.0,
    synthetic_noise_var: Scalar | None = None,
    synthetic_scale: Scalar | None = None,
) -> Mixture:
    """Σ1 = I_d, Γ = (signal/d) I, Δ = (shift/d) I: so tr(ΣΓ) = `signal` and tr(ΣΔ) = `shift`.

    `synthetic_scale`, if given, makes Σ2 = `synthetic_scale` · I (a covariate shift on top of the
    label shift); the default is Σ2 = Σ1.
    """
    d = check_int("d", d)
    check_scalar("signal", signal, low=0.0, scalar=True)
    check_scalar("shift", shift, low=0.0, scalar=True)
    eigs = jnp.ones(d)
    syn = (
        None
        if synthetic_scale is None
        else check_scalar("synthetic_scale", synthetic_scale, low=0.0, strict=True, scalar=True) * eigs
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
    beta: Scalar,
    *,
    source: Scalar | None = None,
    signal: Scalar = 1.0,
    shift: Scalar = 1.0,
    noise_var: Scalar = 0.0,
    synthetic_noise_var: Scalar | None = None,
    synthetic_beta: Scalar | None = None,
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
    d = check_int("d", d)
    beta = check_scalar("beta", beta, low=0.0, strict=True, scalar=True)
    check_scalar("signal", signal, low=0.0, scalar=True)
    check_scalar("shift", shift, low=0.0, scalar=True)
    j = jnp.arange(1, d + 1, dtype=float)
    eigs = j ** (-beta)
    if source is None:
        gamma = jnp.ones(d)
    else:
        r = check_scalar("source", source, low=0.0, strict=True, scalar=True)
        gamma = j ** (-(1.0 + 2.0 * beta * r)) / eigs
    syn = None
    if synthetic_beta is not None:
        syn = j ** (-check_scalar("synthetic_beta", synthetic_beta, low=0.0, strict=True, scalar=True))
    return Mixture(
        eigs,
        _totals(eigs, gamma, signal),
        _totals(eigs, jnp.ones(d), shift),
        noise_var,
        syn,
        synthetic_noise_var,
    )


def fixed_teachers(
    eigs: Float[ArrayLike, " d"],
    teacher: Float[ArrayLike, " d"],
    synthetic_teacher: Float[ArrayLike, " d"],
    *,
    noise_var: Scalar = 0.0,
    synthetic_eigs: Float[ArrayLike, " d"] | None = None,
    synthetic_noise_var: Scalar | None = None,
) -> Mixture:
    r"""A mixture with fixed (non-random) teachers $w_1^*$ and $w_2^*$ given in the eigenbasis.

    The theory then uses $w_1^{*\top} M w_1^*$ for tr(ΓM), $\delta^\top M \delta$ for tr(ΔM), and adds
    the cross term of *Strong Model Collapse* (Dohmatob et al., ICLR 2025) (part of `Risk.collapse`).
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
