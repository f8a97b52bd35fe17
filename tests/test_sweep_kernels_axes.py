"""jc.sweep over every public kernel, each axis alone and in a representative pair, against direct calls.

The kernels: `jc.theory.{ridge, random_projections, random_features, retraining}`, their Monte Carlo
twins `jc.simulate.*`, and the Zipf-tail models `jc.tails.{clean, cut, narrow, mix, acquire_tail,
generations}` (scalar arguments by keyword, a `Tail` back). Axes that set array shapes (the kernel's
`static_arguments`) are looped over in Python by `jc.sweep`; a sweep over those alone (a learning
curve) evaluates one unbatched point per value.

Budget: the suite is bound by compilation; every sweep compiles a program per value of its static
axes, and so does the direct call at each value of the static arguments (1–2 s each on 2 cores).
All pairs of axes of all kernels would cost about 200 compilations, so each axis of the theory
and simulation kernels is swept alone, and each of those kernels in one representative pair; the
pairs include static × traced (`simulate.ridge` n × p2, `theory/simulate.random_features`
m × lam, `simulate.retraining` generations × lam) and static × static
(`simulate.random_projections` n × m). The tail models have no static arguments and share one
implementation, so each is swept once over all of its axes together. The first value of each axis
is the one bound when that axis is not swept, so each direct call is made once.
"""

import dataclasses
import functools
import itertools
from typing import NamedTuple

import jax
import numpy as np
import pytest

import jaxcollapse as jc

D = 8
ISO = jc.isotropic(D, signal=1.0, shift=0.5, noise_var=0.25)  # random features need Σ = I
MIX = jc.power_law(D, 1.3, signal=1.0, shift=0.5, noise_var=0.1)
TRIALS = 3
SIM = {"trials": TRIALS, "key": jax.random.key(7)}


class Kernel(NamedTuple):
    fn: object  # the kernel with its problem and fixed arguments bound
    axes: dict  # keyword -> two values; the first is bound when the axis is not swept
    static: tuple  # the kernel's `static_arguments`
    pairs: tuple  # representative pairs of axes


THEORY = {"n": [30.0, 6.0], "p2": [0.2, 0.6], "lam": [0.1, 0.0]}
KERNELS = {
    "theory.ridge": Kernel(
        functools.partial(jc.theory.ridge, MIX), {**THEORY, "weight": [1.0, 2.0]}, (), (("n", "lam"),)
    ),
    "theory.random_projections": Kernel(
        functools.partial(jc.theory.random_projections, MIX), {**THEORY, "m": [5.0, 20.0]}, (), (("m", "p2"),)
    ),
    "theory.random_features": Kernel(
        functools.partial(jc.theory.random_features, ISO), {**THEORY, "m": [5.0, 20.5]}, (), (("m", "lam"),)
    ),
    "theory.retraining": Kernel(
        functools.partial(jc.theory.retraining, ISO),  # isotropic: n0 < d has a theory
        {
            "n": [30.0, 6.0],
            "n0": [20.0, 5.0],
            "generations": [2.0, 0.0],
            "lam": [0.1, 0.0],
            "generator_noise_var": [0.1, 0.5],
        },
        (),
        (("n0", "generations"),),
    ),
    "simulate.ridge": Kernel(
        functools.partial(jc.simulate.ridge, MIX, **SIM),
        {"n": [30, 6], "p2": [0.2, 0.6], "lam": [0.1, 0.0], "weight": [1.0, 2.0]},
        ("n",),
        (("n", "p2"),),
    ),
    "simulate.random_projections": Kernel(
        functools.partial(jc.simulate.random_projections, MIX, **SIM),
        {"n": [30, 12], "m": [5, 20], "p2": [0.2, 0.6], "lam": [0.0, 0.1]},  # lam = 0 bound: one solver (eigh)
        ("n", "m"),
        (("n", "m"),),
    ),
    "simulate.random_features": Kernel(
        functools.partial(jc.simulate.random_features, ISO, test_size=50, **SIM),
        {"n": [30, 12], "m": [5, 20], "p2": [0.2, 0.6], "lam": [0.1, 0.0]},
        ("n", "m"),
        (("m", "lam"),),
    ),
    "simulate.retraining": Kernel(
        functools.partial(jc.simulate.retraining, MIX, **SIM),
        {"n": [30, 6], "n0": [20, 5], "generations": [2, 0], "lam": [0.1, 0.0], "generator_noise_var": [0.1, 0.5]},
        ("n", "n0", "generations", "generator_noise_var"),
        (("generations", "lam"),),
    ),
    "theory.data_loop": Kernel(
        functools.partial(jc.theory.data_loop, MIX, policy="accumulate", design="fixed"),
        {"n0": [30.0, 11.0], "generations": [2.0, 0.0], "lam": [0.0, 0.1], "generator_noise_var": [0.1, 0.5]},
        (),
        (),
    ),
    "simulate.data_loop": Kernel(
        functools.partial(jc.simulate.data_loop, MIX, policy="accumulate", design="fresh", **SIM),
        {"n0": [30, 6], "generations": [2, 0], "lam": [0.1, 0.0], "generator_noise_var": [0.1, 0.5]},
        ("n0", "generations", "generator_noise_var"),
        (),
    ),
    # the tail models: swept once over all of their axes together (no pairs)
    "tails.clean": Kernel(jc.tails.clean, {"beta": [2.0, 1.5], "T": [1e3, 1e5]}, (), ()),
    "tails.cut": Kernel(jc.tails.cut, {"beta": [2.0, 1.5], "T": [1e3, 1e5], "k": [10.0, 100.0]}, (), ()),
    "tails.narrow": Kernel(jc.tails.narrow, {"beta": [2.0, 1.5], "T": [1e3, 1e5], "beta_narrow": [2.5, 3.0]}, (), ()),
    "tails.mix": Kernel(
        jc.tails.mix, {"beta": [2.0, 1.5], "T": [1e3, 1e5], "k": [10.0, 100.0], "p1": [0.5, 0.1]}, (), ()
    ),
    "tails.acquire_tail": Kernel(
        jc.tails.acquire_tail,
        {"beta": [2.0, 1.5], "T": [1e3, 1e5], "k": [10.0, 100.0], "k_tail": [10.0, 1000.0], "p1": [0.2, 0.5]},
        (),
        (),
    ),
    "tails.generations": Kernel(
        jc.tails.generations, {"beta": [2.0, 1.5], "T": [1e3, 1e5], "T0": [1e3, 1e4], "generations": [2.0, 0.0]}, (), ()
    ),
}
MODELS = [name for name in KERNELS if not name.startswith("tails.")]
TAILS = [name for name in KERNELS if name.startswith("tails.")]
CASES = (
    [(name, (axis,)) for name in MODELS for axis in KERNELS[name].axes]
    + [(name, pair) for name in MODELS for pair in KERNELS[name].pairs]
    + [(name, tuple(KERNELS[name].axes)) for name in TAILS]
)


def _fields(result):
    values = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return {name: np.asarray(value) for name, value in values.items() if value is not None}


@functools.cache
def _direct(name, point):
    """The kernel called directly at one point: static arguments as Python numbers, the rest as
    1-element arrays (one compilation per kernel and static values, shared by every test)."""
    kernel = KERNELS[name]
    args = {a: v if a in kernel.static else np.array([v]) for a, v in point}
    fields = _fields(kernel.fn(**args))
    return {f: v[0] for f, v in fields.items()}


def test_static_arguments_are_declared():
    for kernel in KERNELS.values():
        func = kernel.fn.func if isinstance(kernel.fn, functools.partial) else kernel.fn
        assert tuple(getattr(func, "static_arguments", ())) == kernel.static


@pytest.mark.parametrize("name, swept", CASES, ids=[f"{n}[{','.join(s)}]" for n, s in CASES])
def test_sweep_matches_direct_calls(name, swept):
    kernel = KERNELS[name]
    bound = {a: v[0] for a, v in kernel.axes.items() if a not in swept}
    axes = {a: np.array(kernel.axes[a]) for a in swept}
    ds = jc.sweep(functools.partial(kernel.fn, **bound), axes, progress=False)

    assert dict(ds.sizes) == {**{a: 2 for a in swept}, **({"trial": TRIALS} if "samples" in ds else {})}
    for a in swept:
        np.testing.assert_array_equal(ds[a].values, axes[a])
    for idx in itertools.product(range(2), repeat=len(swept)):
        point = {**bound, **{a: kernel.axes[a][i] for a, i in zip(swept, idx)}}
        expected = _direct(name, tuple(sorted(point.items())))
        assert set(ds.data_vars) == set(expected)
        for field, value in expected.items():
            assert ds[field].dims == swept + (("trial",) if field == "samples" else ())
            got = ds[field].values[idx]
            if np.issubdtype(value.dtype, np.integer):
                np.testing.assert_array_equal(got, value, err_msg=f"{field} at {point}")
            else:
                np.testing.assert_allclose(got, value, rtol=1e-12, atol=1e-15, err_msg=f"{field} at {point}")
