"""Tabular loaders: scikit-learn's breast cancer and digits, CSV tables, and the seeded synthetic
credit-card generator (the real creditcard.csv loader: test_creditcard.py)."""

from __future__ import annotations

import numpy as np
import pytest

from aezoo.data import load_dataset
from aezoo.data.creditcard import (
    COLUMNS,
    FEATURES,
    FRAUD_RATE,
    REAL_V_STD,
    generate_creditcard,
    synthetic_creditcard,
    synthetic_creditcard_frame,
)
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


def test_synthetic_generator_is_seeded_and_has_the_creditcard_schema():
    x, y = generate_creditcard(5_000, seed=7)
    again, labels_again = generate_creditcard(5_000, seed=7)
    other, _ = generate_creditcard(5_000, seed=8)
    assert np.array_equal(x, again) and np.array_equal(y, labels_again)
    assert not np.array_equal(x, other)
    assert x.shape == (5_000, 30) and int(y.sum()) == round(5_000 * FRAUD_RATE)
    frame = synthetic_creditcard_frame(5_000, seed=7)
    assert tuple(frame.columns) == COLUMNS == (*FEATURES, "Class")
    assert frame["Time"].is_monotonic_increasing and frame["Time"].between(0, 172_800).all()
    assert (frame["Amount"] >= 0).all() and set(frame["Class"].unique()) == {0, 1}


def test_synthetic_transactions_look_like_the_real_table():
    x, y = generate_creditcard(20_000, seed=0)
    normal = x[y == 0]
    v_std = normal[:, 1:29].std(0)
    assert np.allclose(v_std, REAL_V_STD, rtol=0.1)  # V1..V28 spreads as in creditcard.csv
    corr = np.corrcoef(normal[:, 1:29].T)
    assert np.abs(corr - np.eye(28)).max() < 0.1  # PCA-like: uncorrelated
    assert 8 < np.median(normal[:, 29]) < 40  # euro amounts, median about 22 in the real file
    night = ((x[:, 0] / 3600) % 24 >= 1) & ((x[:, 0] / 3600) % 24 < 7)
    assert night[y == 0].mean() < 0.15  # fewer transactions at night


def test_synthetic_splits_are_labelled_synthetic():
    splits = synthetic_creditcard(n_rows=2_000, seed=1)
    assert "SYNTHETIC" in splits.description and "NOT real" in splits.description
    assert splits.train.features == FEATURES and splits.train.label == "Class"
    assert len(splits.test) == 400


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


def test_frame_splits_refuse_text_and_nan():
    with pytest.raises(ColumnsError, match="not numeric"):
        frame_splits(pandas.DataFrame({"a": ["x", "y"]}))
    with pytest.raises(ColumnsError, match="NaN"):
        frame_splits(pandas.DataFrame({"a": [1.0, float("nan")]}))
    with pytest.raises(ColumnsError, match="other than 0 and 1"):
        frame_splits(pandas.DataFrame({"a": [1.0, 2.0], "y": [0, 3]}), label="y")
