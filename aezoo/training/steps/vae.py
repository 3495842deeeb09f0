"""Variational autoencoders: maximise the ELBO, a reconstruction likelihood minus KL to the prior.

The likelihood is Bernoulli on pixel intensities in [0, 1] (binary cross-entropy against the
decoder's logits, summed over pixels, as in Kingma & Welling and pythae's ``BCE``
reconstruction loss); the prior is N(0, I) and the KL is the closed form for a diagonal Gaussian
posterior. The model's ``forward(images)`` returns ``(logits, mu, logvar, ...)`` for one
reparameterised sample; for evaluation it has ``posterior(images) -> (mu, logvar)`` and
``decode_logits(z)``.

Recipe options: ``beta`` (KL weight, default 1), ``kl_warmup`` (the fraction of the run's epochs
over which the KL weight rises linearly to beta, default 0: none; a fraction, so it scales with
``--epochs``), ``flip`` and ``shift``
(augmentation), ``baselines`` (PCA / probabilistic PCA at the latent size, see
``aezoo.training.steps.generative``), plus the base step's ``schedule`` and ``betas``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .base import augment, evaluating, images_of, own_randomness
from .contracts import VAEModel
from .generative import METRIC_PROTOCOLS, SEED, GenerativeStep

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

    from .contracts import VAEModule

EVAL_SEED = 0
EVAL_SAMPLES = 8  # posterior samples per held-out image in the ELBO's likelihood term


def bernoulli_nll(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) per image (nats), Bernoulli likelihood on [0, 1] pixels: BCE summed over pixels."""
    return nn.functional.binary_cross_entropy_with_logits(logits, images, reduction="none").flatten(1).sum(1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per image (nats)."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)


class VAEStep(GenerativeStep):
    """ELBO training of a VAE (Bernoulli likelihood, N(0, I) prior, optional beta and KL warm-up)."""

    contract = VAEModel
    model: VAEModule

    metric_protocols = {
        "mse": ("held-out images reconstructed from their posterior mean (decoder sigmoid output, no sampling); "
                "MSE per pixel on [0, 1]", ""),
        "neg_elbo": ("negative ELBO per held-out image: Bernoulli likelihood on [0, 1] pixels (BCE summed over "
                     "pixels) averaged over 8 posterior samples (seed 0), plus the closed-form KL to N(0, I); "
                     "beta = 1 whatever the training beta", "nats"),
        "kl": ("closed-form KL(q(z|x) || N(0, I)) per held-out image, the ELBO's rate term", "nats"),
        **METRIC_PROTOCOLS,
    }

    def __init__(self, model: nn.Module, recipe: Any, device: torch.device) -> None:
        super().__init__(model, recipe, device)
        self.kl_weight = float(self.options.get("beta", 1.0))

    def start_epoch(self, epoch: int, epochs: int) -> None:
        super().start_epoch(epoch, epochs)
        beta = float(self.options.get("beta", 1.0))
        warmup = float(self.options.get("kl_warmup", 0.0)) * epochs
        self.kl_weight = beta * min(1.0, (epoch + 1) / warmup) if warmup > 0 else beta

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        images = augment(images_of(batch), flip=bool(self.options.get("flip", False)),
                         shift=int(self.options.get("shift", 0))).to(self.device)
        with own_randomness(self.device):  # the reparameterisation noise: independent on each rank
            logits, mu, logvar = self.model(images)[:3]
        reconstruction = bernoulli_nll(logits, images).mean()
        kl = gaussian_kl(mu, logvar).mean()
        loss = reconstruction + self.kl_weight * kl
        self.optimize(loss)
        return {"loss": loss.detach(), "rec": reconstruction.detach(), "kl": kl.detach()}

    @evaluating
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        model = self.model
        generator = torch.Generator().manual_seed(EVAL_SEED)
        squared, nll, kl, pixels, images_seen, held_out = 0.0, 0.0, 0.0, 0, 0, []
        for batch in loader:
            images = images_of(batch).to(self.device)
            mu, logvar = model.posterior(images)
            restored = torch.sigmoid(model.decode_logits(mu))
            squared += float(((restored - images) ** 2).sum())
            held_out.append(images.cpu())
            std = torch.exp(0.5 * logvar)
            for _ in range(EVAL_SAMPLES):
                z = mu + std * torch.randn(mu.shape, generator=generator).to(self.device)
                nll += float(bernoulli_nll(model.decode_logits(z), images).sum()) / EVAL_SAMPLES
            kl += float(gaussian_kl(mu, logvar).sum())
            pixels += images.numel()
            images_seen += images.shape[0]
        metrics = {"mse": squared / pixels, "neg_elbo": (nll + kl) / images_seen, "kl": kl / images_seen}
        if self.references is not None:
            test = torch.cat(held_out)
            samples = model.sample(self.references.swd_size(test), seed=SEED)
            metrics |= self.references.reconstruction_baselines(test) | self.references.sample_metrics(samples, test)
        return metrics

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        """``samples.png``: 64 images from the prior (seed 0). Held-out images and their reconstructions
        stay out: a data set's terms (CelebA's) may forbid publishing images made from it."""
        from ...images import save_grid

        save_grid(self.model.sample(64, seed=SEED).cpu(), folder / "samples.png", rows=8)
        return ["samples.png"]
