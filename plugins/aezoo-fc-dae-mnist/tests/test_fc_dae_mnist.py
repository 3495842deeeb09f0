"""fc-dae-mnist and fc-dae-fashion-mnist (one architecture, two checkpoints): the denoising API, and the
shipped weights on the cards' protocols."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import aezoo
from aezoo.data import load_dataset
from aezoo.metrics import psnr_from_mse
from aezoo.training.steps import DenoisingStep, mask_pixels

ROOT = Path(__file__).resolve().parents[3]
SERIES_RECIPE_PSNR = 19.47  # measured: the series' recipe as written (4,800 iterations), same split and noise


@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    return aezoo.load("fc-dae-mnist", device="cpu")


NAMES = ["fc-dae-mnist", "fc-dae-fashion-mnist"]


def test_both_checkpoints_share_one_architecture():
    digits, fashion = aezoo.info("fc-dae-mnist"), aezoo.info("fc-dae-fashion-mnist")
    assert (digits.builder, digits.config, digits.params) == (fashion.builder, fashion.config, fashion.params)
    assert (digits.recipe.dataset, fashion.recipe.dataset) == ("mnist-5k", "fashion-mnist")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (3, 28, 28)])
def test_denoise_keeps_shape_and_range(name, shape):
    model = aezoo.load(name, pretrained=False, device="cpu")
    out = model.denoise(torch.rand(shape))
    assert out.shape == shape
    assert 0 <= float(out.min()) and float(out.max()) <= 1


@pytest.mark.parametrize("bad", [torch.rand(2, 1, 32, 32), torch.rand(2, 3, 28, 28), torch.rand(784)])
def test_denoise_names_the_expected_shape(bad):
    model = aezoo.load("fc-dae-mnist", pretrained=False, device="cpu")
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        model.denoise(bad)


def test_denoise_refuses_integer_images():
    model = aezoo.load("fc-dae-mnist", pretrained=False, device="cpu")
    with pytest.raises(TypeError, match="float"):
        model.denoise(torch.zeros(2, 28, 28, dtype=torch.uint8))


def test_shipped_weights_reproduce_the_card_and_beat_the_series_recipe(shipped):
    """Re-measure PSNR and SSIM on the held-out 1,000 digits exactly as the card states."""
    card = {m.name: m.value for m in shipped.aezoo.card.metrics}
    recipe = shipped.aezoo.spec.recipe
    step = DenoisingStep(shipped, recipe, torch.device("cpu"))
    measured = step.evaluate(torch.utils.data.DataLoader(load_dataset("mnist-5k").test, batch_size=256))
    assert measured["psnr"] == pytest.approx(card["psnr"], abs=1e-3)
    assert measured["ssim"] == pytest.approx(card["ssim"], abs=1e-3)
    assert measured["psnr"] > SERIES_RECIPE_PSNR + 0.5


def test_shipped_denoiser_improves_noisy_digits(shipped):
    clean = torch.stack([load_dataset("mnist-5k").test[i][0] for i in range(0, 1000, 50)])
    noisy = mask_pixels(clean, 0.5, torch.Generator().manual_seed(3))
    restored = shipped.denoise(noisy.squeeze(1))
    assert restored.shape == (20, 28, 28)
    before = psnr_from_mse(float(((noisy - clean) ** 2).mean()))
    after = psnr_from_mse(float(((restored.unsqueeze(1) - clean) ** 2).mean()))
    assert after > before + 6


# --- fc-dae-fashion-mnist: the shipped weights. The full test split needs the real data set, which
# CI does not have, so the data-free tests use the clean row of the card's own before/after image. ---

FASHION = "fc-dae-fashion-mnist"
FASHION_FOLDER = ROOT / "weights" / FASHION
# measured by benchmarks/denoise_baselines.py on the same split and noise: the series' recipe
FASHION_SERIES_RECIPE_PSNR = 19.48
FASHION_BEST_CLASSICAL_PSNR = 18.46  # the best of ridge, PCA and kNN (kNN), same script


def _has_fashion_mnist() -> bool:
    from aezoo.data.images import FASHION_MNIST_SYSTEM_FOLDER, _has_idx_files

    return _has_idx_files(FASHION_MNIST_SYSTEM_FOLDER)


@pytest.fixture
def fashion(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    return aezoo.load(FASHION, device="cpu")


def clean_row_of_the_card_image() -> torch.Tensor:
    """The ten clean test images (one per class) in the input row of before_after.png, as drawn
    (aezoo.plots.plot_image_rows: make_grid's 28-pixel tiles with 2-pixel padding, 2 screen pixels
    per pixel, the grid 90 px from the left and 10 px from the bottom; pixel-exact to 8 bits)."""
    import numpy
    from PIL import Image

    image = numpy.asarray(Image.open(FASHION_FOLDER / "before_after.png").convert("L"))
    grid_height = 2 * (3 * 30 + 2)  # three rows of 28 + 2 px padding, and the last padding
    pixels = image[image.shape[0] - 10 - grid_height :, 90:][::2, ::2]
    tiles = [pixels[2:30, 2 + 30 * c : 30 + 30 * c] for c in range(10)]
    return torch.from_numpy(numpy.stack(tiles)).float().div(255.0).unsqueeze(1)


def test_fashion_card_states_the_protocol_and_the_baselines(fashion):
    card = fashion.aezoo.card
    metrics = {m.name: m for m in card.metrics}
    baselines = {f"{name}_{metric}" for name in ("ridge", "pca", "knn") for metric in ("psnr", "ssim")}
    assert set(metrics) == {"psnr", "ssim", "noisy_psnr"} | baselines  # aezoo evaluate re-measures all of them
    assert all(m.dataset == "fashion-mnist" and m.split == "test" for m in metrics.values())
    assert "60,000 train, 10,000 test" in card.training_data and "seed 0" in card.training_data
    assert card.license == "mit" and "MIT" in card.training_data
    for words in ("ridge", "PCA", "kNN", "series' recipe", "OMP_NUM_THREADS=1 aezoo train fc-dae-fashion-mnist"):
        assert words in card.notes
    assert fashion.aezoo.card == aezoo.info(FASHION).card  # the shipped README states what the spec states
    assert metrics["psnr"].value > FASHION_BEST_CLASSICAL_PSNR + 1.0
    assert metrics["psnr"].value > max(metrics[f"{name}_psnr"].value for name in ("ridge", "pca", "knn")) + 1.0
    assert metrics["psnr"].value > FASHION_SERIES_RECIPE_PSNR + 0.5
    # The issue's target, 1 dB above the series' recipe, is missed; the card must say so with the numbers.
    if metrics["psnr"].value < FASHION_SERIES_RECIPE_PSNR + 1.0:
        assert "TARGET MISSED" in card.notes and f"{metrics['psnr'].value:.2f} dB" in card.notes


def test_fashion_weights_match_their_pinned_release():
    from aezoo import testing

    testing.check_release(aezoo.info(FASHION), FASHION_FOLDER)


def test_fashion_denoiser_restores_the_card_images(fashion):
    clean = clean_row_of_the_card_image()
    assert clean.shape == (10, 1, 28, 28) and float(clean.std()) > 0.1  # ten real, varied images
    noisy = mask_pixels(clean, 0.5, torch.Generator().manual_seed(3))
    restored = fashion.denoise(noisy)
    before = psnr_from_mse(float(((noisy - clean) ** 2).mean()))
    after = psnr_from_mse(float(((restored - clean) ** 2).mean()))
    assert after > before + 6


@pytest.mark.skipif(not _has_fashion_mnist(), reason="the Fashion-MNIST idx files are not installed")
def test_fashion_weights_reproduce_the_card_on_the_real_test_split(fashion):
    """Where the real data set is installed (apt-get install dataset-fashion-mnist), re-measure the card."""
    measured = aezoo.evaluate(FASHION, device="cpu")
    card = {m.name: m.value for m in fashion.aezoo.card.metrics}
    for name in ("psnr", "ssim", "noisy_psnr"):
        assert measured[name] == pytest.approx(card[name], abs=1e-3)


def test_showcase_picks_the_first_item_of_each_class():
    from aezoo.training.steps.denoising import showcase

    labels = torch.tensor([3, 3, 1, 0, 1, 2, 0, 3])
    data = torch.utils.data.TensorDataset(torch.zeros(8, 1, 28, 28), labels)
    assert showcase(data) == [3, 2, 5, 0]  # classes 0, 1, 2, 3 in order
    unlabelled = torch.utils.data.TensorDataset(torch.zeros(30, 1, 28, 28), torch.zeros(30, dtype=torch.long))
    assert showcase(unlabelled) == [0, 10, 20]


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_denoising_step_loss_option(loss):
    """The step's loss is the chosen one, computed on the clean target of the masked batch."""
    from aezoo.spec import Recipe

    model = aezoo.load(FASHION, pretrained=False, device="cpu")
    recipe = Recipe("aezoo.training.steps:DenoisingStep", "fashion-mnist", 1, 4, 0.0, options={"loss": loss})
    step = DenoisingStep(model, recipe, torch.device("cpu"))
    clean = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(5)
    reported = float(step.train_batch([clean, torch.zeros(4)])["loss"])
    torch.manual_seed(5)
    with torch.no_grad():
        restored = model(mask_pixels(clean, 0.5))
    chosen = torch.nn.functional.binary_cross_entropy if loss == "bce" else torch.nn.functional.mse_loss
    assert reported == pytest.approx(float(chosen(restored, clean)), rel=1e-5)
