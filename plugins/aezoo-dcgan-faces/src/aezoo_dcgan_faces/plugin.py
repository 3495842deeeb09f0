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
        epochs=40,
        batch_size=128,
        lr=2e-4,
        seed=0,
        options={"betas": [0.5, 0.999], "flip": True, "label_smoothing": 0.0, "eval_every": 5},
    ),
    weights=RELEASE.weights,
    card=RELEASE.card(
        license="mit",
        datasets=("celeba",),
        full_data_training=(
            "CelebA 64x64 RGB is the shape of pytorch/examples' DCGAN (nz 100, ngf = ndf = 64; generator 3,576,704 and "
            "discriminator 2,765,568 parameters), built by the same code from another config; the data follows the "
            "config's image_size and channels. Train it from scratch with this recipe and pytorch/examples' 5 epochs "
            "of batch 128: `aezoo train dcgan-faces --config '{\"image_size\": 64, \"channels\": 3, \"ngf\": 64, "
            "\"ndf\": 64}' --data celeba --batch-size 128 --epochs 5 -o dcgan-celeba64` (Python: "
            "`aezoo.train(\"dcgan-faces\", config=CELEBA_CONFIG, data=\"celeba\", batch_size=128, epochs=5)` with "
            "CELEBA_CONFIG from aezoo_dcgan_faces.plugin). `--data` also takes a folder of images such as "
            "img_align_celeba/; torchvision's CelebA download needs a network connection, and a GPU makes this "
            "take minutes instead of hours. Measure FID with `aezoo.fid.fid(real, fake, inception_weights=PATH)` "
            "after converting the pt_inception-2015-12-05 weights to safetensors once (see aezoo.fid)."
        ),
        notes=(
            "The series announced a GAN for faces but never wrote it; aezoo follows pytorch/examples' DCGAN "
            "(Adam lr 2e-4, beta1 0.5, N(0, 0.02) init, BatchNorm, Tanh output, inputs in [-1, 1]), with a "
            "discriminator that returns logits (BCE with logits instead of Sigmoid + BCELoss) and samples drawn "
            "with the generator in eval mode (BatchNorm running statistics) so each image depends on its own seed. "
            "CelebA cannot be had on the machines these weights were trained on, so they are trained on the 100 "
            "real LFW faces that scikit-image ships (80 for training, grayscale 25x25 resized to 32x32, with "
            "random flips and shifts of up to 2 pixels), with a smaller width (ngf = ndf = 32) to stay under 8 MB "
            "with the discriminator included. 80 faces are far too few for a good GAN: expect blurry, distorted "
            "faces that the discriminator still tells from real ones; the metrics below say how varied the samples "
            "are next to real faces, and whether they copy training faces (a nearest-training-image distance far "
            "below that of held-out real faces would mean copies). FID is not reported: it needs the FID Inception "
            "weights, which cannot be downloaded here. The weights were trained on one CPU thread "
            "(`OMP_NUM_THREADS=1 aezoo train dcgan-faces`): the same command and thread count reproduce them bit "
            "for bit; another thread count changes floating-point rounding, which adversarial training amplifies "
            "into a different run of similar quality rather than the same weights: over three runs with different "
            "initial weights (this one, seed 1, and one more), sample_diversity was 0.25-0.26, "
            "nearest_train_distance 0.18-0.19, and the discriminator accuracies, measured on 20 held-out faces "
            "(steps of 0.05), varied most: d_accuracy 0.58-0.78. Fine-tune on your own faces "
            "with `aezoo finetune dcgan-faces --data FOLDER` (the checkpoint holds both networks, so adversarial "
            "training continues)."
        ),
    ),
)


@hookimpl
def aezoo_register_models() -> list[ModelSpec]:
    return [SPEC]
