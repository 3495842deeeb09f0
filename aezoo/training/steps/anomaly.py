"""Undercomplete autoencoders as anomaly detectors: learn normal rows, score by reconstruction error.

The recipe of PyOD's AutoEncoder, on aezoo's engine: inputs z-scored with statistics of the normal
training rows (``prepare``), trained on normal rows only (rows labelled 1 are skipped), score =
reconstruction error, and after every epoch ``threshold_`` = the (1 - contamination) percentile of
the normal training rows' scores (``calibrate``). Evaluation on the held-out split reports ROC AUC,
average precision, and precision / recall at that threshold when it holds both classes; without
labels (every row normal) it reports the held-out error and the share of rows flagged. With
``options["baselines"]`` it also fits simple detectors (PyOD's AutoEncoder, IsolationForest, PCA
reconstruction error, a z-score distance) on the same normal training rows and reports their ROC AUC
and average precision on the same held-out rows, so the card and ``aezoo evaluate`` carry them.

The model must provide (``aezoo_fc_ae_fraud.model.TabularAE`` does): ``forward(x) -> scores (N,)``
(differentiable), ``fit_scaler(normal_rows)``, ``set_threshold(training_scores)``, ``threshold_``,
and optionally ``feature_names`` (checked against a table's column names), ``residuals(x)`` (for
``options["loss"]`` "l1" / "mse") and ``fit_error_scale(normal_rows)`` (called before the threshold).
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np
import torch

from ...errors import TrainingError
from ...metrics import average_precision, precision_recall_at, roc_auc
from ...modeling import inference
from ..distributed import rank_and_world
from .base import TrainingStep, evaluating, own_randomness
from .contracts import AnomalyModel

if TYPE_CHECKING:
    from collections.abc import Callable

    from torch.utils.data import DataLoader

    from .contracts import AnomalyModule


def table_of(data: Any, batch_size: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """All rows and labels of a table dataset (a TableDataset, TensorDataset, Subset, ...)."""
    if hasattr(data, "x") and hasattr(data, "y"):
        return data.x, data.y
    if hasattr(data, "tensors") and len(data.tensors) == 2:
        return data.tensors[0], data.tensors[1]
    from torch.utils.data import DataLoader

    rows, labels = [], []
    for batch in DataLoader(data, batch_size=batch_size):
        x, y = (batch[0], batch[1]) if isinstance(batch, list | tuple) else (batch, torch.zeros(len(batch)))
        rows.append(x)
        labels.append(y)
    return torch.cat(rows), torch.cat(labels).long()


class AnomalyStep(TrainingStep):
    """Undercomplete AE: MSE reconstruction of z-scored normal rows; threshold from training scores."""

    contract = AnomalyModel
    model: AnomalyModule

    metric_protocols: ClassVar[dict[str, tuple[str, str]]] = {
        "roc_auc": (("ROC AUC of the model's anomaly scores (decision_function: its reconstruction error, as "
                    "its config's score says) on the held-out rows, label 1 = anomaly"), ""),
        "average_precision": (("average precision of the same scores (area under the precision-recall curve, "
                              "step-wise as scikit-learn); depends on the anomaly share of the split"), ""),
        "precision": (("precision of flagging score > threshold_ (the stored threshold: the (1 - contamination) "
                      "percentile of the normal training rows' scores) on the held-out rows"), ""),
        "recall": ("recall of anomalies at the same stored threshold on the held-out rows", ""),
        "flagged": ("alert rate: share of held-out rows flagged (score > threshold_)", ""),
        "normal_error": ("mean anomaly score of the held-out normal rows", ""),
    }  # and the baselines' metrics (options["baselines"]), added below the baseline functions

    _baseline_cache: tuple[Any, dict[str, float]] | None = None

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        weight_decay = float(self.options.get("weight_decay", 0.0))
        return {"model": torch.optim.Adam(self.model.parameters(), lr=self.recipe.lr, weight_decay=weight_decay)}

    def _check_features(self, data: Any) -> None:
        model = self.model
        expected, given = getattr(model, "feature_names", None), getattr(data, "features", None)
        count = getattr(model, "n_features", None)
        if expected is not None and given is not None:
            from ...data.columns import check_columns

            check_columns(given, expected, source="The training data", in_order=True, hint=(
                "Train on a table with the model's columns, or build the model with a config for this table "
                "(aezoo.build(spec, config={..., 'features': [...]}) and model.fit(X))."))
        x, _ = table_of(data)
        if count is not None and x.shape[-1] != count:
            raise TrainingError(
                f"The training data has {x.shape[-1]} features per row; the model reads {count}.",
                "Build the model with a config for this table: config 'features' = its column names or count.",
            )

    def prepare(self, train_data: Any) -> None:
        """Check the columns, then fit the z-score statistics on the normal training rows."""
        self._check_features(train_data)
        x, y = table_of(train_data)
        normal = x[y == 0] if self.options.get("train_on", "normal") == "normal" else x
        if len(normal) < 2:
            raise TrainingError(f"Only {len(normal)} normal training rows.", "Anomaly detectors need normal rows.")
        self.model.fit_scaler(normal.to(self.device))

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        x, y = batch
        if self.options.get("train_on", "normal") == "normal":
            x = x[y == 0]
        model = self.model
        skip = len(x) == 0 or (len(x) < 2 and any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                                                  for m in model.modules()))  # batch norm needs two rows
        if skip and rank_and_world()[1] == 1:
            return {"loss": torch.zeros(())}
        with own_randomness(self.device):  # dropout masks: independent on each rank
            loss = None if skip else self._loss(model, x.to(self.device))
        self.optimize(loss)  # under torchrun every rank takes part in the gradient average, rows or none
        return {"loss": torch.zeros(()) if loss is None else loss.detach()}

    def _loss(self, model: AnomalyModule, x: torch.Tensor) -> torch.Tensor:
        """``options["loss"]``: "score" (default: the mean anomaly score), or "l1" / "mse" on the
        model's ``residuals`` (an L1 loss lets the network ignore rare large deviations of normal rows)."""
        kind = self.options.get("loss", "score")
        if kind == "score":
            return model(x).mean()
        # an optional member, not in AnomalyModel: a model whose recipe asks for these losses has it
        residuals = cast("Callable[[torch.Tensor], torch.Tensor]", model.residuals)(x)
        if kind == "l1":
            return residuals.abs().mean()
        if kind == "mse":
            return residuals.pow(2).mean()
        raise TrainingError(f"Unknown loss {kind!r} in the recipe options.", "Use 'score', 'l1' or 'mse'.")

    def _scores(self, rows: torch.Tensor, batch_size: int = 8192) -> torch.Tensor:
        with inference(self.model):
            parts = [self.model(rows[i:i + batch_size].to(self.device)).cpu() for i in range(0, len(rows), batch_size)]
        return torch.cat(parts) if parts else torch.zeros(0)

    @torch.no_grad()
    def calibrate(self, train_data: Any) -> None:
        """threshold_ = the (1 - contamination) percentile of the normal training rows' scores."""
        x, y = table_of(train_data)
        normal = x[y == 0] if self.options.get("train_on", "normal") == "normal" else x
        model = self.model
        fit_error_scale = getattr(model, "fit_error_scale", None)  # optional
        if callable(fit_error_scale):
            fit_error_scale(normal.to(self.device))  # scaled scores: residual scales before the threshold
        model.set_threshold(self._scores(normal).double().numpy())

    @evaluating
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        x, y = table_of(loader.dataset)
        scores = self._scores(x).double()
        threshold = self.model.threshold_
        metrics: dict[str, float] = {}
        if 0 < int(y.sum()) < len(y):
            metrics["roc_auc"] = roc_auc(y, scores)
            metrics["average_precision"] = average_precision(y, scores)
            metrics["precision"], metrics["recall"] = precision_recall_at(y, scores, threshold)
        metrics["flagged"] = float((scores > threshold).double().mean())
        if bool((y == 0).any()):
            metrics["normal_error"] = float(scores[y == 0].mean())
        metrics.update(self._baselines(loader.dataset, x, y))
        return metrics

    def _baselines(self, test_data: Any, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """With ``options["baselines"]`` (names from ``BASELINES``, or True for all), the baselines fitted
        on the normal rows of the test split's ``reference``: the training split that a protocol such as
        ``creditcard``'s attaches, so ``aezoo evaluate`` re-measures them from the data alone. Data
        without a reference (an array, ``model.fit``) gets none. Computed once per step and data: they
        do not change between epochs."""
        wanted = self.options.get("baselines")
        train = getattr(test_data, "reference", None)
        if not wanted or train is None or not 0 < int(y.sum()) < len(y):
            return {}
        names = BASELINES if wanted is True else tuple(wanted)
        if wanted is True and importlib.util.find_spec("pyod") is None:
            warnings.warn("The PyOD AutoEncoder baseline is skipped: pyod is not installed "
                          "(pip install -c constraints.txt pyod to measure it too).", stacklevel=2)
            names = tuple(n for n in names if n != "pyod_autoencoder")
        key = (id(train), id(test_data), names)
        if self._baseline_cache is None or self._baseline_cache[0] != key:
            rows, labels = table_of(train)
            normal = rows[labels == 0] if self.options.get("train_on", "normal") == "normal" else rows
            with torch.enable_grad():  # evaluate runs under no_grad; PyOD's AutoEncoder trains here
                found = baseline_metrics(normal.numpy(), x.numpy(), y.numpy(), names=names, seed=self.recipe.seed)
            self._baseline_cache = (key, found)
        return dict(self._baseline_cache[1])

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        """The held-out scores drawn by ``aezoo.plots.plot_scores``: a histogram of normal and
        anomalous rows, and ROC and precision-recall curves when both are present, the threshold marked."""
        if not self.options.get("artifacts", True):
            return []
        from ...plots import plot_scores

        x, y = table_of(test_data)
        if not len(x):
            return []
        scores = self._scores(x).double().numpy()
        plot_scores(scores, y.numpy(), float(self.model.threshold_), folder / "scores.png")
        return ["scores.png"]


# ---- baselines ------------------------------------------------------------------------------------------------
# Simple detectors fitted on the same normal training rows and scored on the same held-out rows as the
# model, so a card can say what a reader would get from another tool. Each takes raw rows (numpy,
# the model's columns) and returns (test scores, a one-line description of what was fitted).

BASELINES = ("pyod_autoencoder", "isolation_forest", "pca", "z_score")


def _zscored(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(0), train.std(0)
    std = np.where(std < 1e-6, 1.0, std)
    return (train - mean) / std, (test - mean) / std


def z_score_baseline(train: np.ndarray, test: np.ndarray, seed: int = 0) -> tuple[np.ndarray, dict[str, float]]:
    """Mean squared z-score of each row with the training rows' mean and deviation: no learning at all."""
    _, z = _zscored(train, test)
    return (z**2).mean(1), {}


def pca_baseline(train: np.ndarray, test: np.ndarray, seed: int = 0,
                 variance: float = 0.95) -> tuple[np.ndarray, dict[str, float]]:
    """Reconstruction error of PCA on z-scored rows, keeping the fewest components that explain
    ``variance`` of the training rows' variance: the linear autoencoder. Reports the component count."""
    from sklearn.decomposition import PCA

    a, b = _zscored(train, test)
    pca = PCA(n_components=variance, svd_solver="full", random_state=seed).fit(a)
    error = ((pca.inverse_transform(pca.transform(b)) - b) ** 2).mean(1)
    return error, {"components": float(pca.n_components_)}


def isolation_forest_baseline(train: np.ndarray, test: np.ndarray,
                              seed: int = 0) -> tuple[np.ndarray, dict[str, float]]:
    """scikit-learn's IsolationForest with its defaults (100 trees, 256 rows per tree)."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(random_state=seed, n_jobs=1).fit(train)
    return -forest.score_samples(test), {}


def pyod_autoencoder_baseline(train: np.ndarray, test: np.ndarray,
                              seed: int = 0) -> tuple[np.ndarray, dict[str, float]]:
    """PyOD's AutoEncoder with its defaults (hidden [64, 32], batch norm, dropout 0.2, 10 epochs of
    batch 32, lr 1e-3, its own z-scoring). Needs the pyod package."""
    try:
        from pyod.models.auto_encoder import AutoEncoder
    except ImportError as exc:
        raise TrainingError("The PyOD AutoEncoder baseline needs the pyod package, which is not installed.",
                            "pip install -c constraints.txt pyod, or leave 'pyod_autoencoder' out of "
                            "options['baselines'].") from exc
    threads = torch.get_num_threads()
    try:
        detector = AutoEncoder(random_state=seed, verbose=0, device="cpu").fit(train)
        return detector.decision_function(test), {}
    finally:
        torch.set_num_threads(threads)


BASELINE_FUNCTIONS = {"pyod_autoencoder": pyod_autoencoder_baseline, "isolation_forest": isolation_forest_baseline,
                      "pca": pca_baseline, "z_score": z_score_baseline}
_SAME = "fitted on the same normal training rows (the model's columns, raw) and scored on the same held-out rows"
BASELINE_PROTOCOLS: dict[str, str] = {
    "pyod_autoencoder": "PyOD's AutoEncoder (pyod 3.6.7 here) with its defaults (hidden [64, 32], batch norm, "
                        "dropout 0.2, 10 "
                        "epochs of batch 32, lr 1e-3, its own z-scoring), random_state 0",
    "isolation_forest": "scikit-learn IsolationForest with its defaults (100 trees), random_state 0",
    "pca": "PCA reconstruction error (mean squared, on rows z-scored with training statistics), the fewest "
           "components explaining 95 % of the training variance (baseline_pca_components)",
    "z_score": "mean squared z-score of the row (mean and deviation of the normal training rows): no learning",
}


def baseline_metrics(train: Any, test: Any, labels: Any, *, names: Any = BASELINES, seed: int = 0) -> dict[str, float]:
    """``baseline_NAME_roc_auc`` and ``baseline_NAME_average_precision`` for each baseline fitted on
    ``train`` (normal rows) and scored on ``test`` with ``labels`` (1 = anomaly), plus what a baseline
    reports about itself (``baseline_pca_components``)."""
    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    labels = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    out: dict[str, float] = {}
    for name in names:
        if name not in BASELINE_FUNCTIONS:
            raise TrainingError(f"Unknown baseline {name!r}.", f"Known: {', '.join(BASELINES)}.")
        found, facts = BASELINE_FUNCTIONS[name](train, test, seed)
        scores = torch.as_tensor(np.asarray(found, dtype=np.float64))
        out[f"baseline_{name}_roc_auc"] = roc_auc(labels, scores)
        out[f"baseline_{name}_average_precision"] = average_precision(labels, scores)
        out.update({f"baseline_{name}_{key}": value for key, value in facts.items()})
    return out


def _baseline_protocols() -> dict[str, tuple[str, str]]:
    protocols: dict[str, tuple[str, str]] = {}
    for name, what in BASELINE_PROTOCOLS.items():
        protocols[f"baseline_{name}_roc_auc"] = (f"baseline: {what}; {_SAME}; ROC AUC", "")
        protocols[f"baseline_{name}_average_precision"] = (f"baseline: {what}; {_SAME}; average precision", "")
    protocols["baseline_pca_components"] = ("the PCA baseline's component count, chosen on the training rows", "")
    return protocols


AnomalyStep.metric_protocols.update(_baseline_protocols())

