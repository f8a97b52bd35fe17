r"""`jc.fit`: fit a model's free parameters to measured errors, from many starts, with a bootstrap.

The model is a named family (`"ridge"`, `"random-projections"`, `"retraining"`, `"tails"`, `"power-law"`:
`jaxcollapse/_fit_models.py`) or any function `model(**params, **columns)` that returns a `Risk`
(its `total` is used) or an array of predicted errors, e.g. ridge on a power law whose decay β and
synthetic quality are free. Each free parameter has bounds and is optimised in an unbounded coordinate $u$:
$x = \ell + (h - \ell)\,\sigma(u)$, or on a log scale $x = \ell\,(h/\ell)^{\sigma(u)}$ when $\ell > 0$, so
every iterate respects the bounds. The loss is the Huber loss of the log-residuals
$\log\hat E - \log E$ (Hoffmann et al. 2022, *Training compute-optimal large language models*,
δ = 1e-3), averaged over the rows; with standard errors the residuals are first divided by the
relative error `sem/error` (a Huber loss of standardised residuals, δ = 1).

Optimiser: Levenberg–Marquardt on the rows' residuals, with the generalised Gauss–Newton model of
the Huber loss (`_levenberg_marquardt`), started from `starts` points drawn uniformly in the parameters'
(log) ranges, all starts in one compiled program (vmapped in batches of 32, each batch stopping when
its slowest fit has converged); the Jacobian is forward-mode through the theory's implicit
derivatives. Levenberg–Marquardt rather than a first-order or quasi-Newton method: the loss is a
sum over tens of rows of a function of a handful of smooth parameters, where the Gauss–Newton model
converges in a few iterations, each one forward-mode pass. L-BFGS (optax, zoom line search) was the
first choice; under `vmap` every step cost the worst lane's line search, and a fit was 10× slower
than SciPy fitting one start at a time (`benchmarks/RESULTS.md`, "Fitting").

An integer parameter (the tails' cut k) is profiled, never relaxed to a real number: the continuous
parameters are fitted at every integer of a grid (all integers in the bounds, or `grid` log-spaced
ones), then at the integers between the best one's neighbours, until every integer there is tried;
the best is kept. Each bootstrap replicate is refitted at the 8 integers that fit the data best.

Uncertainty: a bootstrap, each replicate refitted from the best fit, all replicates in one vmapped
program; intervals are percentiles of the replicates, for the parameters and for any quantity
derived from them (`Fit.quantity`: the floor, the synthetic sample size past which more synthetic
data hurt, the optimal synthetic weight, predictions). By default the replicates are parametric
(`resample="normal"`): the design — the sample sizes and fractions measured — is fixed, as in an
experiment, and each replicate redraws the errors at the stated standard errors (wider when the
fit's residuals say they are too small). `"residuals"` and `"cases"` (Besiroglu et al. 2024,
*Chinchilla scaling: a replication attempt*) are there too; they under-cover on 16–40 rows.
Measured coverage is in `benchmarks/RESULTS.md` (`benchmarks/fit_coverage.py`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._fit_models import FAMILIES, Family, integer_grid
from ._validate import check_int, check_scalar

__all__ = ["Fit", "Interval", "fit"]

_PENALTY = 1e3  # the loss of a row whose prediction is not a positive finite number
_FAR = 1e12  # the sample size at which `Fit.floor` evaluates the n → ∞ limit
_CANDIDATES = 8  # integers per refinement round of a replicate's profile (`_profile_replicates`)
_FITS = 256  # fits per call of the compiled program; more are run in chunks of this many
_BATCH = 32  # fits vmapped together inside it (a batch stops when its slowest fit has converged)
_XTOL = 1e-9  # a fit has converged when a step moves no coordinate by more than this (relative)
_STEP_MAX = 2.0  # the longest step in the fitting coordinate (see `_levenberg_marquardt`)
_U_MAX = 30.0  # the fitting coordinate's range: a bound is reached to within e^-30 of its range


class Interval(NamedTuple):
    """A derived quantity at the best fit (`value`) and its bootstrap percentile interval."""

    value: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclasses.dataclass(frozen=True)
class Fit:
    """The result of `jc.fit`.

    - `params`: best parameters `{name: float}`; `loss`: their loss.
    - `start_params`, `start_losses`: every start's end point (`{name: (starts,)}`, `(starts,)`;
      with a profiled parameter, every (grid value, start) pair).
    - `bootstrap`: `{name: (replicates,)}` refitted parameters (empty without a bootstrap).
    - `residuals`: log-residuals log Ê − log E at the best parameters, per row.
    - `on_bound`: `{name: bool}`, the best value sits within 0.1 % of a bound (of the range in its
      fitting coordinate; for a profiled parameter, at the first or last integer of its grid): the
      data do not pin it inside the range.
    - `disagree`: starts that reach the best loss (within 1e-6 relative) end at parameters more
      than 1 % apart: the parameters are not identifiable from these data.
    - `undetermined`: `{name: bool}`, the data cannot determine the parameter at the best fit: the
      predictions do not move with it, or move only together with other parameters' (`_undetermined`).
      Its bootstrap interval would be a precise-looking artefact, so `interval` gives NaN for it.
    - `family`: the named family fitted, or None for a user's model; `fixed`: every keyword the model
      was given besides the free parameters and the data's columns.
    - `capped`: fits (starts, refinements and bootstrap refits) stopped by the `steps` budget before
      they converged; more than a few: raise `steps`.
    """

    params: dict
    loss: float
    start_params: dict
    start_losses: np.ndarray
    bootstrap: dict
    residuals: np.ndarray
    on_bound: dict
    disagree: bool
    model: Callable = dataclasses.field(repr=False)
    fixed: dict = dataclasses.field(repr=False)
    family: str | None = None
    capped: int = 0
    undetermined: dict = dataclasses.field(default_factory=dict)

    def interval(self, name: str, level: float = 0.9) -> tuple[float, float]:
        """The percentile interval of a parameter over the bootstrap replicates; `(nan, nan)` for a
        parameter the data do not determine (`undetermined`)."""
        if name not in self.bootstrap:
            raise ValueError(f"name must be a fitted parameter with a bootstrap, one of {sorted(self.bootstrap)}")
        _check_level(level)
        if self.undetermined.get(name, False):
            return math.nan, math.nan
        tail = 50.0 * (1.0 - level)
        lo, hi = np.percentile(self.bootstrap[name], [tail, 100.0 - tail])
        return float(lo), float(hi)

    def predict(self, **columns):
        """The model's error at the best parameters for `columns` (the model's other keywords)."""
        self._check_columns(columns)
        return np.asarray(_predict(self.model, {**self.fixed, **self.params}, columns))

    def predict_interval(self, level: float = 0.9, **columns) -> tuple[np.ndarray, np.ndarray]:
        """The percentile interval of the predicted error over the bootstrap replicates."""
        est = self.quantity(lambda p: _predict(self.model, p, columns), level=level)
        return est.low, est.high

    def quantity(self, fn: Callable[[dict], object], level: float = 0.9) -> Interval:
        """Any quantity of the parameters, `fn(params) -> array` (`params`: the free and fixed
        keywords), at the best fit and as a percentile interval over the bootstrap replicates
        (`fn` is vmapped over them: it must be traceable)."""
        if not self.bootstrap:
            raise ValueError("intervals need a fit with bootstrap > 0")
        _check_level(level)
        names = sorted(self.bootstrap)
        # one compiled program: the best fit as row 0, then the replicates (eagerly, every operation
        # of the model under `vmap` would compile on its own)
        best = np.asarray([[self.params[k] for k in names]])
        rows = np.concatenate([best, np.stack([np.asarray(self.bootstrap[k]) for k in names], axis=-1)])
        fixed = self.fixed
        batch = jax.jit(jax.vmap(lambda row: fn({**fixed, **dict(zip(names, row))})))
        out = np.asarray(batch(rows.astype(jax.dtypes.canonicalize_dtype(np.float64))))
        value, values = out[0], out[1:]
        tail = 50.0 * (1.0 - level)
        # no interpolation between replicates: an infinite replicate (a limit never reached) stays one
        low = np.percentile(values, tail, axis=0, method="inverted_cdf")
        high = np.percentile(values, 100.0 - tail, axis=0, method="inverted_cdf")
        return Interval(value, low, high)

    def floor(self, level: float = 0.9, **columns) -> Interval:
        """The error as the sample size grows without bound, at `columns` (e.g. `p2=0.2`): the
        collapse floor. Families on `n` are evaluated at n = 1e12; `"tails"` gives its exact
        plateau (`jc.tails.mix(...).plateau`, 0 when p1 > 0)."""
        if self.family == "tails":
            from . import tails

            return self.quantity(lambda p: tails.mix(p["beta"], T=1.0, k=p["k"], p1=p["p1"]).plateau, level)
        if "n" in columns:
            raise ValueError("floor: n is the sample size that grows without bound; give the other columns")
        self._check_columns({**columns, "n": 1.0})
        shape = np.broadcast_shapes(*(np.shape(v) for v in columns.values())) if columns else ()
        return self.quantity(lambda p: _predict(self.model, p, {**columns, "n": jnp.full(shape, _FAR)}), level)

    def synthetic_limit(self, n_real: float, level: float = 0.9, **columns) -> Interval:
        """The number of synthetic samples n2* that, added to `n_real` real ones, gives the smallest
        error — past it, more synthetic data hurt: the model at n = n_real + n2, p2 = n2/(n_real + n2)
        minimised over n2 (a log grid over [1e-3, 1e6]·n_real, then a golden-section search).
        0 when any synthetic data hurt, inf when they help up to 1e6·n_real. Scalars only."""
        n_real = float(check_scalar("n_real", n_real, low=0.0, strict=True, scalar=True))
        self._check_columns({**columns, "n": 1.0, "p2": 0.0})
        for name in ("n", "p2"):
            if name in columns:
                raise ValueError(f"synthetic_limit: {name} is set by n_real and the synthetic count; leave it out")

        def limit(p):
            def error(n2):
                n = n_real + n2
                cols = {k: jnp.broadcast_to(jnp.asarray(v, float), n2.shape) for k, v in columns.items()}
                return _predict(self.model, p, {**cols, "n": n, "p2": n2 / n})

            x, best, at_top = _minimise_log(error, n_real * 1e-3, n_real * 1e6)
            zero = error(jnp.zeros(1))[0]
            return jnp.where(zero <= best, 0.0, jnp.where(at_top, jnp.inf, x))

        return self.quantity(limit, level)

    def optimal_weight(self, level: float = 0.9, **columns) -> Interval:
        """The loss weight of the synthetic samples (relative to the real ones) that minimises the
        error at `columns` (`n`, `p2`, …, scalars): a log grid over [1e-4, 1e3], then a
        golden-section search; 0 when discarding the synthetic data is best. Needs a model with a
        `weight` keyword (the `"ridge"` family)."""
        if self.family not in (None, "ridge"):
            raise ValueError(f"optimal_weight needs a model with a synthetic weight ('ridge'), not {self.family!r}")
        if "weight" in columns:
            raise ValueError("optimal_weight: weight is what is optimised; leave it out")
        self._check_columns({**columns, "weight": 1.0})

        def best_weight(p):
            def error(w):
                cols = {k: jnp.broadcast_to(jnp.asarray(v, float), w.shape) for k, v in columns.items()}
                return _predict(self.model, p, {**cols, "weight": w})

            x, best, at_top = _minimise_log(error, 1e-4, 1e3)
            zero = error(jnp.zeros(1))[0]
            return jnp.where(zero <= best, 0.0, jnp.where(at_top, jnp.inf, x))

        return self.quantity(best_weight, level)

    def _check_columns(self, columns):
        if self.family is None:
            return
        spec = FAMILIES[self.family]
        allowed = set(spec.columns) | set(spec.optional)
        unknown = sorted(set(columns) - allowed)
        if unknown:
            raise ValueError(
                f"{unknown[0]!r} is not a column of the {self.family!r} model (columns: {sorted(allowed)})"
            )
        missing = [c for c in spec.columns if c not in columns and c not in self.fixed]
        if missing:
            raise ValueError(
                f"the {self.family!r} model needs {', '.join(missing)} (a column here, or fixed in the fit)"
            )


def _check_level(level):
    check_scalar("level", level, low=0.0, high=1.0, strict=True, scalar=True)
    if level >= 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


def _minimise_log(f, lo, hi, size=256, iters=40):
    """`(x*, f(x*), at_top)`: the minimum of the vectorised `f` on [lo, hi] in log x, by a grid of
    `size` points then a golden-section search between the grid minimum's neighbours."""
    t = jnp.linspace(math.log(lo), math.log(hi), size)
    v = f(jnp.exp(t))
    v = jnp.where(jnp.isfinite(v), v, jnp.inf)
    i = jnp.argmin(v)
    a, b = t[jnp.maximum(i - 1, 0)], t[jnp.minimum(i + 1, size - 1)]
    g = (math.sqrt(5.0) - 1.0) / 2.0

    def step(_, ab):
        a, b = ab
        c, d = b - g * (b - a), a + g * (b - a)
        fc, fd = f(jnp.exp(jnp.stack([c, d])))
        return jnp.where(fc < fd, jnp.stack([a, d]), jnp.stack([c, b]))

    a, b = jax.lax.fori_loop(0, iters, step, jnp.stack([a, b]))
    t_best = 0.5 * (a + b)
    x = jnp.exp(t_best)
    value = jnp.minimum(f(x[None])[0], v[i])
    return jnp.where(f(x[None])[0] <= v[i], x, jnp.exp(t[i])), value, i == size - 1


def fit(
    model: Callable | str,
    data: Mapping[str, object],
    *,
    params: Mapping[str, tuple[float, float] | None] | tuple | list,
    fixed: Mapping[str, object] | None = None,
    loss: str = "huber-log",
    delta: float | None = None,
    starts: int = 32,
    bootstrap: int = 200,
    resample: str = "normal",
    steps: int = 100,
    grid: int = 48,
    key: jax.Array,
) -> Fit:
    r"""Fit the free parameters of `model` to measured errors (module docstring).

    **Arguments:**

    - `model`: a family name — `"ridge"`, `"random-projections"`, `"retraining"`, `"tails"`,
      `"power-law"` (E∞ + A n^−α) — or
      a function `model(**params, **fixed, **columns)` → a `Risk` or an array of predicted errors,
      one per row; it must be traceable in the free parameters (every jaxcollapse theory kernel is,
      and `jc.power_law` is in `beta`, `source`, `signal`, `shift`, `noise_var`).
    - `data`: columns of equal length: `error` (measured, > 0), optionally `sem` (its standard
      error, > 0), and the model's other keywords (`n`, `p2`, `m`, `lam`, `T`, …).
    - `params`: `{name: (low, high)}`, the free parameters and their bounds (`low < high`; a log
      scale when `low > 0`). With a family, a bound may be `None` (or `params` a list of names):
      the family's default bounds.
    - `fixed`: more keywords for the model, held fixed. A family's parameters that are neither
      free nor fixed take its defaults (`signal = 1`, `shift = 1`, `noise_var = 0`, `d = 1000`, …);
      `beta` (and the tails' `k`) must be one or the other.
    - `loss`: `"huber-log"` (the only one); `delta`: its threshold (default 1e-3, or 1 with `sem`).
    - `starts`: starting points (≥ 1); `bootstrap`: replicates (0 for none); `steps`: the most
      Levenberg–Marquardt iterations per fit (each stops earlier when it converges; `Fit.capped`
      counts those that did not).
    - `resample`: how each bootstrap replicate's errors are drawn around the best fit's prediction,
      the design (the rows measured) staying fixed. `"normal"` (default): log-normal noise at each
      row's stated relative error `sem/error`, scaled up by $\sqrt{\chi^2/(N - p)}$ when the
      standardised residuals scatter more than the errors say (never down: a parametric bootstrap;
      without `sem`, at the residuals' own scale). `"residuals"`: log-residuals (standardised by
      `sem/error` when given) drawn with replacement, inflated by $\sqrt{N/(N - p)}$. `"cases"`:
      rows drawn with replacement (Besiroglu et al. 2024). Coverage of each, measured, is in
      `benchmarks/RESULTS.md`: with 16–40 rows the residual and case bootstraps under-cover, since
      the scatter of so few residuals is itself uncertain.
    - `grid`: the most integers profiled for an integer parameter (the tails' `k`).
    - `key`: a PRNG key for the starts and the bootstrap.

    **Returns:** a `Fit`.
    """
    if resample not in ("residuals", "cases", "normal"):
        raise ValueError(f"resample must be 'residuals', 'cases' or 'normal', got {resample!r}")
    if loss != "huber-log":
        raise ValueError(f"loss must be 'huber-log', got {loss!r}")
    starts = check_int("starts", starts)
    bootstrap = check_int("bootstrap", bootstrap, low=0)
    steps = check_int("steps", steps)
    grid = check_int("grid", grid)
    fixed = dict(fixed or {})
    family = None
    if isinstance(model, str):
        if model not in FAMILIES:
            raise ValueError(f"model must be one of {sorted(FAMILIES)} or a function, got {model!r}")
        family = FAMILIES[model]
    elif not callable(model):
        raise ValueError(f"model must be a family name or a function, got {type(model).__name__}")
    if isinstance(params, (list, tuple)) and family is not None:
        params = {name: None for name in params}
    if not isinstance(params, Mapping) or not params:
        raise ValueError("params must be a non-empty dict {name: (low, high)}")
    bounds = {}
    for name, pair in params.items():
        if family is not None:
            if name not in family.params:
                raise ValueError(
                    f"params: {name!r} is not a parameter of the {family.name!r} model ({sorted(family.params)})"
                )
            if pair is None:
                pair = family.bounds[name]
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(f"params[{name!r}] must be two numbers (low, high), got {pair!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"params[{name!r}] must satisfy low < high, both finite, got {pair!r}")
        if name in fixed:
            raise ValueError(f"params: {name!r} is also in fixed")
        bounds[name] = (lo, hi)
    columns, error, sem = _columns(data)
    for name in columns:
        if name in fixed or name in bounds:
            raise ValueError(f"data: {name!r} is a column and also {'fixed' if name in fixed else 'free'}")
    if family is not None:
        fixed = _family_fixed(family, bounds, fixed, columns)
    profiled = [k for k in bounds if family is not None and k in family.integer]
    free_rows = len(bounds)
    if error.shape[0] <= free_rows:
        raise ValueError(
            f"data: {error.shape[0]} rows cannot pin {free_rows} free parameters; give more rows than that"
        )
    if delta is None:
        delta = 1.0 if sem is not None else 1e-3
    delta = float(check_scalar("delta", delta, low=0.0, strict=True, scalar=True))
    dtype = jax.dtypes.canonicalize_dtype(np.float64)  # float32 unless x64 is on
    if profiled:
        profile = (profiled[0], integer_grid(*bounds.pop(profiled[0]), grid).astype(dtype))
    else:
        profile = (None, np.zeros(1, dtype))
    names = tuple(sorted(bounds))
    lo = np.asarray([bounds[k][0] for k in names], dtype).reshape(len(names))
    hi = np.asarray([bounds[k][1] for k in names], dtype).reshape(len(names))
    error = error.astype(dtype)
    scale = (sem / error).astype(dtype) if sem is not None else np.ones_like(error)
    dynamic = {
        k: v for k, v in fixed.items() if isinstance(v, (jax.Array, np.ndarray, float, int)) and not isinstance(v, bool)
    }
    if family is not None:
        dynamic = {k: v for k, v in dynamic.items() if k not in family.static}
    static = tuple(sorted((k, v) for k, v in fixed.items() if k not in dynamic))
    dynamic = {k: np.asarray(v, dtype) for k, v in dynamic.items()}
    columns = {k: v.astype(dtype) for k, v in columns.items()}
    kernel = family.kernel if family is not None else model
    try:
        hash((kernel, static))
    except TypeError:
        raise ValueError("fixed: non-numeric values must be hashable (strings, tuples, ...)") from None
    rows = error.shape[0]
    p = len(names)
    grid0 = profile[1].shape[0]
    batch = min(_BATCH, grid0 * starts)
    width = min(_FITS, -(-grid0 * starts // batch) * batch)  # the starts; replicates in chunks of it
    program = _programs(kernel, names, profile[0], static, delta, batch)
    shared = (scale, columns, lo, hi, dynamic)
    capped = []  # per call: fits stopped by the step budget rather than by convergence

    def lanes(u0, weights, errors, values):
        """Every lane's fit, NumPy in and out (one compiled program: lanes padded to `width`, run in
        chunks of it)."""
        total = u0.shape[0]
        pad = np.arange(-total % width) % total
        u0, weights, errors, values = (np.concatenate([x, x[pad]]).astype(dtype) for x in (u0, weights, errors, values))
        out = [
            jax.device_get(
                program(
                    *(x[i : i + width] for x in (u0, weights, errors, values)),
                    steps,
                    -(-min(width, total - i) // batch),  # batches with real lanes; the rest are skipped
                    *shared,
                )
            )
            for i in range(0, u0.shape[0], width)
        ]
        u, loss, used = (np.concatenate([o[j] for o in out])[:total] for j in range(3))
        capped.append(int(np.sum(used >= steps)) if p else 0)
        return u, np.where(np.isfinite(loss), loss, np.inf)

    # the starts and the bootstrap draws: NumPy generators seeded from the key (no compilation)
    seeds = np.asarray(jax.random.key_data(key)).ravel().tolist()
    rng_starts, rng_boot = (np.random.default_rng([*seeds, i]) for i in (0, 1))
    unit = rng_starts.uniform(0.02, 0.98, (starts, p))
    u0 = np.log(unit) - np.log1p(-unit)
    ones = np.ones((1, rows), dtype)
    # every start at every value of the profiled parameter: lanes (grid × starts)
    count = grid0 * starts
    u_end, losses = lanes(
        np.tile(u0, (grid0, 1)),
        np.broadcast_to(ones, (count, rows)),
        np.broadcast_to(error[None, :], (count, rows)),
        np.repeat(profile[1], starts),
    )
    u_end, losses = u_end.reshape(grid0, starts, p), losses.reshape(grid0, starts)
    coarse = profile[1]
    if profile[0] is not None:
        # refine: the integers between the best value's neighbours, until every integer there is tried
        values = profile[1]
        for _ in range(8):
            best_g = int(np.argmin(losses.min(axis=1)))
            lo_v, hi_v = values[max(best_g - 1, 0)], values[min(best_g + 1, values.size - 1)]
            inside = np.setdiff1d(integer_grid(lo_v, hi_v, grid), values)
            if inside.size == 0:
                break
            # each new value starts from the best fit at its nearest tried value: one warm start
            near = np.abs(np.log(inside)[:, None] - np.log(values)[None, :]).argmin(axis=1)
            u_warm = u_end[near, np.argmin(losses[near], axis=1)]
            u_more, l_more = lanes(
                u_warm,
                np.broadcast_to(ones, (inside.size, rows)),
                np.broadcast_to(error[None, :], (inside.size, rows)),
                inside,
            )
            u_more = np.broadcast_to(u_more[:, None, :], (inside.size, starts, p))
            l_more = np.broadcast_to(l_more[:, None], (inside.size, starts))
            values = np.concatenate([values, inside])
            order = np.argsort(values)
            values = values[order]
            u_end = np.concatenate([u_end, u_more])[order]
            losses = np.concatenate([losses, l_more])[order]
        profile = (profile[0], values)
    clean = losses  # every non-finite loss is inf already (`lanes`)
    g_best, s_best = np.unravel_index(int(np.argmin(clean)), clean.shape)
    u_grid = u_end[np.arange(clean.shape[0]), np.argmin(clean, axis=1)]  # each grid value's best
    start_values = _from_unit_np(u_end, lo, hi).reshape(clean.size, p)
    best_params = {k: float(start_values[g_best * starts + s_best, i]) for i, k in enumerate(names)}
    if profile[0] is not None:
        best_params[profile[0]] = float(profile[1][g_best])
    predictor = _predictor(kernel, static)
    fitted = np.asarray(predictor({**dynamic, **best_params}, columns))
    undetermined = _undetermined(predictor, dynamic, best_params, names, columns, scale, lo, hi)

    boot = {}
    if bootstrap:
        picks = rng_boot.integers(0, rows, (bootstrap, rows))
        if resample == "cases":
            weights = np.stack([np.bincount(row, minlength=rows) for row in picks]).astype(dtype)
            errors = np.broadcast_to(error[None, :], (bootstrap, rows))
        else:
            # standardised residuals (by each row's relative error, when given), put back at each
            # row's own scale: heteroscedastic rows keep their noise
            z = (np.log(error) - np.log(fitted)) / scale
            if resample == "residuals":  # drawn with replacement, inflated for the fitted parameters
                noise = z[picks] * math.sqrt(rows / max(rows - free_rows, 1))
            else:  # normal, at the stated errors or wider when the residuals scatter more
                spread = float(np.sqrt(np.sum(z**2) / max(rows - free_rows, 1)))
                spread = max(spread, 1.0) if sem is not None else spread
                noise = spread * rng_boot.standard_normal((bootstrap, rows))
            errors = fitted[None, :] * np.exp(scale[None, :] * noise)
            weights = np.broadcast_to(ones, (bootstrap, rows))
        if profile[0] is None:  # one refit per replicate, from the best fit
            u_rep, _ = lanes(np.broadcast_to(u_grid, (bootstrap, p)), weights, errors, np.zeros(bootstrap, dtype))
            v_rep = None
        else:
            u_rep, v_rep = _profile_replicates(lanes, coarse, profile[1], clean.min(axis=1), u_grid, weights, errors)
        values = _from_unit_np(u_rep, lo, hi)
        boot = {k: values[:, i] for i, k in enumerate(names)}
        if profile[0] is not None:
            boot[profile[0]] = v_rep

    residuals = np.log(fitted) - np.log(error)
    position = 1.0 / (1.0 + np.exp(-u_end[g_best, s_best]))
    on_bound = {k: bool(position[i] < 1e-3 or position[i] > 1 - 1e-3) for i, k in enumerate(names)}
    flat = clean.reshape(-1)
    near = np.isfinite(flat) & (flat <= flat.min() * (1 + 1e-6) + 1e-12)
    every = start_values
    best_row = every[g_best * starts + s_best]
    spread = np.abs(every[near] / best_row - 1) if near.sum() > 1 and len(names) else np.zeros(1)
    start_params = {k: every[:, i] for i, k in enumerate(names)}
    if profile[0] is not None:
        grid_values = profile[1]
        on_bound[profile[0]] = grid_values.size > 1 and g_best in (0, grid_values.size - 1)
        start_params[profile[0]] = np.repeat(grid_values, starts)
        picked = np.repeat(grid_values, starts)[near]
        spread = np.append(spread.ravel(), np.abs(picked / best_params[profile[0]] - 1))
    return Fit(
        params=best_params,
        loss=float(flat.min()),
        start_params=start_params,
        start_losses=flat,
        bootstrap=boot,
        residuals=residuals,
        on_bound=on_bound,
        disagree=bool(np.nanmax(spread) > 0.01),
        undetermined=undetermined,
        capped=sum(capped),
        model=kernel,
        fixed=fixed,
        family=None if family is None else family.name,
    )


_FLAT = 1e-6  # a sensitivity this small against the largest is none (`_undetermined`)
_FD_STEP = 1e-4  # its central differences, in the fitting coordinate


def _undetermined(predictor, dynamic, params, names, columns, scale, lo, hi):
    """`{name: bool}` for the continuous parameters: the data cannot determine it at the best fit.

    J is the Jacobian of the scaled log-predictions (each row's residual) in each parameter's fitting
    coordinate t (its position in its range, log-uniform for a positive range), by central
    differences of step 1e-4 in t with the fit's own compiled predictor (one-sided at a bound). A
    parameter is undetermined when its column is flat (norm ≤ 1e-6 of the largest: the predictions
    do not move with it, as a synthetic-data parameter on data without synthetic samples), or when
    the columns, each normalised, are dependent (a singular value ≤ 1e-6 of the largest) and the
    parameter carries at least 10 % of that direction (it moves the predictions only as others can)."""
    if not names:
        return {}
    values = np.asarray([params[k] for k in names], np.float64)
    positive = lo > 0
    t0 = np.where(
        positive,
        np.log(np.where(positive, values, 1.0) / np.where(positive, lo, 1.0))
        / np.log(np.where(positive, hi, 2.0) / np.where(positive, lo, 1.0)),
        (values - lo) / (hi - lo),
    )

    def log_pred(t):
        moved = _from_unit(np.clip(t, 0.0, 1.0), lo, hi, xp=np).astype(lo.dtype)
        out = np.asarray(predictor({**dynamic, **params, **dict(zip(names, moved))}, columns), np.float64)
        return np.log(out) / scale

    h = _FD_STEP
    J = np.empty((scale.size, len(names)))
    for i in range(len(names)):
        up, down = t0.copy(), t0.copy()
        up[i], down[i] = min(t0[i] + h, 1.0), max(t0[i] - h, 0.0)
        J[:, i] = (log_pred(up) - log_pred(down)) / (up[i] - down[i])
    norms = np.linalg.norm(J, axis=0)
    if not np.all(np.isfinite(J)) or norms.max() == 0.0:
        return dict.fromkeys(names, True)
    out = norms <= _FLAT * norms.max()
    live = np.flatnonzero(~out)
    if live.size > 1:
        _, sv, vt = np.linalg.svd(J[:, live] / norms[live], full_matrices=False)
        for value, direction in zip(sv, vt):
            if value <= _FLAT * sv[0]:
                out[live[direction**2 >= 0.1]] = True
    return {k: bool(out[i]) for i, k in enumerate(names)}


def _profile_replicates(lanes, coarse, values, losses, u_values, weights, errors):
    """Each bootstrap replicate's own profile over an integer parameter: `(u, value)` per replicate.

    The replicates are fitted at the coarse grid's values over the data's plausible range (the
    coarse values whose profile loss is at most 3× the best, and the best one's neighbours), each
    from the data's best fit there; then twice at `_CANDIDATES` integers log-spaced between the
    replicate's own best value's neighbours, from its best fit. The replicates' values are thus
    resolved to about 2 % however far they stray from the data's best, which the percentile
    interval needs: refitting every replicate at a few integers next to the data's best made the
    cut k's interval a few integers wide where its estimates spread over ±25 %."""
    bootstrap = weights.shape[0]
    at = np.searchsorted(values, coarse)  # the coarse values' places in the refined profile
    loss = losses[at]
    best = int(np.argmin(loss))
    keep = np.flatnonzero(loss <= 3 * loss[best] + 1e-12)
    first, last = max(min(keep.min(), best - 1), 0), min(max(keep.max(), best + 1), coarse.size - 1)
    tried = np.tile(coarse[first : last + 1], (bootstrap, 1))
    width = tried.shape[1]
    u, loss = lanes(
        np.tile(u_values[at[first : last + 1]], (bootstrap, 1)),
        np.repeat(weights, width, axis=0),
        np.repeat(errors, width, axis=0),
        tried.ravel(),
    )
    u, loss = u.reshape(bootstrap, width, -1), loss.reshape(bootstrap, width)
    rows = np.arange(bootstrap)[:, None]
    for _ in range(2):
        j = np.argmin(loss, axis=1)[:, None]
        around = np.minimum(np.maximum(j + np.arange(-1, 2)[None, :], 0), tried.shape[1] - 1)  # (B, 3)
        lo_v, hi_v = tried[rows, around[:, :1]], tried[rows, around[:, 2:]]
        fresh = np.round(np.exp(np.log(lo_v) + np.linspace(0, 1, _CANDIDATES + 2)[None, 1:-1] * np.log(hi_v / lo_v)))
        u_new, loss_new = lanes(
            np.repeat(u[rows[:, 0], j[:, 0]], _CANDIDATES, axis=0),
            np.repeat(weights, _CANDIDATES, axis=0),
            np.repeat(errors, _CANDIDATES, axis=0),
            fresh.ravel(),
        )
        tried = np.concatenate([tried[rows, around], fresh], axis=1)
        u = np.concatenate([u[rows, around], u_new.reshape(bootstrap, _CANDIDATES, -1)], axis=1)
        loss = np.concatenate([loss[rows, around], loss_new.reshape(bootstrap, _CANDIDATES)], axis=1)
        order = np.argsort(tried, axis=1, kind="stable")
        tried, u, loss = tried[rows, order], u[rows, order], loss[rows, order]
    j = np.argmin(loss, axis=1)
    return u[rows[:, 0], j], tried[rows[:, 0], j]


def _family_fixed(family: Family, bounds, fixed, columns):
    """Every keyword of a family's kernel that is neither free nor a column: the user's fixed values,
    else the family's defaults; a missing required one is a `ValueError`."""
    known = set(family.params) | set(family.columns) | set(family.optional) | set(family.static)
    for name in list(fixed) + list(columns):
        if name not in known:
            raise ValueError(
                f"{name!r} is not a keyword of the {family.name!r} model "
                f"(parameters {sorted(family.params)}, columns {list(family.columns) + sorted(family.optional)}, "
                f"settings {sorted(family.static)})"
            )
        if name in columns and name in fixed:
            raise ValueError(f"{name!r} is both a data column and fixed")
        if name in family.params and name in columns:
            raise ValueError(f"data: {name!r} is a parameter of the {family.name!r} model, not a column")
    out = dict(fixed)
    for name, default in family.params.items():
        if name in bounds or name in fixed:
            continue
        if name in family.required:
            raise ValueError(f"{name!r} must be free (in params) or given in fixed")
        out[name] = default
    for name in family.columns:
        if name not in columns and name not in fixed:
            raise ValueError(
                f"data has no column {name!r} (the {family.name!r} model needs {', '.join(family.columns)}; "
                "a column, or a value in fixed)"
            )
    for name, default in family.static.items():
        if name in fixed:
            continue
        if default is None:
            raise ValueError(f"fixed must give {name!r} for the {family.name!r} model")
        out[name] = default
    return out


# The allowed values of the columns a table may carry: (low, high, low excluded).
COLUMN_DOMAINS = {
    "error": (0.0, math.inf, True),
    "sem": (0.0, math.inf, True),
    "n": (0.0, math.inf, True),
    "m": (0.0, math.inf, True),
    "n0": (0.0, math.inf, True),
    "T": (0.0, math.inf, True),
    "p2": (0.0, 1.0, False),
    "lam": (0.0, math.inf, False),
    "weight": (0.0, math.inf, False),
    "generations": (0.0, math.inf, False),
}


def first_bad_value(name, values):
    """`(index, value, allowed)` of the first entry of column `name` outside its domain
    (`COLUMN_DOMAINS`; any finite number for other columns), or None."""
    low, high, strict = COLUMN_DOMAINS.get(name, (-math.inf, math.inf, False))
    values = np.asarray(values, dtype=float).reshape(-1)
    bad = ~np.isfinite(values) | (values > high) | ((values <= low) if strict else (values < low))
    if not bad.any():
        return None
    i = int(np.flatnonzero(bad)[0])
    if low == -math.inf:
        allowed = "a finite number"
    elif high == math.inf:
        allowed = f"a number {'>' if strict else '≥'} {low:g}"
    else:
        allowed = f"a number in [{low:g}, {high:g}]"
    return i, float(values[i]), allowed


def _columns(data):
    if not isinstance(data, Mapping) or "error" not in data:
        raise ValueError("data must be a dict of columns with an 'error' column (and the model's keywords)")
    for name, values in data.items():
        if values is None:  # an absent optional column (sem)
            continue
        try:
            found = first_bad_value(name, values)
        except (TypeError, ValueError):
            raise ValueError(f"data[{name!r}] must hold numbers, got {np.asarray(values).dtype}") from None
        if found:
            i, value, allowed = found
            raise ValueError(f"data[{name!r}][{i}] is {value!r}: each entry must be {allowed}")
    error = check_scalar("data['error']", np.asarray(data["error"], dtype=float), low=0.0, strict=True)
    if np.ndim(error) != 1:
        raise ValueError(f"data['error'] must be one column (1-D), got shape {np.shape(error)}")
    rows = error.shape[0]
    sem = None
    if data.get("sem") is not None:
        sem = check_scalar("data['sem']", np.asarray(data["sem"], dtype=float), low=0.0, strict=True)
    columns = {}
    for name, values in data.items():
        if name in ("error", "sem"):
            continue
        columns[name] = check_scalar(f"data[{name!r}]", np.asarray(values, dtype=float))
    for name, values in {**columns, **({"sem": sem} if sem is not None else {})}.items():
        if np.shape(values) != (rows,):
            raise ValueError(f"data[{name!r}] must have one value per row ({rows}), got shape {np.shape(values)}")
    return columns, error, sem


def _from_unit(t, lo, hi, xp=jnp):
    """`t ∈ (0, 1)` to the range: log-uniform where `lo > 0`, uniform elsewhere (`xp`: `jnp` inside
    the fit, `np` for its bookkeeping, which then compiles nothing)."""
    positive = lo > 0
    safe_lo, safe_hi = xp.where(positive, lo, 1.0), xp.where(positive, hi, 2.0)
    log_scale = safe_lo * xp.exp(t * (xp.log(safe_hi) - xp.log(safe_lo)))
    return xp.where(positive, log_scale, lo + t * (hi - lo))


def _from_unit_np(u, lo, hi):
    """`_from_unit(σ(u))` in NumPy."""
    return _from_unit(1.0 / (1.0 + np.exp(-u)), lo, hi, xp=np)


@functools.lru_cache(maxsize=32)
def _predictor(model, static):
    """`predict(params, columns)`, compiled once per model and fixed settings."""
    static = dict(static)
    return jax.jit(lambda params, columns: _predict(model, {**static, **params}, columns))


def _predict(model, kwargs, columns):
    out = model(**{**kwargs, **columns})  # columns (a prediction's) override fixed values
    return getattr(out, "total", out)


@functools.lru_cache(maxsize=32)
def _programs(model, names, profiled, static, delta, batch):
    """The compiled fit over a batch of lanes, each with its own start `u0`, row weights, errors and
    value of the profiled parameter (`profiled`: its name, or None), and an iteration budget:
    starts, refinements and bootstrap replicates all run through this one program, kept per model
    and settings so that refitting new data of the same shapes compiles nothing. The lanes run
    `batch` at a time (`lax.map` of a `vmap`): a batch stops when its slowest lane has converged."""
    static = dict(static)

    def residuals(u, error, scale, columns, lo, hi, dynamic, value):
        params = dict(zip(names, _from_unit(jax.nn.sigmoid(u), lo, hi)))
        if profiled is not None:
            params[profiled] = value
        pred = _predict(model, {**static, **dynamic, **params}, columns)
        good = jnp.isfinite(pred) & (pred > 0)
        r = (jnp.log(jnp.where(good, pred, 1.0)) - jnp.log(error)) / scale
        return jnp.where(good, r, 0.0), good

    solve = _levenberg_marquardt(residuals, len(names), delta)

    def lane(u0, weights, error, value, max_steps, scale, columns, lo, hi, dynamic):
        return solve(u0, weights, max_steps, (error, scale, columns, lo, hi, dynamic, value))

    batched = jax.vmap(lane, in_axes=(0, 0, 0, 0) + (None,) * 6)

    def program(u0, weights, errors, values, max_steps, active, *shared):
        """`active`: how many of the batches hold real lanes; the padding batches are skipped."""
        width = u0.shape[0]
        chunks = tuple(x.reshape((width // batch, batch) + x.shape[1:]) for x in (u0, weights, errors, values))

        def one(c):
            i, c = c[0], c[1:]
            idle = (c[0], jnp.full((batch,), jnp.inf, c[0].dtype), jnp.zeros((batch,), jnp.asarray(0).dtype))
            return jax.lax.cond(i < active, lambda: batched(*c, max_steps, *shared), lambda: idle)

        out = jax.lax.map(one, (jnp.arange(width // batch),) + chunks)
        return jax.tree.map(lambda x: x.reshape((width,) + x.shape[2:]), out)

    return jax.jit(program)


def _levenberg_marquardt(residuals, size, delta):
    r"""`solve(u0, weights, max_steps, data) -> (u, loss, steps)`: minimise the weighted Huber loss
    $\sum_i w_i\rho_\delta(r_i(u)) / \sum_i w_i$ of `residuals(u, *data) -> (r, good)` (rows not `good`
    cost `_PENALTY` each) by Levenberg–Marquardt.

    The model of the loss is its generalised Gauss–Newton one: gradient $g = J^\top W\psi(r)$ with
    $\psi(r) = \mathrm{clip}(r, \pm\delta)$, curvature $H = J^\top W_{|r|\le\delta} J$ (the rows inside
    the Huber zone). The step solves $(H + \mu D)\,\Delta u = -g$ with $D$ the diagonal of the
    reweighted curvature $J^\top W\min(1, \delta/|r|)J$ (Holland & Welsch 1977), which stays
    positive when few rows are inside the zone; it is taken only when the loss decreases, and μ
    follows Nielsen's (1999) update of the gain ratio. No coordinate moves by more than
    `_STEP_MAX` = 2 in a step: a longer one lands deep in a bound's saturated logit, where the
    gradient vanishes and a fit stalls (2 of 8 starts did, on a 16-row ridge table). The
    reweighted curvature alone (iteratively reweighted least squares) crawls when δ is small, a
    near-L1 loss: it took 30–90 iterations where this takes 12–28 to the same optimum. The Jacobian
    is forward-mode (`jax.jacfwd`: a handful of parameters, many rows), through the theory's implicit
    derivatives. A lane stops when a step changes no coordinate by more than 1e-9 (relative), or
    after `max_steps` (traced: one program for every budget)."""

    def solve(u0, weights, max_steps, data):
        w = weights / jnp.sum(weights)

        def model(u):
            def f(u):
                r, good = residuals(u, *data)
                return r, (r, good)

            if size:
                jac, (r, good) = jax.jacfwd(f, has_aux=True)(u)
            else:  # nothing continuous to fit (a profiled parameter alone)
                r, good = residuals(u, *data)
                jac = jnp.zeros(r.shape + (0,), r.dtype)
            loss = jnp.sum(w * jnp.where(good, optax.huber_loss(r, delta=delta), _PENALTY))
            psi = jnp.where(good, jnp.clip(r, -delta, delta), 0.0)
            inside = good & (jnp.abs(r) <= delta)
            omega = jnp.where(good, jnp.minimum(1.0, delta / jnp.maximum(jnp.abs(r), delta * 1e-12)), 0.0)
            grad = jac.T @ (w * psi)
            hess = (jac * jnp.where(inside, w, 0.0)[:, None]).T @ jac
            scale = (jac * jac).T @ (w * omega)  # diag of the reweighted curvature
            return loss, grad, (hess, scale)

        if not size:
            return u0, model(u0)[0], jnp.asarray(0)

        def cond(state):
            return (~state[-1]) & (state[-2] <= max_steps)

        def body(state):
            u, loss, grad, curvature, mu, nu, step, _ = state
            hess, diag = curvature
            diag = jnp.maximum(diag, 1e-12 * jnp.max(diag) + jnp.finfo(u.dtype).tiny)
            du = -jnp.linalg.solve(hess + mu * jnp.diag(diag), grad)
            du = jnp.where(jnp.all(jnp.isfinite(du)), du, 0.0)
            du = du * jnp.minimum(1.0, _STEP_MAX / jnp.maximum(jnp.max(jnp.abs(du)), 1e-300))
            trial = jnp.clip(u + du, -_U_MAX, _U_MAX)
            du = trial - u
            t_loss, t_grad, t_curvature = model(trial)
            predicted = -(grad @ du) - 0.5 * du @ hess @ du
            gain = (loss - t_loss) / jnp.where(predicted > 0, predicted, jnp.inf)
            accept = jnp.isfinite(t_loss) & (t_loss < loss)
            first = step == 0  # the start itself (du = 0): evaluated in the loop, to trace `model` once
            mu = jnp.where(accept & ~first, mu * jnp.maximum(1 / 3, 1 - (2 * gain - 1) ** 3), mu * nu)
            nu = jnp.where(accept, 2.0, 2.0 * nu)
            small = jnp.max(jnp.abs(du)) <= _XTOL * (1 + jnp.max(jnp.abs(u)))
            pick = lambda new, old: jnp.where(accept, new, old)  # noqa: E731
            done = jnp.where(first, ~accept, small | (mu > 1e16) | ~jnp.isfinite(mu))
            t_curvature = jax.tree.map(pick, t_curvature, curvature)
            return pick(trial, u), pick(t_loss, loss), pick(t_grad, grad), t_curvature, mu, nu, step + 1, done

        one = jnp.ones((), u0.dtype)
        zero = jnp.zeros((size, size), u0.dtype)
        state = (u0, jnp.inf * one, zero[0], (zero, zero[0]), one, 2.0 * one, jnp.asarray(0), jnp.asarray(False))
        u, loss, *_, steps, _ = jax.lax.while_loop(cond, body, state)
        return u, loss, steps - 1  # iterations after the start's evaluation

    return solve
