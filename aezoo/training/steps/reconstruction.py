"""Plain autoencoders: reconstruct the input under MSE; the metric is held-out MSE per element."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .base import TrainingStep, evaluating, images_of

if TYPE_CHECKING:
    from torch.utils.data import DataLoader


class ReconstructionStep(TrainingStep):
    """Minimise the mean squared reconstruction error of any tensor-shaped input."""

    metric_protocols = {"mse": ("mean squared reconstruction error per element on the held-out split", "")}

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        inputs = images_of(batch).to(self.device)
        loss = nn.functional.mse_loss(self.model(inputs), inputs)
        self.optimize(loss)
        return {"loss": loss.detach()}

    @evaluating
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        squared, count = 0.0, 0
        for batch in loader:
            inputs = images_of(batch).to(self.device)
            squared += float(((self.model(inputs) - inputs) ** 2).sum())
            count += inputs.numel()
        return {"mse": squared / max(count, 1)}
