"""Kernels shared by the sweep tests and the subprocesses they start (same code, same fingerprint)."""

import os
import time

import equinox as eqx
import jax
import numpy as np

import jaxcollapse as jc

MIX = jc.power_law(60, 1.2, signal=1.0, shift=0.5, noise_var=0.1)
AXES = {"n": np.geomspace(20, 400, 9), "p2": np.linspace(0, 1, 5), "lam": np.array([0.0, 1e-3, 0.1])}


def slow_ridge(*, n, p2, lam):
    """`jc.theory.ridge` on MIX; with JC_SLOW_SWEEP=<seconds> set, each chunk waits that long."""
    risk = jc.theory.ridge(MIX, n=n, p2=p2, lam=lam)
    delay = float(os.environ.get("JC_SLOW_SWEEP", "0"))
    if delay > 0:

        def wait(x):
            time.sleep(delay)
            return x

        total = jax.pure_callback(wait, jax.ShapeDtypeStruct(risk.total.shape, risk.total.dtype), risk.total)
        risk = eqx.tree_at(lambda r: r.total, risk, total)
    return risk


def distributed_sweeps(checkpoint):
    """`(name, Dataset)` of the sweeps a multi-process run and a single process must agree on: a
    theory grid, a simulator grid (its sample size a static axis), and the theory grid into
    `checkpoint` twice (written, then resumed)."""
    import functools

    fn = functools.partial(jc.theory.random_projections, MIX, n=100.0)
    axes = {"m": np.geomspace(10, 1000, 23), "p2": np.array([0.0, 0.3, 0.9]), "lam": np.array([0.0, 1e-2])}
    yield "theory", jc.sweep(fn, axes, chunk_size=10, progress=False)
    sim = functools.partial(jc.simulate.ridge, MIX, trials=6, key=jax.random.key(3))
    sim_axes = {"n": np.array([20, 40]), "p2": np.array([0.0, 0.5]), "lam": np.array([1e-2, 0.1])}
    yield "simulation", jc.sweep(sim, sim_axes, progress=False)
    yield "written", jc.sweep(fn, axes, chunk_size=16, checkpoint=checkpoint, progress=False)
    yield "resumed", jc.sweep(fn, axes, chunk_size=16, checkpoint=checkpoint, progress=False)
