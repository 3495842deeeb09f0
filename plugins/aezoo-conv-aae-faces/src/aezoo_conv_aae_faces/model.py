"""Convolutional adversarial autoencoder (Makhzani et al., 2016) for faces.

A deterministic conv encoder maps an image to a latent code, a conv decoder maps codes back to
images, and a small MLP discriminator on the latent code learns to tell encoder codes from
samples of the prior N(0, I). The discriminator is part of the module, so a checkpoint carries
it and fine-tuning continues the adversarial game where training left it.

One builder serves every shape: ``len(widths)`` stride-2 convolutions halve ``image_size`` down
to ``image_size / 2**len(widths)``, so the shipped 32x32 grayscale model (widths 32-64-128) and
a CelebA 64x64 RGB model (for example widths 128-256-512-1024, latent 64, as in pythae) come
from the same code.
"""

from __future__ import annotations

import torch
from torch import nn

from aezoo.modeling import image_batch, inference

NORMS = ("batch", "none")


def _norm(kind: str, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.Identity()


class ConvAAE(nn.Module):
    """Encoder, decoder and latent discriminator of an adversarial autoencoder.

    Images are (N, C, H, W) floats in [0, 1] at the API boundary; the decoder ends in a sigmoid.
    """

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 1,
        latent_dim: int = 32,
        widths: tuple[int, ...] | list[int] = (32, 64, 128),
        disc_hidden: tuple[int, ...] | list[int] = (128, 128),
        norm: str = "batch",
    ) -> None:
        super().__init__()
        widths, disc_hidden = tuple(int(w) for w in widths), tuple(int(h) for h in disc_hidden)
        if not widths:
            raise ValueError("widths must name at least one convolution width.")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}.")
        if image_size % 2 ** len(widths):
            raise ValueError(
                f"image_size {image_size} is not divisible by 2**{len(widths)} ({len(widths)} stride-2 convolutions)."
            )
        self.image_shape = (channels, image_size, image_size)
        self.latent_dim = latent_dim
        self.base = image_size // 2 ** len(widths)
        self.widths = widths

        layers: list[nn.Module] = []
        previous = channels
        for width in widths:
            layers += [nn.Conv2d(previous, width, 4, 2, 1, bias=norm == "none"), _norm(norm, width), nn.LeakyReLU(0.2)]
            previous = width
        self.encoder = nn.Sequential(*layers, nn.Flatten(), nn.Linear(widths[-1] * self.base**2, latent_dim))

        self.decoder_input = nn.Linear(latent_dim, widths[-1] * self.base**2)
        layers = []
        reversed_widths = list(reversed(widths))
        for width, following in zip(reversed_widths, reversed_widths[1:], strict=False):
            layers += [nn.ConvTranspose2d(width, following, 4, 2, 1, bias=norm == "none"), _norm(norm, following),
                       nn.ReLU()]
        layers += [nn.ConvTranspose2d(widths[0], channels, 4, 2, 1), nn.Sigmoid()]
        self.decoder = nn.Sequential(*layers)

        layers = []
        previous = latent_dim
        for hidden in disc_hidden:
            layers += [nn.Linear(previous, hidden), nn.LeakyReLU(0.2)]
            previous = hidden
        self.discriminator = nn.Sequential(*layers, nn.Linear(previous, 1))

    # -- the building blocks the training step uses ---------------------------------------------
    def encoder_parameters(self) -> list[nn.Parameter]:
        return list(self.encoder.parameters())

    def autoencoder_parameters(self) -> list[nn.Parameter]:
        return [*self.encoder.parameters(), *self.decoder_input.parameters(), *self.decoder.parameters()]

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return list(self.discriminator.parameters())

    def _decode(self, z: torch.Tensor) -> torch.Tensor:
        hidden = self.decoder_input(z).view(z.shape[0], self.widths[-1], self.base, self.base)
        return self.decoder(nn.functional.relu(hidden))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Reconstruct (autograd-enabled; the training step calls this)."""
        return self._decode(self.encoder(images))

    def discriminate(self, z: torch.Tensor) -> torch.Tensor:
        """Logits (N,) that ``z`` was drawn from the prior rather than produced by the encoder."""
        return self.discriminator(z).squeeze(1)

    def prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` codes from the prior N(0, I), drawn on the CPU (the same numbers on every device)."""
        param = next(self.parameters())
        return torch.randn(n, self.latent_dim, generator=generator).to(param.device, param.dtype)

    # -- the task API: inference in eval mode (aezoo.modeling), the mode restored after
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Latent codes (N, latent_dim) of images (N, C, H, W) in [0, 1]."""
        batch, _ = image_batch(self, images, "encode")
        with inference(self):
            return self.encoder(batch).to(images.device)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) in [0, 1] from codes (N, latent_dim)."""
        if not torch.is_tensor(z) or z.dim() != 2 or z.shape[1] != self.latent_dim:
            shape = tuple(getattr(z, "shape", ()))
            raise ValueError(f"decode() takes codes shaped (N, {self.latent_dim}), got {shape}.")
        param = next(self.parameters())
        with inference(self):
            return self._decode(z.to(param.device, param.dtype)).to(z.device)

    def reconstruct(self, images: torch.Tensor) -> torch.Tensor:
        """decode(encode(images)), in the input's shape, device and dtype."""
        batch, squeeze = image_batch(self, images, "reconstruct")
        with inference(self):
            restored = self._decode(self.encoder(batch)).to(images.device, images.dtype)
        return restored.squeeze(1) if squeeze else restored

    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``n`` images (n, C, H, W) in [0, 1] decoded from prior codes N(0, I); the same images for the
        same ``seed`` (drawn from a private generator, so the global RNG is left alone)."""
        if n < 0:
            raise ValueError(f"sample() needs n >= 0, got {n}.")
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        with inference(self, deterministic=True):
            return self._decode(self.prior(n, generator))


def build(
    image_size: int = 32,
    channels: int = 1,
    latent_dim: int = 32,
    widths: tuple[int, ...] | list[int] = (32, 64, 128),
    disc_hidden: tuple[int, ...] | list[int] = (128, 128),
    norm: str = "batch",
) -> ConvAAE:
    return ConvAAE(image_size, channels, latent_dim, widths, disc_hidden, norm)
