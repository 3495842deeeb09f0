"""The credit-card data sets of the plugin: the real fraud loader (``creditcard``: schema and checksum
checks, the time split, the OpenML route failing fast offline; every file here is a small CSV the test
writes itself) and the seeded synthetic generator (``synthetic-creditcard``)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from aezoo_fc_ae_fraud import creditcard as cc
from aezoo_fc_ae_fraud.creditcard import (
    COLUMNS,
    FEATURES,
    FRAUD_RATE,
    REAL_V_STD,
    CreditCardChecksumError,
    CreditCardSchemaError,
    creditcard,
    generate_creditcard,
    synthetic_creditcard,
    synthetic_creditcard_frame,
    time_split,
)

from aezoo.data import load_dataset
from aezoo.data.tabular import csv_table
from aezoo.errors import DatasetUnavailableError

pandas = pytest.importorskip("pandas")


def _frame(n: int = 50, seed: int = 0):
    """n rows with the schema, in SHUFFLED time order (file order is not time order), frauds at
    known times. Time = 10 * (row id); Class = 1 for row ids 3, 7, n - 8, n - 5."""
    rng = np.random.default_rng(seed)
    frame = pandas.DataFrame(rng.normal(size=(n, len(FEATURES))), columns=list(FEATURES))
    frame["Time"] = 10.0 * np.arange(n)
    frame["Amount"] = rng.uniform(0, 100, n).round(2)
    frame["Class"] = 0
    frame.loc[[3, 7, n - 8, n - 5], "Class"] = 1
    return frame.iloc[rng.permutation(n)].reset_index(drop=True)


def _write(path, frame) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def test_time_split_is_by_time_not_file_order(tmp_path):
    frame = _frame(50)
    assert not frame["Time"].is_monotonic_increasing  # the file is not sorted
    splits = load_dataset("creditcard", path=_write(tmp_path / "creditcard.csv", frame))
    train_time = splits.train.x[:, FEATURES.index("Time")].numpy()
    test_time = splits.test.x[:, FEATURES.index("Time")].numpy()
    assert len(train_time) == 40 and len(test_time) == 10  # 80 % / 20 %
    assert np.array_equal(np.sort(train_time), 10.0 * np.arange(40))  # the earliest 40 rows
    assert np.array_equal(np.sort(test_time), 10.0 * np.arange(40, 50))
    assert train_time.max() < test_time.min()  # no future leakage
    assert np.all(np.diff(train_time) >= 0) and np.all(np.diff(test_time) >= 0)  # kept in time order
    # Labels travel with their rows: frauds at ids 3, 7 train, 42, 45 test.
    assert sorted(train_time[splits.train.y.numpy() == 1].tolist()) == [30.0, 70.0]
    assert sorted(test_time[splits.test.y.numpy() == 1].tolist()) == [420.0, 450.0]
    # Features follow their rows too.
    row = frame[frame["Time"] == 420.0].iloc[0]
    index = int(np.flatnonzero(test_time == 420.0)[0])
    assert np.allclose(splits.test.x[index].numpy(), row[list(FEATURES)].to_numpy(), rtol=1e-6)
    assert splits.train.labelled and splits.train.label == "Class" and splits.train.features == FEATURES
    assert "first 80 % (40 rows, 2 frauds" in splits.split and "38 normal rows are fitted" in splits.split
    assert "last 20 % (10 rows, 2 frauds" in splits.split and "no test row is earlier" in splits.split


def test_time_split_is_stable_for_equal_times():
    train, test = time_split(np.array([5.0, 1.0, 5.0, 1.0, 5.0]), train_share=0.6)
    assert train.tolist() == [1, 3, 0] and test.tolist() == [2, 4]  # ties keep their file order


def test_model_columns_are_selected_in_the_model_order(tmp_path):
    frame = _frame(20)
    path = _write(tmp_path / "creditcard.csv", frame[list(reversed(COLUMNS))])  # any column order in the file
    features = [f for f in FEATURES if f != "Time"]
    splits = creditcard(path, features=features)
    assert splits.train.features == tuple(features) and splits.train.x.shape == (16, 29)
    earliest = frame.sort_values("Time").iloc[0]
    assert np.allclose(splits.train.x[0].numpy(), earliest[features].to_numpy(), rtol=1e-6)
    with pytest.raises(CreditCardSchemaError, match="merchant"):
        creditcard(path, features=["V1", "merchant"])


def test_a_file_that_is_not_the_known_one_is_accepted_and_named_so(tmp_path):
    path = _write(tmp_path / "mine.csv", _frame(30))
    splits = creditcard(path)
    assert "NOT the known file" in splits.description and splits.meta["known_file"] is False


def test_a_file_of_the_known_size_with_another_checksum_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "creditcard.csv"
    _write(path, _frame(30))
    monkeypatch.setattr(cc, "KNOWN_SIZE", path.stat().st_size)  # this file now has "the known size"
    with pytest.raises(CreditCardChecksumError) as error:
        creditcard(path)
    assert "sha256" in str(error.value) and "download creditcard.csv again" in str(error.value)
    assert isinstance(error.value, DatasetUnavailableError)
    from aezoo.integrity import sha256_of

    monkeypatch.setattr(cc, "KNOWN_SHA256", sha256_of(path))  # and the known checksum: accepted as the file
    splits = creditcard(path)
    assert splits.meta["known_file"] is True and "the known creditcard.csv" in splits.description


def test_schema_errors_name_missing_and_extra_columns(tmp_path):
    frame = _frame(20).drop(columns=["V3", "Class"])
    frame["merchant"] = 1.0
    with pytest.raises(CreditCardSchemaError) as error:
        creditcard(_write(tmp_path / "bad.csv", frame))
    message = str(error.value)
    assert "missing columns ['V3', 'Class']" in message and "unexpected columns ['merchant']" in message


def test_labels_and_values_are_checked(tmp_path):
    frame = _frame(20)
    frame.loc[4, "Class"] = 2
    with pytest.raises(CreditCardSchemaError, match="not only 0 and 1"):
        creditcard(_write(tmp_path / "labels.csv", frame))
    frame = _frame(20).astype({"V1": object})
    frame.loc[2, "V1"] = "abc"
    with pytest.raises(CreditCardSchemaError, match="not numeric"):
        creditcard(_write(tmp_path / "text.csv", frame))
    with pytest.raises(DatasetUnavailableError, match="kaggle.com/datasets/mlg-ulb/creditcardfraud"):
        creditcard(tmp_path / "nowhere" / "creditcard.csv")


def test_a_creditcard_csv_given_as_a_csv_path_gets_the_time_split(tmp_path):
    path = _write(tmp_path / "transactions.csv", _frame(50))
    splits = csv_table(path, features=list(FEATURES), label="Class")  # what --data path/to/file.csv resolves to
    assert splits.name == "creditcard" and "time split" in splits.split
    assert splits.train.x[:, 0].max() < splits.test.x[:, 0].min()
    other = pandas.DataFrame({"a": [1.0, 2.0, 3.0, 4.0, 5.0], "Class": [0, 0, 1, 0, 0]})
    assert csv_table(_write(tmp_path / "other.csv", other), label="Class").name == "other.csv"


def test_synthetic_rows_with_the_schema_load_on_the_same_protocol(tmp_path):
    frame = synthetic_creditcard_frame(500, seed=3, fraud_rate=0.02)
    splits = creditcard(_write(tmp_path / "creditcard.csv", frame))
    assert len(splits.train) == 400 and int(splits.train.y.sum() + splits.test.y.sum()) == 10


def test_without_a_path_offline_fails_fast_and_says_to_pass_a_path(tmp_path, monkeypatch):
    import sklearn.datasets._openml as openml

    monkeypatch.setenv("AEZOO_HOME", str(tmp_path / "home"))  # no file at the default location
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn"))  # nothing cached
    monkeypatch.setattr(openml, "_SEARCH_NAME", "http://127.0.0.1:9/{}")  # nothing listens: as offline
    started = time.perf_counter()
    with pytest.raises(DatasetUnavailableError) as error:
        load_dataset("creditcard")
    assert time.perf_counter() - started < 10
    assert "OpenML" in str(error.value) and "path=" in str(error.value)


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
