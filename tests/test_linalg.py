"""The batched decompositions: sequential on the CPU (its LAPACK pool can deadlock), batched elsewhere."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcollapse import _linalg


def _spd(batch, size, seed):
    a = np.random.default_rng(seed).normal(size=(batch, size, size))
    return jnp.asarray(a @ a.transpose(0, 2, 1) + size * np.eye(size))


def test_the_choice_follows_the_backend():
    assert _linalg.sequential_lapack() == (jax.default_backend() == "cpu")


@pytest.mark.parametrize("sequential", [True, False])
def test_both_batching_rules_agree_with_numpy(monkeypatch, sequential):
    monkeypatch.setattr(_linalg, "sequential_lapack", lambda: sequential)
    a, b = _spd(5, 6, 0), jnp.asarray(np.random.default_rng(1).normal(size=(5, 6, 2)))
    # the rule is chosen at trace time: a sequential map is a loop in the program, a batched call is not
    program = str(jax.make_jaxpr(jax.vmap(_linalg.eigh))(a))
    assert ("while" in program or "scan" in program) == sequential
    w, v = jax.vmap(_linalg.eigh)(a)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(np.asarray(a)), rtol=1e-12)
    np.testing.assert_allclose(np.einsum("bij,bj,bkj->bik", v, w, v), a, rtol=1e-12, atol=1e-10)
    x = jax.vmap(_linalg.spd_solve)(a, b)
    np.testing.assert_allclose(x, np.linalg.solve(np.asarray(a), np.asarray(b)), rtol=1e-10)
    x1 = jax.vmap(_linalg.spd_solve, in_axes=(None, 0))(a[0], b)  # an unbatched matrix is broadcast
    np.testing.assert_allclose(x1, np.linalg.solve(np.asarray(a[0]), np.asarray(b)), rtol=1e-10)
