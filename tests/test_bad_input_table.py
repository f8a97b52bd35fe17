"""Bad input, counted (issue 20): every public entry point × every class of bad input
(`_bad_input_matrix`). Every cell must be a `ValueError`/`TypeError` naming the argument, or — where
a traced batch cannot raise (the points of a sweep) — NaN with `Status.INVALID_INPUT`; and the
table in the docs ("Numerics and statuses") is this table, regenerated."""

import pathlib

import _bad_input_matrix as matrix
import pytest


@pytest.fixture(scope="module")
def rows():
    """The whole matrix, computed once when the first test needs it (not at collection, which
    every worker does)."""
    return matrix.cells()


@pytest.mark.parametrize("verdict", ["unnamed", "crash", "silent"])
def test_no_bad_input_goes_unnamed_crashes_or_passes_silently(rows, verdict):
    bad = [row for row in rows if row[3] == verdict]
    assert not bad, "\n".join(map(str, bad))


def test_every_class_is_tried_on_every_entry_point(rows):
    for entry in matrix.ENTRIES:
        classes = {row[2] for row in rows if row[0] == entry}
        assert {"NaN", "string", "complex", "empty", "unknown name"} <= classes, (entry, classes)
    assert len(rows) >= 700


def test_the_docs_table_is_the_generated_one(rows):
    page = (pathlib.Path(__file__).parent.parent / "docs" / "numerics.md").read_text()
    assert matrix.table(rows) in page, matrix.table(rows)
