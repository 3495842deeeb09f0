"""fc-ae-fraud as a scikit-learn outlier detector, with PyOD's names for what it fitted.

    from aezoo_fc_ae_fraud import FraudDetector
    detector = FraudDetector.from_pretrained("fc-ae-fraud")   # the shipped weights, already fitted
    detector.predict(frame)                                    # +1 inlier, -1 outlier (scikit-learn)
    FraudDetector(hidden=(32, 8), epochs=20).fit(X)            # a new network on your table

The torch network is ``aezoo_fc_ae_fraud.model.TabularAE`` (what ``aezoo.load("fc-ae-fraud")``
returns); this class wraps one as PyOD's AutoEncoder wraps its AutoEncoderModel, so that clone,
Pipeline and GridSearchCV work. Conventions, chosen so ``check_estimator`` holds:

- ``predict``: scikit-learn's +1 (inlier) / -1 (outlier); ``fit_predict`` the same.
- ``score_samples``: the opposite of the anomaly score (higher = more normal), as IsolationForest;
  ``decision_function`` = ``score_samples - offset_`` with ``offset_ = -threshold_``, so it is
  negative exactly for the rows flagged as outliers.
- PyOD's names keep PyOD's meaning, on the anomaly score (higher = more anomalous):
  ``decision_scores_`` (the training rows' scores), ``threshold_``, ``labels_`` (0 inlier / 1 outlier),
  ``predict_proba`` (PyOD's "linear" method by default, "unify" on request) and
  ``predict_confidence`` (PyOD's ExCeed confidence).
- ``fit(X, y=None)`` ignores ``y``, as scikit-learn and PyOD do: every row given is a training row,
  and ``contamination`` is the share of them ``threshold_`` flags. Leave known anomalies out yourself
  (``fit(X[y == 0])``) to train on normal rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import validate_data

from aezoo.errors import AezooError

from .model import InputShapeError, NotFittedError
from .plugin import CONFIG, RECIPE

if TYPE_CHECKING:
    from .model import TabularAE

# The constructor parameters that make up the network's config, by config key (the rest are training
# settings). The config's "score" is the parameter score_kind: an estimator's ``score`` is a method.
ARCHITECTURE = {"hidden": "hidden", "activation": "activation", "dropout": "dropout", "batch_norm": "batch_norm",
                "min_scale": "min_scale", "label": "label", "log_features": "log_features", "score": "score_kind",
                "ignore": "ignore"}


class DetectorNotFittedError(NotFittedError, SklearnNotFittedError):
    """The detector was not fitted: scikit-learn's NotFittedError and aezoo's named error at once."""


class PretrainedMismatchError(AezooError, ValueError):
    """The detector's parameters describe another network than the checkpoint it starts from."""


class FraudDetector(OutlierMixin, BaseEstimator):
    """A fully-connected undercomplete autoencoder as a scikit-learn outlier detector.

    Network parameters (the config of ``TabularAE``; defaults are fc-ae-fraud's): ``features``
    (column names or count; None takes them from the data at ``fit``), ``hidden``, ``activation``,
    ``dropout``, ``batch_norm``, ``contamination`` (share of training rows flagged, in (0, 0.5]),
    ``min_scale``, ``label`` (a DataFrame column that is not a feature: dropped), ``log_features``
    (read as log(1 + x)), ``score_kind`` (the config's ``score``: "mse", "scaled_mae", "scaled_mse"),
    ``ignore`` (DataFrame
    columns dropped). Training settings (fc-ae-fraud's recipe): ``epochs``, ``batch_size``, ``lr``,
    ``weight_decay``, ``random_state`` (the seed of the weights and the data order: a fit is
    repeatable), ``device`` ("auto": a GPU when there is one), ``verbose``. ``pretrained`` names a
    checkpoint (``aezoo.load``'s name, org/name or folder) that ``fit`` starts from instead of fresh
    weights: fine-tuning, also inside GridSearchCV.
    """

    def __init__(
        self,
        *,
        features: Sequence[str] | int | None = None,
        hidden: Sequence[int] = tuple(CONFIG["hidden"]),
        activation: str = CONFIG["activation"],
        dropout: float = CONFIG["dropout"],
        batch_norm: bool = CONFIG["batch_norm"],
        contamination: float = CONFIG["contamination"],
        min_scale: float = CONFIG["min_scale"],
        label: str | None = None,
        log_features: Sequence[str] = (),
        score_kind: str = CONFIG["score"],
        ignore: Sequence[str] = (),
        epochs: int = RECIPE.epochs,
        batch_size: int = RECIPE.batch_size,
        lr: float = RECIPE.lr,
        weight_decay: float = RECIPE.options["weight_decay"],
        random_state: int = RECIPE.seed,
        device: str = "auto",
        pretrained: str | None = None,
        verbose: bool = False,
    ) -> None:
        self.features = features
        self.hidden = hidden
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.contamination = contamination
        self.min_scale = min_scale
        self.label = label
        self.log_features = log_features
        self.score_kind = score_kind
        self.ignore = ignore
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.device = device
        self.pretrained = pretrained
        self.verbose = verbose

    @classmethod
    def from_pretrained(cls, name: str = "fc-ae-fraud", *, device: str = "auto", **load: Any) -> FraudDetector:
        """A fitted detector around a trained checkpoint (``aezoo.load(name, **load)``: revision,
        cache_dir, local_files_only, token), its parameters read from the checkpoint's config. Its
        ``decision_scores_`` and ``labels_`` are those of ``fit`` and are absent until one: the
        checkpoint does not carry its training rows."""
        import aezoo

        network = aezoo.load(name, device=device, **load)
        config = network.config
        params = {param: _param(config[key]) for key, param in ARCHITECTURE.items()}
        detector = cls(**params, features=_param(config["features"]), contamination=config["contamination"],
                       device=device, pretrained=str(name))
        detector._adopt(network)
        if network.feature_names is not None:
            detector.feature_names_in_ = np.asarray(network.feature_names, dtype=object)
        return detector

    # ---- fit ---------------------------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> FraudDetector:
        """Train the network on every row of ``X`` (``y`` is ignored), then set ``threshold_`` so that
        ``contamination`` of them score above it."""
        import torch

        from .training import fit_network

        frame, names = self._features_frame(X, None if isinstance(self.features, int) else self.features)
        rows = self._validated(frame, reset=True)
        if isinstance(self.features, int) and rows.shape[1] != self.features:
            raise InputShapeError(f"X has {rows.shape[1]} features, but features={self.features}.",
                                  "Pass one column per feature, or features=None to take them from X.")
        network = self._start_network(names if names is not None else rows.shape[1])
        result = fit_network(network, torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32)),
                             epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=self.random_state,
                             options={"weight_decay": self.weight_decay}, verbose=self.verbose)
        self._adopt(network)
        self.fit_result_ = result
        self.decision_scores_ = network.decision_function(rows)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        return self

    def _start_network(self, features: list[str] | int) -> TabularAE:
        """Fresh weights seeded with ``random_state`` (the global torch RNG is left as it was), or the
        ``pretrained`` checkpoint's, which must have the architecture the parameters describe."""
        import torch

        import aezoo
        from aezoo.api import pick_device

        from .model import TabularAE

        config = {"features": features, **{key: _param(getattr(self, param)) for key, param in ARCHITECTURE.items()},
                  "contamination": self.contamination}
        device = pick_device(self.device)
        if self.pretrained is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.random_state)
                return TabularAE(**config).to(device)
        network = aezoo.load(self.pretrained, device=str(device))
        wanted = TabularAE(**config).config
        differing = [key for key in wanted if key != "contamination" and wanted[key] != network.config[key]]
        if differing:
            raise PretrainedMismatchError(
                f"The parameters {differing} differ from the config of the checkpoint {self.pretrained!r}.",
                "Keep the checkpoint's architecture to fine-tune it (FraudDetector.from_pretrained sets it), "
                "or pass pretrained=None to train a new network.",
            )
        network.contamination = self.contamination
        return network

    def _adopt(self, network: TabularAE) -> None:
        self.network_ = network
        self.threshold_ = network.threshold_
        self.offset_ = -self.threshold_
        self.n_features_in_ = network.n_features

    # ---- scores ------------------------------------------------------------------------------------------------

    def score_samples(self, X: Any) -> np.ndarray:
        """The opposite of each row's anomaly score (float64): the lower, the more abnormal."""
        return -self._anomaly_scores(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, zero or positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for inliers, -1 for outliers (anomaly score above ``threshold_``), scikit-learn's convention."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def predict_proba(self, X: Any, method: str = "linear") -> np.ndarray:
        """PyOD's outlier probability, (n_samples, 2) with column 1 the outlier's: "linear" scales the
        anomaly scores by the min and max of ``decision_scores_`` (clipped to [0, 1]); "unify" is
        erf((score - mean) / (std * sqrt 2)) over the same training scores, clipped (Kriegel et al. 2011)."""
        scores = self._anomaly_scores(X)
        train = self.decision_scores_
        if method == "linear":
            span = float(train.max() - train.min())
            outlier = (scores - train.min()) / (span if span > 0 else 1.0)
        elif method == "unify":
            from scipy.special import erf

            outlier = erf((scores - train.mean()) / (train.std() * np.sqrt(2)))
        else:
            raise InputShapeError(f"Unknown method {method!r} for predict_proba.", "Use 'linear' or 'unify'.")
        outlier = outlier.clip(0, 1)
        return np.column_stack([1 - outlier, outlier])

    def predict_confidence(self, X: Any) -> np.ndarray:
        """PyOD's confidence in each prediction, in [0, 1] (ExCeed, Perini et al. 2020): from the share
        of training scores at or below the row's score, the probability that the row's label would be
        the same with another training sample."""
        from scipy.stats import binom

        scores = self._anomaly_scores(X)
        train = np.sort(self.decision_scores_)
        n = len(train)
        at_or_below = np.searchsorted(train, scores, side="right")
        posterior = (1 + at_or_below) / (2 + n)
        confidence = 1 - binom.cdf(n - int(n * self.contamination), n, posterior)
        inlier = scores <= self.threshold_
        confidence[inlier] = 1 - confidence[inlier]
        return confidence

    def _anomaly_scores(self, X: Any) -> np.ndarray:
        """The network's anomaly scores (PyOD's decision_function: higher = more anomalous)."""
        if not hasattr(self, "network_"):
            raise DetectorNotFittedError(
                f"This {type(self).__name__} is not fitted yet.",
                "Call fit(X) first, or start from trained weights: FraudDetector.from_pretrained('fc-ae-fraud').",
            )
        frame, _ = self._features_frame(X, self.network_.feature_names)
        return self.network_.decision_function(self._validated(frame, reset=False))

    # ---- inputs ------------------------------------------------------------------------------------------------

    def _features_frame(self, X: Any, names: Sequence[str] | None) -> tuple[Any, list[str] | None]:
        """A DataFrame reduced to its feature columns (without ``label`` and ``ignore``), in the order of
        ``names`` when given (matched by name: ``ColumnsError`` names missing and unexpected ones), and
        the feature names. Anything else, and a DataFrame whose column names are not all strings (which
        scikit-learn does not take as feature names), is read by position."""
        if not (hasattr(X, "columns") and hasattr(X, "to_numpy")):
            return X, None if names is None else list(names)
        from aezoo.data.columns import check_columns

        dropped = {*self.ignore, *([self.label] if self.label is not None else [])}
        present = [c for c in X.columns if c not in dropped]
        if not all(isinstance(c, str) for c in present):
            return X[present], None if names is None else list(names)
        columns = present if names is None else check_columns(present, names, source="The DataFrame")
        return X[columns], columns

    def _validated(self, X: Any, *, reset: bool) -> np.ndarray:
        """scikit-learn's checks (2-D, numeric, finite, at least 2 rows, the fitted feature count and
        names): its messages, raised as ``InputShapeError``."""
        try:
            return validate_data(self, X, reset=reset, dtype=(np.float64, np.float32),
                                 ensure_min_samples=2 if reset else 1)
        except ValueError as exc:
            if isinstance(exc, AezooError):
                raise
            raise InputShapeError(str(exc), "Pass a 2-D numeric array or DataFrame with the fitted features.") from exc

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


def _param(value: Any) -> Any:
    """A config value as a constructor parameter: lists become tuples (scikit-learn's defaults must be
    immutable), anything else is kept."""
    return tuple(value) if isinstance(value, list) else value
