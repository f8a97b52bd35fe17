r"""`jc.fit`: fit a model's free parameters to measured errors, from many starts, with a bootstrap.

The model is any function `model(**params, **columns)` that returns a `Risk` (its `total` is used)
or an array of predicted errors, e.g. ridge on a power law whose decay β and synthetic quality are
free. Each free parameter has bounds and is optimised in an unbounded coordinate $u$:
$x = \ell + (h - \ell)\,\sigma(u)$, or on a log scale $x = \ell\,(h/\ell)^{\sigma(u)}$ when $\ell > 0$, so
every iterate respects the bounds. The loss is the Huber loss of the log-residuals
$\log\hat E - \log E$ (Hoffmann et al. 2022, *Training compute-optimal large language models*,
δ = 1e-3), averaged over the rows; with standard errors the residuals are first divided by the
relative error `sem/error` (a Huber loss of standardised residuals, δ = 1).

Optimiser: L-BFGS (`optax.lbfgs`, zoom line search) for a fixed number of steps, started from
`starts` points drawn uniformly in the parameters' (log) ranges, all starts in one vmapped program;
gradients flow through the theory by implicit differentiation. L-BFGS rather than Adam: the problems
have a handful of smooth parameters, where a quasi-Newton method converges in tens of steps while
Adam needs a schedule tuned per problem.

Uncertainty: a bootstrap, each replicate refitted from the best fit, all replicates in one vmapped
program; intervals are percentiles of the replicates. By default the residuals are resampled (the
design — the sample sizes and fractions measured — is fixed, as in an experiment); `resample="cases"`
resamples rows, as Besiroglu et al. 2024 (*Chinchilla scaling: a replication attempt*) did.
Measured coverage is in `benchmarks/RESULTS.md` (`benchmarks/fit_coverage.py`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._validate import check_int, check_scalar

__all__ = ["Fit", "fit"]

_PENALTY = 1e3  # the loss of a row whose prediction is not a positive finite number


@dataclasses.dataclass(frozen=True)
class Fit:
    """The result of `jc.fit`.

    - `params`: best parameters `{name: float}`; `loss`: their loss.
    - `start_params`, `start_losses`: every start's end point (`{name: (starts,)}`, `(starts,)`).
    - `bootstrap`: `{name: (replicates,)}` refitted parameters (empty without a bootstrap).
    - `residuals`: log-residuals log Ê − log E at the best parameters, per row.
    - `on_bound`: `{name: bool}`, the best value sits within 0.1 % of a bound (of the range in its
      fitting coordinate): the data do not pin it inside the range.
    - `disagree`: starts that reach the best loss (within 1e-6 relative) end at parameters more
      than 1 % apart: the parameters are not identifiable from these data.
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

    def interval(self, name: str, level: float = 0.9) -> tuple[float, float]:
        """The percentile interval of a parameter over the bootstrap replicates."""
        if name not in self.bootstrap:
            raise ValueError(f"name must be a fitted parameter with a bootstrap, one of {sorted(self.bootstrap)}")
        check_scalar("level", level, low=0.0, high=1.0, strict=True, scalar=True)
        tail = 50.0 * (1.0 - level)
        lo, hi = np.percentile(self.bootstrap[name], [tail, 100.0 - tail])
        return float(lo), float(hi)

    def predict(self, **columns):
        """The model's error at the best parameters for `columns` (the model's other keywords)."""
        return np.asarray(_predict(self.model, {**self.fixed, **self.params}, columns))

    def predict_interval(self, level: float = 0.9, **columns) -> tuple[np.ndarray, np.ndarray]:
        """The percentile interval of the predicted error over the bootstrap replicates."""
        if not self.bootstrap:
            raise ValueError("predict_interval needs a fit with bootstrap > 0")
        check_scalar("level", level, low=0.0, high=1.0, strict=True, scalar=True)
        names = sorted(self.bootstrap)
        draws = jnp.stack([jnp.asarray(self.bootstrap[k]) for k in names], axis=-1)

        def one(row):
            return _predict(self.model, {**self.fixed, **dict(zip(names, row))}, columns)

        values = np.asarray(jax.vmap(one)(draws))
        tail = 50.0 * (1.0 - level)
        return np.percentile(values, tail, axis=0), np.percentile(values, 100.0 - tail, axis=0)


def fit(
    model: Callable,
    data: Mapping[str, object],
    *,
    params: Mapping[str, tuple[float, float]],
    fixed: Mapping[str, object] | None = None,
    loss: str = "huber-log",
    delta: float | None = None,
    starts: int = 32,
    bootstrap: int = 200,
    resample: str = "residuals",
    steps: int = 100,
    key: jax.Array,
) -> Fit:
    r"""Fit the free parameters of `model` to measured errors (module docstring).

    **Arguments:**

    - `model`: `model(**params, **fixed, **columns)` → a `Risk` or an array of predicted errors, one
      per row; it must be traceable in the free parameters (every jaxcollapse theory kernel is, and
      `jc.power_law` is in `beta`, `source`, `signal`, `shift`, `noise_var`).
    - `data`: columns of equal length: `error` (measured, > 0), optionally `sem` (its standard
      error, > 0), and the model's other keywords (`n`, `p2`, `m`, `lam`, …).
    - `params`: `{name: (low, high)}`, the free parameters and their bounds (`low < high`; a log
      scale when `low > 0`).
    - `fixed`: more keywords for the model, held fixed.
    - `loss`: `"huber-log"` (the only one); `delta`: its threshold (default 1e-3, or 1 with `sem`).
    - `starts`: starting points (≥ 1); `bootstrap`: replicates (0 for none); `steps`: L-BFGS steps.
    - `resample`: `"residuals"` (default: each replicate is the best fit's prediction times the
      exponential of log-residuals drawn with replacement — standardised by each row's relative
      error `sem/error` when given, and put back at the row's own scale — inflated by
      $\sqrt{N/(N - p)}$ for the $p$ fitted parameters; the design stays fixed) or `"cases"` (rows drawn with replacement).
    - `key`: a PRNG key for the starts and the bootstrap.

    **Returns:** a `Fit`.
    """
    if not callable(model):
        raise ValueError(f"model must be callable, got {type(model).__name__}")
    if resample not in ("residuals", "cases"):
        raise ValueError(f"resample must be 'residuals' or 'cases', got {resample!r}")
    if loss != "huber-log":
        raise ValueError(f"loss must be 'huber-log', got {loss!r}")
    starts = check_int("starts", starts)
    bootstrap = check_int("bootstrap", bootstrap, low=0)
    steps = check_int("steps", steps)
    fixed = dict(fixed or {})
    if not isinstance(params, Mapping) or not params:
        raise ValueError("params must be a non-empty dict {name: (low, high)}")
    bounds = {}
    for name, pair in params.items():
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
    if delta is None:
        delta = 1.0 if sem is not None else 1e-3
    delta = float(check_scalar("delta", delta, low=0.0, strict=True, scalar=True))
    names = tuple(sorted(bounds))
    lo = jnp.asarray([bounds[k][0] for k in names])
    hi = jnp.asarray([bounds[k][1] for k in names])
    scale = sem / error if sem is not None else jnp.ones_like(error)
    dynamic = {
        k: v for k, v in fixed.items() if isinstance(v, (jax.Array, np.ndarray, float, int)) and not isinstance(v, bool)
    }
    static = tuple(sorted((k, v) for k, v in fixed.items() if k not in dynamic))
    dynamic = {k: jnp.asarray(v, dtype=float) for k, v in dynamic.items()}
    try:
        hash((model, static))
    except TypeError:
        raise ValueError("fixed: non-numeric values must be hashable (strings, tuples, ...)") from None
    from_starts, from_best, from_data = _programs(model, names, static, steps, delta)
    args = (error, scale, columns, lo, hi, dynamic)

    k_starts, k_boot = jax.random.split(key)
    unit = jax.random.uniform(k_starts, (starts, len(names)), minval=0.02, maxval=0.98, dtype=error.dtype)
    u0 = jnp.log(unit) - jnp.log1p(-unit)
    ones = jnp.ones(error.shape[0], error.dtype)
    u_end, losses = from_starts(u0, ones, *args)
    losses = np.asarray(losses)
    best = int(np.nanargmin(np.where(np.isfinite(losses), losses, np.inf)))
    u_best = u_end[best]
    start_values = np.asarray(_from_unit(jax.nn.sigmoid(u_end), lo[None, :], hi[None, :]))
    best_params = {k: float(start_values[best, i]) for i, k in enumerate(names)}

    boot = {}
    if bootstrap:
        rows = error.shape[0]
        picks = jax.random.randint(k_boot, (bootstrap, rows), 0, rows)
        if resample == "cases":
            weights = jax.vmap(lambda p: jnp.bincount(p, length=rows).astype(error.dtype))(picks)
            u_boot, _ = from_best(u_best, weights, *args)
        else:
            fitted = jnp.asarray(_predict(model, {**fixed, **best_params}, columns))
            # standardised residuals (by each row's relative error, when given) drawn with replacement
            # and put back at each row's own scale: heteroscedastic rows keep their noise
            z = (jnp.log(error) - jnp.log(fitted)) / scale * math.sqrt(rows / max(rows - len(names), 1))
            errors = fitted[None, :] * jnp.exp(scale[None, :] * z[picks])
            u_boot, _ = from_data(u_best, ones, errors, *args[1:])
        values = np.asarray(_from_unit(jax.nn.sigmoid(u_boot), lo[None, :], hi[None, :]))
        boot = {k: values[:, i] for i, k in enumerate(names)}

    pred = np.asarray(_predict(model, {**fixed, **best_params}, columns))
    residuals = np.log(pred) - np.log(np.asarray(error))
    position = np.asarray(jax.nn.sigmoid(u_best))
    on_bound = {k: bool(position[i] < 1e-3 or position[i] > 1 - 1e-3) for i, k in enumerate(names)}
    near = np.isfinite(losses) & (losses <= losses[best] * (1 + 1e-6) + 1e-12)
    spread = np.abs(start_values[near] / start_values[best] - 1) if near.sum() > 1 else np.zeros(1)
    return Fit(
        params=best_params,
        loss=float(losses[best]),
        start_params={k: start_values[:, i] for i, k in enumerate(names)},
        start_losses=losses,
        bootstrap=boot,
        residuals=residuals,
        on_bound=on_bound,
        disagree=bool(np.nanmax(spread) > 0.01),
        model=model,
        fixed=fixed,
    )


def _columns(data):
    if not isinstance(data, Mapping) or "error" not in data:
        raise ValueError("data must be a dict of columns with an 'error' column (and the model's keywords)")
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
    return columns, jnp.asarray(error), None if sem is None else jnp.asarray(sem)


def _from_unit(t, lo, hi):
    """`t ∈ (0, 1)` to the range: log-uniform where `lo > 0`, uniform elsewhere."""
    positive = lo > 0
    safe_lo, safe_hi = jnp.where(positive, lo, 1.0), jnp.where(positive, hi, 2.0)
    log_scale = safe_lo * jnp.exp(t * (jnp.log(safe_hi) - jnp.log(safe_lo)))
    return jnp.where(positive, log_scale, lo + t * (hi - lo))


def _predict(model, kwargs, columns):
    out = model(**kwargs, **columns)
    return getattr(out, "total", out)


@functools.lru_cache(maxsize=32)
def _programs(model, names, static, steps, delta):
    """`(from_starts, from_best)`: the compiled fits over many starts and over bootstrap weights,
    kept per model and settings so that refitting new data of the same shapes compiles nothing."""
    static = dict(static)

    def objective(u, weights, error, scale, columns, lo, hi, dynamic):
        params = dict(zip(names, _from_unit(jax.nn.sigmoid(u), lo, hi)))
        pred = _predict(model, {**static, **dynamic, **params}, columns)
        resid = (jnp.log(jnp.where(pred > 0, pred, 1.0)) - jnp.log(error)) / scale
        per_row = jnp.where(jnp.isfinite(pred) & (pred > 0), optax.huber_loss(resid, delta=delta), _PENALTY)
        return jnp.sum(weights * per_row) / jnp.sum(weights)

    solve = _solver(objective, steps)
    shared = (None,) * 6
    return (
        jax.jit(jax.vmap(solve, in_axes=(0, None, *shared))),  # many starts
        jax.jit(jax.vmap(solve, in_axes=(None, 0, *shared))),  # many row weights (cases)
        jax.jit(jax.vmap(solve, in_axes=(None, None, 0, *shared[1:]))),  # many datasets (residuals)
    )


def _solver(objective, steps):
    """`solve(u0, weights, *data) -> (u, loss)`: `steps` L-BFGS steps on `objective(·, weights, *data)`."""
    opt = optax.lbfgs()

    def solve(u0, weights, *data):
        f = lambda u: objective(u, weights, *data)  # noqa: E731
        value_and_grad = optax.value_and_grad_from_state(f)

        def step(carry, _):
            u, state = carry
            value, grad = value_and_grad(u, state=state)
            grad = jnp.where(jnp.isfinite(grad), grad, 0.0)
            updates, state = opt.update(grad, state, u, value=value, grad=grad, value_fn=f)
            return (optax.apply_updates(u, updates), state), None

        (u, _), _ = jax.lax.scan(step, (u0, opt.init(u0)), None, length=steps)
        return u, f(u)

    return solve
