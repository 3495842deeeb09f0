"""The classical denoisers the denoising cards compare with, on small images made here."""

from __future__ import annotations

import dataclasses

import torch
from torch.utils.data import DataLoader, TensorDataset

import aezoo
from aezoo.api import build
from aezoo.metrics import psnr_from_mse
from aezoo.training.steps import DenoisingStep, mask_pixels
from aezoo.training.steps.denoising_baselines import DenoisingBaselines

SETTINGS = {"ridge_alpha": 10.0, "pca_components": 8, "knn_neighbours": 5}


def low_rank_images(n: int, seed: int) -> torch.Tensor:
    """Images on an 8-dimensional subspace (plus clamping): structure every baseline can exploit."""
    generator = torch.Generator().manual_seed(seed)
    basis = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(99))
    weights = torch.rand(n, 8, generator=generator)
    return (torch.einsum("nk,kchw->nchw", weights, basis) / 4).clamp(0, 1)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return psnr_from_mse(float(((a - b) ** 2).mean()))


def test_each_baseline_restores_better_than_the_noisy_input_and_keeps_the_shape():
    train, test = low_rank_images(400, 0), low_rank_images(50, 1)
    noisy = mask_pixels(test, 0.5, torch.Generator().manual_seed(0))
    restored = DenoisingBaselines(train, 0.5, **SETTINGS).restore(noisy)
    assert set(restored) == {"ridge", "pca", "knn"}
    for name, images in restored.items():
        assert images.shape == test.shape and float(images.min()) >= 0 and float(images.max()) <= 1, name
        assert psnr(images, test) > psnr(noisy, test) + 3, name


def test_denoising_step_reports_the_baselines_beside_the_model():
    spec = aezoo.info("fc-dae-mnist")
    recipe = dataclasses.replace(spec.recipe, options={**spec.recipe.options, "baselines": SETTINGS})
    step = DenoisingStep(build(spec), recipe, torch.device("cpu"))
    train, test = low_rank_images(300, 0), low_rank_images(40, 1)
    labels = torch.zeros(300, dtype=torch.long)
    loader = DataLoader(TensorDataset(test, labels[:40]), batch_size=16)
    assert "ridge_psnr" not in step.evaluate(loader)  # nothing fitted yet
    step.fit_references(TensorDataset(train, labels))
    metrics = step.evaluate(loader)
    for name in ("ridge", "pca", "knn"):
        assert metrics[f"{name}_psnr"] > metrics["noisy_psnr"] and 0 < metrics[f"{name}_ssim"] <= 1
    assert set(metrics) <= set(DenoisingStep.metric_protocols)
