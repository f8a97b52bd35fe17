"""The Monte Carlo layer every simulator shares: `Mixture.sample` (the data of one trial) and
`run_trials` (trials mapped in memory-bounded chunks), and the one integer check."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxcollapse as jc
from jaxcollapse._trials import chunk_plan, chunk_size_for, run_trials
from jaxcollapse._validate import check_int


def test_run_trials_gives_trial_t_the_t_th_split_key_whatever_the_chunks(key):
    def trial(k):  # a pytree of two leaves of different shapes
        return {"u": jax.random.uniform(k), "v": jax.random.normal(k, (3,))}

    keys = jax.random.split(key, 7)
    expected = jax.vmap(trial)(keys)
    for chunk in (1, 3, 7, 50):
        got = jax.jit(lambda k, c=chunk: run_trials(trial, k, 7, c))(key)
        assert got["u"].shape == (7,) and got["v"].shape == (7, 3)
        np.testing.assert_array_equal(got["u"], expected["u"])
        np.testing.assert_array_equal(got["v"], expected["v"])


class _Terminal:
    """A standard error that says it is a terminal, keeping what is written."""

    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass

    def isatty(self):
        return True


def test_trials_report_to_a_progress_bar_on_a_terminal(key, monkeypatch):
    # On a terminal each trial ticks the bar (a host callback put into the program when it is traced
    # with a terminal); the numbers are those of the program without it; inside a sweep the trials
    # stay quiet (the sweep's own bar counts points).
    from jaxcollapse import _progress

    def trial(k):
        return {"u": jax.random.uniform(k), "v": jax.random.normal(k, (2,))}

    quiet = jax.jit(lambda k: run_trials(trial, k, 11, 4))(key)
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    shown = jax.jit(lambda k: run_trials(trial, k, 11, 4))(key)  # a new function: traced again, here
    jax.effects_barrier()
    lines = terminal.text.split("\r")
    assert lines[-1].startswith("[##############################] 12/12 trials") and terminal.text.endswith("\n")
    assert [line.split("] ")[1].split("/")[0] for line in lines[1:]] == [str(i) for i in range(1, 13)]  # 3 chunks of 4
    np.testing.assert_array_equal(shown["u"], quiet["u"])
    np.testing.assert_array_equal(shown["v"], quiet["v"])
    terminal.text = ""
    with _progress.sweeping():
        jax.jit(lambda k: run_trials(trial, k, 11, 4))(key)
        jax.effects_barrier()
    assert terminal.text == ""


def test_chunk_plan_and_default_chunk_size():
    assert chunk_plan(7, 3) == (3, 3)  # 9 lanes, 2 of them padding
    assert chunk_plan(7, 7) == (1, 7) and chunk_plan(7, 100) == (1, 7)
    assert chunk_plan(64, 16) == (4, 16) and chunk_plan(65, 16) == (5, 13)
    # the memory budget (512 MiB) bounds a chunk; so do max_chunk and the number of trials
    assert chunk_size_for(None, 1000, bytes_per_trial=2**20, max_chunk=10_000) == 512
    assert chunk_size_for(None, 1000, bytes_per_trial=2**20, max_chunk=64) == 64
    assert chunk_size_for(None, 5, bytes_per_trial=1, max_chunk=64) == 5
    assert chunk_size_for(None, 5, bytes_per_trial=2**40, max_chunk=64) == 1
    assert chunk_size_for(3, 5, bytes_per_trial=2**40, max_chunk=64) == 3  # given: only checked
    with pytest.raises(ValueError, match="^chunk_size must be a positive integer"):
        chunk_size_for(0, 5, bytes_per_trial=1, max_chunk=64)


def test_check_int_accepts_whole_numbers_only():
    assert check_int("n", 5) == 5 and check_int("n", np.int32(5)) == 5 and check_int("n", 5.0) == 5
    assert isinstance(check_int("n", np.float64(7.0)), int)
    assert check_int("T", 0, low=0) == 0
    for bad in (0, -1, 2.5, True, float("inf"), float("nan"), "3", None, np.array([3])):
        with pytest.raises(ValueError, match="^n must be a positive integer"):
            check_int("n", bad)
    with pytest.raises(ValueError, match=r"^T must be an integer ≥ 2 \(sizes\), got 1"):
        check_int("T", 1, low=2, why="sizes")
    with pytest.raises(ValueError, match="^n must be a concrete integer ≥ 1, got a traced value"):
        jax.jit(lambda n: check_int("n", n))(3)


@pytest.mark.parametrize("p2, n2", [(0.0, 0), (0.26, 10), (0.5, 20), (1.0, 40)])
def test_sample_marks_round_p2_n_rows_synthetic_and_labels_them(p2, n2, key):
    s1, s2 = jnp.linspace(0.5, 2.0, 10), jnp.full(10, 4.0)
    mix = jc.Mixture(s1, jnp.ones(10), jnp.full(10, 0.3), noise_var=0.1, synthetic_eigs=s2, synthetic_noise_var=0.4)
    data = mix.sample(key, 40, jnp.round(p2 * 40))
    synthetic = np.asarray(data.is_synthetic())
    assert data.X.shape == (40, 10) and data.y.shape == (40,) and int(synthetic.sum()) == n2
    assert np.all(synthetic[:n2]) and not np.any(synthetic[n2:])
    # the same draw, by hand: covariates z from the first of three keys, scaled by Σ2 or Σ1
    kx, kt, ke = jax.random.split(key, 3)
    z, eps = np.asarray(jax.random.normal(kx, (40, 10))), np.asarray(jax.random.normal(ke, (40,)))
    w1, delta = (np.asarray(v) for v in mix.draw_teachers(kt))
    X = z * np.where(synthetic[:, None], np.sqrt(np.asarray(s2)), np.sqrt(np.asarray(s1)))
    np.testing.assert_allclose(data.X, X, rtol=1e-14)
    y = np.where(synthetic, X @ (w1 + delta) + np.sqrt(0.4) * eps, X @ w1 + np.sqrt(0.1) * eps)
    np.testing.assert_allclose(data.y, y, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(data.teacher, w1)


def test_sample_relabels_one_design_for_many_synthetic_counts(key):
    mix = jc.isotropic(10, signal=1.0, shift=1.0, noise_var=0.0)
    data = mix.sample(key, 10)
    assert not np.any(np.asarray(data.is_synthetic()))
    Y = data.labels(jnp.round(jnp.array([0.0, 0.26, 1.0]) * 10))
    real, fake = data.X @ data.teacher, data.X @ (data.teacher + data.teacher_shift)
    np.testing.assert_allclose(Y[0], real, rtol=1e-12)
    np.testing.assert_allclose(Y[1], jnp.where(jnp.arange(10) < 3, fake, real), rtol=1e-12)
    np.testing.assert_allclose(Y[2], fake, rtol=1e-12)


def test_sample_draws_the_mixture_distribution(key):
    """Moments over many rows and teachers: Cov(x) = Σ1, E w1*² = Γ, E δ² = Δ, Var(y | w) = noise."""
    s = jnp.array([2.0, 1.0, 0.5])
    mix = jc.Mixture(s, jnp.array([1.0, 0.5, 0.25]), jnp.array([0.2, 0.1, 0.4]), noise_var=0.3)
    data = mix.sample(key, 40_000)
    np.testing.assert_allclose(np.var(np.asarray(data.X), axis=0), s, rtol=0.03)
    resid = data.real - data.X @ data.teacher
    assert abs(float(jnp.var(resid)) - 0.3) < 0.03
    w1, delta = jax.vmap(mix.draw_teachers)(jax.random.split(key, 20_000))
    np.testing.assert_allclose(jnp.mean(w1**2, 0), mix.signal, rtol=0.05)
    np.testing.assert_allclose(jnp.mean(delta**2, 0), mix.shift, rtol=0.05)
    fixed = jc.fixed_teachers(s, jnp.ones(3), jnp.full(3, 2.0))
    np.testing.assert_array_equal(fixed.draw_teachers(key)[0], jnp.ones(3))
    np.testing.assert_array_equal(fixed.draw_teachers(key)[1], jnp.ones(3))  # δ = w2* − w1*


def test_a_compressed_mixture_cannot_be_sampled(key):
    mix = jc.compress(jc.power_law(2000, 1.2))
    with pytest.raises(ValueError, match="^mix is compressed"):
        mix.sample(key, 10)
