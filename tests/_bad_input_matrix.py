"""Every public entry point × every class of bad input → what it raises (issue 20, part 4).

`cells()` calls each entry point with one argument replaced by a bad value of one class (the rest a
valid call) and classifies the outcome:

- `ok`: a `ValueError` or `TypeError` whose message names the argument (or the unknown name);
- `unnamed`: a `ValueError` / `TypeError` that does not name it;
- `crash`: any other exception (from deep inside JAX, NumPy, ...);
- `silent`: no exception at all (a result came back).

A class that is a valid value of the argument (zero for a ridge, a negative entry of a fixed
teacher) is not a bad input and is skipped. `table()` is the markdown table in docs/numerics.md
("Bad input, counted"), and `tests/test_bad_input_table.py` regenerates and compares it.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

import jaxcollapse as jc

MIX = jc.isotropic(6, signal=1.0, shift=0.5, noise_var=0.1)
KEY = jax.random.key(0)

# value classes: name -> (value for a scalar argument, value for a vector argument of length d)
D = 6
CLASSES = {
    "NaN": (math.nan, np.full(D, np.nan)),
    "inf": (math.inf, np.full(D, np.inf)),
    "negative": (-1.0, -np.ones(D)),
    "zero": (0.0, np.zeros(D)),
    "complex": (1.0 + 1.0j, np.ones(D) * (1 + 1j)),
    "wrong shape": (np.ones(2), np.ones(D + 1)),
    "empty": (np.array([]), np.array([])),
    "string": ("abc", "abc"),
}
# which classes an argument's domain allows (not bad for it)
DOMAINS = {
    "positive": set(),  # > 0 (finite)
    "nonnegative": {"zero"},
    "unit": {"zero"},  # [0, 1]
    "signed": {"negative", "zero"},  # any finite real (a fixed teacher's entries)
    "count": set(),  # a positive Python int (shapes)
    "count0": {"zero"},  # a non-negative Python int
    "vector+": set(),  # eigenvalues: > 0 entries
    "vector0": {"zero"},  # energies: >= 0 entries
    "vector": {"negative", "zero"},  # a fixed teacher: any finite entries
    "range": set(),  # a (low, high) pair
    "positive+inf": {"inf"},  # > 0, +inf allowed (a rank "no cut")
    "above one": set(),  # > 1 (a Zipf exponent)
}
# A "wrong shape" for an argument that broadcasts is a (2,) array against another argument's (3,);
# kinds ending in "!" take one number only (a (2,) array is wrong there whatever the rest).


ENTRIES = {
    "theory.ridge": (
        lambda **k: jc.theory.ridge(MIX, **k),
        dict(n=jnp.array([10.0, 20.0, 30.0]), p2=0.2, lam=0.1, weight=1.0),
        dict(n="positive", p2="unit", lam="nonnegative", weight="nonnegative"),
    ),
    "theory.random_projections": (
        lambda **k: jc.theory.random_projections(MIX, **k),
        dict(n=jnp.array([10.0, 20.0, 30.0]), m=5.0, p2=0.2, lam=0.1),
        dict(n="positive", m="positive", p2="unit", lam="nonnegative"),
    ),
    "theory.random_features": (
        lambda **k: jc.theory.random_features(MIX, **k),
        dict(
            n=jnp.array([10.0, 20.0, 30.0]), m=5.0, p2=0.2, lam=0.1, activation="relu", equivalent="gaussian", order=4
        ),
        dict(
            n="positive", m="positive", p2="unit", lam="nonnegative", activation="name", equivalent="name", order="name"
        ),
    ),
    "theory.retraining": (
        lambda **k: jc.theory.retraining(MIX, **k),
        dict(n=jnp.array([10.0, 20.0, 30.0]), n0=12.0, generations=2.0, lam=0.1, generator_noise_var=0.5),
        dict(
            n="positive", n0="positive", generations="nonnegative", lam="nonnegative", generator_noise_var="nonnegative"
        ),
    ),
    "theory.data_loop": (
        lambda **k: jc.theory.data_loop(MIX, **k),
        dict(n0=jnp.array([10.0, 20.0, 30.0]), generations=2.0, lam=0.1, generator_noise_var=0.5, policy="replace"),
        dict(
            n0="positive",
            generations="nonnegative",
            lam="nonnegative",
            generator_noise_var="nonnegative",
            policy="name",
        ),
    ),
    "theory.ridge_floor": (
        lambda **k: jc.theory.ridge_floor(MIX, **k),
        dict(p2=jnp.array([0.1, 0.2, 0.3]), weight=1.0),
        dict(p2="unit", weight="nonnegative"),
    ),
    "theory.ridge_isotropic": (
        lambda **k: jc.theory.ridge_isotropic(**k),
        dict(phi=jnp.array([0.5, 1.5, 2.0]), p2=0.2, lam=0.1, signal=1.0, shift=0.5, noise_var=0.1),
        dict(
            phi="positive",
            p2="unit",
            lam="nonnegative",
            signal="nonnegative",
            shift="nonnegative",
            noise_var="nonnegative",
        ),
    ),
    "theory.rate_exponents": (
        lambda **k: jc.theory.rate_exponents(**k),
        dict(beta=jnp.array([1.5, 2.0, 3.0]), source=0.5, ell=0.5),
        dict(beta="above one", source="positive", ell="nonnegative"),
    ),
    "simulate.ridge": (
        lambda **k: jc.simulate.ridge(MIX, key=KEY, **k),
        dict(n=10, p2=0.2, lam=0.1, trials=2),
        dict(n="count", p2="unit", lam="nonnegative", trials="count"),
    ),
    "simulate.random_projections": (
        lambda **k: jc.simulate.random_projections(MIX, key=KEY, **k),
        dict(n=10, m=4, p2=0.2, lam=0.1, trials=2),
        dict(n="count", m="count", p2="unit", lam="nonnegative", trials="count"),
    ),
    "simulate.random_features": (
        lambda **k: jc.simulate.random_features(MIX, key=KEY, **k),
        dict(n=10, m=4, p2=0.2, lam=0.1, trials=2, activation="relu"),
        dict(n="count", m="count", p2="unit", lam="nonnegative", trials="count", activation="name"),
    ),
    "simulate.retraining": (
        lambda **k: jc.simulate.retraining(MIX, key=KEY, **k),
        dict(n=10, n0=12, generations=2, lam=0.1, generator_noise_var=0.5, trials=2),
        dict(
            n="count",
            n0="count",
            generations="count0",
            lam="nonnegative",
            generator_noise_var="nonnegative!",
            trials="count",
        ),
    ),
    "simulate.data_loop": (
        lambda **k: jc.simulate.data_loop(MIX, key=KEY, **k),
        dict(n0=10, generations=2, lam=0.1, generator_noise_var=0.5, trials=2, policy="replace"),
        dict(
            n0="count",
            generations="count0",
            lam="nonnegative",
            generator_noise_var="nonnegative!",
            trials="count",
            policy="name",
        ),
    ),
    "isotropic": (
        lambda **k: jc.isotropic(**k),
        dict(d=6, signal=1.0, shift=0.5, noise_var=0.1),
        dict(d="count", signal="nonnegative!", shift="nonnegative!", noise_var="nonnegative!"),
    ),
    "power_law": (
        lambda **k: jc.power_law(**k),
        dict(d=6, beta=1.5, source=0.5, signal=1.0, shift=0.5, noise_var=0.1),
        dict(
            d="count",
            beta="positive!",
            source="positive!",
            signal="nonnegative!",
            shift="nonnegative!",
            noise_var="nonnegative!",
        ),
    ),
    "Mixture": (
        lambda **k: jc.Mixture(**k),
        dict(eigs=np.ones(D), signal=np.ones(D), shift=np.ones(D), noise_var=0.1),
        dict(eigs="vector+", signal="vector0", shift="vector0", noise_var="nonnegative!"),
    ),
    "fixed_teachers": (
        lambda **k: jc.fixed_teachers(**k),
        dict(eigs=np.ones(D), teacher=np.ones(D), synthetic_teacher=np.ones(D), noise_var=0.1),
        dict(eigs="vector+", teacher="vector", synthetic_teacher="vector", noise_var="nonnegative!"),
    ),
    "compress": (
        lambda **k: jc.compress(MIX, **k),
        dict(rtol=1e-6, bin_ratio=10.0),
        dict(rtol="positive!", bin_ratio="positive!"),
    ),
    "optimal": (
        lambda **k: jc.optimal(functools.partial(jc.theory.ridge, MIX, n=20.0, p2=0.2), **k),
        dict(over="lam", bounds=(1e-3, 10.0), grid=8),
        dict(over="name", bounds="range", grid="count"),
    ),
    "sweep": (
        lambda **k: jc.sweep(functools.partial(jc.theory.ridge, MIX, p2=0.2, lam=0.1), progress=False, **k),
        dict(axes={"n": np.array([10.0, 20.0])}, chunk_size=64),
        dict(axes="axes", chunk_size="count"),
    ),
    "tails.cut": (
        lambda **k: jc.tails.cut(**k),
        dict(beta=2.0, T=jnp.array([10.0, 100.0, 1000.0]), k=10.0),
        dict(beta="positive", T="nonnegative", k="positive+inf"),
    ),
    "tails.clean": (
        lambda **k: jc.tails.clean(**k),
        dict(beta=2.0, T=jnp.array([10.0, 100.0, 1000.0])),
        dict(beta="above one", T="nonnegative"),
    ),
    "tails.narrow": (
        lambda **k: jc.tails.narrow(**k),
        dict(beta=2.0, T=jnp.array([10.0, 100.0, 1000.0]), beta_narrow=3.0),
        dict(beta="above one", T="nonnegative", beta_narrow="above one"),
    ),
    "tails.mix": (
        lambda **k: jc.tails.mix(**k),
        dict(beta=2.0, T=jnp.array([10.0, 100.0, 1000.0]), k=10.0, p1=0.1, sampling="fixed"),
        dict(beta="positive", T="nonnegative", k="positive+inf", p1="unit", sampling="name"),
    ),
    # the explorer's HTTP endpoints get strings (a query string, or a JSON body's values): each bad
    # value as the text a request would carry
    "explore /api/picture": (
        lambda **k: _explorer().picture({name: str(v) for name, v in k.items()}),
        dict(quality=1.0, lam=1e-4, d_over_n=2.0, beta=1.2, model="ridge", spectrum="power_law", activation="relu"),
        dict(
            quality="positive",
            lam="nonnegative!",
            d_over_n="positive!",
            beta="positive!",
            model="name",
            spectrum="name",
            activation="name",
        ),
    ),
    "explore /api/save": (
        lambda **k: _explorer().save({name: str(v) for name, v in k.items()}),
        dict(quality=1.0, p2_row=0.5),
        dict(quality="positive!", p2_row="unit!"),
    ),
}


@functools.cache
def _explorer():
    """One explorer (no background compilation; saves into a temporary folder, never reached: every
    call of the matrix has a bad value)."""
    import tempfile

    from jaxcollapse.explore._app import Explorer

    return Explorer(tempfile.mkdtemp(), warm=False)


def _bad_values(kind, broadcasts=True):
    """`{class: value}` of the bad inputs for an argument of this kind (valid classes left out)."""
    if kind == "name":
        return {"unknown name": "no-such-name", "complex": 1j, "empty": "", "NaN": math.nan}
    if kind == "range":
        return {
            "NaN": (math.nan, 1.0),
            "inf": (1e-3, math.inf),
            "negative": (-1.0, 1.0),
            "zero": (0.0, 1.0),
            "wrong shape": (1.0, 2.0, 3.0),
            "empty": (),
            "string": "abc",
            "reversed": (10.0, 1e-3),
        }
    if kind == "axes":
        return {
            "NaN": {"n": np.array([10.0, np.nan])},
            "negative": {"n": np.array([10.0, -1.0])},
            "wrong shape": {"n": np.ones((2, 2))},
            "empty": {"n": np.array([])},
            "string": {"n": np.array(["a", "b"])},
            "unknown name": {"no_such_name": np.array([1.0])},
        }
    vector = kind.startswith("vector")
    allowed = DOMAINS[kind.rstrip("!")]
    out = {}
    for cls, (scalar, vec) in CLASSES.items():
        if cls in allowed:
            continue
        out[cls] = vec if vector else scalar
    if not kind.endswith("!") and not vector and not broadcasts:
        out.pop("wrong shape", None)  # a (2,) array is a valid grid when nothing else has a shape
    if kind in ("count", "count0"):
        out["non-integer"] = 2.5
    if kind.rstrip("!") == "unit":
        out["above one"] = 1.5
    if kind == "above one":
        out["one or below"] = 1.0
    return out


def outcome(call, arg, value):
    """`(verdict, message)` of `call(**{arg: value})`."""
    try:
        result = call(**{arg: value})
    except (ValueError, TypeError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        named = arg in str(err) or (arg == "axes" and ("axes" in str(err) or "no_such_name" in str(err)))
        return ("ok" if named else "unnamed"), f"{type(err).__name__}: {message}"
    except Exception as err:  # noqa: BLE001 - the point is to catch what should not happen
        return "crash", f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    status = getattr(result, "status", None)
    if status is None and hasattr(result, "data_vars") and "status" in result.data_vars:
        status = result["status"].values
    if status is not None and np.any(np.asarray(status) == jc.Status.INVALID_INPUT):
        return "status", "NaN with Status.INVALID_INPUT at the bad points (a traced batch)"
    return "silent", ""


def cells():
    """`[(entry, argument, class, verdict, message)]` over the whole matrix, plus unknown keywords."""
    rows = []
    for entry, (fn, valid, kinds) in ENTRIES.items():
        for arg, kind in kinds.items():
            others = [v for k, v in valid.items() if k != arg and np.ndim(v) == 1 and not isinstance(v, str)]
            for cls, value in _bad_values(kind, broadcasts=bool(others)).items():
                verdict, message = outcome(lambda **k: fn(**{**valid, **k}), arg, value)
                rows.append((entry, arg, cls, verdict, message))
        verdict, message = outcome(lambda **k: fn(**{**valid, **k}), "no_such_keyword", 1.0)
        rows.append((entry, "no_such_keyword", "unknown name", verdict, message))
    return rows


COLUMNS = [
    "NaN",
    "inf",
    "negative",
    "zero",
    "complex",
    "wrong shape",
    "empty",
    "string",
    "non-integer",
    "above one",
    "one or below",
    "reversed",
    "unknown name",
]
CORRECT = ("ok", "status")


def table(rows):
    """Markdown: one row per entry point, one column per class; each cell `handled / bad inputs tried`
    (handled: a named error, or † NaN with `Status.INVALID_INPUT` where a traced batch cannot raise)."""
    counts = {}
    for entry, _, cls, verdict, _ in rows:
        tried, handled, status = counts.get((entry, cls), (0, 0, 0))
        counts[entry, cls] = (tried + 1, handled + (verdict in CORRECT), status + (verdict == "status"))
    used = [c for c in COLUMNS if any(cls == c for (_, cls) in counts)]
    lines = ["| entry point | " + " | ".join(used) + " | all |", "|---" * (len(used) + 2) + "|"]
    for entry in ENTRIES:
        cells_, tried_all, handled_all = [], 0, 0
        for c in used:
            tried, handled, status = counts.get((entry, c), (0, 0, 0))
            tried_all, handled_all = tried_all + tried, handled_all + handled
            cells_.append(f"{handled}/{tried}{' †' if status else ''}" if tried else "—")
        lines.append(f"| `{entry}` | " + " | ".join(cells_) + f" | {handled_all}/{tried_all} |")
    verdicts = [row[3] for row in rows]
    lines.append("")
    lines.append(
        f"{len(rows)} bad inputs over {len(ENTRIES)} entry points: {verdicts.count('ok')} named `ValueError`/`TypeError`, "
        f"{verdicts.count('status')} NaN + `Status.INVALID_INPUT` (†), {verdicts.count('unnamed')} unnamed errors, "
        f"{verdicts.count('crash')} crashes, {verdicts.count('silent')} silent results."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    rows = cells()
    print(table(rows))
    for row in rows:
        if row[3] not in CORRECT:
            print(row)
