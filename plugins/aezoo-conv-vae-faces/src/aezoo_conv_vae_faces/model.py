"""Convolutional VAE for faces, in the style of pythae and AntixK/PyTorch-VAE.

Encoder: stride-2 4x4 convolutions, each followed by BatchNorm and LeakyReLU, one stage per
halving from ``image_size`` down to 4x4 (32 -> 3 stages, 64 -> 4 stages); two linear heads give
the Gaussian posterior's mean and log-variance. Decoder: a linear layer back to 4x4, transposed
4x4 stride-2 convolutions (BatchNorm, LeakyReLU) up to ``image_size``, and a 3x3 convolution to
``channels`` logits; images are ``sigmoid(logits)`` in [0, 1]. The config alone fixes the
architecture, so the shipped 32x32 grayscale model and a CelebA 64x64 RGB one come from ``build``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from aezoo.modeling import image_batch, inference


class VAEOutput(NamedTuple):
    """What ``forward`` returns for the ELBO: decoder logits of one posterior sample ``z``, and the
    posterior's mean and log-variance."""

    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


def stages_for(image_size: int) -> int:
    """Stride-2 stages from ``image_size`` down to 4x4 (``image_size`` a power of two, >= 8)."""
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= 8 (the encoder halves it to 4x4), got {image_size}.")
    return image_size.bit_length() - 3


class ConvVAE(nn.Module):
    """Convolutional VAE. API on (N, C, H, W) float images in [0, 1]:
    ``encode`` (posterior mean), ``decode``, ``reconstruct``, ``sample(n, seed=None)``.
    These run in eval mode without gradients; ``forward``, ``posterior`` and ``decode_logits``
    are the differentiable pieces training uses."""

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 1,
        latent_dim: int = 32,
        widths: Sequence[int] = (32, 64, 128),
        negative_slope: float = 0.2,
    ) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        stages = stages_for(image_size)
        if len(widths) != stages:
            raise ValueError(
                f"image_size {image_size} needs {stages} stride-2 stages down to 4x4, so {stages} widths; "
                f"got {len(widths)}: {widths}."
            )
        self.image_shape = (channels, image_size, image_size)
        self.latent_dim = latent_dim
        self.top = widths[-1]

        encoder: list[nn.Module] = []
        previous = channels
        for width in widths:
            encoder += [nn.Conv2d(previous, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width),
                        nn.LeakyReLU(negative_slope)]
            previous = width
        self.encoder = nn.Sequential(*encoder, nn.Flatten())
        self.fc_mu = nn.Linear(self.top * 16, latent_dim)
        self.fc_logvar = nn.Linear(self.top * 16, latent_dim)

        self.fc_decode = nn.Linear(latent_dim, self.top * 16)
        decoder: list[nn.Module] = [nn.LeakyReLU(negative_slope)]
        upward = widths[::-1] + [widths[0]]  # e.g. 128 -> 64 -> 32 -> 32: one transposed conv per stage
        for width_in, width_out in zip(upward, upward[1:], strict=False):
            decoder += [nn.ConvTranspose2d(width_in, width_out, 4, 2, 1, bias=False), nn.BatchNorm2d(width_out),
                        nn.LeakyReLU(negative_slope)]
        decoder.append(nn.Conv2d(widths[0], channels, 3, 1, 1))
        self.decoder = nn.Sequential(*decoder)

    # -- differentiable pieces -------------------------------------------------------------
    def posterior(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance (N, latent_dim) of q(z | x)."""
        hidden = self.encoder(images)
        return self.fc_mu(hidden), self.fc_logvar(hidden)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder logits (N, C, H, W); the pixel means are their sigmoid."""
        return self.decoder(self.fc_decode(z).view(-1, self.top, 4, 4))

    def forward(self, images: torch.Tensor) -> VAEOutput:
        """One reparameterised posterior sample per image, for the ELBO."""
        mu, logvar = self.posterior(images)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return VAEOutput(self.decode_logits(z), mu, logvar, z)

    # -- the task API (eval mode, no gradients: aezoo.modeling) --------------------------------
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """The posterior mean (N, latent_dim) of each image."""
        batch, _ = image_batch(self, images, "encode")
        with inference(self):
            return self.posterior(batch)[0].to(images.device)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) in [0, 1] (the Bernoulli means) from latent codes (N, latent_dim)."""
        if not torch.is_tensor(z) or z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"decode() takes latent codes shaped (N, {self.latent_dim}), got "
                             f"{tuple(z.shape) if torch.is_tensor(z) else type(z).__name__}.")
        param = next(self.parameters())
        with inference(self):
            return torch.sigmoid(self.decode_logits(z.to(device=param.device, dtype=param.dtype))).to(z.device)

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """Decode each image's posterior mean; returns the input's shape, in [0, 1]."""
        batch, _ = image_batch(self, images, "reconstruct")
        with inference(self):
            restored = torch.sigmoid(self.decode_logits(self.posterior(batch)[0])).to(images.device, images.dtype)
        return restored.reshape(images.shape)

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``n`` images from the prior N(0, I), in [0, 1]; the same ``seed`` gives the same images."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"sample() takes a number of images n >= 0, got {n!r}.")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        z = torch.randn(n, self.latent_dim, generator=generator)
        param = next(self.parameters())
        with inference(self, deterministic=True):
            return torch.sigmoid(self.decode_logits(z.to(device=param.device, dtype=param.dtype)))


def build(
    image_size: int = 32,
    channels: int = 1,
    latent_dim: int = 32,
    widths: Sequence[int] = (32, 64, 128),
    negative_slope: float = 0.2,
) -> ConvVAE:
    return ConvVAE(image_size, channels, latent_dim, widths, negative_slope)
