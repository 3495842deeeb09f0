"""Entry point of the plugin: the spec of dcgan-faces. No torch here (``aezoo list`` reads it)."""

from __future__ import annotations

from importlib.resources import files

from aezoo import ModelSpec, Recipe, hookimpl
from aezoo.card import read_prose
from aezoo.spec import Preprocessing, Release

RELEASE = Release.from_json(files(__package__) / "release.json")

# The shipped shape: pytorch/examples' DCGAN for CelebA 64x64 RGB.
CONFIG = {"image_size": 64, "channels": 3, "nz": 100, "ngf": 64, "ndf": 64}
PREPROCESSING: Preprocessing = {"image_size": 64, "channels": 3, "range": [0.0, 1.0]}

# A small grayscale shape from the same builder, for small images and quick experiments (not shipped).
SMALL_CONFIG = {"image_size": 32, "channels": 1, "nz": 100, "ngf": 32, "ndf": 32}

SPEC = ModelSpec(
    name="dcgan-faces",
    summary="DCGAN (generator + discriminator, pytorch/examples recipe) that samples face images",
    task="generate",
    family="gan",
    builder="aezoo_dcgan_faces.model:build",
    config=CONFIG,
    preprocessing=PREPROCESSING,
    params=6_342_272,
    recipe=Recipe(
        step="aezoo.training.steps.gan:GANStep",
        dataset="celeba",
        epochs=60,
        batch_size=128,
        lr=2e-4,
        seed=0,
        options={"betas": [0.5, 0.999], "flip": True, "label_smoothing": 0.0, "eval_every": 5, "baselines": True},
    ),
    weights=RELEASE.weights,
    card=RELEASE.card(
        license="other",
        # No Hub id: CelebA's authors publish it on their own site only, and a re-upload on the Hub is a
        # third party's copy without the official partition; the card's prose names the data.
        datasets=(),
        **read_prose(files(__package__) / "card.md"),
    ),
)

@hookimpl
def aezoo_register_models() -> list[ModelSpec]:
    return [SPEC]
