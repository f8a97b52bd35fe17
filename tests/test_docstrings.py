"""Every public name has a docstring (issue 22: the API reference is generated from them).

Public: every name in the `__all__` of `jaxcollapse` and of its public subpackages and modules,
followed recursively, and the public methods and properties of every public class. Constants
(numbers, strings, tuples) document themselves in the module's docstring and are skipped.
"""

import inspect

import jaxcollapse as jc


def _public(module, prefix):
    """(dotted name, object) of every public name under `module` (the walk the docs build uses)."""
    from _docs_hooks import hooks

    assert hasattr(module, "__all__"), f"{prefix} has no __all__"
    return hooks.walk_public(module, prefix)


def _doc(obj):
    if isinstance(obj, (classmethod, staticmethod)):
        obj = obj.__func__
    return (obj.__doc__ if inspect.ismodule(obj) else inspect.getdoc(obj)) or ""


def test_every_public_name_has_a_docstring():
    names = dict(_public(jc, "jaxcollapse"))
    assert len(names) > 120  # the walk reaches the subpackages (it could silently stop at the top)
    for module in ("theory", "simulate", "tails", "tails.bigram", "nn", "nn.digits", "nn.gcd"):
        assert f"jaxcollapse.{module}" in names
    missing = sorted(name for name, obj in names.items() if len(_doc(obj).strip()) < 10)
    assert not missing, f"no docstring: {missing}"


def test_a_missing_docstring_is_found():
    # the check itself: an undocumented function and method in a public module are reported
    import types

    class Documented:
        """A class."""

        def method(self):
            pass

    module = types.ModuleType("fake")
    module.__all__ = ["Documented", "helper"]
    module.Documented = Documented
    module.helper = lambda: None
    found = {name for name, obj in _public(module, "fake") if not _doc(obj).strip()}
    assert found == {"fake.Documented.method", "fake.helper"}
