"""Denoising autoencoders: corrupt the input, reconstruct the clean image."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ...metrics import psnr_from_mse, ssim
from ...modeling import inference
from .base import TrainingStep, augment, evaluating, images_of, mask_pixels
from .denoising_baselines import DenoisingBaselines

if TYPE_CHECKING:
    from torch.utils.data import DataLoader


class DenoisingStep(TrainingStep):
    """Denoising AE: corrupt with pixel masking, reconstruct the clean image under MSE.

    Options: ``mask_prob`` (training noise, 0.5), ``eval_mask_prob`` (test noise, 0.5), ``shift``
    (random shifts of up to that many pixels), ``flip`` (random horizontal flips), ``schedule``, and
    ``loss``: "mse" (default) or "bce", binary cross-entropy against the clean pixels, for a model
    with sigmoid outputs. Both are minimised by the same denoiser (the mean of the clean pixel given
    the noisy image), but cross-entropy does not vanish where the sigmoid saturates, so a
    sigmoid-output model reaches a lower MSE in the same number of steps (measured on Fashion-MNIST,
    see docs/denoising.md)."""

    metric_protocols = {
        "psnr": ("pixel masking noise, each pixel zeroed with p=0.5 (fixed seed 0); PSNR of the pooled MSE on [0, 1]",
                 "dB"),
        "ssim": ("same noisy inputs; mean SSIM (Gaussian window 11, sigma 1.5, data range 1)", ""),
        "noisy_psnr": ("PSNR of the noisy input itself, for reference", "dB"),
        **{f"{name}_{metric}": (
            f"baseline: the same noisy inputs restored by {how}, fitted on the clean training images (settings in the "
            f"recipe's options['baselines']); {metric.upper()} as above", "dB" if metric == "psnr" else "")
           for name, how in (("ridge", "ridge regression from noisy to clean pixels (two seeded masked copies of "
                                       "every training image)"),
                             ("pca", "projecting the noisy image, rescaled by 1 / (1 - p), on the top principal "
                                     "components"),
                             ("knn", "the 1 / distance-weighted mean of the nearest training images"))
           for metric in ("psnr", "ssim")},
    }
    references: DenoisingBaselines | None = None
    _baselines_measured: tuple[tuple[int, float], dict[str, float]] | None = None

    def fit_references(self, train_data: Any) -> None:
        """With ``options["baselines"]`` (``{"ridge_alpha", "pca_components", "knn_neighbours"}``), fit
        the classical denoisers the card compares the model with."""
        settings = self.options.get("baselines")
        if settings:
            from .generative import stack_images

            self.references = DenoisingBaselines(stack_images(train_data), self.options.get("eval_mask_prob", 0.5),
                                                 **settings)

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        flip, shift = bool(self.options.get("flip", False)), self.options.get("shift", 0)
        clean = augment(images_of(batch), flip=flip, shift=shift)
        clean = clean.to(self.device)
        noisy = mask_pixels(clean, self.options.get("mask_prob", 0.5), batch=True)
        restored = self.model(noisy)
        if self.options.get("loss", "mse") == "bce":
            loss = nn.functional.binary_cross_entropy(restored, clean)
        else:
            loss = nn.functional.mse_loss(restored, clean)
        self.optimize(loss)
        return {"loss": loss.detach()}

    @evaluating
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        generator = torch.Generator().manual_seed(0)
        squared, noisy_squared, count = 0.0, 0.0, 0
        outputs, targets, inputs = [], [], []
        for batch in loader:
            clean = images_of(batch).to(self.device)
            noisy = mask_pixels(clean, self.options.get("eval_mask_prob", 0.5), generator)
            restored = self.model(noisy).clamp(0, 1)
            squared += float(((restored - clean) ** 2).sum())
            noisy_squared += float(((noisy - clean) ** 2).sum())
            count += clean.numel()
            outputs.append(restored.cpu())
            targets.append(clean.cpu())
            inputs.append(noisy.cpu())
        clean = torch.cat(targets)
        metrics = {
            "psnr": psnr_from_mse(squared / count),
            "ssim": ssim(torch.cat(outputs), clean),
            "noisy_psnr": psnr_from_mse(noisy_squared / count),
        }
        if self.references is not None:
            metrics |= self._baseline_metrics(self.references, torch.cat(inputs), clean)
        return metrics

    def _baseline_metrics(self, references: DenoisingBaselines, noisy: torch.Tensor,
                          clean: torch.Tensor) -> dict[str, float]:
        """The baselines' scores: computed once per held-out split (its noise is seeded, so every
        evaluation of a run sees the same inputs), not at every evaluation."""
        key = (len(clean), float(clean.sum()))
        if self._baselines_measured is None or self._baselines_measured[0] != key:
            measured = {}
            for name, restored in references.restore(noisy).items():
                measured[f"{name}_psnr"] = psnr_from_mse(float(((restored - clean) ** 2).mean()))
                measured[f"{name}_ssim"] = ssim(restored, clean)
            self._baselines_measured = (key, measured)
        return dict(self._baselines_measured[1])

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        """before_after.png: one held-out item per class (``showcase``) in labelled rows: the clean
        input, the input with the evaluation's masking noise, and the model's output."""
        from ...plots import plot_image_rows

        clean = torch.stack([images_of(test_data[i]) for i in showcase(test_data)])
        probability = self.options.get("eval_mask_prob", 0.5)
        noisy = mask_pixels(clean, probability, torch.Generator().manual_seed(0))
        with inference(self.model):
            restored = self.model(noisy.to(self.device)).clamp(0, 1).cpu()
        plot_image_rows([clean, noisy, restored], ["input", "noisy", "output"], folder / "before_after.png",
                        title=f"denoising: each pixel zeroed with p = {probability}")
        return ["before_after.png"]


def showcase(test_data: Any, count: int = 10) -> list[int]:
    """Indices of varied held-out items for the before/after image: the first item of each class
    (in class order, among the first 2,000) when the items carry two or more labels, else every
    tenth of the first 100."""
    first: dict[int, int] = {}
    for i in range(min(len(test_data), 2_000)):
        item = test_data[i]
        if not isinstance(item, list | tuple) or len(item) < 2:
            break
        first.setdefault(int(item[1]), i)
        if len(first) == count:
            break
    if len(first) >= 2:
        return [first[label] for label in sorted(first)][:count]
    return list(range(0, min(len(test_data), 10 * count), 10))
