"""Scoring a table of any size with an anomaly detector: read, score and write one chunk at a time,
so memory stays at one chunk and the first rows are written before the last are read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data.csvfile import read_csv_chunks

CHUNK_ROWS = 65_536  # rows read, scored and written at a time: a few MB, whatever the file's size


@dataclass(frozen=True)
class ScoreSummary:
    """What one scoring run did: rows scored, rows above the threshold, and the threshold used."""

    rows: int
    flagged: int
    threshold: float


def score_csv(
    detector: Any,
    table: str | Path,
    output: str | Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    on_chunk: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Write ``row,score,is_anomaly`` for every row of the CSV ``table`` to ``output``.

    ``detector`` is a fitted anomaly model (``decision_function`` and ``threshold_``); ``row``
    counts data rows from 0. ``on_chunk(rows_done)`` is called after each chunk (for progress).
    The output is written as chunks come: callers that must not leave a partial file behind write
    to a temporary path and move it into place (the CLI does)."""
    import numpy as np
    import pandas

    threshold = float(detector.threshold_)
    rows = flagged = 0
    with open(output, "w", newline="", encoding="utf-8") as out:
        for frame in read_csv_chunks(table, chunk_rows):
            scores = detector.decision_function(frame)
            flags = (scores > threshold).astype(np.int64)
            index = pandas.RangeIndex(rows, rows + len(scores), name="row")
            pandas.DataFrame({"score": scores, "is_anomaly": flags}, index=index).to_csv(out, header=rows == 0)
            rows += len(scores)
            flagged += int(flags.sum())
            if on_chunk is not None:
                on_chunk(rows)
    return ScoreSummary(rows, flagged, threshold)
