"""Entry point of the plugin: the spec of dcgan-faces. No torch here (``aezoo list`` reads it)."""

from __future__ import annotations

from importlib.resources import files

from aezoo import ModelSpec, Recipe, hookimpl
from aezoo.spec import Release

RELEASE = Release.from_json(files(__package__) / "release.json")

# The shipped shape: pytorch/examples' DCGAN for CelebA 64x64 RGB.
CONFIG = {"image_size": 64, "channels": 3, "nz": 100, "ngf": 64, "ndf": 64}
PREPROCESSING = {"image_size": 64, "channels": 3, "range": [0.0, 1.0]}

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
        step="aezoo.train.steps.gan:GANStep",
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
        datasets=("celeba",),
        full_data_training=(
            "These weights saw the 14,283 training images of CelebA that could be had offline. With the full "
            "img_align_celeba folder (202,599 images; mmlab.ie.cuhk.edu.hk/projects/CelebA.html) the same command "
            "trains on all 162,770 training ids and tests on the same 19,962 test ids: `aezoo train dcgan-faces "
            "--data celeba:PATH/img_align_celeba` (about 11 times the steps per epoch; lower --epochs to keep the "
            "step count). `aezoo evaluate dcgan-faces --data celeba:PATH` re-measures this card, baselines included."
        ),
        notes=(
            "Terms: trained on CelebA images (non-commercial research terms of the CelebA data set apply; Liu et al., "
            "\"Deep Learning Face Attributes in the Wild\", ICCV 2015). The card shows model samples only, never "
            "CelebA images or reconstructions of them. "
            "Model: the series announced a GAN for faces but never wrote it; this is pytorch/examples' DCGAN (nz 100, "
            "ngf = ndf = 64, Adam lr 2e-4 and beta1 0.5, N(0, 0.02) init, BatchNorm, Tanh output, inputs in [-1, 1], "
            "batch 128) with a discriminator that returns logits (BCE with logits), random horizontal flips, and "
            "samples drawn with the generator in eval mode so each image depends on its own seed; the checkpoint holds "
            "both networks, so fine-tuning continues the adversarial game. "
            "Against the baselines, on the same 659 held-out faces: samples (seed 0) score a sliced Wasserstein "
            "distance of 19.7 against 78.8 for probabilistic PCA with 100 components (the latent size) fitted on the "
            "same training images and 16.8 for real training faces (the floor at this sample size): the best of the "
            "three face models (conv-vae-faces 44.2, conv-aae-faces 46.9). No copies: the samples' mean distance to "
            "their nearest training face is 0.160 against 0.182 for held-out faces, and the closest sample is 0.089 "
            "away, while a copy would be near 0. The last epoch ends with the discriminator calling almost every "
            "held-out face fake (d_real_accuracy 0.08, d_fake_accuracy 1.0); d_accuracy swings from one evaluation "
            "to the next (0.72 at epoch 55, 0.54 at epoch 60), so read it as a training diagnostic, not a quality "
            "score. FID is not "
            "reported: it needs Inception weights that cannot be downloaded here (`aezoo evaluate --inception FILE`). "
            "Reproduce: `aezoo train dcgan-faces --data celeba:PATH` on a GPU (about 2 minutes on an H200); GPU "
            "kernels sum in their own order and adversarial training amplifies that, so a rerun gives a different "
            "run of similar quality rather than these weights."
        ),
    ),
)

@hookimpl
def aezoo_register_models() -> list[ModelSpec]:
    return [SPEC]
