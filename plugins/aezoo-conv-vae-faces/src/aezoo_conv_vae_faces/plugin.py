"""Entry point of the plugin: the spec of conv-vae-faces. No torch here (``aezoo list`` reads it)."""

from __future__ import annotations

from importlib.resources import files

from aezoo import ModelSpec, Recipe, hookimpl
from aezoo.card import read_prose
from aezoo.spec import Preprocessing, Release

RELEASE = Release.from_json(files(__package__) / "release.json")

# The shipped shape, CelebA's as the series targets: 64x64 RGB, four stride-2 stages to 4x4, latent 128
# (pythae and PyTorch-VAE use four stages and a latent of 64-128 on CelebA 64x64).
CONFIG = {"image_size": 64, "channels": 3, "latent_dim": 128, "widths": [32, 64, 128, 256], "negative_slope": 0.2}
PREPROCESSING: Preprocessing = {"image_size": 64, "channels": 3, "range": [0.0, 1.0]}

# A small grayscale shape from the same builder, for small images and quick experiments (not shipped).
SMALL_CONFIG = {"image_size": 32, "channels": 1, "latent_dim": 32, "widths": [32, 64, 128], "negative_slope": 0.2}

SPEC = ModelSpec(
    name="conv-vae-faces",
    summary="Convolutional VAE for faces (stride-2 conv encoder, Gaussian latent, transposed-conv decoder): "
    "encode, decode, reconstruct and sample from the prior",
    task="generate",
    family="vae",
    builder="aezoo_conv_vae_faces.model:build",
    config=CONFIG,
    preprocessing=PREPROCESSING,
    params=2_973_731,
    recipe=Recipe(
        step="aezoo.training.steps.vae:VAEStep",
        dataset="celeba",
        epochs=120,
        batch_size=128,
        lr=1e-3,
        seed=0,
        options={"flip": True, "beta": 1.0, "kl_warmup": 0.1, "schedule": "cosine", "eval_every": 5,
                 "baselines": True},
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
