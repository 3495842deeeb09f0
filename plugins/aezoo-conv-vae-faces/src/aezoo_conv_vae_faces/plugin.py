"""Entry point of the plugin: the spec of conv-vae-faces. No torch here (``aezoo list`` reads it)."""

from __future__ import annotations

from importlib.resources import files

from aezoo import ModelSpec, Recipe, hookimpl
from aezoo.spec import Release

RELEASE = Release.from_json(files(__package__) / "release.json")

# The shipped shape, CelebA's as the series targets: 64x64 RGB, four stride-2 stages to 4x4, latent 128
# (pythae and PyTorch-VAE use four stages and a latent of 64-128 on CelebA 64x64).
CONFIG = {"image_size": 64, "channels": 3, "latent_dim": 128, "widths": [32, 64, 128, 256], "negative_slope": 0.2}
PREPROCESSING = {"image_size": 64, "channels": 3, "range": [0.0, 1.0]}

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
        step="aezoo.train.steps.vae:VAEStep",
        dataset="celeba",
        epochs=40,
        batch_size=128,
        lr=1e-3,
        seed=0,
        options={"flip": True, "beta": 1.0, "kl_warmup": 0.1, "schedule": "cosine", "eval_every": 5},
    ),
    weights=RELEASE.weights,
    card=RELEASE.card(
        license="mit",
        datasets=("celeba",),
        full_data_training=(
            "The series targets CelebA 64x64 RGB. The same builder makes that shape from the config "
            "`aezoo_conv_vae_faces.plugin.CELEBA_CONFIG` (image_size 64, channels 3, widths 32/64/128/256: four "
            "stride-2 stages to 4x4, latent_dim 128; 2,973,731 parameters); its preprocessing (image_size 64, "
            "channels 3) makes the celeba loader centre-crop the aligned 178x218 faces to a square, resize them to "
            "64x64 RGB and use the official split when list_eval_partition.txt lies next to img_align_celeba/. "
            "Train it with `aezoo train conv-vae-faces --data celeba --config "
            "'{\"image_size\": 64, \"channels\": 3, \"latent_dim\": 128, \"widths\": [32, 64, 128, 256]}' "
            "--epochs 30 --batch-size 128` (suggested settings, not run here; torchvision downloads CelebA with a "
            "network and `gdown`); for an unzipped copy from mmlab.ie.cuhk.edu.hk/projects/CelebA.html, from Python: "
            "`aezoo.train(\"conv-vae-faces\", config=CELEBA_CONFIG, data=aezoo.data.load_dataset(\"celeba\", "
            "path=\".../img_align_celeba\", image_size=64, channels=3), epochs=30, batch_size=128)`."
        ),
        notes=(
            "The deep-learning-wizard series announced a convolutional VAE for faces but never wrote it; this one "
            "follows pythae and AntixK/PyTorch-VAE (stride-2 convolutions with BatchNorm and LeakyReLU, a diagonal "
            "Gaussian posterior, transposed convolutions, sigmoid output), trained on the ELBO with a Bernoulli "
            "likelihood (binary cross-entropy summed over pixels) and an N(0, I) prior, the KL weight rising "
            "linearly to 1 over the first quarter of the epochs. CelebA cannot be had on the machine that trained "
            "these weights (no network), so they are trained on the 100 real LFW faces that scikit-image ships "
            "(grayscale 25x25, resized to 32x32; 80 train, 20 held out), with random flips and shifts of up to 2 "
            "pixels. 80 faces are far too few for a general face model: expect blurry reconstructions and samples, "
            "and fine-tune or train on CelebA for real use. Reproduction: `OMP_NUM_THREADS=1 aezoo train "
            "conv-vae-faces` (seed 0, CPU, about 2 minutes) gives these weights bit for bit; another thread count "
            "sums in another order and lands nearby (2 threads measured: mse 0.01237, neg_elbo 644.25 nats, kl "
            "15.68 nats), so the tolerance is about 2% on mse and 0.5 nats on neg_elbo."
        ),
    ),
)


@hookimpl
def aezoo_register_models() -> list[ModelSpec]:
    return [SPEC]
