"""Task metrics, each computed exactly as the model cards state.

- PSNR: ``10 log10(1 / MSE)`` over the MSE pooled across every pixel of the split, images in [0, 1].
- SSIM: torchmetrics' SSIM (Gaussian window 11, sigma 1.5, data range 1), averaged over images.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def psnr_from_mse(mse: float) -> float:
    return float("inf") if mse == 0 else 10.0 * math.log10(1.0 / mse)


def ssim(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """Mean SSIM of (N, C, H, W) images in [0, 1]."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    # torchmetrics' return type also covers the (ssim, image) pair of return_full_image=True, not asked for here
    return float(structural_similarity_index_measure(  # type: ignore[arg-type]
        predicted.float(), target.float(), data_range=1.0))


# Anomaly detection: labels are 0 (normal) / 1 (anomaly), higher scores mean more anomalous.
# The ranking metrics are torchmetrics' (equal to scikit-learn's, ties included; the tests check it).


def _labels_and_scores(labels: object, scores: object, metric: str) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    from .errors import UndefinedMetricError

    def vector(values: object) -> torch.Tensor:  # tensors, numpy arrays, lists, pandas Series
        if torch.is_tensor(values):
            return values.detach().cpu().reshape(-1).to(torch.float64)
        import numpy

        return torch.from_numpy(numpy.array(values, dtype=numpy.float64)).reshape(-1)

    y, s = vector(labels), vector(scores)
    if len(y) != len(s):
        raise ValueError(f"{metric}: {len(y)} labels but {len(s)} scores.")
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError(f"{metric}: labels must be 0 (normal) or 1 (anomaly).")
    if not bool(torch.isfinite(s).all()):
        raise ValueError(f"{metric}: the scores contain NaN or infinite values.")
    positives = int(y.sum())
    if positives in (0, len(y)):
        present = "only anomalies (label 1)" if positives else "only normal rows (label 0)"
        raise UndefinedMetricError(
            f"{metric} is undefined: the labels hold {present} ({len(y)} rows), and it needs both classes.",
            "Evaluate on data with both normal and anomalous rows, or report a one-class number such as the "
            "flagged rate instead.",
        )
    return y, s


def _as_probabilities(scores: torch.Tensor) -> torch.Tensor:
    """The scores' ranks scaled into [0, 1] (ties kept). torchmetrics reads scores outside [0, 1] as
    logits and applies a sigmoid, which in float32 turns every score above about 17 into 1.0 and
    so invents ties; ranking metrics depend on the order alone, which this keeps exactly."""
    import torch

    distinct, rank = torch.unique(scores, sorted=True, return_inverse=True)
    return rank.to(torch.float64) / max(len(distinct) - 1, 1)


def roc_auc(labels: object, scores: object) -> float:
    """Area under the ROC curve (the probability that an anomaly outscores a normal row, ties count half)."""
    from torchmetrics.functional.classification import binary_auroc

    y, s = _labels_and_scores(labels, scores, "ROC AUC")
    return float(binary_auroc(_as_probabilities(s), y.long()))


def average_precision(labels: object, scores: object) -> float:
    """Average precision: sum over score thresholds of (recall gained) x (precision there)."""
    from torchmetrics.functional.classification import binary_average_precision

    y, s = _labels_and_scores(labels, scores, "average precision")
    return float(binary_average_precision(_as_probabilities(s), y.long()))


def precision_recall_at(labels: object, scores: object, threshold: float) -> tuple[float, float]:
    """Precision and recall of flagging ``score > threshold`` (precision is 0 when nothing is flagged)."""

    y, s = _labels_and_scores(labels, scores, "recall")
    flagged = s > threshold
    hits = float((flagged & (y == 1)).sum())
    return (hits / int(flagged.sum()) if bool(flagged.any()) else 0.0), hits / float(y.sum())
