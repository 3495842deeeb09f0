"""The fc-ae-fraud network: a fully-connected undercomplete autoencoder that scores table rows.

    import aezoo
    detector = aezoo.load("fc-ae-fraud")              # this module's TabularAE, with the shipped weights
    scores = detector.decision_function(frame)        # frame: Time, V1..V28, Amount (+ Class, ignored)
    flags = detector.predict(frame)                   # 1 where score > detector.threshold_
    detector.fit(my_normal_rows)                      # or: aezoo.finetune("fc-ae-fraud", data=...)

As PyOD splits its AutoEncoderModel (the torch network) from the AutoEncoder detector, this module is
the network with its fitted data and the PyOD-style calls that ``aezoo.load`` users, ``aezoo score``
and the exporters make on it (PyOD's 0/1 labels, higher score = more anomalous);
``aezoo_fc_ae_fraud.detector.FraudDetector`` wraps it as a scikit-learn outlier detector, and
``aezoo_fc_ae_fraud.training`` trains it through aezoo's engine.

Inputs are z-scored with statistics fitted on normal training rows; the score of a row comes from the
residuals over its z-scored features; ``threshold_`` is the (1 - contamination) percentile of the
training rows' scores. The statistics, the threshold and the contamination are registered buffers, so
they live in model.safetensors (never pickled) and a loaded checkpoint scores exactly as the saved one
did.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from aezoo.data.columns import check_columns, shorten
from aezoo.errors import AezooError

from .plugin import CONFIG

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU, "tanh": nn.Tanh}
SCORES = ("mse", "scaled_mae", "scaled_mse")
# Rows per forward pass when scoring: on a CPU large enough to amortise calls and small enough to stay
# in cache; on a GPU large enough to fill it (fewer launches and copies).
SCORE_CHUNK = {"cpu": 8192, "cuda": 1 << 18}


class NotFittedError(AezooError, ValueError, AttributeError):
    """The detector has no fitted statistics and threshold yet."""


class InputShapeError(AezooError, ValueError):
    """Rows given to the detector do not have its features."""


class TabularAE(nn.Module):
    """features -> hidden[0] -> ... -> hidden[-1] -> ... -> hidden[0] -> features, on z-scored inputs.

    ``features`` is the list of column names (or just their number, for unnamed tables); ``label`` the
    name of a label column that may come along in a DataFrame and is dropped. ``log_features`` names
    heavy-tailed columns (such as Amount) that are replaced by log(1 + max(x, 0)) before z-scoring;
    ``ignore`` names columns a DataFrame may carry that the model does not read (such as Time).
    ``score`` is how a row's residuals (reconstruction minus z-scored input) become its anomaly score:
    "mse" their mean square; "scaled_mae" / "scaled_mse" the mean of |residual| / s (or its square) where
    s is each feature's mean absolute residual on the normal training rows (``fit_error_scale``), so
    features the network reconstructs closely count as much as loosely reconstructed ones.
    """

    def __init__(
        self,
        features: Sequence[str] | int = tuple(CONFIG["features"]),
        hidden: Sequence[int] = tuple(CONFIG["hidden"]),
        activation: str = CONFIG["activation"],
        dropout: float = CONFIG["dropout"],
        batch_norm: bool = CONFIG["batch_norm"],
        contamination: float = CONFIG["contamination"],
        min_scale: float = CONFIG["min_scale"],
        label: str | None = CONFIG["label"],
        log_features: Sequence[str] = tuple(CONFIG.get("log_features", ())),
        score: str = CONFIG.get("score", "mse"),
        ignore: Sequence[str] = tuple(CONFIG.get("ignore", ())),
    ) -> None:
        super().__init__()
        if isinstance(features, int):
            names, count = None, int(features)
        else:
            names = tuple(str(f) for f in features)
            count = len(names)
            if len(set(names)) != count:
                raise ValueError("Feature names must be unique.")
        if count < 1 or not hidden or min(hidden) < 1:
            raise ValueError("Need at least one feature and one hidden layer of positive width.")
        if activation not in ACTIVATIONS:
            raise ValueError(f"Unknown activation {activation!r}; known: {sorted(ACTIVATIONS)}.")
        _check_contamination(contamination)
        if score not in SCORES:
            raise ValueError(f"Unknown score {score!r}; known: {list(SCORES)}.")
        logged = [str(f) for f in log_features]
        if logged and (names is None or any(f not in names for f in logged)):
            raise ValueError(f"log_features {logged} must be among the named features.")
        self.feature_names = names
        self.n_features = count
        self.label = label
        self.min_scale = float(min_scale)
        self.config = {"features": list(names) if names else count, "hidden": [int(h) for h in hidden],
                       "activation": activation, "dropout": float(dropout), "batch_norm": bool(batch_norm),
                       "contamination": float(contamination), "min_scale": float(min_scale), "label": label,
                       "log_features": logged, "score": score, "ignore": [str(c) for c in ignore]}
        self.ignored = tuple(str(c) for c in ignore)
        self.score_kind = score

        def block(inputs: int, outputs: int) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Linear(inputs, outputs)]
            if batch_norm:
                layers.append(nn.BatchNorm1d(outputs))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
            return layers

        widths = [count, *hidden]
        self.encoder = nn.Sequential(*[m for a, b in itertools.pairwise(widths) for m in block(a, b)])
        back = list(reversed(hidden))
        decoder = [m for a, b in itertools.pairwise(back) for m in block(a, b)]
        self.decoder = nn.Sequential(*decoder, nn.Linear(back[-1], count))
        # Fitted data, saved with the weights (safetensors): z-score statistics and the threshold.
        self.register_buffer("mean", torch.zeros(count))
        self.register_buffer("scale", torch.ones(count))
        self.register_buffer("threshold", torch.zeros((), dtype=torch.float64))
        self.register_buffer("contamination_rate", torch.tensor(float(contamination), dtype=torch.float64))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))
        # Per-feature mean absolute residual of the normal training rows (scaled scores).
        self.register_buffer("error_scale", torch.ones(count))
        # Which columns are log-transformed: derived from the config, so not saved.
        mask = torch.tensor([bool(names) and names[i] in logged for i in range(count)], dtype=torch.bool)
        self.register_buffer("log_mask", mask, persistent=False)

    # ---- the network -------------------------------------------------------------------------------------------

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """Raw rows -> the network's units before z-scoring (log(1 + x) for ``log_features``)."""
        if not bool(self.log_mask.any()):
            return x
        return torch.where(self.log_mask, torch.log1p(x.clamp_min(0)), x)

    def standardize(self, x: torch.Tensor) -> torch.Tensor:
        return (self.transform(x) - self.mean) / self.scale

    def residuals(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction minus input, per z-scored feature (N, F), for raw rows (N, F)."""
        z = self.standardize(x)
        return self.decoder(self.encoder(z)) - z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Anomaly scores (N,) of raw rows (N, F), from the residuals as ``score`` says (differentiable)."""
        r = self.residuals(x)
        if self.score_kind == "mse":
            return r.pow(2).mean(dim=1)
        scaled = r.abs() / self.error_scale
        return scaled.mean(dim=1) if self.score_kind == "scaled_mae" else scaled.pow(2).mean(dim=1)

    @torch.no_grad()
    def reconstruct(self, rows: Any) -> np.ndarray:
        """The reconstruction of rows, in the original units of each feature."""
        x = self._rows(rows)
        with _eval(self):
            z = self.decoder(self.encoder(self.standardize(x)))
        t = z * self.scale + self.mean
        return torch.where(self.log_mask, torch.expm1(t), t).cpu().numpy()

    # ---- fitted statistics -------------------------------------------------------------------------------------

    @torch.no_grad()
    def fit_scaler(self, x: torch.Tensor) -> None:
        """Fit the z-score statistics on (normal) rows: mean and standard deviation per feature. A
        feature whose deviation is below ``min_scale`` is constant in training and keeps scale 1 (its
        raw units), as scikit-learn's StandardScaler does."""
        if len(x) == 0:
            raise InputShapeError("No normal rows to fit the statistics on.", "Give the detector normal rows to learn.")
        x = self.transform(x).to(torch.float64)
        self.mean.copy_(x.mean(0))
        std = x.std(0, unbiased=False)
        self.scale.copy_(torch.where(std < self.min_scale, torch.ones_like(std), std))

    @torch.no_grad()
    def fit_error_scale(self, x: torch.Tensor, batch_size: int = 16384) -> None:
        """Each feature's mean absolute residual on (normal) training rows, for the scaled scores; a
        feature reconstructed exactly keeps scale 1. Called by the training step before the threshold."""
        with _eval(self):
            total = torch.zeros(self.n_features, dtype=torch.float64, device=self.mean.device)
            for i in range(0, len(x), batch_size):
                total += self.residuals(x[i:i + batch_size].to(self.mean.device)).abs().sum(0).double()
        scale = total / max(len(x), 1)
        self.error_scale.copy_(torch.where(scale < 1e-12, torch.ones_like(scale), scale))

    @torch.no_grad()
    def set_threshold(self, training_scores: Any) -> float:
        """``threshold_`` = the (1 - contamination) percentile of the training rows' scores (linear
        interpolation, as numpy.percentile and PyOD)."""
        scores = np.asarray(training_scores, dtype=np.float64).reshape(-1)
        if not len(scores):
            raise InputShapeError("No training scores to set the threshold from.", "Fit on at least one normal row.")
        value = float(np.percentile(scores, 100.0 * (1.0 - self.contamination)))
        self.threshold.fill_(value)
        self.fitted.fill_(True)
        return value

    @property
    def threshold_(self) -> float:
        """Rows scoring above this are predicted anomalous (1)."""
        self._require_fitted()
        return float(self.threshold)

    @property
    def contamination(self) -> float:
        """The expected share of anomalies; sets ``threshold_`` at the next fit or calibration."""
        return float(self.contamination_rate)

    @contamination.setter
    def contamination(self, value: float) -> None:
        _check_contamination(value)
        self.contamination_rate.fill_(float(value))

    @property
    def is_fitted(self) -> bool:
        return bool(self.fitted)

    # ---- PyOD-style detector API -------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None, *, epochs: int | None = None, output_dir: str | Path | None = None,
            verbose: bool = False, **recipe: Any) -> TabularAE:
        """Train on ``X`` with aezoo's training engine and the model's recipe, then fit ``threshold_``
        (``aezoo_fc_ae_fraud.training.fit_network``).

        Rows labelled 1 in ``y`` (or, for a DataFrame without ``y``, in its label column such as
        ``Class``) are left out of training and of the statistics: the model learns normal rows only.
        Training continues from the current weights (fresh for a built model, pretrained for a loaded
        one). Recipe settings (``lr``, ``batch_size``, ``seed``, ``options``) can be overridden; the
        checkpoint goes to ``output_dir`` when given. ``verbose`` shows the engine's progress bar (or
        per-epoch lines when stderr is not a terminal). Afterwards ``decision_scores_`` and ``labels_``
        hold the training rows' scores and flags (PyOD's names; 1 = anomaly).
        """
        from .training import fit_network

        if y is None and self.label is not None and hasattr(X, "columns") and self.label in X.columns:
            y = X[self.label]  # a DataFrame that carries its label column
        x = self._rows(X).cpu()
        labels = None if y is None else torch.from_numpy(np.array(y, dtype=np.int64)).reshape(-1)
        if labels is not None and len(labels) != len(x):
            raise InputShapeError(f"fit got {len(x)} rows but {len(labels)} labels.", "Pass one label per row.")
        self.fit_result_ = fit_network(self, x, labels, epochs=epochs, output_dir=output_dir, verbose=verbose,
                                       **recipe)
        self.decision_scores_ = self.decision_function(x)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        return self

    def decision_function(self, X: Any, batch_size: int | None = None) -> np.ndarray:
        """Anomaly scores (n_samples,) as float64: higher is more anomalous.

        Rows are converted, checked and scored one chunk at a time, straight into the result: memory
        beyond the input stays at one chunk however many rows come."""
        self._require_fitted()
        rows = self._row_array(X)
        batch_size = batch_size or SCORE_CHUNK.get(self.mean.device.type, SCORE_CHUNK["cpu"])
        scores = np.empty(len(rows), dtype=np.float64)
        with _eval(self), torch.inference_mode():
            for start in range(0, len(rows), batch_size):
                chunk = self._chunk(rows, start, batch_size)
                scores[start:start + len(chunk)] = self(chunk).cpu().numpy()
        return scores

    def predict(self, X: Any) -> np.ndarray:
        """1 (anomaly) where the score exceeds ``threshold_``, else 0."""
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def fit_predict(self, X: Any, y: Any = None, **kwargs: Any) -> np.ndarray:
        return self.fit(X, y, **kwargs).labels_

    # ---- inputs ------------------------------------------------------------------------------------------------

    def _require_fitted(self) -> None:
        if not bool(self.fitted):
            raise NotFittedError(
                "This detector has no fitted statistics and threshold yet.",
                "Call fit(X) on normal rows, or load trained weights: aezoo.load('fc-ae-fraud').",
            )

    def _rows(self, X: Any) -> torch.Tensor:
        """All rows as one checked float32 tensor (N, F) on the model's device (for fit and reconstruct)."""
        rows = self._row_array(X)
        return self._chunk(rows, 0, max(len(rows), 1))

    def _row_array(self, X: Any) -> np.ndarray | torch.Tensor:
        """Rows (N, F) from an array, tensor or DataFrame, shape checked but not yet converted: a
        float array or tensor is used as it is, without a copy."""
        if hasattr(X, "columns") and hasattr(X, "to_numpy"):  # pandas DataFrame: columns by name
            X = self._frame_columns(X)
        if not torch.is_tensor(X) and not (isinstance(X, np.ndarray) and X.dtype.kind in "fiub"):
            try:
                X = np.asarray(X, dtype=np.float32)
            except (TypeError, ValueError) as exc:
                raise InputShapeError(f"Cannot read rows from a {type(X).__name__}: {exc}.",
                                      "Pass a numeric array, tensor or DataFrame.") from exc
        if X.ndim != 2 or X.shape[1] != self.n_features:
            named = f" {shorten(self.feature_names)}" if self.feature_names else ""
            hint = " Use X.reshape(1, -1) for a single row." if X.ndim == 1 else ""
            raise InputShapeError(f"Expected rows shaped (n_samples, {self.n_features}){named}, got {tuple(X.shape)}.",
                                  "Pass one column per feature, in the model's order." + hint)
        return X

    def _chunk(self, rows: np.ndarray | torch.Tensor, start: int, size: int) -> torch.Tensor:
        """Rows ``start:start+size`` as float32 on the model's device; NaN or infinite values are an
        error that counts the bad rows of the whole input."""
        part = rows[start:start + size]
        x = part.detach() if torch.is_tensor(part) else torch.from_numpy(np.require(part, np.float32, ["W"]))
        x = x.to(self.mean.device, torch.float32)
        if not bool(torch.isfinite(x).all()):
            if torch.is_tensor(rows):
                bad = int((~torch.isfinite(rows.detach())).any(1).sum())
            else:
                bad = int((~np.isfinite(np.asarray(rows, dtype=np.float64))).any(1).sum())
            raise InputShapeError(f"{bad} rows contain NaN or infinite values.", "Drop or fill them first.")
        return x

    def _frame_columns(self, frame: Any) -> Any:
        """The model's columns of a DataFrame, by name; its label and ``ignore`` columns are dropped."""
        if self.feature_names is None:
            columns = [c for c in frame.columns if str(c) != self.label and str(c) not in self.ignored]
        else:
            columns = check_columns(frame.columns, self.feature_names, optional=(self.label, *self.ignored),
                                    source="The DataFrame")
        try:
            return frame[columns].to_numpy(dtype="float32")
        except (TypeError, ValueError) as exc:
            raise InputShapeError(f"The DataFrame has non-numeric values in the model's columns: {exc}.",
                                  "Encode or drop them first.") from exc


class _eval:
    """Run a block in eval mode and restore the previous mode."""

    def __init__(self, module: nn.Module) -> None:
        self.module, self.was_training = module, module.training

    def __enter__(self) -> None:
        self.module.eval()

    def __exit__(self, *exc: object) -> None:
        self.module.train(self.was_training)


def _check_contamination(value: float) -> None:
    if not 0.0 < float(value) <= 0.5:
        raise ValueError(f"contamination must be in (0, 0.5], got {value!r}.")


def build(**config: Any) -> TabularAE:
    return TabularAE(**config)
