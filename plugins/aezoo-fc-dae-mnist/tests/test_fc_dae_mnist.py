"""fc-dae-mnist: the denoising API, and the shipped weights on the card's protocol."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import aezoo
from aezoo.data import load_dataset
from aezoo.metrics import psnr_from_mse
from aezoo.train.steps import DenoisingStep, mask_pixels

ROOT = Path(__file__).resolve().parents[3]
SERIES_RECIPE_PSNR = 19.47  # measured: the series' recipe as written (4,800 iterations), same split and noise


@pytest.fixture
def shipped(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    return aezoo.load("fc-dae-mnist", device="cpu")


@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (3, 28, 28)])
def test_denoise_keeps_shape_and_range(shape):
    model = aezoo.load("fc-dae-mnist", pretrained=False, device="cpu")
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
