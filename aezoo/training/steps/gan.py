"""GANs: a discriminator step and a generator step per batch, each with its own optimizer.

The model is one module with ``.generator`` (latent (N, nz, 1, 1) -> images in [-1, 1]) and
``.discriminator`` (images in [-1, 1] -> one logit per image), and ``nz``; ``sample(n, seed=)``
returns images in [0, 1] (the DCGAN of ``aezoo-dcgan-faces`` is the reference). Batches of real
images arrive in [0, 1] and are mapped to [-1, 1] here.

Options (``recipe.options``):
    betas            Adam betas of both optimizers, default (0.5, 0.999) as in DCGAN.
    label_smoothing  one-sided label smoothing: real targets are ``1 - label_smoothing`` (default 0).
    flip, shift      augmentation of the real images: random horizontal flips, shifts of up to
                     ``shift`` pixels (default off).
    eval_samples     generated images used by ``evaluate`` (default 256).
    schedule         "constant" (default) or "cosine", for both learning rates.

Without an Inception network FID cannot be measured here (see ``aezoo.fid`` for FID with a
user-supplied weights file); ``evaluate`` reports what can be measured honestly instead: how well
the discriminator tells held-out real images from generated ones, how diverse the samples are,
and how close they sit to the training images (memorisation), each next to the same statistic of
the held-out real images for reference; and, through ``aezoo.training.steps.generative``, the sliced
Wasserstein distance of the samples to the held-out images, beside probabilistic PCA's samples and
real training images when ``options["baselines"]`` is on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .base import augment, batch_draw, evaluating, images_of
from .contracts import GANModel
from .generative import METRIC_PROTOCOLS, GenerativeStep

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

    from .contracts import GANModule

EVAL_SEED = 0  # latent seed of the generated images that evaluate() and write_artifacts() use
MAX_REFERENCE = 2000  # held-out images the discriminator and diversity statistics use (the first, by index)


def _rms_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """RMS pixel distance between every image of ``a`` and every image of ``b``: (len(a), len(b))."""
    a, b = a.flatten(1).double(), b.flatten(1).double()
    squared = (a * a).sum(1, keepdim=True) - 2 * a @ b.T + (b * b).sum(1)
    return (squared.clamp_min(0) / a.shape[1]).sqrt()


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean RMS pixel distance over all pairs of distinct images (a simple diversity statistic)."""
    n = images.shape[0]
    if n < 2:
        return float("nan")
    distances = _rms_distances(images, images)
    return float(distances.sum() / (n * (n - 1)))


class GANStep(GenerativeStep):
    """Non-saturating GAN loss (Goodfellow et al. 2014; DCGAN, Radford et al. 2015): per batch,
    the discriminator learns real -> 1 and generated -> 0 (BCE on logits), then the generator
    learns to make the updated discriminator say 1 for its images."""

    contract = GANModel
    model: GANModule
    latent_attribute = "nz"

    metric_protocols = {
        "d_accuracy": (
            "discriminator (eval mode) accuracy, logit > 0 = real, averaged over the held-out real images and "
            f"as many generated images (latent seed {EVAL_SEED}); 0.5 = cannot tell them apart, 1 = always can", ""),
        "d_real_accuracy": ("share of held-out real images the discriminator calls real", ""),
        "d_fake_accuracy": (f"share of generated images (latent seed {EVAL_SEED}) the discriminator calls fake", ""),
        "sample_diversity": (
            f"mean RMS pixel distance (images in [0, 1]) over all pairs of the generated images (latent seed "
            f"{EVAL_SEED}; 256 unless the recipe says otherwise); near 0 = mode collapse; compare real_diversity", ""),
        "real_diversity": ("mean RMS pixel distance over all pairs of the held-out real images", ""),
        **{k: v for k, v in METRIC_PROTOCOLS.items() if k not in ("pca_mse", "mean_face_mse")},  # no reconstructions
    }

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = tuple(self.options.get("betas", (0.5, 0.999)))
        return {
            "discriminator": torch.optim.Adam(self.model.discriminator.parameters(), lr=self.recipe.lr, betas=betas),
            "generator": torch.optim.Adam(self.model.generator.parameters(), lr=self.recipe.lr, betas=betas),
        }

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        model = self.model
        images = augment(images_of(batch), flip=bool(self.options.get("flip", False)),
                         shift=int(self.options.get("shift", 0)))
        real = images.to(self.device) * 2 - 1
        n = real.shape[0]
        # Latents from the CPU generator the engine seeds and checkpoints: resumable and device-independent;
        # under torchrun drawn for the global batch, this rank's rows taken (batch_draw).
        z = batch_draw(lambda count: torch.randn(count, model.nz, 1, 1), n).to(self.device)
        bce = nn.functional.binary_cross_entropy_with_logits
        real_target = torch.full((n,), 1.0 - float(self.options.get("label_smoothing", 0.0)), device=self.device)
        ones, zeros = torch.ones(n, device=self.device), torch.zeros(n, device=self.device)

        fake = model.generator(z)
        d_real, d_fake = model.discriminator(real), model.discriminator(fake.detach())
        loss_d = bce(d_real, real_target) + bce(d_fake, zeros)
        self.optimize(loss_d, "discriminator")

        loss_g = bce(model.discriminator(fake), ones)  # non-saturating: maximise log D(G(z))
        self.optimize(loss_g, "generator")
        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(),
                "d_real": torch.sigmoid(d_real).mean().detach(), "d_fake": torch.sigmoid(d_fake).mean().detach()}

    @evaluating
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        model = self.model
        held_out = torch.cat([images_of(batch).cpu() for batch in loader])  # the engine may hold it on a GPU
        real = held_out[:MAX_REFERENCE]
        samples = model.sample(int(self.options.get("eval_samples", 256)), seed=EVAL_SEED).cpu()
        fakes_for_d = samples[: len(real)]
        real_accuracy = float((model.discriminate(real) > 0).float().mean())
        fake_accuracy = float((model.discriminate(fakes_for_d) <= 0).float().mean())
        metrics = {
            "d_accuracy": (real_accuracy + fake_accuracy) / 2,
            "d_real_accuracy": real_accuracy,
            "d_fake_accuracy": fake_accuracy,
            "sample_diversity": mean_pairwise_distance(samples),
            "real_diversity": mean_pairwise_distance(real),
        }
        if self.references is not None:
            swd_samples = model.sample(self.references.swd_size(held_out), seed=EVAL_SEED).cpu()
            metrics |= self.references.sample_metrics(swd_samples, held_out)
        return metrics

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        from ...images import save_grid

        save_grid(self.model.sample(64, seed=EVAL_SEED).cpu(), folder / "samples.png", rows=8)
        return ["samples.png"]
