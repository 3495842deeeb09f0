"""Streaming scoring (aezoo.scoring.score_csv, what `aezoo score` runs) with a real fitted detector:
chunk by chunk it writes exactly what scoring the whole table at once gives, and a fault deep in
the file is a named error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame
from aezoo_fc_ae_fraud.plugin import FEATURES

import aezoo
from aezoo.errors import CSVReadError
from aezoo.scoring import score_csv

pandas = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def detector():
    frame = synthetic_creditcard_frame(600, seed=3, fraud_rate=0.02)
    torch.manual_seed(0)
    model = aezoo.build(aezoo.info("fc-ae-fraud"))
    return model.fit(frame[list(FEATURES)].to_numpy(), frame["Class"].to_numpy(), epochs=1)


@pytest.mark.parametrize("chunk_rows", [7, 250, 10_000])
def test_chunks_give_the_scores_of_the_whole_table(detector, tmp_path, chunk_rows):
    frame = synthetic_creditcard_frame(250, seed=5)
    table = tmp_path / "rows.csv"
    frame.to_csv(table, index=False)
    done: list[int] = []
    summary = score_csv(detector, table, tmp_path / "scores.csv", chunk_rows=chunk_rows, on_chunk=done.append)
    written = pandas.read_csv(tmp_path / "scores.csv")
    expected = detector.decision_function(frame)
    assert list(written.columns) == ["row", "score", "is_anomaly"]
    assert written["row"].tolist() == list(range(250))
    np.testing.assert_allclose(written["score"].to_numpy(), expected, rtol=1e-5)  # BLAS sums differ by batch size
    assert written["is_anomaly"].tolist() == (expected > detector.threshold_).astype(int).tolist()
    assert summary.rows == 250 and summary.flagged == int((expected > detector.threshold_).sum())
    assert done[-1] == 250 and len(done) == -(-250 // chunk_rows)


def test_decision_function_chunks_are_invisible(detector):
    rows = synthetic_creditcard_frame(100, seed=6)[list(FEATURES)].to_numpy(copy=True)
    whole = detector.decision_function(rows)
    np.testing.assert_allclose(detector.decision_function(rows, batch_size=9), whole, rtol=1e-5)
    rows[57, 3] = np.nan
    with pytest.raises(aezoo.AezooError, match="1 rows contain NaN"):
        detector.decision_function(rows, batch_size=9)  # the bad row is in the seventh chunk


def test_a_ragged_row_deep_in_the_file_is_a_named_error(detector, tmp_path):
    table = tmp_path / "ragged.csv"
    frame = synthetic_creditcard_frame(40, seed=7)
    text = frame.to_csv(index=False)
    table.write_text(text + ",".join(["1"] * 40) + "\n")  # more fields than the header
    with pytest.raises(CSVReadError, match="could not be read as CSV"):
        score_csv(detector, table, tmp_path / "out.csv", chunk_rows=10)


def test_a_header_without_rows_is_a_named_error(detector, tmp_path):
    table = tmp_path / "empty.csv"
    table.write_text(",".join(["Time", *FEATURES]) + "\n")
    with pytest.raises(CSVReadError, match="no rows"):
        score_csv(detector, table, tmp_path / "out.csv")
