"""Figures of runs and models: training curves, anomaly-score charts and labelled image grids.

Drawn with matplotlib's object API on its Agg canvas (no pyplot, so a user's backend and figures are
left alone) and torchvision's ``make_grid``; both are imported only when a figure is drawn, so
importing aezoo stays light. ``aezoo plot RUN_DIR`` is the command-line face of ``plot_run``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import AezooError
from .training.output import METRICS_CSV, STATE_DIR

if TYPE_CHECKING:
    import numpy as np
    import torch
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

X_COLUMNS = ("epoch", "step")  # the x axis of a history, the first one present
DPI = 100


class NoHistoryError(AezooError, FileNotFoundError):
    """The folder holds no training history to plot."""


class PlotDependencyError(AezooError, ImportError):
    """matplotlib is not installed."""


@dataclass
class History:
    """Per-epoch (or per-step) values of a run: one dict per row, a value per column it has."""

    rows: list[dict[str, float]]
    source: str  # the file it was read from, relative to the run folder
    x: str  # the column of the x axis: "epoch" or "step"

    @property
    def columns(self) -> list[str]:
        """The plotted columns, training losses first, each in the order it first appears."""
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.update(dict.fromkeys(k for k in row if k not in X_COLUMNS))
        return sorted(seen, key=lambda name: not (name.startswith("train_") or "loss" in name))


def read_history(run_dir: str | Path) -> History:
    """The history of a training run folder: its ``metrics.csv`` when there is one (every logged
    column), else the per-epoch evaluation metrics the engine keeps in ``training-state/``."""
    from .training.state import load_state

    folder = Path(run_dir)
    table = folder / METRICS_CSV
    if table.is_file():
        return _history(_read_csv(table), METRICS_CSV, folder)
    state = load_state(folder / STATE_DIR) if folder.is_dir() else None
    rows = (state or {}).get("progress", {}).get("history") if isinstance(state, dict) else None
    if not rows:
        raise NoHistoryError(
            f"{folder} holds no training history (no {METRICS_CSV}, no per-epoch state in {STATE_DIR}/).",
            "Give the output folder of 'aezoo train' or 'aezoo finetune' (-o), while it still has its "
            f"{STATE_DIR}/ folder or its {METRICS_CSV}.",
        )
    return _history([{str(k): float(v) for k, v in row.items()} for row in rows], f"{STATE_DIR}/", folder)


def _read_csv(path: Path) -> list[dict[str, float]]:
    """Numeric cells of each row; an empty cell is a value that row does not have."""
    rows = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                rows.append({k: float(v) for k, v in row.items() if k is not None and v not in ("", None)})
            except ValueError as exc:
                raise NoHistoryError(f"{path} line {number} has a value that is not a number ({exc}).",
                                     f"Fix or remove {path}; aezoo writes only numbers there.") from exc
    return rows


def _history(rows: list[dict[str, float]], source: str, folder: Path) -> History:
    x = next((c for c in X_COLUMNS if any(c in row for row in rows)), None)
    if x is None or not any(len(row) > 1 for row in rows):
        raise NoHistoryError(f"{folder / source} has no rows with an epoch or step and a value.",
                             "Plot a run that finished at least one epoch.")
    return History(rows, source, x)


def plot_history(history: History, path: str | Path, *, title: str | None = None) -> Path:
    """One panel per column (losses first) against the epoch or step, written as a PNG."""
    columns = history.columns
    across = min(3, len(columns))
    down = math.ceil(len(columns) / across)
    figure = _figure(4.0 * across, 2.8 * down + 0.6)
    for i, name in enumerate(columns):
        axes = figure.add_subplot(down, across, i + 1)
        points = [(row[history.x], row[name]) for row in history.rows if name in row and history.x in row]
        xs, ys = zip(*points, strict=True) if points else ((), ())
        axes.plot(xs, ys, marker="o" if len(xs) <= 30 else None, markersize=3)
        axes.set_title(name)
        axes.set_xlabel(history.x)
        axes.grid(alpha=0.3)
        if "loss" in name and ys and min(ys) > 0 and max(ys) / min(ys) > 100:
            axes.set_yscale("log")
    figure.suptitle(title or f"training history ({history.source})")
    return _save(figure, path)


def plot_run(run_dir: str | Path, path: str | Path) -> Path:
    """``read_history`` of a run folder drawn by ``plot_history``, titled with the folder's name."""
    history = read_history(run_dir)
    return plot_history(history, path, title=f"{Path(run_dir).resolve().name}: {history.source}")


# ---- anomaly scores ---------------------------------------------------------------------------------------------


def plot_scores(scores: Any, labels: Any, threshold: float, path: str | Path, *, title: str = "held-out rows") -> Path:
    """Anomaly scores of rows labelled 0 (normal) / 1 (anomaly): a histogram of each class with the
    threshold, and when both classes are present the ROC and precision-recall curves with the point
    the threshold gives marked. Written as one PNG."""
    import numpy as np

    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    both = 0 < int(labels.sum()) < len(labels)
    figure = _figure(15.0 if both else 6.5, 4.4)
    _histogram(figure.add_subplot(1, 3 if both else 1, 1), scores, labels, threshold)
    if both:
        _roc(figure.add_subplot(1, 3, 2), scores, labels, threshold)
        _precision_recall(figure.add_subplot(1, 3, 3), scores, labels, threshold)
    figure.suptitle(f"anomaly scores of the {title} ({len(scores):,} rows, {int(labels.sum()):,} anomalies)")
    return _save(figure, path)


def _histogram(axes: Axes, scores: np.ndarray, labels: np.ndarray, threshold: float) -> None:
    """Each class as the share of its rows per bin: anomalies are often too rare to show as counts.
    Scores spanning more than two decades get logarithmic bins."""
    import numpy as np

    low, high = float(min(scores.min(), threshold)), float(max(scores.max(), threshold))
    logarithmic = low > 0 and high / low > 100
    if logarithmic:
        bins = np.geomspace(low, high, 61)
        axes.set_xscale("log")
    else:
        bins = np.linspace(low, high if high > low else low + 1.0, 61)
    for label, name, colour in ((0, "normal", "tab:blue"), (1, "anomaly", "tab:red")):
        chosen = scores[labels == label]
        if len(chosen):
            # bins: matplotlib's stub lists sequences, not the arrays hist takes as well
            axes.hist(chosen, bins=bins, weights=np.full(len(chosen), 1 / len(chosen)),  # type: ignore[arg-type]
                      alpha=0.55 if label == 0 else 0.8, color=colour,
                      histtype="stepfilled" if label == 0 else "step", linewidth=1.5, label=f"{name} ({len(chosen):,})")
    axes.axvline(threshold, color="black", linestyle="--", label=f"threshold_ = {threshold:.4g}")
    axes.set_xlabel("anomaly score" + (" (log scale)" if logarithmic else ""))
    axes.set_ylabel("share of the class's rows")
    axes.set_title("score histogram")
    axes.legend(fontsize="small")


def _at_threshold(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """(false positive rate, recall, precision) of flagging score > threshold."""
    flagged = scores > threshold
    positives = labels == 1
    precision = float(positives[flagged].mean()) if flagged.any() else 1.0
    return float(flagged[~positives].mean()), float(flagged[positives].mean()), precision


def _roc(axes: Axes, scores: np.ndarray, labels: np.ndarray, threshold: float) -> None:
    from sklearn.metrics import roc_auc_score, roc_curve

    fpr, tpr, _ = roc_curve(labels, scores)
    axes.plot(fpr, tpr, color="tab:purple", label=f"ROC (AUC {roc_auc_score(labels, scores):.4f})")
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="random")
    at_fpr, at_recall, _ = _at_threshold(scores, labels, threshold)
    axes.plot([at_fpr], [at_recall], "ko", label=f"threshold_: FPR {at_fpr:.3g}, recall {at_recall:.3g}")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate (recall)")
    axes.set_title("ROC curve")
    axes.legend(fontsize="small", loc="lower right")


def _precision_recall(axes: Axes, scores: np.ndarray, labels: np.ndarray, threshold: float) -> None:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    precision, recall, _ = precision_recall_curve(labels, scores)
    axes.step(recall, precision, where="post", color="tab:green",
              label=f"AP {average_precision_score(labels, scores):.4f}")
    axes.axhline(labels.mean(), color="grey", linestyle=":", label=f"random ({labels.mean():.3g})")
    _, at_recall, at_precision = _at_threshold(scores, labels, threshold)
    axes.plot([at_recall], [at_precision], "ko",
              label=f"threshold_: recall {at_recall:.3g}, precision {at_precision:.3g}")
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_ylim(0, 1.02)
    axes.set_title("precision-recall curve")
    axes.legend(fontsize="small", loc="lower left")


# ---- image grids ------------------------------------------------------------------------------------------------


def plot_image_rows(rows: Sequence[torch.Tensor], labels: Sequence[str], path: str | Path, *,
                    title: str | None = None, pixels: int = 2) -> Path:
    """Rows of images (each (N, C, H, W) in [0, 1], the same N) as one grid made by torchvision's
    ``make_grid``, each row labelled on the left (e.g. input / noisy / output). ``pixels`` screen
    pixels per image pixel."""
    import torch
    from torchvision.utils import make_grid

    if len(rows) != len(labels) or not rows or len({len(r) for r in rows}) != 1:
        raise ValueError(f"Need one label per row and rows of one length; got {len(rows)} rows, {len(labels)} labels.")
    padding = 2
    grid = make_grid(torch.cat([r.detach().float().clamp(0, 1).cpu() for r in rows]), nrow=len(rows[0]),
                     padding=padding, pad_value=1.0)
    height, width = grid.shape[1:]
    margin_left = max(0.9, 0.2 + 0.075 * max(len(label) for label in labels))  # inches: room for the labels
    margin_top = 0.45 if title else 0.1
    figure = _figure(width * pixels / DPI + margin_left, height * pixels / DPI + margin_top + 0.1, layout=None)
    axes = figure.add_axes((margin_left / figure.get_figwidth(), 0.1 / figure.get_figheight(),
                            width * pixels / DPI / figure.get_figwidth(),
                            height * pixels / DPI / figure.get_figheight()))
    image = grid.permute(1, 2, 0).numpy()
    axes.imshow(image[:, :, 0] if rows[0].shape[1] == 1 else image, cmap="gray", vmin=0, vmax=1,
                interpolation="nearest")
    step = rows[0].shape[-2] + padding
    axes.set_yticks([padding + step * i + (step - padding) / 2 for i in range(len(rows))], list(labels))
    axes.set_xticks([])
    axes.tick_params(length=0)
    for side in axes.spines.values():
        side.set_visible(False)
    if title:
        figure.suptitle(title, y=1 - 0.05 / figure.get_figheight(), va="top")
    return _save(figure, path)


def plot_reconstructions(model: Any, images: torch.Tensor, path: str | Path, *, seed: int = 0) -> Path:
    """Labelled rows of ``images`` (N, C, H, W in [0, 1]): ``real``, the model's ``reconstruction``
    and, for a model that samples, N draws from its prior (``sample``, seeded)."""
    rows, labels, title = [images, model.reconstruct(images)], ["real", "reconstruction"], None
    if callable(getattr(model, "sample", None)):
        rows.append(model.sample(len(images), seed=seed).to(images.device))
        labels.append("sample")
        title = f"samples: seed {seed}"
    return plot_image_rows(rows, labels, path, title=title, pixels=max(1, 64 // images.shape[-2]))


# ---- shared -----------------------------------------------------------------------------------------------------


def _figure(width: float, height: float, *,
            layout: Literal["constrained", "compressed", "tight"] | None = "constrained") -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise PlotDependencyError("Plots need matplotlib, which is not installed.",
                                  "pip install matplotlib  (or: pip install 'aezoo[data]').") from exc
    return Figure(figsize=(width, height), dpi=DPI, layout=layout)


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI)
    return path
