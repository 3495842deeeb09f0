"""The base of the family steps: what one training step and one evaluation mean for a kind of autoencoder.

The engine (``aezoo.train.engine``) owns the loop, checkpoints, seeding and progress; a step
owns its optimizers, its losses and its metrics. A recipe names its step by import string, so
third-party families plug in the same way.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ...spec import Recipe

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

    def start_epoch(self, epoch: int, epochs: int) -> None:
        """Set each optimizer's learning rate for this epoch. A function of the epoch alone, so a
        resumed run follows the same schedule: ``options["schedule"]`` is "constant" or "cosine"."""
        schedule = self.options.get("schedule", "constant")
        factor = 0.5 * (1 + math.cos(math.pi * epoch / epochs)) if schedule == "cosine" else 1.0
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = self.recipe.lr * factor

    def optimize(self, loss: torch.Tensor, optimizer: str = "model") -> None:
        """One gradient step of ``loss`` with the named optimizer."""
        chosen = self.optimizers[optimizer]
        chosen.zero_grad(set_to_none=True)
        loss.backward()
        chosen.step()

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def prepare(self, train_data: Any) -> None:
        """Called once before training (fresh or resumed): fit what must be known before the first
        batch, from the whole training split (e.g. normalisation statistics held in buffers)."""

    def fit_references(self, train_data: Any) -> None:
        """Called once before the first evaluation (by the engine, and by ``aezoo.evaluate``): keep what
        ``evaluate`` compares the model with (training images, the mean face, baselines fitted on the
        training split). Never changes the model."""

    def calibrate(self, train_data: Any) -> None:
        """Called after each epoch, before ``evaluate``: fit anything derived from the training
        data rather than learned by gradient (an anomaly threshold, normalisation statistics)."""

    @torch.no_grad()
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        raise NotImplementedError

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        """Write sample or before/after images into the checkpoint folder; return their names."""
        return []


def random_shift(images: torch.Tensor, pixels: int) -> torch.Tensor:
    """Shift each image by up to ``pixels`` in x and y (zero fill): cheap augmentation for small sets.
    The offsets come from the CPU generator (resumable, the same on every device); the shift is one
    gather on the images' device."""
    if pixels <= 0:
        return images
    padded = nn.functional.pad(images, (pixels, pixels, pixels, pixels))
    offsets = torch.randint(0, 2 * pixels + 1, (images.shape[0], 2)).to(images.device)
    height, width = images.shape[-2:]
    rows = offsets[:, 0, None] + torch.arange(height, device=images.device)  # (N, H)
    cols = offsets[:, 1, None] + torch.arange(width, device=images.device)  # (N, W)
    batch = torch.arange(images.shape[0], device=images.device)[:, None, None]
    return padded[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()  # from (N, H, W, C)


def augment(images: torch.Tensor, *, flip: bool = False, shift: int = 0) -> torch.Tensor:
    """Random horizontal flips and shifts, for the small data sets the shipped weights train on."""
    if flip:
        flipped = (torch.rand(images.shape[0]) < 0.5).to(images.device)
        images = torch.where(flipped.view(-1, 1, 1, 1), images.flip(-1), images)
    return random_shift(images, shift)


def mask_pixels(images: torch.Tensor, drop: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """The masking noise of the series: each pixel is zeroed with probability ``drop``, kept as is
    otherwise (no 1/(1-p) rescaling, unlike nn.Dropout)."""
    keep = torch.rand(images.shape, generator=generator, device="cpu").to(images.device) >= drop
    return images * keep
