"""Checking a table's columns by name: one check and one message for every place that reads a table
(data set loaders, in-memory DataFrames, the anomaly training step, a detector given a DataFrame).
No torch here: the checkpoint code shortens its lists with ``shorten`` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import AezooError, DatasetUnavailableError


class ColumnsError(DatasetUnavailableError, ValueError):
    """A table's columns do not match the feature names a model was built for."""


def shorten(items: Sequence[Any], limit: int = 8) -> str:
    """A list for a one-line message: at most ``limit`` items, then how many more."""
    items = list(items)
    if len(items) <= limit:
        return str(items)
    return str(items[:limit])[:-1] + f", ... and {len(items) - limit} more]"


def differences(columns: Sequence[Any], expected: Sequence[str], optional: Sequence[str | None] = ()) -> tuple[
        list[str], list[str]]:
    """(missing, unexpected): the ``expected`` columns absent from ``columns``, and the columns that are
    neither expected nor ``optional`` (a label column, columns a model ignores)."""
    present = [str(c) for c in columns]
    missing = [c for c in expected if c not in present]
    unexpected = [c for c in present if c not in expected and c not in optional]
    return missing, unexpected


def check_columns(columns: Sequence[Any], expected: Sequence[str], *, source: str, optional: Sequence[str | None] = (),
                  in_order: bool = False, schema: str = "the columns the model expects",
                  error: type[AezooError] = ColumnsError, hint: str | None = None) -> list[str]:
    """Refuse a table whose ``columns`` lack an ``expected`` column or hold one that is neither expected
    nor ``optional``, naming every such column in one ``error`` ("{source} does not have {schema}:
    missing columns [...]; unexpected columns [...]."). ``in_order``: the expected columns must also
    come in their order. Returns the expected columns, in their order: the ones to read."""
    missing, unexpected = differences(columns, expected, optional)
    parts = ([f"missing columns {shorten(missing)}"] if missing else []) + (
        [f"unexpected columns {shorten(unexpected)}"] if unexpected else [])
    present = [str(c) for c in columns]
    if not parts and in_order and [c for c in present if c in expected] != list(expected):
        parts = [f"the same columns in another order ({shorten(present)})"]
    if parts:
        extra = [c for c in optional if c is not None]
        raise error(
            f"{source} does not have {schema}: " + "; ".join(parts) + ".",
            hint or (f"The model reads {len(expected)} columns: {shorten(expected)}"
                     + (f", plus optional columns {shorten(extra)}" if extra else "")
                     + ". Rename or drop columns to match."),
        )
    return list(expected)
