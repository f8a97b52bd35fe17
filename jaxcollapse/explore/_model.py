"""What the explorer computes: one compiled program per model, every slider a traced argument.

A picture is a grid of `resolution × resolution` points over (x, p2): x is the width m/n for the
random-projection and random-features models and the sample size n/d for classical ridge; p2 runs
over [0, 1] and its first row (p2 = 0) is the real-only error the collapse ratio divides by. The
slope of the total error along x (∂E/∂m, or ∂E/∂n for ridge) comes from `jax.jvp` through the
theory's implicit derivatives, not from differences of the grid.

Nothing that a slider moves is a Python constant of the program: the spectrum is compressed
(`jc.compress`) and padded to a fixed number of entries (`pad_spectrum(mix, length)`), the quality
rescales Δ inside the program (tr ΣΔ is linear in Δ), and n, λ and the grids are arrays. So moving
tr ΣΔ, λ, d/n or β reuses one program per (model, activation); only the first picture of a model
compiles.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import threading

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import theory
from .._activations import ACTIVATIONS
from .._buckets import pad_spectrum
from .._compress import compress
from .._problem import isotropic, power_law
from .._results import Status

MODELS = ("random_projections", "random_features", "ridge")
SPECTRA = ("power_law", "isotropic")
X_RANGE = {"random_projections": (0.02, 5.0), "random_features": (0.02, 5.0), "ridge": (0.05, 20.0)}
# 128 × 128 for the models whose points cost a scalar root; random features solve a contour per
# width (`jc.theory.random_features`), about 60× dearer per point, so their picture is 48 × 48.
RESOLUTION = {"random_projections": 128, "random_features": 48, "ridge": 128}
# Compressed spectra are padded to one of these lengths: 64 holds the isotropic spectrum and power
# laws up to β ≈ 1.6 at d = 1000, 128 the steeper ones up to β = 3.5 (a program costs about its
# length: 60 ms against 100 ms for 128 × 128 points on 2 cores). `warm` compiles each bucket the β
# slider reaches, so β never recompiles.
SPECTRUM_BUCKETS = (64, 128, 256)
_BOUNDS = {
    "quality": (0.0, 1e4, True),  # (low, high, low excluded)
    "lam": (0.0, 1e3, False),
    "d_over_n": (0.05, 20.0, False),
    "beta": (0.2, 3.5, False),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """One picture's settings (the explorer's sliders and menus).

    - `model`: `"random_projections"` (width m, ridge λ, *Strong Model Collapse* §3), `"random_features"`
      (nonlinear features with `activation`) or `"ridge"` (classical ridge, the picture over (n/d, p2)).
    - `spectrum`: `"power_law"` ($s_j = j^{-\\beta}$) or `"isotropic"`, in dimension `d`.
    - `quality`: tr ΣΔ of the synthetic teacher, `> 0` (smaller is better).
    - `lam`: the ridge λ, in `[0, 1e3]`.
    - `d_over_n`: d/n for the width models, in `[0.05, 20]` (ridge's picture runs over n itself).
    - `beta`: the power law's exponent, in `[0.2, 3.5]`.
    """

    model: str = "random_projections"
    spectrum: str = "power_law"
    quality: float = 1.0
    lam: float = 1e-4
    d_over_n: float = 2.0
    beta: float = 1.2
    activation: str = "relu"
    d: int = 1000
    signal: float = 1.0
    noise_var: float = 0.05

    @classmethod
    def parse(cls, fields: dict) -> Settings:
        """Settings from text fields (a query string); one `ValueError` naming the field and its range."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(f"unknown setting {unknown[0]!r} (settings: {', '.join(sorted(known))})")
        values = {}
        for f in dataclasses.fields(cls):
            if f.name not in fields:
                continue
            text = str(fields[f.name]).strip()
            if f.type == "str":
                values[f.name] = text
                continue
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise ValueError(f"{f.name}: expected a finite number, got {text!r}")
            values[f.name] = int(number) if f.type == "int" else number
        return cls(**values).checked()

    def checked(self) -> Settings:
        """`self`, or a `ValueError` naming the first setting outside its allowed range."""
        for name, choices in (("model", MODELS), ("spectrum", SPECTRA), ("activation", ACTIVATIONS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name}: expected one of {', '.join(choices)}, got {getattr(self, name)!r}")
        for name, (low, high, open_low) in _BOUNDS.items():
            value = getattr(self, name)
            if not (math.isfinite(value) and (value > low if open_low else value >= low) and value <= high):
                left = "(" if open_low else "["
                raise ValueError(f"{name}: expected a number in {left}{low:g}, {high:g}], got {value!r}")
        if not 10 <= self.d <= 100_000:
            raise ValueError(f"d: expected an integer in [10, 100000], got {self.d!r}")
        if not (self.signal > 0 and self.noise_var >= 0):
            raise ValueError("signal must be > 0 and noise_var ≥ 0")
        return self

    def key(self) -> tuple:
        return dataclasses.astuple(self)


@dataclasses.dataclass(frozen=True)
class Diagram:
    """A computed picture: arrays indexed `[x, p2]` (NumPy, float64 under x64)."""

    settings: Settings
    x: np.ndarray  # m/n (width models) or n/d (ridge)
    p2: np.ndarray
    bias: np.ndarray
    variance: np.ndarray
    collapse: np.ndarray
    slope: np.ndarray  # ∂E/∂m (width models) or ∂E/∂n (ridge)
    status: np.ndarray

    @property
    def total(self) -> np.ndarray:
        ok = self.status == Status.OK
        inf = self.status == Status.INFINITE
        value = self.bias + self.variance + self.collapse
        return np.where(ok, value, np.where(inf, np.inf, np.nan))

    @property
    def real(self) -> np.ndarray:
        """The real-only error along x (the p2 = 0 row)."""
        return self.total[:, 0]

    @property
    def ratio(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.total / self.real[:, None]

    @property
    def hurts(self) -> np.ndarray:
        """Where a bigger model (more data, for ridge) raises the error: the slope is > 0."""
        return (self.slope > 0) & (self.status == Status.OK)

    @property
    def threshold(self) -> float:
        """The interpolation threshold on the x axis: m = n (width models) or n = d (ridge)."""
        return 1.0

    def to_dataset(self):
        """The picture as an `xarray.Dataset` (what "save" writes to `data.zarr`)."""
        import xarray as xr

        x_name = "n_over_d" if self.settings.model == "ridge" else "m_over_n"
        coords = {x_name: self.x, "p2": self.p2}
        dims = (x_name, "p2")
        slope_name = "dE_dn" if self.settings.model == "ridge" else "dE_dm"
        data = {
            "total": self.total,
            "bias": self.bias,
            "variance": self.variance,
            "collapse": self.collapse,
            "ratio": self.ratio,
            slope_name: self.slope,
            "status": self.status.astype(np.int32),
        }
        ds = xr.Dataset({k: (dims, v) for k, v in data.items()}, coords=coords)
        ds["real"] = ((x_name,), self.real)
        ds.attrs.update({k: v for k, v in dataclasses.asdict(self.settings).items()})
        return ds


def _mixture_uncached(spectrum: str, beta: float, d: int, signal: float, noise_var: float):
    if spectrum == "isotropic":
        mix = isotropic(d, signal=signal, shift=1.0, noise_var=noise_var)
    else:
        mix = power_law(d, beta, signal=signal, shift=1.0, noise_var=noise_var)
    mix = compress(mix)
    entries = mix.eigs.shape[0]
    if entries > SPECTRUM_BUCKETS[-1]:  # not for d ≤ 1e5 and β ≤ 4 (about 8 nodes per decade)
        raise ValueError(f"the compressed spectrum has {entries} entries (> {SPECTRUM_BUCKETS[-1]})")
    return pad_spectrum(mix, length=next(b for b in SPECTRUM_BUCKETS if b >= entries))


_mixture = functools.lru_cache(maxsize=256)(_mixture_uncached)


def _grids(model: str):
    r = RESOLUTION[model]
    return np.geomspace(*X_RANGE[model], r), np.linspace(0.0, 1.0, r)


def _shifted(mix, scale):
    """The mixture with Δ scaled by `scale` (tr ΣΔ = scale for the unit-quality mixture)."""
    return eqx.tree_at(lambda m: m.shift, mix, mix.shift * scale)


# Rows of the grid go through the program in blocks of `_BLOCK` x values (`lax.map` of a `vmap`): a
# vmapped root finder iterates until its slowest lane converges, so small blocks waste fewer
# iterations than one 16384-lane batch (128 × 128 random projections, β = 3: 130 ms in one batch,
# 63 ms in blocks of 16 rows, on 2 cores).
_BLOCK = 16


def _by_rows(row, x):
    """`vmap(row)(x)` computed `_BLOCK` rows at a time (x's length is a multiple of `_BLOCK`)."""
    out = jax.lax.map(jax.vmap(row), x.reshape(-1, _BLOCK))
    return jax.tree.map(lambda a: a.reshape((x.shape[0],) + a.shape[2:]), out)


def _stack(r):
    return jnp.stack([r.bias, r.variance, r.collapse], axis=-1), r.status


@functools.partial(jax.jit, static_argnames="model")
def _width_program(model, mix, scale, n, lam, x, p2):
    """(values (x, p2, 3), slopes ∂/∂m (x, p2, 3), status (x, p2)) of the random-projection model."""
    mix = _shifted(mix, scale)

    def point(ratio, p):
        def parts(m):
            return _stack(theory.random_projections(mix, n=n, m=m, p2=p, lam=lam))

        m = ratio * n
        values, slopes, status = jax.jvp(parts, (m,), (jnp.ones_like(m),), has_aux=True)
        return values, slopes, status

    return _by_rows(lambda r: jax.vmap(lambda p: point(r, p))(p2), x)


@functools.partial(jax.jit, static_argnames="activation")
def _features_program(activation, mix, scale, n, lam, x, p2):
    """The same for nonlinear random features: one contour per width, shared by every p2."""
    mix = _shifted(mix, scale)

    def row(ratio):
        def parts(m):
            return _stack(theory.random_features(mix, n=n, m=m, p2=p2, lam=lam, activation=activation))

        m = ratio * n
        return jax.jvp(parts, (m,), (jnp.ones_like(m),), has_aux=True)

    return _by_rows(row, x)


@jax.jit
def _ridge_program(mix, scale, lam, x, p2):
    """Classical ridge over (n/d, p2), slopes ∂/∂n."""
    mix = _shifted(mix, scale)
    d = jnp.asarray(mix.d, x.dtype)

    def point(ratio, p):
        def parts(n):
            return _stack(theory.ridge(mix, n=n, p2=p, lam=lam))

        n = ratio * d
        return jax.jvp(parts, (n,), (jnp.ones_like(n),), has_aux=True)

    return _by_rows(lambda r: jax.vmap(lambda p: point(r, p))(p2), x)


_LOCK = threading.Lock()  # one picture at a time: the programs are the bottleneck, not the server


def compute(settings: Settings) -> Diagram:
    """The picture for `settings` (checked; `ValueError` if a setting is out of range)."""
    s = settings.checked()
    x, p2 = _grids(s.model)
    with _LOCK:
        mix = _mixture(s.spectrum, float(s.beta) if s.spectrum == "power_law" else 0.0, s.d, s.signal, s.noise_var)
        scale = jnp.asarray(s.quality, float)
        lam = jnp.asarray(s.lam, float)
        xs, ps = jnp.asarray(x), jnp.asarray(p2)
        if s.model == "ridge":
            values, slopes, status = _ridge_program(mix, scale, lam, xs, ps)
        else:
            n = jnp.asarray(s.d / s.d_over_n, float)
            if s.model == "random_projections":
                values, slopes, status = _width_program(s.model, mix, scale, n, lam, xs, ps)
            else:
                values, slopes, status = _features_program(s.activation, mix, scale, n, lam, xs, ps)
        values, slopes, status = jax.device_get((values, slopes, status))
    return Diagram(
        settings=s,
        x=x,
        p2=p2,
        bias=values[..., 0],
        variance=values[..., 1],
        collapse=values[..., 2],
        slope=slopes.sum(-1),
        status=np.asarray(status),
    )


BETA_STOPS = tuple(float(f"{b:.3g}") for b in np.linspace(0.2, 3.5, 67))  # the β slider's stops


def warm(model: str = "random_projections", activation: str = "relu", d: int = Settings.d) -> None:
    """Compile `model`'s programs for every spectrum bucket the β slider reaches at dimension `d`
    (so that no move of β, or of any other slider, compiles); buckets already compiled cost one
    picture each."""
    buckets = {}
    for beta in BETA_STOPS:
        buckets.setdefault(_mixture("power_law", beta, d, Settings.signal, Settings.noise_var).eigs.shape[0], beta)
    for beta in buckets.values():
        compute(Settings(model=model, activation=activation, beta=beta, d=d))


def compiled_programs() -> int:
    """How many programs the explorer has compiled (a test holds this fixed while sliders move)."""
    return sum(f._cache_size() for f in (_width_program, _features_program, _ridge_program))
