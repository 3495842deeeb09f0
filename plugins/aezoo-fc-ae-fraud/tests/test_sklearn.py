"""FraudDetector, the scikit-learn face of fc-ae-fraud: scikit-learn's own estimator checks, clone,
Pipeline and GridSearchCV, PyOD's names and formulas (checked against PyOD's code where it is
installed), and the shipped weights behind from_pretrained scoring as aezoo.load's network does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from aezoo_fc_ae_fraud import FraudDetector
from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame
from aezoo_fc_ae_fraud.plugin import FEATURES

import aezoo
from aezoo.errors import AezooError

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone, is_outlier_detector  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
SMALL = {"hidden": (8, 3), "epochs": 3, "batch_size": 64}  # a tiny network: a fit takes a fraction of a second


@pytest.fixture(scope="module")
def blobs():
    """400 normal rows around a 2-D plane in 6-D, and 20 rows pushed off it (label 1)."""
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(420, 2)) @ rng.normal(size=(2, 6)) + 0.05 * rng.normal(size=(420, 6))
    plane[400:] += rng.choice([-1.5, 1.5], size=(20, 6))
    return plane, np.r_[np.zeros(400, dtype=int), np.ones(20, dtype=int)]


@pytest.fixture(scope="module")
def fitted(blobs):
    return FraudDetector(contamination=0.05, **SMALL).fit(blobs[0])


def test_passes_scikit_learns_estimator_checks():
    """Every check check_estimator runs on an outlier detector passes (none is expected to fail). Not
    among them, and deliberately not met: check_dataframe_column_names_consistency wants a DataFrame
    with the fitted columns in another order refused; FraudDetector matches columns by name, as
    the network does (test_dataframes_are_matched_by_name)."""
    results = check_estimator(FraudDetector(epochs=2, hidden=(8, 4)), on_fail=None)
    failed = {r["check_name"]: repr(r["exception"]) for r in results if r["status"] == "failed"}
    assert not failed
    names = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_outliers_train", "check_outliers_fit_predict", "check_fit_idempotent", "check_estimators_unfitted",
            "check_n_features_in_after_fitting", "check_dict_unchanged", "check_estimators_nan_inf"} <= names
    assert is_outlier_detector(FraudDetector())


def test_clone_and_params():
    detector = FraudDetector(hidden=(16, 4), contamination=0.01, label="Class")
    copy = clone(detector)
    assert copy is not detector and copy.get_params() == detector.get_params()
    assert copy.set_params(epochs=3).epochs == 3 and detector.epochs == aezoo.info("fc-ae-fraud").recipe.epochs
    assert FraudDetector().get_params()["hidden"] == tuple(aezoo.info("fc-ae-fraud").config["hidden"])


def test_scikit_learn_and_pyod_conventions(fitted, blobs):
    x, y = blobs
    predicted = fitted.predict(x)
    anomaly = -fitted.score_samples(x)
    assert set(np.unique(predicted)) == {-1, 1}
    assert np.array_equal(predicted == -1, anomaly > fitted.threshold_)
    assert np.array_equal(fitted.decision_function(x), fitted.score_samples(x) - fitted.offset_)
    assert fitted.offset_ == -fitted.threshold_
    # PyOD's names: training scores, 0/1 labels, the share of training rows flagged = contamination
    assert np.array_equal(fitted.decision_scores_, anomaly)
    assert np.array_equal(fitted.labels_, (predicted == -1).astype(int))
    assert fitted.labels_.mean() == pytest.approx(0.05, abs=1 / len(x))
    assert np.array_equal(fitted.decision_scores_, fitted.network_.decision_function(x))  # the network's path
    assert roc_auc_score(y, anomaly) > 0.9
    proba = fitted.predict_proba(x)
    assert proba.shape == (len(x), 2) and np.allclose(proba.sum(1), 1) and (proba >= 0).all() and (proba <= 1).all()
    assert roc_auc_score(y, proba[:, 1]) == roc_auc_score(y, anomaly)  # a monotone map of the scores
    with pytest.raises(AezooError, match="Unknown method"):
        fitted.predict_proba(x, method="sigmoid")


def test_probability_and_confidence_follow_pyods_code(fitted, blobs):
    """PyOD's BaseDetector methods run on the same scores give the same numbers."""
    base = pytest.importorskip("pyod.models.base")

    class Scores(base.BaseDetector):  # PyOD's own fit bookkeeping and methods over our scores
        def __init__(self, contamination):
            super().__init__(contamination=contamination)

        def fit(self, X, y=None):
            self._set_n_classes(y)
            self.decision_scores_ = self.decision_function(X)
            self._process_decision_scores()  # PyOD's threshold_, labels_ and the statistics of "unify"
            return self

        def decision_function(self, X):
            return -fitted.score_samples(X)

    pyod = Scores(contamination=fitted.contamination).fit(blobs[0])
    assert pyod.threshold_ == pytest.approx(fitted.threshold_, rel=1e-12)
    assert np.array_equal(pyod.labels_, fitted.labels_)
    x = blobs[0][::7]
    for method in ("linear", "unify"):
        np.testing.assert_allclose(fitted.predict_proba(x, method=method), pyod.predict_proba(x, method=method),
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fitted.predict_confidence(x), pyod.predict_confidence(x), rtol=1e-12, atol=1e-12)


def test_pipeline_and_grid_search(blobs):
    x, y = blobs
    scale = FunctionTransformer(lambda rows: rows * 10.0)  # a stage before the detector changes what it sees
    pipeline = make_pipeline(scale, FraudDetector(contamination=0.05, **SMALL)).fit(x)
    assert pipeline.predict(x).shape == (len(x),) and set(np.unique(pipeline.predict(x))) == {-1, 1}

    def ranking(estimator, rows, labels):  # higher = better: ROC AUC of the anomaly scores
        return roc_auc_score(labels, -estimator.score_samples(rows))

    grid = {"frauddetector__hidden": [(8, 3), (4, 1)], "frauddetector__lr": [1e-2]}
    search = GridSearchCV(make_pipeline(scale, FraudDetector(contamination=0.05, epochs=2, batch_size=64)), grid,
                          scoring=ranking, cv=StratifiedKFold(2, shuffle=True, random_state=0),
                          error_score="raise").fit(x, y)
    assert len(search.cv_results_["params"]) == 2 and 0.5 < search.best_score_ <= 1.0
    assert search.best_estimator_[-1].network_.config["hidden"] == list(search.best_params_["frauddetector__hidden"])


def test_dataframes_are_matched_by_name(blobs):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(blobs[0], columns=[f"f{i}" for i in range(6)]).assign(kind=blobs[1], when=1.0)
    detector = FraudDetector(label="kind", ignore=("when",), **SMALL).fit(frame)
    assert list(detector.feature_names_in_) == [f"f{i}" for i in range(6)] and detector.n_features_in_ == 6
    shuffled = frame[["when", "kind", *reversed(frame.columns[:6])]]
    assert np.array_equal(detector.score_samples(shuffled), detector.score_samples(frame))
    from aezoo.data.tabular import ColumnsError

    with pytest.raises(ColumnsError, match=r"missing columns \['f3'\]"):
        detector.predict(frame.drop(columns=["f3"]))


def test_named_errors(fitted, blobs):
    with pytest.raises(NotFittedError) as error:
        FraudDetector().predict(blobs[0])
    assert isinstance(error.value, AezooError) and "from_pretrained" in str(error.value)
    with pytest.raises(AezooError, match="expecting 6 features"):
        fitted.predict(blobs[0][:, :5])
    with pytest.raises(AezooError, match="NaN"):
        fitted.predict(np.full((2, 6), np.nan))
    with pytest.raises(ValueError, match=r"contamination must be in \(0, 0.5\]"):
        FraudDetector(contamination=0.9, **SMALL).fit(blobs[0])
    with pytest.raises(AezooError, match="features=5"):
        FraudDetector(features=5, **SMALL).fit(blobs[0])


@pytest.fixture
def mirror(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))


def test_from_pretrained_wraps_the_shipped_network(mirror):
    frame = synthetic_creditcard_frame(300, seed=2, fraud_rate=0.02)
    network = aezoo.load("fc-ae-fraud", device="cpu")
    detector = FraudDetector.from_pretrained("fc-ae-fraud", device="cpu")
    assert detector.threshold_ == network.threshold_ and detector.contamination == network.contamination
    assert list(detector.feature_names_in_) == list(FEATURES) and detector.label == "Class"
    assert np.array_equal(-detector.score_samples(frame), network.decision_function(frame))
    assert np.array_equal(detector.predict(frame) == -1, network.predict(frame) == 1)
    assert clone(detector).get_params() == detector.get_params()
    # fit starts from the checkpoint (fine-tuning): one epoch moves the statistics to the new rows
    tuned = clone(detector).set_params(epochs=1).fit(frame)
    assert tuned.network_ is not detector.network_ and hasattr(tuned, "decision_scores_")
    assert not np.array_equal(tuned.network_.mean.numpy(), network.mean.numpy())
    from aezoo_fc_ae_fraud.detector import PretrainedMismatchError

    with pytest.raises(PretrainedMismatchError, match="hidden"):
        clone(detector).set_params(hidden=(8, 2)).fit(frame)
