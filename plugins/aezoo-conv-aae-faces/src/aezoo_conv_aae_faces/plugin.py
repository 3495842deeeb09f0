"""Entry point of the plugin: the spec of conv-aae-faces. No torch here (``aezoo list`` reads it)."""

from __future__ import annotations

from importlib.resources import files

from aezoo import ModelSpec, Recipe, hookimpl
from aezoo.card import read_prose
from aezoo.spec import Preprocessing, Release

RELEASE = Release.from_json(files(__package__) / "release.json")

# The shipped shape, CelebA's as the series targets: 64x64 RGB, four stride-2 stages 48/96/192/384 with
# BatchNorm and a 64-dimensional code as in pythae's CelebA AAE (whose widths 128..1024 would make a 98 MB file).
CONFIG = {"image_size": 64, "channels": 3, "latent_dim": 64, "widths": [48, 96, 192, 384], "disc_hidden": [512, 512],
          "norm": "batch"}
PREPROCESSING: Preprocessing = {"image_size": 64, "channels": 3, "range": [0.0, 1.0]}

# A small grayscale shape from the same builder, for small images and quick experiments (not shipped).
SMALL_CONFIG = {"image_size": 32, "channels": 1, "latent_dim": 32, "widths": [32, 64, 128], "disc_hidden": [128, 128],
                "norm": "batch"}

SPEC = ModelSpec(
    name="conv-aae-faces",
    summary="Convolutional adversarial autoencoder for faces (a latent discriminator pushes codes to N(0, I)): "
    "encode, decode, reconstruct and sample from the prior",
    task="generate",
    family="aae",
    builder="aezoo_conv_aae_faces.model:build",
    config=CONFIG,
    preprocessing=PREPROCESSING,
    params=4_192_388,
    recipe=Recipe(
        step="aezoo.training.steps.aae:AAEStep",
        dataset="celeba",
        epochs=120,
        batch_size=128,
        lr=5e-4,
        seed=0,
        options={"flip": True, "schedule": "cosine", "betas": [0.5, 0.999], "lr_disc_factor": 1.0,
                 "lr_gen_factor": 0.5, "recon_weight": 1.0, "adv_weight": 1.0, "eval_every": 5, "baselines": True},
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
