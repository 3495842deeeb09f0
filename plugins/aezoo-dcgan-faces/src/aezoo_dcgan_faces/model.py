"""DCGAN as in pytorch/examples (Radford et al., 2015), built from its config.

``image_size`` sets the number of up- and down-sampling stages: the generator starts from a 4x4
map and doubles it ``log2(image_size / 4)`` times; the discriminator mirrors it. With
``image_size=64, channels=3, nz=100, ngf=ndf=64`` this is exactly the pytorch/examples DCGAN for
CelebA (generator 3,576,704 parameters, discriminator 2,765,568); the shipped 32x32 grayscale
model comes from the same code with one stage fewer.

Images are (N, C, H, W) floats in [0, 1] at the API; the networks work in [-1, 1] (Tanh output).
The discriminator returns logits (pytorch/examples ends it with a Sigmoid and uses BCELoss; a
logit with BCEWithLogits is the same model, numerically safer).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from aezoo.modeling import inference


def _stages(image_size: int) -> int:
    stages = int(round(math.log2(image_size / 4))) if image_size >= 8 else 0
    if stages < 1 or 4 * 2**stages != image_size:
        raise ValueError(f"DCGAN image_size must be a power of two >= 8 (4 * 2**k), got {image_size}.")
    return stages


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02); BatchNorm weight ~ N(1, 0.02), bias 0."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """z (N, nz, 1, 1) -> ConvT 4x4 -> [ConvT stride 2, BN, ReLU] x (stages - 1) -> ConvT -> Tanh."""

    def __init__(self, image_size: int, channels: int, nz: int, ngf: int) -> None:
        super().__init__()
        stages = _stages(image_size)
        width = ngf * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True),
        ]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2),
                       nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Discriminator(nn.Module):
    """Images in [-1, 1] -> Conv stride 2, LeakyReLU -> [Conv stride 2, BN, LeakyReLU] x (stages - 1)
    -> Conv 4x4 -> one logit per image."""

    def __init__(self, image_size: int, channels: int, ndf: int) -> None:
        super().__init__()
        stages = _stages(image_size)
        layers: list[nn.Module] = [nn.Conv2d(channels, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for _ in range(stages - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2),
                       nn.LeakyReLU(0.2, inplace=True)]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=False)]
        self.main = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).flatten()


class DCGAN(nn.Module):
    """Generator and discriminator in one module, so a checkpoint holds both and fine-tuning
    continues adversarial training.

    ``sample(n, seed=)`` and ``generate(z)`` return images in [0, 1]; ``discriminate(images)``
    takes images in [0, 1] and returns one logit per image (real > 0).
    """

    def __init__(self, image_size: int = 64, channels: int = 3, nz: int = 100, ngf: int = 64, ndf: int = 64) -> None:
        super().__init__()
        self.image_size, self.channels, self.nz = image_size, channels, nz
        self.generator = Generator(image_size, channels, nz, ngf)
        self.discriminator = Discriminator(image_size, channels, ndf)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] from latent codes (N, nz) or (N, nz, 1, 1), differentiable."""
        return (self.generator(self._latent(z)) + 1) / 2

    def _latent(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        if z.dim() != 4 or z.shape[1] != self.nz or z.shape[2:] != (1, 1):
            raise ValueError(f"Latent codes must be shaped (N, {self.nz}) or (N, {self.nz}, 1, 1), "
                             f"got {tuple(z.shape)}.")
        param = next(self.generator.parameters())
        return z.to(device=param.device, dtype=param.dtype)

    def latent(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``n`` codes from the prior N(0, I), shaped (n, nz); drawn on the CPU so a seed gives the
        same codes on every device."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        return torch.randn(n, self.nz, generator=generator)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) in [0, 1] from latent codes; the generator runs in eval mode
        (BatchNorm running statistics), so each image depends on its own code only."""
        with inference(self.generator, deterministic=True):
            return self(z).clamp(0, 1).to(z.device)

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``n`` images (n, C, H, W) in [0, 1]; the same seed gives the same images."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError(f"sample() takes a number of images n >= 0, got {n!r}.")
        param = next(self.generator.parameters())
        return self.generate(self.latent(n, seed).to(param.device))  # sampled images live with the model

    def discriminate(self, images: torch.Tensor) -> torch.Tensor:
        """The discriminator's logit for each image (N, C, H, W) in [0, 1], in eval mode."""
        expected = (self.channels, self.image_size, self.image_size)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"discriminate() takes images shaped (N, {', '.join(map(str, expected))}), "
                             f"got {tuple(images.shape)}.")
        with inference(self.discriminator):
            param = next(self.discriminator.parameters())
            logits = self.discriminator(images.to(device=param.device, dtype=param.dtype) * 2 - 1)
        return logits.to(images.device)


def build(image_size: int = 64, channels: int = 3, nz: int = 100, ngf: int = 64, ndf: int = 64) -> DCGAN:
    return DCGAN(image_size, channels, nz, ngf, ndf)

