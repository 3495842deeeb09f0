"""Undercomplete autoencoders as anomaly detectors: learn normal rows, score by reconstruction error.

The recipe of PyOD's AutoEncoder, on aezoo's engine: inputs z-scored with statistics of the normal
training rows (``prepare``), trained on normal rows only (rows labelled 1 are skipped), score =
reconstruction error, and after every epoch ``threshold_`` = the (1 - contamination) percentile of
the normal training rows' scores (``calibrate``). Evaluation on the held-out split reports ROC AUC,
average precision, and precision / recall at that threshold when it holds both classes; without
labels (every row normal) it reports the held-out error and the share of rows flagged.

The model must provide (``aezoo_fc_ae_fraud.model.TabularAE`` does): ``forward(x) -> scores (N,)``
(differentiable), ``fit_scaler(normal_rows)``, ``set_threshold(training_scores)``, ``threshold_``,
and optionally ``feature_names`` (checked against a table's column names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import torch

from ...errors import TrainingError
from ...metrics import average_precision, precision_recall_at, roc_auc
from .base import TrainingStep

if TYPE_CHECKING:
    from torch.utils.data import DataLoader


def _plain(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if isinstance(getattr(model, "module", None), torch.nn.Module) else model


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

    metric_protocols: ClassVar[dict[str, tuple[str, str]]] = {
        "roc_auc": (("ROC AUC of the anomaly scores (mean squared reconstruction error of the z-scored row) on the "
                    "held-out rows, label 1 = anomaly"), ""),
        "average_precision": (("average precision of the same scores (area under the precision-recall curve, "
                              "step-wise as scikit-learn); depends on the anomaly share of the split"), ""),
        "precision": (("precision of flagging score > threshold_ (the stored threshold: the (1 - contamination) "
                      "percentile of the normal training rows' scores) on the held-out rows"), ""),
        "recall": ("recall of anomalies at the same stored threshold on the held-out rows", ""),
        "flagged": ("share of held-out rows flagged (score > threshold_)", ""),
        "normal_error": (("mean anomaly score (mean squared reconstruction error, z-scored) of the held-out "
                         "normal rows"), ""),
    }

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        weight_decay = float(self.options.get("weight_decay", 0.0))
        return {"model": torch.optim.Adam(self.model.parameters(), lr=self.recipe.lr, weight_decay=weight_decay)}

    def _check_features(self, data: Any) -> None:
        model = _plain(self.model)
        expected, given = getattr(model, "feature_names", None), getattr(data, "features", None)
        count = getattr(model, "n_features", None)
        if expected is not None and given is not None and tuple(given) != tuple(expected):
            from ...data.tabular import ColumnsError

            missing = [f for f in expected if f not in given]
            extra = [f for f in given if f not in expected]
            raise ColumnsError(
                f"The training data's columns do not match the model's: missing {missing}, unexpected {extra}"
                + ("" if missing or extra else " (same names in another order)") + ".",
                "Train on a table with the model's columns, or build the model with a config for this table "
                "(aezoo.build(spec, config={..., 'features': [...]}) and model.fit(X)).",
            )
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
        _plain(self.model).fit_scaler(normal.to(self.device))

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        x, y = batch
        if self.options.get("train_on", "normal") == "normal":
            x = x[y == 0]
        model = self.model
        if len(x) < 2 and any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules()):
            return {"loss": torch.zeros(())}  # batch norm cannot train on a single row
        if len(x) == 0:
            return {"loss": torch.zeros(())}
        loss = model(x.to(self.device)).mean()
        self.optimize(loss)
        return {"loss": loss.detach()}

    @torch.no_grad()
    def _scores(self, rows: torch.Tensor, batch_size: int = 8192) -> torch.Tensor:
        model = _plain(self.model)
        was = model.training
        model.eval()
        parts = [model(rows[i:i + batch_size].to(self.device)).cpu() for i in range(0, len(rows), batch_size)]
        scores = torch.cat(parts) if parts else torch.zeros(0)
        model.train(was)
        return scores

    @torch.no_grad()
    def calibrate(self, train_data: Any) -> None:
        """threshold_ = the (1 - contamination) percentile of the normal training rows' scores."""
        x, y = table_of(train_data)
        normal = x[y == 0] if self.options.get("train_on", "normal") == "normal" else x
        _plain(self.model).set_threshold(self._scores(normal).double().numpy())

    @torch.no_grad()
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        x, y = table_of(loader.dataset)
        scores = self._scores(x).double()
        threshold = _plain(self.model).threshold_
        metrics: dict[str, float] = {}
        if 0 < int(y.sum()) < len(y):
            metrics["roc_auc"] = roc_auc(y, scores)
            metrics["average_precision"] = average_precision(y, scores)
            metrics["precision"], metrics["recall"] = precision_recall_at(y, scores, threshold)
        metrics["flagged"] = float((scores > threshold).double().mean())
        if bool((y == 0).any()):
            metrics["normal_error"] = float(scores[y == 0].mean())
        return metrics

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        """A histogram of held-out scores (normal vs anomalous rows) with the threshold."""
        if not self.options.get("artifacts", True):
            return []
        x, y = table_of(test_data)
        if not len(x):
            return []
        draw_score_histogram(self._scores(x).double(), y, _plain(self.model).threshold_, folder / "scores.png")
        return ["scores.png"]


def draw_score_histogram(scores: torch.Tensor, labels: torch.Tensor, threshold: float, path: Any,
                         width: int = 640, height: int = 300, bins: int = 60) -> None:
    """PNG: log10-score histograms of normal (blue) and anomalous (red) rows, each scaled to its own
    peak, and the threshold as a black line. Drawn with PIL alone."""
    import math

    from PIL import Image, ImageDraw

    logs = torch.log10(scores.clamp_min(1e-12))
    low, high = float(logs.min()), float(logs.max())
    log_threshold = math.log10(max(threshold, 1e-12))
    low, high = min(low, log_threshold), max(high, log_threshold)
    high = high if high > low else low + 1.0
    margin, top = 40, 24
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    plot_w, plot_h = width - 2 * margin, height - top - margin
    for label, colour in ((0, (40, 90, 200)), (1, (220, 40, 40))):
        values = logs[labels == label]
        if not len(values):
            continue
        counts = torch.histc(values, bins=bins, min=low, max=high)
        peak = float(counts.max())
        for i, count in enumerate(counts.tolist()):
            if count:
                x0 = margin + plot_w * i / bins
                bar = plot_h * count / peak
                draw.rectangle([x0, top + plot_h - bar, x0 + plot_w / bins - 1, top + plot_h],
                               outline=colour, fill=colour if label == 0 else None)
    tx = margin + plot_w * (log_threshold - low) / (high - low)
    draw.line([tx, top, tx, top + plot_h], fill="black", width=2)
    draw.line([margin, top + plot_h, width - margin, top + plot_h], fill="black")
    draw.text((margin, 4), "held-out scores: normal (blue), anomalous (red outline); line = threshold_", fill="black")
    draw.text((margin, top + plot_h + 6), f"log10 score {low:.2f}", fill="black")
    draw.text((width - margin - 110, top + plot_h + 6), f"{high:.2f}", fill="black")
    image.save(path)
