"""`jc.nn.gcd` (a small transformer on greatest common divisors) and the gcd-transformer experiment."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _experiment_files import check_outcome, run_quick

from jaxcollapse.experiments import _framework, gcd_transformer
from jaxcollapse.nn import gcd as g

QUICK = _framework.make_config(gcd_transformer, quick=True)
# the quick run's training settings: the determinism test reuses its compiled loop
TRAIN = dict(
    steps=QUICK.steps,
    batch=QUICK.batch,
    width=QUICK.width,
    heads=QUICK.heads,
    layers=QUICK.layers,
    classes=QUICK.classes,
    lr=QUICK.lr,
    weight_decay=QUICK.weight_decay,
    eval_every=QUICK.eval_every,
    val_size=QUICK.val_size,
)


@pytest.fixture(scope="module")
def quick_run():
    return run_quick(gcd_transformer.NAME, QUICK)


def test_label_frequencies_follow_the_inverse_square_law():
    n = 200_000
    _, gcds = g.sample(key=jax.random.key(1), size=n)
    counts = np.bincount(np.asarray(gcds), minlength=7)
    exact = g.gcd_distribution()
    for k in range(1, 7):
        p = g.zipf(k)  # 6/(π² k²)
        se = math.sqrt(p * (1 - p) / n)
        assert abs(counts[k] / n - p) < 4 * se, k
        assert abs(exact[k] - p) < 0.01 * p  # the finite range [1, 9999] is close to the limit law
    assert exact.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(exact[1:] >= 0) and exact[0] == 0


def test_tokens_decode_to_the_operands_and_gcd_is_euclid():
    tokens, gcds = g.sample(key=jax.random.key(2), size=3000)
    assert tokens.shape == (3000, 9) and tokens.dtype == jnp.int32 and gcds.dtype == jnp.int32
    tokens = np.asarray(tokens)
    assert np.all(tokens[:, 4] == g.SEP) and np.all(np.delete(tokens, 4, axis=1) <= 9) and tokens.min() >= 0
    a, b = (np.asarray(x) for x in g.decode(tokens))
    assert a.min() >= 1 and b.min() >= 1 and a.max() <= 9999 and b.max() <= 9999
    assert [math.gcd(int(x), int(y)) for x, y in zip(a, b)] == np.asarray(gcds).tolist()
    assert np.asarray(g.encode(7, 1234)).tolist() == [0, 0, 0, 7, 10, 1, 2, 3, 4]
    assert len(np.unique(a)) > 2000  # uniform over [1, 9999], not a few values


def test_gcd_matches_math_gcd():
    rng = np.random.default_rng(3)
    a = np.concatenate([rng.integers(0, 2**31 - 1, 500), [0, 0, 5, 0, 1, 832040, 12, -12]])
    b = np.concatenate([rng.integers(0, 2**20, 500), [0, 7, 0, 1, 1, 514229, -18, -18]])
    a[:50] = b[:50] * rng.integers(1, 1000, 50)  # make plenty of non-trivial gcds
    a = a.astype(np.int32)
    got = np.asarray(g.gcd(jnp.asarray(a), jnp.asarray(b, jnp.int32)))
    assert got.tolist() == [math.gcd(int(x), int(y)) for x, y in zip(a, b)]
    assert np.asarray(g.gcd(jnp.arange(1, 13), 12)).tolist() == [math.gcd(k, 12) for k in range(1, 13)]


def test_stratified_pairs_have_the_asked_gcd():
    K, n = 30, 40
    tokens, valid = g.stratified(key=jax.random.key(4), per_gcd=n, classes=K)
    assert tokens.shape == (K, n, 9) and bool(valid.all())
    a, b = g.decode(tokens)
    assert np.all(np.asarray(g.gcd(a, b)) == np.arange(1, K + 1)[:, None])
    assert np.asarray(a).max() <= 9999 and np.asarray(b).max() <= 9999


def test_cut_batches_never_weigh_labels_beyond_the_cut():
    cut, n = 4, 4096
    batch = g.batch_source(batch=n, k=cut)(jax.random.key(5))
    labels, w = np.asarray(batch.labels), np.asarray(batch.weight)
    gcd_of_label = labels + 1  # class k - 1 is gcd k; "other" is K + 1
    assert np.all(w[gcd_of_label > cut] == 0) and np.all(w[gcd_of_label <= cut] == 1)
    assert 0.08 < np.mean(w == 0) < 0.2  # P(gcd > 4) ≈ 0.134
    # mixing: the first round(π·n) rows are real and always kept, whatever their gcd
    mixed = g.batch_source(batch=n, k=cut, p1=0.25)(jax.random.key(5))
    real = np.arange(n) < n // 4
    assert np.all(np.asarray(mixed.weight)[real] == 1) and np.asarray(mixed.labels)[real].max() > cut
    assert np.all(np.asarray(mixed.weight)[~real][np.asarray(mixed.labels)[~real] + 1 > cut] == 0)
    assert np.asarray(mixed.labels).tolist() == labels.tolist()  # same pairs, same true labels
    # the weighted loss is the mean cross-entropy over the kept rows only
    model = g.Transformer(width=8, heads=2, layers=1, key=jax.random.key(6))
    small = g.Batch(batch.tokens[:64], batch.labels[:64], batch.weight[:64])
    logp = jax.nn.log_softmax(jax.vmap(model)(small.tokens))
    ce = -np.asarray(logp)[np.arange(64), np.asarray(small.labels)]
    kept = np.asarray(small.weight) > 0
    assert float(g.loss(model, small)) == pytest.approx(ce[kept].mean(), rel=1e-5)


def test_model_source_labels_are_the_teachers_argmax():
    teacher = g.Transformer(width=8, heads=2, layers=1, key=jax.random.key(7))
    batch = g.batch_source(batch=256, teacher=teacher)(jax.random.key(8))
    assert np.asarray(batch.labels).tolist() == np.asarray(g.predict(teacher, batch.tokens)).tolist()
    assert np.all(np.asarray(batch.weight) == 1)


def test_training_is_deterministic_and_the_loss_falls(quick_run):
    # the quick run trained its clean model with this key: training again gives the same model
    summary, ds = quick_run.summary, quick_run.ds
    k_train, k_eval = jax.random.split(jax.random.key(QUICK.seed))
    model, hist = g.train(key=k_train, **TRAIN)
    assert np.array_equal(np.asarray(hist.val_loss), ds["error"].values[0])
    assert np.array_equal(np.asarray(hist.train_loss), ds["train_loss"].values[0])
    ev = g.evaluate(model, key=k_eval, test_size=QUICK.test_size, per_gcd=QUICK.per_gcd)
    assert 1 - float(ev.accuracy) == summary["test_error"]["clean"]
    assert np.array_equal(np.asarray(ev.per_gcd), ds["gcd_accuracy"].values[0], equal_nan=True)
    assert jax.tree_util.tree_leaves(model)[0].dtype == jnp.float32  # float32 parameters even with x64
    loss = np.asarray(hist.train_loss)
    assert np.all(np.isfinite(loss)) and loss[-1] < 0.7 * loss[0]
    assert int(hist.steps) == QUICK.steps and hist.val_loss.shape == (QUICK.steps // QUICK.eval_every,)


def test_quick_run_draws_and_makes_sense(quick_run):
    summary, ds = quick_run.summary, quick_run.ds
    name = gcd_transformer.NAME
    check_outcome(name, quick_run)
    assert ds.attrs["experiment"] == name
    clean, cut, mix = (str(r) for r in ds["run"].values)
    errors = summary["test_error"]
    # the clean model beats always answering gcd = 1 (error 1 − 6/π² ≈ 0.392) by a clear margin
    assert summary["always_one_error"] == pytest.approx(1 - 6 / math.pi**2, abs=1e-3)
    assert errors[clean] < summary["always_one_error"] - 0.08
    assert 1 in summary["learned_gcds"][clean] and 2 in summary["learned_gcds"][clean]
    # the cut model never learns a gcd it has never seen, and cannot beat the floor P(gcd > k)
    assert all(k <= QUICK.k for k in summary["learned_gcds"][cut])
    assert errors[cut] > summary["cut_floor"]
    assert summary["cut_floor"] == pytest.approx(
        1 - sum(6 / (math.pi * k) ** 2 for k in range(1, QUICK.k + 1)), abs=2e-3
    )
    # generation 0 is the clean run; the per-gcd counts agree with the stored accuracies
    assert summary["generation_test_error"][0] == errors[clean]
    assert summary["generation_gcds_learned"] == [len(x) for x in summary["generation_learned_gcds"]]
    assert len(summary["generation_gcds_learned"]) == QUICK.generations
    curve = ds["error"].values
    assert curve.shape == (3, QUICK.steps // QUICK.eval_every) and np.all((curve >= 0) & (curve <= 1))
    assert np.all(curve[:, -1] < curve[:, 0])  # every run learns something
    assert ds["examples"].values[-1] == QUICK.steps * QUICK.batch


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: g.Transformer(width=0, key=jax.random.key(0)), "width"),
        (lambda: g.Transformer(width=30, heads=4, key=jax.random.key(0)), "heads"),
        (lambda: g.Transformer(layers=0, key=jax.random.key(0)), "layers"),
        (lambda: g.train(key=jax.random.key(0), source="synthetic"), "source"),
        (lambda: g.train(key=jax.random.key(0), source="cut", k=0), "k"),
        (lambda: g.train(key=jax.random.key(0), source="cut", k=2.5), "k"),
        (lambda: g.train(key=jax.random.key(0), source="cut"), "k"),
        (lambda: g.train(key=jax.random.key(0), source="real", k=4), "k"),
        (lambda: g.train(key=jax.random.key(0), p1=1.5), "p1"),
        (lambda: g.train(key=jax.random.key(0), p1=-0.1), "p1"),
        (lambda: g.train(key=jax.random.key(0), source="model"), "teacher"),
        (lambda: g.train(key=jax.random.key(0), width=0), "width"),
        (lambda: g.train(key=jax.random.key(0), width=30, heads=4), "heads"),
        (lambda: g.sample(key=jax.random.key(0), size=0), "size"),
        (lambda: g.sample(key=jax.random.key(0), size=5, max_operand=10_000), "max_operand"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_config_raises():
    import dataclasses

    with pytest.raises(_framework.ConfigError, match="heads"):
        gcd_transformer.compute(dataclasses.replace(QUICK, width=30, heads=4))
    with pytest.raises(_framework.ConfigError, match="p1"):
        gcd_transformer.compute(dataclasses.replace(QUICK, p1=1.5))
    with pytest.raises(_framework.ConfigError, match="k"):
        gcd_transformer.compute(dataclasses.replace(QUICK, k=0))
