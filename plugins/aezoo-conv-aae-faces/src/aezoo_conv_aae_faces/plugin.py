"""Entry point of the plugin: the spec of conv-aae-faces. No torch here (``aezoo list`` reads it)."""

from __future__ import annotations

from importlib.resources import files

from aezoo import ModelSpec, Recipe, hookimpl
from aezoo.spec import Release

RELEASE = Release.from_json(files(__package__) / "release.json")

# The shipped shape, CelebA's as the series targets: 64x64 RGB, four stride-2 stages 48/96/192/384 with
# BatchNorm and a 64-dimensional code as in pythae's CelebA AAE (whose widths 128..1024 would make a 98 MB file).
CONFIG = {"image_size": 64, "channels": 3, "latent_dim": 64, "widths": [48, 96, 192, 384], "disc_hidden": [512, 512],
          "norm": "batch"}
PREPROCESSING = {"image_size": 64, "channels": 3, "range": [0.0, 1.0]}

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
        step="aezoo.train.steps.aae:AAEStep",
        dataset="celeba",
        epochs=40,
        batch_size=128,
        lr=5e-4,
        seed=0,
        options={"flip": True, "schedule": "cosine", "betas": [0.5, 0.999], "lr_disc_factor": 1.0,
                 "lr_gen_factor": 0.5, "recon_weight": 1.0, "adv_weight": 1.0, "eval_every": 5},
    ),
    weights=RELEASE.weights,
    card=RELEASE.card(
        license="mit",
        datasets=("celeba",),
        full_data_training=(
            "The series targets CelebA 64x64 RGB. The same builder makes that shape from "
            "`aezoo_conv_aae_faces.plugin.CELEBA_CONFIG` (image_size 64, channels 3, widths 128/256/512/1024: four "
            "stride-2 stages to 4x4 with BatchNorm, latent_dim 64, discriminator 512-512; 24,448,068 parameters, "
            "pythae's CelebA AAE shape); its image_size and channels make the celeba loader centre-crop the aligned "
            "faces to a square and resize them to 64x64 RGB. Train it with `aezoo train conv-aae-faces --data celeba "
            "--config '{\"image_size\": 64, \"channels\": 3, \"latent_dim\": 64, \"widths\": [128, 256, 512, 1024], "
            "\"disc_hidden\": [512, 512]}' --epochs 30 --batch-size 128 --lr 2e-4` (suggested settings, not run "
            "here; torchvision downloads CelebA with a network and `gdown`); for an unzipped copy from "
            "mmlab.ie.cuhk.edu.hk/projects/CelebA.html, from Python: `from aezoo.data import load_dataset; "
            "from aezoo_conv_aae_faces.plugin import CELEBA_CONFIG; aezoo.train(\"conv-aae-faces\", "
            "config=CELEBA_CONFIG, data=load_dataset(\"celeba\", path=\".../img_align_celeba\", image_size=64, "
            "channels=3), epochs=30, batch_size=128, lr=2e-4)`. pythae reports FID 43.3 for this "
            "family on CelebA 64x64; aezoo has not measured FID for it."
        ),
        notes=(
            "The deep-learning-wizard series announced a convolutional adversarial autoencoder for faces but never "
            "wrote it; this one follows Makhzani et al. (2016) and pythae: a deterministic encoder (stride-2 "
            "convolutions, BatchNorm, LeakyReLU, a linear code), a transposed-conv decoder with a sigmoid output, "
            "and an MLP discriminator on the code that tells encoder codes from samples of the prior N(0, I). Each "
            "batch trains three phases with their own Adam optimizers: reconstruction (encoder and decoder, MSE), "
            "discriminator (binary cross-entropy, prior samples real, codes fake) and regularisation (the encoder "
            "alone, making the discriminator call its codes real). The discriminator is saved with the model, so "
            "fine-tuning continues the adversarial game. CelebA cannot be had on the machine that trained these "
            "weights (no network), so they are trained on the 100 real LFW faces that scikit-image ships "
            "(grayscale 25x25, resized to 32x32; 80 train, 20 held out), with random flips and shifts of up to 2 "
            "pixels. 80 faces are far too few for a general face model: expect blurry reconstructions and samples, "
            "and fine-tune or train on CelebA for real use. Reproduction: `aezoo train conv-aae-faces` rebuilds these "
            "weights bit for bit on a CPU with one thread (OMP_NUM_THREADS=1; about 80 s of CPU time). Another "
            "thread count sums floats in another order and the adversarial game amplifies that: a 2-thread run "
            "measured mse 0.01069 (PSNR 19.71 dB), code_std 1.031, code_mmd 0.070, disc_accuracy 0.487; expect the "
            "mse within 5% and the code statistics within about 0.1 of this card."
        ),
    ),
)


@hookimpl
def aezoo_register_models() -> list[ModelSpec]:
    return [SPEC]
