"""The one column check (aezoo.data.columns): every table reader names missing and unexpected columns
the same way, and shortens long lists."""

from __future__ import annotations

import pytest

from aezoo.data.columns import ColumnsError, check_columns, differences, shorten
from aezoo.errors import CSVReadError, DatasetUnavailableError


def test_shorten_keeps_short_lists_and_counts_the_rest():
    assert shorten(["a", "b"]) == "['a', 'b']"
    assert shorten([f"c{i}" for i in range(12)], limit=3) == "['c0', 'c1', 'c2', ... and 9 more]"
    assert shorten([]) == "[]"


def test_check_columns_returns_the_expected_columns_in_their_order():
    assert check_columns(["b", "label", "a", "Time"], ["a", "b"], source="t", optional=["label", "Time"]) == ["a", "b"]
    assert differences(["b", "c"], ["a", "b"], optional=[None]) == (["a"], ["c"])


def test_every_missing_and_unexpected_column_is_named_in_one_error():
    with pytest.raises(ColumnsError) as caught:
        check_columns(["a", "c", "d"], ["a", "b"], source="table.csv", optional=["y"])
    error = caught.value
    assert isinstance(error, DatasetUnavailableError) and isinstance(error, ValueError)
    assert error.what == ("table.csv does not have the columns the model expects: missing columns ['b']; "
                          "unexpected columns ['c', 'd'].")
    assert "The model reads 2 columns: ['a', 'b'], plus optional columns ['y']" in error.hint


def test_order_is_checked_only_when_asked_and_the_error_type_and_schema_are_the_caller_s():
    assert check_columns(["b", "a"], ["a", "b"], source="t") == ["a", "b"]
    with pytest.raises(ColumnsError, match=r"the same columns in another order \(\['b', 'a'\]\)"):
        check_columns(["b", "a"], ["a", "b"], source="t", in_order=True)
    with pytest.raises(CSVReadError, match="^x does not have the x schema: missing columns") as caught:
        check_columns([], ["a"], source="x", schema="the x schema", error=CSVReadError, hint="Fix x.")
    assert caught.value.hint == "Fix x."
