"""Tabular loaders: scikit-learn's breast cancer and digits, CSV tables and DataFrames (the credit-card
data sets are the fc-ae-fraud plugin's: its tests/test_creditcard.py)."""

from __future__ import annotations

import numpy as np
import pytest

from aezoo.data import load_dataset
from aezoo.data.tabular import ColumnsError, TableDataset, csv_table, digits, frame_splits
from aezoo.errors import DatasetUnavailableError

pandas = pytest.importorskip("pandas")


def _rows(dataset: TableDataset) -> tuple[np.ndarray, np.ndarray]:
    return dataset.x.numpy(), dataset.y.numpy()


def test_breast_cancer_is_the_real_table_with_malignant_as_anomaly():
    splits = load_dataset("breast-cancer")
    x_train, y_train = _rows(splits.train)
    x_test, y_test = _rows(splits.test)
    assert x_train.shape[1] == x_test.shape[1] == 30 and len(x_train) + len(x_test) == 569
    assert len(x_test) == len(range(4, 569, 5))  # index % 5 == 4 held out
    assert int(y_train.sum() + y_test.sum()) == 212  # malignant cases
    assert splits.train.features[0] == "mean radius" and splits.train.labelled
    assert "212 malignant = anomaly" in splits.description
    x0, y0 = splits.train[0]
    assert x0.dtype.is_floating_point and x0.shape == (30,) and int(y0) in (0, 1)


def test_digits_one_class_versus_rest():
    splits = digits(normal_digit=3)
    from sklearn.datasets import load_digits

    target = load_digits().target
    labels = np.concatenate([splits.train.y.numpy(), splits.test.y.numpy()])
    assert int((labels == 0).sum()) == int((target == 3).sum())
    assert splits.train.x.shape[1] == 64 and splits.train.features[9] == "pixel_1_1"
    assert "digit 3 = normal" in splits.description
    with pytest.raises(ValueError, match="0..9"):
        digits(normal_digit=10)


def test_csv_table_with_and_without_labels(tmp_path):
    frame = pandas.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "b": [0.5, 0.1, 0.2, 0.3, 0.4], "y": [0, 0, 1, 0, 1]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    labelled = csv_table(tmp_path / "t.csv", label="y")
    assert labelled.train.features == ("a", "b") and labelled.train.labelled
    assert labelled.train.y.tolist() == [0, 0, 1, 0] and labelled.test.y.tolist() == [1]
    unlabelled = csv_table(tmp_path / "t.csv")
    assert unlabelled.train.features == ("a", "b", "y") and not unlabelled.train.labelled
    assert unlabelled.train.y.tolist() == [0, 0, 0, 0]
    by_name = csv_table(tmp_path / "t.csv", label="y", features=["b", "a"])  # the model's order
    assert by_name.train.x[0].tolist() == [0.5, 1.0]


def test_csv_table_names_column_mismatches(tmp_path):
    frame = pandas.DataFrame({"a": [1.0, 2.0], "c": [3.0, 4.0], "y": [0, 1]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(ColumnsError) as error:
        csv_table(tmp_path / "t.csv", label="y", features=["a", "b"])
    assert "missing columns ['b']" in str(error.value) and "unexpected columns ['c']" in str(error.value)
    with pytest.raises(DatasetUnavailableError, match="No CSV file"):
        csv_table(tmp_path / "absent.csv")


def test_ignored_columns_are_dropped_where_present(tmp_path):
    """A model's ``ignore`` columns (fc-ae-fraud's Time) are read past, with or without a label column."""
    frame = pandas.DataFrame({"t": [9.0, 8.0, 7.0, 6.0, 5.0], "a": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [0, 0, 1, 0, 1]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.drop(columns="y").to_csv(tmp_path / "no-label.csv", index=False)
    for path in ("t.csv", "no-label.csv"):
        splits = csv_table(tmp_path / path, label="y", features=["a"], ignore=["t"])
        assert splits.train.features == ("a",) and splits.train.x[:, 0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert frame_splits(frame.drop(columns="t"), features=["a"], label="y", ignore=["t"]).train.features == ("a",)
    assert frame_splits(frame, label="y", ignore=["t"]).train.features == ("a",)  # no names: every other column
    with pytest.raises(ColumnsError, match=r"unexpected columns \['t'\]"):
        csv_table(tmp_path / "no-label.csv", label="y", features=["a"])


def test_frame_splits_refuse_text_and_nan():
    with pytest.raises(ColumnsError, match="not numeric"):
        frame_splits(pandas.DataFrame({"a": ["x", "y"]}))
    with pytest.raises(ColumnsError, match="NaN"):
        frame_splits(pandas.DataFrame({"a": [1.0, float("nan")]}))
    with pytest.raises(ColumnsError, match="other than 0 and 1"):
        frame_splits(pandas.DataFrame({"a": [1.0, 2.0], "y": [0, 3]}), label="y")
