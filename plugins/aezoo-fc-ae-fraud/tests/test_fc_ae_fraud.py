"""fc-ae-fraud: the PyOD-style detector API, its checkpoint round trip, training and fine-tuning
through the engine (with the baselines on the card), and the shipped weights (trained on the real
credit-card data, which the tests do not have: they check the card and score synthetic rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame
from aezoo_fc_ae_fraud.plugin import FEATURES  # V1..V28, Amount: the model does not read Time

import aezoo
from aezoo.data.tabular import ColumnsError
from aezoo.errors import DataMismatchError, UndefinedMetricError
from aezoo.metrics import average_precision, roc_auc

pandas = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def frame():
    """1,500 synthetic transactions, 2 % frauds (more than the real 0.17 %, so tiny splits hold some)."""
    return synthetic_creditcard_frame(1_500, seed=11, fraud_rate=0.02)


@pytest.fixture(scope="module")
def fitted(frame):
    """A detector fitted for 2 epochs on the normal rows of ``frame`` (the first 1,200 rows)."""
    torch.manual_seed(0)
    model = aezoo.build(aezoo.info("fc-ae-fraud"))
    train = frame.iloc[:1_200]
    return model.fit(train[list(FEATURES)].to_numpy(), train["Class"].to_numpy(), epochs=2)


def test_fit_scores_and_predicts_on_tiny_data(fitted, frame):
    test = frame.iloc[1_200:]
    scores = fitted.decision_function(test)
    assert scores.shape == (300,) and scores.dtype == np.float64 and np.isfinite(scores).all()
    flags = fitted.predict(test)
    assert set(np.unique(flags)) <= {0, 1} and np.array_equal(flags, (scores > fitted.threshold_).astype(int))
    # threshold_ is the (1 - contamination) percentile of the normal training rows' scores
    normal = frame.iloc[:1_200].query("Class == 0")
    expected = np.percentile(fitted.decision_function(normal), 100 * (1 - fitted.contamination))
    assert fitted.threshold_ == pytest.approx(expected, rel=1e-12)
    assert fitted.contamination == aezoo.info("fc-ae-fraud").config["contamination"]
    assert fitted.labels_.shape == (1_200,) and fitted.fit_result_.epochs == 2
    assert roc_auc(test["Class"], scores) > 0.6  # learns something in two epochs


def test_numpy_tensor_and_dataframe_give_the_same_scores(fitted, frame):
    rows = frame.iloc[:64]
    from_numpy = fitted.decision_function(rows[list(FEATURES)].to_numpy())
    from_tensor = fitted.decision_function(torch.tensor(rows[list(FEATURES)].to_numpy(), dtype=torch.float32))
    shuffled = rows[["Class", *reversed(FEATURES)]]  # columns are matched by name; Class is dropped
    from_frame = fitted.decision_function(shuffled)
    assert np.array_equal(from_numpy, from_tensor) and np.array_equal(from_numpy, from_frame)


def test_dataframe_columns_are_checked_by_name(fitted, frame):
    with pytest.raises(ColumnsError) as error:
        fitted.decision_function(frame.drop(columns=["V7", "Amount"]).assign(card_id=1))
    message = str(error.value)
    assert "missing columns ['V7', 'Amount']" in message and "unexpected columns ['card_id']" in message
    assert isinstance(error.value, ValueError)


def test_bad_rows_are_named_errors(fitted):
    from aezoo_fc_ae_fraud.model import InputShapeError, NotFittedError

    with pytest.raises(InputShapeError, match=r"\(n_samples, 29\)"):
        fitted.decision_function(np.zeros((3, 30)))
    with pytest.raises(InputShapeError, match="reshape"):
        fitted.decision_function(np.zeros(29))
    bad = np.zeros((2, 29))
    bad[1, 4] = np.nan
    with pytest.raises(InputShapeError, match="1 rows contain NaN"):
        fitted.predict(bad)
    with pytest.raises(NotFittedError, match="fit"):
        aezoo.build(aezoo.info("fc-ae-fraud")).decision_function(np.zeros((1, 29)))
    with pytest.raises(ValueError, match="contamination"):
        fitted.contamination = 0.9


def test_threshold_and_statistics_round_trip_exactly(frame, tmp_path):
    torch.manual_seed(0)
    model = aezoo.build(aezoo.info("fc-ae-fraud"))
    model.contamination = 0.05
    train = frame.iloc[:1_200]
    model.fit(train, epochs=1, output_dir=tmp_path / "run")  # a DataFrame: its Class column is the label
    assert "roc_auc" in model.fit_result_.metrics  # labelled: frauds skipped in training, ranked in evaluation
    loaded = aezoo.load(tmp_path / "run", device="cpu")
    for name in ("mean", "scale", "threshold", "contamination_rate", "fitted", "error_scale"):
        assert torch.equal(getattr(loaded, name), getattr(model, name)), name
    assert loaded.threshold_ == model.threshold_ and loaded.contamination == 0.05
    assert loaded.threshold.dtype == torch.float64
    assert np.array_equal(loaded.decision_function(frame), model.decision_function(frame))
    assert (tmp_path / "run" / "config.json").read_text().count('"V28"') == 2  # features in config + preprocessing
    assert not list((tmp_path / "run").glob("*.pt*")) and not list((tmp_path / "run").glob("*.pkl"))


def test_auroc_with_one_class_is_a_named_error():
    with pytest.raises(UndefinedMetricError) as error:
        roc_auc([0, 0, 0], [0.1, 0.5, 0.2])
    assert "only normal rows" in str(error.value) and "both classes" in str(error.value)
    with pytest.raises(UndefinedMetricError, match="only anomalies"):
        average_precision([1, 1], [0.3, 0.4])


def test_metrics_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.normal(size=300) + labels, 1)  # with ties
    assert roc_auc(labels, scores) == pytest.approx(metrics.roc_auc_score(labels, scores), abs=1e-6)
    expected = metrics.average_precision_score(labels, scores)
    assert average_precision(labels, scores) == pytest.approx(expected, abs=1e-6)
    # Scores far outside [0, 1] (scaled reconstruction errors reach 1e4): no sigmoid, no invented ties.
    large = np.exp(rng.normal(size=300) * 3 + 4 * labels)
    assert roc_auc(labels, large) == pytest.approx(metrics.roc_auc_score(labels, large), abs=1e-6)
    assert average_precision(labels, large) == pytest.approx(metrics.average_precision_score(labels, large), abs=1e-6)


def test_another_table_gets_its_own_config(tmp_path):
    """The architecture comes from the config: breast cancer's 30 named features, no label column."""
    from aezoo.data.tabular import breast_cancer_table

    table = breast_cancer_table()
    spec = aezoo.info("fc-ae-fraud")
    model = aezoo.build(spec, {**spec.config, "features": list(table.features), "label": None, "hidden": [16, 4],
                               "log_features": [], "ignore": []})
    model.fit(table.x[table.y == 0], epochs=2, batch_size=64)
    frame = pandas.DataFrame(table.x, columns=table.features)
    assert roc_auc(table.y, model.decision_function(frame)) > 0.7
    with pytest.raises(ColumnsError, match="mean radius"):
        model.decision_function(frame.drop(columns=["mean radius"]))


def test_training_on_a_table_with_other_columns_is_a_clear_error(tmp_path):
    with pytest.raises(DataMismatchError, match=r"missing \['V1'"):  # before the first step, naming the columns
        aezoo.train("fc-ae-fraud", data="breast-cancer", epochs=1, output_dir=tmp_path)


def test_train_from_scratch_on_the_time_split_writes_a_card_with_the_baselines(tmp_path):
    """A creditcard-schema table gets the time split; the card carries the model's metrics and the
    baselines fitted on the same rows (PyOD's AutoEncoder left out here: it takes minutes)."""
    frame = synthetic_creditcard_frame(3_000, seed=5, fraud_rate=0.02).sample(frac=1.0, random_state=0)
    options = {**aezoo.info("fc-ae-fraud").recipe.options, "baselines": ["isolation_forest", "pca", "z_score"]}
    model = aezoo.train("fc-ae-fraud", data=frame, epochs=1, output_dir=tmp_path / "scratch", options=options)
    card = {m.name: m for m in model.aezoo.card.metrics}
    assert {"roc_auc", "average_precision", "precision", "recall", "flagged"} <= set(card)
    for name in ("isolation_forest", "pca", "z_score"):
        assert 0.0 <= card[f"baseline_{name}_roc_auc"].value <= 1.0
        assert "same normal training rows" in card[f"baseline_{name}_average_precision"].protocol
    assert 1 <= card["baseline_pca_components"].value <= 29
    assert "time split" in model.aezoo.card.training_data and "last 20 %" in model.aezoo.card.training_data
    assert (tmp_path / "scratch" / "scores.png").is_file()
    assert model.is_fitted and float(model.error_scale.min()) > 0
    # A fresh step (as aezoo evaluate makes) re-measures them from the split alone: the test split
    # carries its training rows as ``reference``.
    import dataclasses

    from aezoo.data.tabular import frame_splits
    from aezoo.training.steps.anomaly import AnomalyStep

    splits = frame_splits(frame, features=FEATURES, label="Class")
    loaded = aezoo.load(tmp_path / "scratch", device="cpu")
    recipe = dataclasses.replace(loaded.aezoo.spec.recipe, options=options)
    again = AnomalyStep(loaded, recipe, torch.device("cpu")).evaluate(torch.utils.data.DataLoader(splits.test))
    for name in ("roc_auc", "average_precision", "baseline_pca_roc_auc", "baseline_z_score_average_precision"):
        assert again[name] == pytest.approx(card[name].value, abs=1e-5), name


def test_baselines_match_scikit_learn_on_a_toy_table():
    """baseline_metrics fits on normal rows and ranks test rows; a clear outlier ranks first for all."""
    from aezoo.training.steps.anomaly import baseline_metrics, pca_baseline

    rng = np.random.default_rng(0)
    train = rng.normal(size=(400, 5))
    test = np.vstack([rng.normal(size=(60, 5)), rng.normal(size=(4, 5)) + 6.0])
    labels = np.array([0] * 60 + [1] * 4)
    found = baseline_metrics(train, test, labels, names=["isolation_forest", "pca", "z_score"])
    assert found["baseline_z_score_roc_auc"] == 1.0 and found["baseline_isolation_forest_roc_auc"] > 0.95
    _, facts = pca_baseline(train, test)
    assert facts["components"] == found["baseline_pca_components"] == 5  # isotropic: 95 % needs all five
    from aezoo.errors import TrainingError

    with pytest.raises(TrainingError, match="Known"):
        baseline_metrics(train, test, labels, names=["knn"])


def test_log_features_and_ignored_columns(fitted, frame):
    """Amount is read as log(1 + Amount); a Time column in a DataFrame is ignored, not an error."""
    assert fitted.config["log_features"] == ["Amount"] and fitted.config["ignore"] == ["Time"]
    rows = frame.iloc[:20]
    with_time = fitted.decision_function(rows)  # carries Time and Class
    assert np.array_equal(with_time, fitted.decision_function(rows[FEATURES].to_numpy()))
    amount = FEATURES.index("Amount")
    assert float(fitted.mean[amount]) < 10  # the mean of log(1 + Amount), not of euros
    back = fitted.reconstruct(rows[FEATURES].to_numpy())
    assert back.shape == (20, 29) and np.isfinite(back).all() and (back[:, amount] > -1).all()


@pytest.fixture
def mirror(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))


def test_finetune_on_a_small_dataframe_with_labels(mirror, frame, tmp_path):
    base = aezoo.load("fc-ae-fraud", device="cpu")
    tuned = aezoo.finetune("fc-ae-fraud", data=frame.iloc[:500], epochs=1, output_dir=tmp_path / "ft")
    assert tuned.aezoo.path == tmp_path / "ft"
    card = tuned.aezoo.card
    assert "fine-tuned from fc-ae-fraud" in card.training_data
    assert "roc_auc" in {m.name for m in card.metrics}  # the Class column was kept as labels
    assert not torch.equal(tuned.mean.cpu(), base.mean)  # refitted on the new rows (tuned on a GPU where one is)
    assert tuned.decision_function(frame.iloc[:10]).shape == (10,)


def test_finetune_on_an_unlabelled_array(mirror, frame, tmp_path):
    rows = frame.query("Class == 0")[list(FEATURES)].to_numpy()[:400]
    tuned = aezoo.finetune("fc-ae-fraud", data=rows, epochs=1, output_dir=tmp_path / "ft")
    names = {m.name for m in tuned.aezoo.card.metrics}
    assert "roc_auc" not in names and {"flagged", "normal_error"} <= names  # no labels: no ranking metrics
    assert tuned.predict(rows).mean() < 0.2


def test_finetune_on_a_csv_with_time_and_no_class_reads_past_time(mirror, frame, tmp_path):
    """Transactions as a bank exports them (Time, V1..V28, Amount; no labels): the model's preprocessing
    ignores Time, so the data path reads the 29 columns the model scores, as decision_function does."""
    path = tmp_path / "transactions.csv"
    frame.drop(columns="Class").iloc[:500].to_csv(path, index=False)
    assert aezoo.load("fc-ae-fraud", device="cpu").aezoo.preprocessing["ignore"] == ["Time"]
    tuned = aezoo.finetune("fc-ae-fraud", data=str(path), epochs=1, output_dir=tmp_path / "ft", device="cpu")
    assert {"flagged", "normal_error"} <= {m.name for m in tuned.aezoo.card.metrics}
    assert tuned.aezoo.preprocessing["ignore"] == ["Time"]  # and the fine-tuned checkpoint keeps it


def test_shipped_weights_are_trained_on_the_real_data_and_beat_the_baselines_on_their_card(mirror, frame):
    model = aezoo.load("fc-ae-fraud", device="cpu")
    assert model.is_fitted
    card = model.aezoo.card
    metrics = {m.name: m for m in card.metrics}
    assert {m.dataset for m in card.metrics} == {"creditcard"}
    assert "ULB credit-card fraud data" in card.training_data and "time split" in card.training_data
    assert "SYNTHETIC" not in card.training_data
    for name in ("pyod_autoencoder", "isolation_forest", "pca", "z_score"):
        for metric in ("roc_auc", "average_precision"):
            assert f"baseline_{name}_{metric}" in metrics, (name, metric)
    # The card states that the model is above every baseline on both ranking metrics.
    for metric in ("roc_auc", "average_precision"):
        best = max(metrics[f"baseline_{name}_{metric}"].value
                   for name in ("pyod_autoencoder", "isolation_forest", "pca", "z_score"))
        assert metrics[metric].value > best, metric
    assert 0 < metrics["flagged"].value < 0.01 and 0 < metrics["recall"].value <= 1
    scores = model.decision_function(frame)  # synthetic rows with Time and Class columns: scored all the same
    assert scores.shape == (len(frame),) and np.isfinite(scores).all()


def test_finetune_on_the_synthetic_data_set_reads_only_the_model_s_columns(mirror, tmp_path):
    """synthetic-creditcard carries Time, which the model ignores: the loader gives the model's 29
    columns by name instead of a table the model cannot read (a DataMismatchError before)."""
    tuned = aezoo.finetune("fc-ae-fraud", data="synthetic-creditcard", epochs=1, output_dir=tmp_path / "ft",
                           device="cpu", options={"baselines": False})
    assert "SYNTHETIC" in tuned.aezoo.card.training_data
    assert "roc_auc" in {m.name for m in tuned.aezoo.card.metrics}
    from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard

    splits = synthetic_creditcard(n_rows=50, features=FEATURES)
    assert splits.train.features == tuple(FEATURES) and splits.train.x.shape == (40, 29)


def test_the_credit_card_data_sets_are_the_plugin_s():
    """Registered through the plugin's aezoo_register_datasets hook, like any third party's; a table
    with the creditcard.csv columns is claimed by name (DatasetSpec.columns) and gets the time split."""
    from aezoo.data import dataset_spec
    from aezoo.data.tabular import frame_splits, schema_dataset

    for name in ("creditcard", "synthetic-creditcard"):
        assert dataset_spec(name).distribution == "aezoo-fc-ae-fraud"
    frame = synthetic_creditcard_frame(200, seed=3, fraud_rate=0.05)
    assert schema_dataset(frame.columns) == "creditcard" and schema_dataset(frame.columns, "Class") == "creditcard"
    assert schema_dataset(frame.columns[:-1]) is None and schema_dataset(frame.columns, "label") is None
    splits = frame_splits(frame, features=FEATURES, label="Class")
    assert "time split" in splits.split and splits.train.features == tuple(FEATURES)


@pytest.mark.parametrize(("order", "message"), [
    (lambda names: names[::-1], r"the same columns in another order \(\['Amount', 'V28'"),
    (lambda names: ["Time", *names[1:]], r"missing columns \['V1'\]; unexpected columns \['Time'\]"),
], ids=["reordered", "renamed"])
def test_the_anomaly_step_checks_the_training_columns_by_name_and_order(order, message):
    """The step reads rows by position, so it asks the one column check for the model's columns in
    the model's order."""
    from aezoo.data.tabular import TableDataset
    from aezoo.training.steps.anomaly import AnomalyStep

    model = aezoo.build(aezoo.info("fc-ae-fraud"))
    step = AnomalyStep(model, aezoo.info("fc-ae-fraud").recipe, torch.device("cpu"))
    rows = TableDataset(torch.zeros(4, 29), torch.zeros(4, dtype=torch.long), order(list(FEATURES)), "Class", True)
    with pytest.raises(ColumnsError, match=message) as error:
        step.prepare(rows)
    assert error.value.what.startswith("The training data does not have the columns the model expects")
    assert "aezoo.build(spec, config=" in error.value.hint
