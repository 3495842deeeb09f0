"""Family steps: what one training step and one evaluation mean for each kind of autoencoder.

The engine (``aezoo.train.engine``) owns the loop, checkpoints, seeding and progress; a step
owns its optimizers, its losses and its metrics. A recipe names its step by import string, so
third-party families plug in the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..metrics import psnr_from_mse, ssim
from ..spec import Recipe

if TYPE_CHECKING:
    from torch.utils.data import DataLoader


def images_of(batch: Any) -> torch.Tensor:
    """The image tensor of a batch (a bare tensor, or the first item of a (x, y) pair)."""
    return batch[0] if isinstance(batch, list | tuple) else batch


class TrainingStep:
    """Base of the family steps.

    ``train_batch`` runs one optimisation step and returns its losses (detached scalars) for the
    progress bar and the finiteness check; ``evaluate`` returns the task's metrics on a held-out
    loader; ``metric_protocols`` says, for the card, how each metric was measured.
    """

    metric_protocols: dict[str, tuple[str, str]] = {}  # name -> (protocol, unit)

    def __init__(self, model: nn.Module, recipe: Recipe, device: torch.device) -> None:
        self.model = model
        self.recipe = recipe
        self.device = device
        self.options: dict[str, Any] = dict(recipe.options)
        self.optimizers = self.configure_optimizers()

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = tuple(self.options.get("betas", (0.9, 0.999)))
        return {"model": torch.optim.Adam(self.model.parameters(), lr=self.recipe.lr, betas=betas)}

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        raise NotImplementedError

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        """Write sample or before/after images into the checkpoint folder; return their names."""
        return []


def mask_pixels(images: torch.Tensor, drop: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """The masking noise of the series: each pixel is zeroed with probability ``drop``, kept as is
    otherwise (no 1/(1-p) rescaling, unlike nn.Dropout)."""
    keep = torch.rand(images.shape, generator=generator, device="cpu").to(images.device) >= drop
    return images * keep


class DenoisingStep(TrainingStep):
    """Denoising AE: corrupt with pixel masking, reconstruct the clean image under MSE."""

    metric_protocols = {
        "psnr": ("pixel masking noise, each pixel zeroed with p=0.5 (fixed seed 0); PSNR of the pooled MSE on [0, 1]", "dB"),
        "ssim": ("same noisy inputs; mean SSIM (Gaussian window 11, sigma 1.5, data range 1)", ""),
        "noisy_psnr": ("PSNR of the noisy input itself, for reference", "dB"),
    }

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        clean = images_of(batch).to(self.device)
        noisy = mask_pixels(clean, self.options.get("mask_prob", 0.5))
        loss = nn.functional.mse_loss(self.model(noisy), clean)
        optimizer = self.optimizers["model"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": loss.detach()}

    @torch.no_grad()
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        self.model.eval()
        generator = torch.Generator().manual_seed(0)
        squared, noisy_squared, count = 0.0, 0.0, 0
        outputs, targets = [], []
        for batch in loader:
            clean = images_of(batch).to(self.device)
            noisy = mask_pixels(clean, self.options.get("eval_mask_prob", 0.5), generator)
            restored = self.model(noisy).clamp(0, 1)
            squared += float(((restored - clean) ** 2).sum())
            noisy_squared += float(((noisy - clean) ** 2).sum())
            count += clean.numel()
            outputs.append(restored.cpu())
            targets.append(clean.cpu())
        self.model.train()
        return {
            "psnr": psnr_from_mse(squared / count),
            "ssim": ssim(torch.cat(outputs), torch.cat(targets)),
            "noisy_psnr": psnr_from_mse(noisy_squared / count),
        }

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        from ..images import save_grid

        clean = torch.stack([images_of(test_data[i]) for i in range(0, min(len(test_data), 100), 10)])
        noisy = mask_pixels(clean, self.options.get("eval_mask_prob", 0.5), torch.Generator().manual_seed(0))
        self.model.eval()
        with torch.no_grad():
            restored = self.model(noisy.to(self.device)).clamp(0, 1).cpu()
        self.model.train()
        save_grid(torch.cat([noisy, restored, clean]), folder / "before_after.png", rows=3)
        return ["before_after.png"]
