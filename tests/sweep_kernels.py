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
