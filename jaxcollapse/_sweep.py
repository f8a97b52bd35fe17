"""`jc.sweep`: evaluate a kernel over a Cartesian grid, in chunks, sharded, resumable; returns an `xarray.Dataset`.

Data flow: the grid's points are flattened, padded to whole chunks, and each chunk is evaluated by
one compiled, vmapped call of the kernel whose inputs are sharded over the devices (one program,
many devices). Results go to preallocated arrays, or to a zarr checkpoint chunk by chunk, and are
assembled into a Dataset with one variable per result field and the axes as dimensions.

Axes that set array shapes in a kernel (the sample size and widths of a simulator, declared by the
kernel's `static_arguments` attribute) are looped over in Python: the kernel is compiled once per
value of such an axis and once in all for the rest. When every axis is static (a learning curve),
each value is a single point: it is evaluated replicated rather than sharded, and its fields are
given a leading points axis of length 1, so the rest of the data flow is the same.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import hashlib
import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._buckets import POINT_BUCKETS, point_bucket
from ._progress import Progress, sweeping
from ._validate import check_int

if TYPE_CHECKING:  # xarray is imported when a sweep runs, not with the package
    import xarray

_DEFAULT_CHUNK = 2**16  # theory kernels: points per compiled call
_DEFAULT_CHUNK_STATIC = 2**10  # kernels with static axes (simulators): points per call


def sweep(
    fn: Callable,
    axes: Mapping[str, object],
    *,
    chunk_size: int | None = None,
    progress: bool = True,
    checkpoint: str | os.PathLike | None = None,
    devices: Sequence[jax.Device] | None = None,
) -> xarray.Dataset:
    r"""Evaluate `fn` on every point of the Cartesian product of `axes`.

    **Arguments:**

    - `fn`: a kernel taking keyword scalars and returning a `Risk`, an `Estimate`, a dict of arrays
      or an array, e.g. `functools.partial(jc.theory.random_projections, mix)`. It is called with
      1-D arrays of one chunk's values and must treat them elementwise (every jaxcollapse kernel
      does).
    - `axes`: `{"n": ns, "m": ms, "p2": p2s, "lam": lams}`: any of the kernel's keywords, each a 1-D
      array of values. The order of the dict is the order of the dimensions.
    - `chunk_size`: points per compiled call (default 65536, or 1024 for simulators); rounded up
      to a multiple of the number of devices.
    - `progress`: show a progress bar (points/s, ETA) on standard error when it is a terminal.
    - `checkpoint`: path of a zarr store. Each finished chunk is saved as it completes; calling
      `sweep` again with the same kernel, problem and grid resumes and recomputes nothing that was
      saved. A checkpoint written for anything else is refused with a `ValueError`.
    - `devices`: devices to shard chunks over (default: all of `jax.devices()`). Results do not
      depend on the number of devices beyond the last bit (statuses not at all).

    **Returns:** an `xarray.Dataset` with one variable per result field (`total`, `bias`, …,
    `status`; `mean`, `sem`, `samples` for a simulator, with a trailing `trial` dimension), the axes
    as dimensions and coordinates, and attrs naming the kernel, a digest of the problem, the
    package and JAX versions, and how many chunks were computed or resumed.
    """
    names, values = _check_axes(fn, axes)
    grid = _Grid(names, values, set(_static_arguments(fn)))
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices must name at least one device")
    if chunk_size is None:
        chunk_size = min(grid.traced_points, _DEFAULT_CHUNK_STATIC if grid.static else _DEFAULT_CHUNK)
    chunk_size = check_int("chunk_size", chunk_size)
    fingerprint, description = _fingerprint(fn, names, values)
    store = None
    if checkpoint is not None:
        store = _Checkpoint.open(os.fspath(checkpoint), fingerprint, description, chunk_size)
        chunk_size = store.chunk_size

    bar = Progress(grid.static_count * grid.traced_points, enabled=progress)
    with sweeping():
        outputs, computed, resumed = _compute(fn, grid, chunk_size, devices, store, bar)
    bar.close()
    from . import __version__

    attrs = {
        **description,
        "jaxcollapse_version": __version__,
        "jax_version": jax.__version__,
        "fingerprint": fingerprint,
        "devices": len(devices),
        "chunk_size": int(chunk_size),
        "chunks_computed": computed,
        "chunks_resumed": resumed,
        "chunks_saved": 0 if store is None else store.saved,
        "chunks_discarded": 0 if store is None else store.discarded,
        "processes": jax.process_count(),
    }
    return grid.dataset(outputs, attrs)


class _Grid:
    """The axes of a sweep split into static ones (looped over in Python) and traced ones (flattened
    into points, evaluated a chunk at a time)."""

    def __init__(self, names, values, static_names):
        self.names, self.values, self.static_names = names, values, static_names
        self.static = [i for i, name in enumerate(names) if name in static_names]
        self.traced = [i for i in range(len(names)) if i not in self.static]
        self.static_shape = tuple(values[i].shape[0] for i in self.static)
        self.traced_shape = tuple(values[i].shape[0] for i in self.traced)
        self.static_count = math.prod(self.static_shape)
        self.traced_points = math.prod(self.traced_shape)
        self._flat = np.unravel_index(np.arange(self.traced_points), self.traced_shape) if self.traced else ()

    def static_points(self):
        """`{name: Python number}` for each combination of the static axes' values, in order."""
        for idx in itertools.product(*(range(n) for n in self.static_shape)):
            yield {self.names[i]: _python_scalar(self.values[i][j]) for i, j in zip(self.static, idx)}

    def chunk(self, start, lanes, lifted):
        """The traced inputs of the `lanes` points from `start` (padded with the last point), and the
        lifted numbers as arrays of that length."""
        idx = np.minimum(np.arange(start, start + lanes), self.traced_points - 1)
        chunk = {self.names[i]: self.values[i][self._flat[k][idx]] for k, i in enumerate(self.traced)}
        return {**chunk, **{k: np.full(lanes, v, dtype=float) for k, v in lifted.items()}}

    def dataset(self, outputs, attrs):
        """The `(static points, traced points, ...)` outputs as a Dataset with the axes in their order."""
        import xarray as xr

        order = [self.names[i] for i in self.static] + [self.names[i] for i in self.traced]
        data_vars = {}
        for field, arr in outputs.items():
            arr = np.asarray(arr[...])
            trailing = arr.shape[2:]
            arr = arr.reshape(self.static_shape + self.traced_shape + trailing)
            extra = [_trailing_name(field, k, len(trailing)) for k in range(len(trailing))]
            arr = np.moveaxis(arr, [order.index(n) for n in self.names], list(range(len(self.names))))
            data_vars[field] = (list(self.names) + extra, arr)
        return xr.Dataset(data_vars, coords=dict(zip(self.names, self.values)), attrs=attrs)


def _compute(fn, grid: _Grid, chunk_size, devices, store, bar):
    """Every chunk of every static point through one compiled program per static point (skipping
    those a checkpoint holds): `(outputs, chunks computed, chunks resumed)`."""
    lanes = _lanes(chunk_size, len(devices), bucketed=not grid.static_names)
    blocks = -(-grid.traced_points // chunk_size)
    mesh = jax.sharding.Mesh(np.array(devices), ("points",))
    spec = (
        jax.sharding.PartitionSpec("points") if grid.traced else jax.sharding.PartitionSpec()
    )  # one point: replicated
    sharding = jax.sharding.NamedSharding(mesh, spec)

    def compile_chunk(kernel, lifted, static_kw):  # one compilation for every chunk, kept for later sweeps
        example = {
            k: jax.ShapeDtypeStruct(v.shape, v.dtype, sharding=sharding)
            for k, v in grid.chunk(0, lanes, lifted).items()
        }
        return _program(kernel, static_kw, sharding, example)

    kernel, lifted = _lift_scalars(fn, grid.names, grid.static_names) if grid.traced else (fn, {})
    outputs = done = None
    computed = resumed = 0
    for s, static_kw in enumerate(grid.static_points()):
        try:
            run = compile_chunk(kernel, lifted, static_kw)
        except Exception:
            if not lifted:
                raise
            kernel, lifted = fn, {}  # a bound number the kernel needs as a Python number: bind them again
            run = compile_chunk(kernel, lifted, static_kw)
        if outputs is None:
            outputs = _allocate(run.out_info, grid.static_count, grid.traced_points)
            done = store.resume(run.out_info, grid.static_count, blocks, outputs) if store is not None else None
        for b in range(blocks):
            start, stop = b * chunk_size, min((b + 1) * chunk_size, grid.traced_points)
            if done is not None and done[s, b]:
                resumed += 1
                bar.update(stop - start)
                continue
            values_b = {
                k: jax.make_array_from_callback(v.shape, sharding, lambda i, v=v: v[i])
                for k, v in grid.chunk(start, lanes, lifted).items()
            }
            result = _gather(run(values_b))
            for field, arr in result.items():
                outputs[field][s, start:stop] = arr[: stop - start]
            if store is not None:
                store.save(s, b, start, stop, outputs)
            computed += 1
            bar.update(stop - start)
    return outputs, computed, resumed


# ---------------------------------------------------------------------------------------------


def _check_axes(fn, axes):
    if not isinstance(axes, Mapping) or not axes:
        raise ValueError("axes must be a non-empty dict {keyword: 1-D array of values}")
    params = _keywords(fn)
    names, values = [], []
    for name, vals in axes.items():
        if not isinstance(name, str):
            raise ValueError(f"axes keys must be keyword names, got {name!r}")
        if params is not None and name not in params:
            raise ValueError(f"axes: {name!r} is not a keyword of the kernel (it takes {sorted(params)})")
        arr = np.asarray(vals)
        if arr.ndim != 1 or arr.shape[0] == 0:
            raise ValueError(f"axes[{name!r}] must be a non-empty 1-D array, got shape {arr.shape}")
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"axes[{name!r}] must be numeric, got dtype {arr.dtype}")
        names.append(name)
        values.append(arr)
    missing = sorted(_required(fn) - set(names))
    if missing:
        raise ValueError(
            f"the kernel needs {', '.join(missing)}: give each as an axis or bind it with functools.partial"
        )
    return names, values


def _required(fn):
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return set()
    return {n for n, p in sig.parameters.items() if p.kind == p.KEYWORD_ONLY and p.default is p.empty}


def _keywords(fn):
    """The keyword names a kernel accepts (None when it takes **kwargs or cannot be inspected)."""
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return {n for n, p in sig.parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _static_arguments(fn):
    while isinstance(fn, functools.partial):
        fn = fn.func
    return getattr(fn, "static_arguments", ())


def _lift_scalars(fn, names, static_names):
    """`(kernel, lifted)`: the numbers bound to `fn` by keyword (`functools.partial(kernel, mix,
    lam=0.1)`) taken out and returned, to be passed with every chunk as arrays like a swept axis.
    The chunk program then depends on which keywords a kernel gets, not on their values or on which
    of them are swept: sweeping `n` at `p2 = 0.5`, then `p2` at `n = 200`, compiles once.
    They travel as floats (`n=200` and `n=200.0` share a program; every jaxcollapse kernel takes
    real numbers there). A kernel's `static_arguments` stay bound; so do integers when it has any
    (a simulator's `trials` sets a shape). A number the kernel turns out to need as a Python number makes the
    sweep bind everything again (see `sweep`)."""
    func, args, kwargs = _unwrap(fn)
    kinds = (float, np.floating) if static_names else (int, float, np.integer, np.floating)
    lifted = {
        k: v
        for k, v in kwargs.items()
        if k not in names and k not in static_names and isinstance(v, kinds) and not isinstance(v, (bool, np.bool_))
    }
    if not lifted:
        return fn, {}
    return functools.partial(func, *args, **{k: v for k, v in kwargs.items() if k not in lifted}), lifted


def _lanes(chunk_size: int, devices: int, *, bucketed: bool) -> int:
    """Lanes of one compiled chunk: `chunk_size` rounded up to a point bucket (to a multiple of the
    largest bucket above it) for kernels without static arguments, so that sweeps of other grid
    sizes share the program; padded lanes hold valid points and are never read. Simulators
    (which declare static arguments) pay a whole set of trials per lane and are not padded. Then a
    multiple of the number of devices."""
    if bucketed:
        top = POINT_BUCKETS[-1]
        chunk_size = point_bucket(chunk_size) if chunk_size <= top else -(-chunk_size // top) * top
    return -(-chunk_size // devices) * devices


def _python_scalar(x):
    x = np.asarray(x).item()
    return int(x) if isinstance(x, float) and x.is_integer() else x


# ---------------------------------------------------------------------------------------------
# Compiled programs, kept across sweeps
# ---------------------------------------------------------------------------------------------

_PROGRAMS: collections.OrderedDict = collections.OrderedDict()
_MAX_PROGRAMS = 64


@dataclasses.dataclass(frozen=True)
class _Program:
    """A compiled chunk program and the problem arrays it is called with."""

    compiled: object
    problem: object
    out_info: object

    def __call__(self, values):
        return self.compiled(self.problem, values)


def _program(fn, static_kw, sharding, example):
    """The compiled program for one chunk shape, from `_PROGRAMS` when a sweep already built it.

    The arrays bound to the kernel (the problem: a `Mixture`'s spectra, a PRNG key, ...) are
    arguments of the program, not constants in it, so the program is keyed by what determines it —
    the kernel, the non-array bound arguments and the static axis values, the shapes and dtypes of
    the bound arrays and of a chunk, the devices, the precision — and a second sweep of the same
    kernel on a problem of the same structure costs its compute only. A kernel that needs its
    problem's values while tracing (a check or a spectrum built with NumPy) gets them baked in,
    and its program is keyed by those values as well."""
    func, args, kwargs = _unwrap(fn)
    dynamic, static = eqx.partition((args, kwargs), eqx.is_array)
    mesh = sharding.mesh
    replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    problem = _replicate(dynamic, replicated)
    common = (
        tuple(sorted(static_kw.items())),
        tuple(sorted((k, v.shape, str(v.dtype)) for k, v in example.items())),
        tuple(d.id for d in mesh.devices.flat),
        sharding.spec,
        jax.config.jax_enable_x64,
    )
    key = _program_key(
        "traced",
        func,
        static,
        jax.tree.structure(dynamic),
        [(x.shape, str(x.dtype)) for x in jax.tree.leaves(dynamic)],
        common,
    )
    if (kept := _kept(key)) is not None:
        return _Program(kept[0], problem, kept[1])

    def call(problem, vals):
        a, k = eqx.combine(problem, static)
        return _chunk_fields(func(*a, **k, **static_kw, **vals), vals)

    spec = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated), problem)
    try:
        lowered = jax.jit(call, in_shardings=(replicated, sharding), out_shardings=sharding).lower(spec, example)
    except (
        jax.errors.ConcretizationTypeError,
        jax.errors.TracerArrayConversionError,
        jax.errors.TracerBoolConversionError,
        jax.errors.TracerIntegerConversionError,
    ):
        h = hashlib.sha256()
        _hash_tree(h, dynamic)
        key = _program_key("baked", func, static, h.hexdigest(), common)
        if (kept := _kept(key)) is not None:
            return _Program(kept[0], None, kept[1])

        def baked(_, vals):
            return _chunk_fields(fn(**static_kw, **vals), vals)

        lowered = jax.jit(baked, in_shardings=(None, sharding), out_shardings=sharding).lower(None, example)
        problem = None
    compiled = lowered.compile()
    if key is not None:
        _PROGRAMS[key] = (compiled, lowered.out_info)
        while len(_PROGRAMS) > _MAX_PROGRAMS:
            _PROGRAMS.popitem(last=False)
    return _Program(compiled, problem, lowered.out_info)


def _replicate(tree, sharding):
    """`tree`'s arrays placed whole on every device of `sharding` (with several processes, each
    supplies its own devices' copies: `device_put` cannot reach another process's devices)."""
    if jax.process_count() == 1:
        return jax.device_put(tree, sharding)

    def one(x):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            return jax.random.wrap_key_data(one(jax.random.key_data(x)), impl=jax.random.key_impl(x))
        host = np.asarray(x)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(one, tree)


def _kept(key):
    """`(compiled, out_info)` kept under `key`, or None."""
    if key is None or key not in _PROGRAMS:
        return None
    _PROGRAMS.move_to_end(key)
    return _PROGRAMS[key]


def _unwrap(fn):
    """`(func, args, kwargs)` of a (nested) `functools.partial`; a plain function has none bound."""
    args, kwargs = (), {}
    while isinstance(fn, functools.partial):
        args = tuple(fn.args) + args
        kwargs = {**fn.keywords, **kwargs}
        fn = fn.func
    return fn, args, kwargs


def _program_key(mode, func, *parts):
    """A hashable key from `parts` (pytree leaves flattened), or None when a part cannot be hashed
    (the program is then not kept). A user's function counts with what its closure holds."""
    closure = tuple(c.cell_contents for c in (getattr(func, "__closure__", None) or ()))
    leaves, treedef = jax.tree.flatten((parts, closure))
    flat = (mode, func, treedef, tuple(leaves))
    try:
        hash(flat)
    except TypeError:
        return None
    return flat


def _chunk_fields(result, vals):
    fields = _fields(result)
    if not vals:  # every axis static: one unbatched point, given a points axis of length 1
        fields = {k: jnp.expand_dims(v, 0) for k, v in fields.items()}
    return fields


def _fields(result):
    if dataclasses.is_dataclass(result):
        return {
            f.name: getattr(result, f.name) for f in dataclasses.fields(result) if getattr(result, f.name) is not None
        }
    if isinstance(result, Mapping):
        return dict(result)
    return {"value": result}


def _gather(result):
    if jax.process_count() > 1:  # multi-host: every process gets the whole chunk
        from jax.experimental import multihost_utils

        result = multihost_utils.process_allgather(result, tiled=True)
    return {k: np.asarray(v) for k, v in result.items()}


def _allocate(spec, static_count, points):
    return {k: np.empty((static_count, points) + v.shape[1:], v.dtype) for k, v in spec.items()}


def _trailing_name(field, k, count):
    if field == "samples" and count == 1:
        return "trial"
    return f"{field}_dim{k}"


# ---------------------------------------------------------------------------------------------
# What identifies a sweep: the kernel, its bound arguments (the problem), the grid, the precision
# ---------------------------------------------------------------------------------------------


def _fingerprint(fn, names, values):
    h = hashlib.sha256()
    kernel, problem = _describe(fn, h)
    for name, vals in zip(names, values):
        h.update(name.encode())
        _hash_leaf(h, vals)
    from . import __version__

    h.update(f"x64={jax.config.jax_enable_x64} jaxcollapse={__version__}".encode())
    return h.hexdigest(), {"kernel": kernel, "problem": problem}


def _describe(fn, h):
    parts, problem = [], ""
    while isinstance(fn, functools.partial):
        for a in fn.args:
            problem = problem or _problem_name(a)
            _hash_tree(h, a)
        for k in sorted(fn.keywords):
            h.update(k.encode())
            _hash_tree(h, fn.keywords[k])
            parts.append(k)
        fn = fn.func
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"
    h.update(name.encode())
    code = getattr(fn, "__code__", None)
    if code is not None:  # a user's function: its code, closure and the globals it reads
        _hash_function(h, fn, set())
    bound = f" (bound: {', '.join(parts)})" if parts else ""
    return name + bound, problem


def _hash_function(h, fn, seen):
    """A user's function's identity: its code, the values its closure holds, and the globals its code
    names (numbers, strings, arrays, and the user's own functions, followed recursively; modules
    and library objects by name)."""
    seen.add(id(fn))
    code = fn.__code__
    _hash_code(h, code)
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            _hash_tree(h, cell.cell_contents)
        except ValueError:
            pass
    module = getattr(fn, "__module__", None)
    namespace = getattr(fn, "__globals__", {})
    for name in sorted(_global_names(code)):
        if name not in namespace:
            continue
        value = namespace[name]
        h.update(name.encode())
        if hasattr(value, "__code__") and getattr(value, "__module__", None) == module:
            if id(value) not in seen:
                _hash_function(h, value, seen)
        elif isinstance(
            value, (int, float, complex, str, bool, type(None), np.ndarray, np.generic, jax.Array, tuple, list, dict)
        ):
            try:
                _hash_tree(h, value)
            except ValueError:
                pass


def _global_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            names |= _global_names(const)
    return names


def _hash_code(h, code):
    h.update(code.co_code)
    h.update(repr(code.co_names).encode())
    for const in code.co_consts:  # nested functions are code objects: hash them, not their address
        if hasattr(const, "co_code"):
            _hash_code(h, const)
        else:
            h.update(repr(const).encode())


def _problem_name(x):
    import equinox as eqx

    if isinstance(x, eqx.Module):
        d = getattr(x, "d", None)
        return f"{type(x).__name__}(d={d})" if d is not None else type(x).__name__
    return ""


def _hash_tree(h, tree):
    leaves, treedef = jax.tree.flatten(tree)
    h.update(str(treedef).encode())
    for leaf in leaves:
        _hash_leaf(h, leaf)


def _hash_leaf(h, leaf):
    if isinstance(leaf, jax.Array) and jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        leaf = jax.random.key_data(leaf)
    if isinstance(leaf, (jax.Array, np.ndarray, np.generic)):
        arr = np.asarray(leaf)
        h.update(f"{arr.dtype}{arr.shape}".encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    elif isinstance(leaf, (int, float, complex, str, bool, type(None))):
        h.update(repr(leaf).encode())
    else:
        raise ValueError(f"cannot fingerprint a {type(leaf).__name__}")


# ---------------------------------------------------------------------------------------------
# Checkpoint: a zarr group with one array per field and one marker file per finished chunk
# ---------------------------------------------------------------------------------------------


class _Checkpoint:
    """Chunks are written first, then marked done by a marker file holding the digest of the chunk's
    bytes, created atomically (written aside, then renamed): a run killed at any moment, during a
    chunk write included, loses at most the chunk it was computing, and a chunk whose bytes no longer
    match their marker (a truncated or corrupted file) is recomputed, never read as data.

    With several processes (`jax.distributed`), process 0 alone creates, checks and writes the
    store; it decides which chunks are done and sends that to the others, which read those chunks
    and compute the rest with it (the same decisions in every process, so no collective waits for a
    process that skipped it)."""

    def __init__(self, path, group, chunk_size):
        self.path = path
        self.group = group
        self.chunk_size = chunk_size
        self.done_dir = os.path.join(path, "done")
        self.writer = jax.process_index() == 0
        self.saved = 0  # chunks this process wrote
        self.discarded = 0  # chunks marked done whose bytes did not match (recomputed)

    @classmethod
    def open(cls, path, fingerprint, description, chunk_size):
        import zarr

        verdict = ""
        if jax.process_index() == 0:
            try:
                cls._prepare(path, fingerprint, description, chunk_size)
            except ValueError as err:
                verdict = str(err)
        verdict = _from_process_zero(verdict)
        if verdict:
            raise ValueError(verdict)
        group = zarr.open_group(path, mode="r+" if jax.process_index() == 0 else "r")
        return cls(path, group, int(group.attrs["chunk_size"]))

    @staticmethod
    def _prepare(path, fingerprint, description, chunk_size):
        import zarr

        if os.path.exists(path):
            try:
                group = zarr.open_group(path, mode="r+")
                stored = group.attrs.get("fingerprint")
            except Exception as err:  # noqa: BLE001 - anything unreadable is not our checkpoint
                raise ValueError(
                    f"checkpoint {path!r} exists but is not a jaxcollapse sweep checkpoint ({err})"
                ) from None
            if stored != fingerprint:
                raise ValueError(
                    f"checkpoint {path!r} was written for a different sweep (kernel {group.attrs.get('kernel')!r}, "
                    f"problem {group.attrs.get('problem')!r}, or another grid, precision or jaxcollapse "
                    "version); use another path or delete it"
                )
            return
        group = zarr.open_group(path, mode="w")
        group.attrs.update({"fingerprint": fingerprint, "chunk_size": chunk_size, **description})
        os.makedirs(os.path.join(path, "done"), exist_ok=True)

    def resume(self, spec, static_count, blocks, outputs):
        """The `(static points, blocks)` chunks already saved, their values copied into `outputs`.
        Process 0 creates missing arrays and checks every marked chunk against its digest."""
        if self.writer:
            for k, v in spec.items():
                if k not in self.group:
                    fill = -1 if jnp.issubdtype(v.dtype, jnp.integer) else np.nan
                    self.group.create_array(
                        k,
                        shape=(static_count, outputs[k].shape[1]) + v.shape[1:],
                        chunks=(1, self.chunk_size) + v.shape[1:],
                        dtype=v.dtype,
                        fill_value=fill,
                    )
            done = np.zeros((static_count, blocks), dtype=bool)
            for s, b in itertools.product(range(static_count), range(blocks)):
                done[s, b] = self._load(s, b, outputs, check=True)
        else:
            done = None
        done = _from_process_zero(done, shape=(static_count, blocks))
        if not self.writer:
            for s, b in zip(*np.nonzero(done)):
                self._load(int(s), int(b), outputs, check=False)
        return done

    def _load(self, s, b, outputs, *, check):
        """Copy chunk (s, b) into `outputs`; with `check`, only if its marker's digest matches."""
        marker = self._marker(s, b)
        if not os.path.exists(marker):
            return False
        start = b * self.chunk_size
        try:
            with open(marker) as f:
                expected = f.read().strip()
            values = {k: np.asarray(self.group[k][s, start : start + self.chunk_size]) for k in sorted(outputs)}
        except Exception:  # noqa: BLE001 - an unreadable chunk or marker is a chunk to recompute
            values, expected = None, None
        if check and (values is None or _digest(values) != expected):
            self.discarded += 1
            os.remove(marker)
            return False
        for k, v in values.items():
            outputs[k][s, start : start + v.shape[0]] = v
        return True

    def save(self, s, b, start, stop, outputs):
        """Process 0 writes chunk (s, b), then its marker (atomically, with the chunk's digest)."""
        if not self.writer:
            return
        values = {k: outputs[k][s, start:stop] for k in sorted(outputs)}
        for k, v in values.items():
            self.group[k][s, start:stop] = v
        marker = self._marker(s, b)
        aside = f"{marker}.{os.getpid()}.tmp"
        with open(aside, "w") as f:
            f.write(_digest(values))
        os.replace(aside, marker)
        self.saved += 1

    def _marker(self, s, b):
        return os.path.join(self.done_dir, f"{s}-{b}")


def _digest(values):
    h = hashlib.sha256()
    for k in sorted(values):
        arr = np.ascontiguousarray(values[k])
        h.update(f"{k}{arr.dtype}{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _from_process_zero(value, shape=None):
    """`value` as process 0 has it (a string, or a bool array of `shape`), in every process."""
    if jax.process_count() == 1:
        return value
    from jax.experimental import multihost_utils

    if shape is not None:
        local = np.zeros(shape, dtype=np.int32) if value is None else value.astype(np.int32)
        return np.asarray(multihost_utils.broadcast_one_to_all(local)).astype(bool)
    raw = np.zeros(4096, dtype=np.uint8)
    encoded = value.encode()[:4096]
    raw[: len(encoded)] = np.frombuffer(encoded, dtype=np.uint8)
    raw = np.asarray(multihost_utils.broadcast_one_to_all(raw))
    return bytes(raw[raw > 0]).decode(errors="replace")
