"""Entry point of the plugin: the spec of fc-ae-fraud. No torch here (``aezoo list`` reads it)."""

from __future__ import annotations

import itertools
from importlib.resources import files
from typing import Any

from aezoo import ModelSpec, Recipe, hookimpl
from aezoo.spec import Release

NAME = "fc-ae-fraud"
FEATURES = ["Time", *(f"V{i}" for i in range(1, 29)), "Amount"]  # the columns of creditcard.csv, in order
CONFIG: dict[str, Any] = {
    "features": FEATURES,
    "hidden": [32, 8],
    "activation": "relu",
    "dropout": 0.0,
    "batch_norm": False,
    "contamination": 0.002,
    "min_scale": 1e-6,
    "label": "Class",
}
RECIPE = Recipe(
    step="aezoo.train.steps.anomaly:AnomalyStep",
    dataset="synthetic-creditcard",
    epochs=20,
    batch_size=64,
    lr=1e-3,
    seed=0,
    options={"schedule": "cosine", "weight_decay": 1e-5},
)


def preprocessing_for(config: dict[str, Any]) -> dict[str, Any]:
    """What data a checkpoint of this config reads: its columns by name (data loaders check them)."""
    features = config["features"]
    return {
        "features": list(features) if isinstance(features, list) else None,
        "label": config.get("label"),
        "scaling": "z-score per feature with the mean and standard deviation of the normal training rows "
                   f"(a feature whose deviation is below {config.get('min_scale')} keeps scale 1, as in "
                   "scikit-learn's StandardScaler), stored in model.safetensors",
        "score": "mean squared reconstruction error over the z-scored features",
        "threshold": "the (1 - contamination) percentile of the training rows' scores, stored in model.safetensors",
    }


def _params(config: dict[str, Any]) -> int:
    count = len(config["features"]) if isinstance(config["features"], list) else int(config["features"])
    widths = [count, *config["hidden"]]
    pairs = [*itertools.pairwise(widths), *itertools.pairwise(widths[::-1])]
    per_norm = 2 if config["batch_norm"] else 0
    return sum(a * b + b + (per_norm * b if i not in (len(pairs) - 1,) else 0) for i, (a, b) in enumerate(pairs))


RELEASE = Release.from_json(files(__package__) / "release.json")

SPEC = ModelSpec(
    name=NAME,
    summary=("Fully-connected undercomplete autoencoder (30-32-8-32-30) that scores card transactions by "
             "reconstruction error: a PyOD-style fraud detector (fit / decision_function / predict)"),
    task="anomaly",
    family="undercomplete-ae",
    builder="aezoo_fc_ae_fraud.model:build",
    config=CONFIG,
    preprocessing=preprocessing_for(CONFIG),
    params=_params(CONFIG),
    recipe=RECIPE,
    weights=RELEASE.weights,
    card=RELEASE.card(
        license="mit",
        datasets=("synthetic-creditcard",),
        full_data_training=(
            "These weights are trained on SYNTHETIC transactions: fine-tune them on your own transactions, a CSV "
            "with the columns Time, V1..V28, Amount and, optionally, a 0/1 Class label: "
            "`aezoo finetune fc-ae-fraud --data path/to/creditcard.csv` (5 epochs by default; in Python "
            "`aezoo.train.finetune('fc-ae-fraud', data=frame, output_dir=...)`). To train from scratch on the real "
            "ULB credit-card fraud data (creditcard.csv, 284,807 rows, from "
            "https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud): "
            "`aezoo train fc-ae-fraud --data path/to/creditcard.csv`. Rows labelled Class = 1 are left out of "
            "training; ROC AUC, average precision, precision and recall are measured on the held-out rows "
            "(index % 5 == 4), and `aezoo evaluate fc-ae-fraud --data path/to/creditcard.csv` re-measures them."
        ),
        notes=(
            "SYNTHETIC TRAINING DATA. The real credit-card fraud data cannot be downloaded here, so these weights "
            "are trained on transactions that aezoo generates (data set 'synthetic-creditcard', seed 0): they have "
            "the exact creditcard.csv schema and a realistic fraud rate (0.17 %), but they are not real, and the "
            "metrics below say nothing about real fraud. Use the weights to try the API; fine-tune on your own "
            "transactions before relying on any score. Recipe in the style of PyOD's AutoEncoder: z-scored inputs "
            "(statistics of the normal training rows), trained on normal rows only, score = mean squared "
            "reconstruction error, threshold_ = the (1 - contamination) percentile of the normal training rows' "
            "scores with contamination = 0.002 (about the real fraud rate: about 0.2 % of normal transactions are "
            "flagged). Layers 30-32-8-32-30 with ReLU: a narrower bottleneck than PyOD's default 64-32 (a 32-wide "
            "code is not undercomplete for 30 features). The statistics and the threshold are stored in "
            "model.safetensors as buffers. On real "
            "tabular anomaly data that ships with scikit-learn (breast cancer; digits one-versus-rest) the same "
            "recipe is compared with PyOD's AutoEncoder and IsolationForest in docs/anomaly.md."
        ),
    ),
)


@hookimpl
def aezoo_register_models() -> list[ModelSpec]:
    return [SPEC]
