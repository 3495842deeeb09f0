"""The series' fully-connected overcomplete denoising autoencoder (784 -> 1176 -> 784)."""

from __future__ import annotations

import torch
from torch import nn

from aezoo.modeling import image_batch, inference


class FCDenoisingAE(nn.Module):
    """Linear(784 -> 1176), leaky_relu, Linear(1176 -> 784), sigmoid: 1.5x overcomplete."""

    def __init__(self, image_size: int = 28, channels: int = 1, hidden: int = 1176,
                 negative_slope: float = 0.01) -> None:
        super().__init__()
        for name, value in (("image_size", image_size), ("channels", channels), ("hidden", hidden)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        self.image_shape = (channels, image_size, image_size)
        features = channels * image_size * image_size
        self.negative_slope = negative_slope
        self.encoder = nn.Linear(features, hidden)
        self.decoder = nn.Linear(hidden, features)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        flat = images.reshape(images.shape[0], -1)
        hidden = nn.functional.leaky_relu(self.encoder(flat), self.negative_slope)
        return torch.sigmoid(self.decoder(hidden)).reshape(images.shape)

    def denoise(self, images: torch.Tensor) -> torch.Tensor:
        """Clean up (N, C, H, W) or (N, H, W) float images in [0, 1]; returns the same shape."""
        batch, squeeze = image_batch(self, images, "denoise")  # refuses NaN / inf pixels by name
        if batch.shape[0] == 0:
            return images.new_empty(images.shape)  # an empty batch gives an empty batch
        with inference(self):
            restored = self(batch).to(images.device, images.dtype)
        return restored.squeeze(1) if squeeze else restored


def build(image_size: int = 28, channels: int = 1, hidden: int = 1176, negative_slope: float = 0.01) -> FCDenoisingAE:
    return FCDenoisingAE(image_size, channels, hidden, negative_slope)
