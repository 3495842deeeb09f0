"""Adversarial autoencoders (Makhzani et al., 2016): three phases per batch, three optimizers.

1. reconstruction: encoder + decoder minimise the per-pixel MSE (optimizer ``"autoencoder"``);
2. discriminator: the latent discriminator learns to call prior samples N(0, I) real and
   encoder codes fake (binary cross-entropy; optimizer ``"discriminator"``);
3. regularisation ("generator"): the encoder alone learns to make the discriminator call its
   codes real (optimizer ``"generator"``).

Each phase has its own Adam optimizer and learning rate; the engine saves and restores all of
them, so an interrupted run resumes exactly. Under torchrun each phase's ``optimize`` averages its
gradients over the processes, and the prior samples are drawn for the global batch. The model
must offer (``contracts.AAEModel``) ``encoder``, ``forward``
(reconstruction), ``discriminate(z)``, ``prior(n, generator)`` and the parameter groups
``autoencoder_parameters()``, ``discriminator_parameters()``, ``encoder_parameters()``.

Recipe options:
  ``lr_disc_factor``, ``lr_gen_factor``: the learning rates of phases 2 and 3 as multiples of the
  recipe's ``lr`` (phase 1's), so a fine-tune that lowers ``lr`` lowers all three (default 1);
  ``betas``: Adam betas of all three (default (0.5, 0.999), as for adversarial training);
  ``recon_weight``, ``adv_weight``: the weights of the reconstruction and the regularisation
  losses (each phase has its own Adam optimizer, which is almost invariant to a loss's scale, so
  the learning rates are what balances the phases; the weights matter with ``adv_weight=0``,
  which turns the model into a plain autoencoder with an idle discriminator);
  ``flip``, ``shift``: augmentation (random horizontal flips, shifts up to ``shift`` pixels);
  ``schedule``: "constant" or "cosine", applied to all three learning rates;
  ``baselines``: also measure PCA / probabilistic PCA at the latent size (``aezoo.training.steps.generative``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from .base import augment, batch_draw, evaluating, images_of
from .contracts import AAEModel
from .generative import METRIC_PROTOCOLS, SEED, GenerativeStep

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

    from .contracts import AAEModule

EVAL_PRIOR_SAMPLES = 1000
EVAL_SEED = 0


class AAEStep(GenerativeStep):
    """Reconstruction, discriminator and regularisation phases of an adversarial autoencoder."""

    contract = AAEModel
    model: AAEModule

    metric_protocols = {
        "mse": (
            "reconstruction MSE per pixel on [0, 1], pooled over the held-out images (no noise, no augmentation)", ""),
        "psnr": ("PSNR of that pooled MSE (data range 1)", "dB"),
        "code_mean": (
            "mean over latent dimensions of |mean of the held-out codes|; the prior N(0, I) gives 0 in the limit, "
            "n exact prior draws about sqrt(2 / (pi n)) (0.18 for n = 20)", ""),
        "code_std": ("mean over latent dimensions of the std of the held-out codes (the prior N(0, I) gives 1)", ""),
        "code_mmd": (
            f"unbiased MMD^2 between the held-out codes and {EVAL_PRIOR_SAMPLES} prior samples (seed {EVAL_SEED}), "
            "Gaussian kernel exp(-|x - y|^2 / (2 d)) with d the latent size; about 0 when codes follow N(0, I)", ""),
        "disc_accuracy": (
            f"balanced accuracy of the latent discriminator at logit 0: held-out codes as fake vs {EVAL_PRIOR_SAMPLES} "
            f"prior samples (seed {EVAL_SEED}) as real; 0.5 = it cannot tell codes from the prior, below 0.5 = the "
            "encoder currently fools it", ""),
        **METRIC_PROTOCOLS,
    }

    def _phase_lrs(self) -> dict[str, float]:
        lr = self.recipe.lr
        return {
            "autoencoder": lr,
            "discriminator": lr * float(self.options.get("lr_disc_factor", 1.0)),
            "generator": lr * float(self.options.get("lr_gen_factor", 1.0)),
        }

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        model = self.model
        betas = tuple(self.options.get("betas", (0.5, 0.999)))
        lrs = self._phase_lrs()
        return {
            "autoencoder": torch.optim.Adam(model.autoencoder_parameters(), lr=lrs["autoencoder"], betas=betas),
            "discriminator": torch.optim.Adam(model.discriminator_parameters(), lr=lrs["discriminator"], betas=betas),
            "generator": torch.optim.Adam(model.encoder_parameters(), lr=lrs["generator"], betas=betas),
        }

    def start_epoch(self, epoch: int, epochs: int) -> None:
        schedule = self.options.get("schedule", "constant")
        factor = 0.5 * (1 + math.cos(math.pi * epoch / epochs)) if schedule == "cosine" else 1.0
        for name, lr in self._phase_lrs().items():
            for group in self.optimizers[name].param_groups:
                group["lr"] = lr * factor

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        model = self.model
        images = augment(images_of(batch), flip=bool(self.options.get("flip", False)),
                         shift=int(self.options.get("shift", 0))).to(self.device)
        bce = nn.functional.binary_cross_entropy_with_logits
        n = images.shape[0]
        ones = torch.ones(n, device=self.device)
        zeros = torch.zeros(n, device=self.device)

        # 1. reconstruction: encoder + decoder
        recon = nn.functional.mse_loss(model(images), images)
        self.optimize(float(self.options.get("recon_weight", 1.0)) * recon, "autoencoder")

        # 2. discriminator: prior samples are real, encoder codes are fake
        with torch.no_grad():
            fake = model.encoder(images)
        real = batch_draw(model.prior, n)
        disc = 0.5 * (bce(model.discriminate(real), ones) + bce(model.discriminate(fake), zeros))
        self.optimize(disc, "discriminator")

        # 3. regularisation: the encoder makes the discriminator call its codes real
        for p in model.discriminator_parameters():
            p.requires_grad_(False)
        try:
            gen = bce(model.discriminate(model.encoder(images)), ones)
            self.optimize(float(self.options.get("adv_weight", 1.0)) * gen, "generator")
        finally:
            for p in model.discriminator_parameters():
                p.requires_grad_(True)
        return {"recon": recon.detach(), "disc": disc.detach(), "gen": gen.detach()}

    @evaluating
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        model = self.model
        squared, count, codes, held_out = 0.0, 0, [], []
        for batch in loader:
            images = images_of(batch).to(self.device)
            z = model.encoder(images)
            squared += float(((model(images) - images) ** 2).sum())  # forward = decode(encode(.))
            held_out.append(images.cpu())
            count += images.numel()
            codes.append(z.float().cpu())
        prior = model.prior(EVAL_PRIOR_SAMPLES, torch.Generator().manual_seed(EVAL_SEED))
        fake_logits = model.discriminate(torch.cat(codes).to(self.device)).cpu()
        real_logits = model.discriminate(prior).cpu()
        z = torch.cat(codes)
        mse = squared / count
        spread = z.std(0, unbiased=True) if len(z) > 1 else torch.zeros(z.shape[1])
        metrics = {
            "mse": mse,
            "psnr": 10 * math.log10(1 / max(mse, 1e-12)),
            "code_mean": float(z.mean(0).abs().mean()),
            "code_std": float(spread.mean()),
            "code_mmd": mmd_squared(z, prior.float().cpu()),
            "disc_accuracy": 0.5 * (float((real_logits > 0).float().mean()) + float((fake_logits <= 0).float().mean())),
        }
        references = self.references
        if references is not None:
            test = torch.cat(held_out)
            samples = model.sample(references.swd_size(test), seed=SEED)
            metrics |= references.reconstruction_baselines(test) | references.sample_metrics(samples, test)
        return metrics

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        """``samples.png``: 64 images decoded from prior codes (seed 0). Held-out images and their
        reconstructions stay out: a data set's terms (CelebA's) may forbid publishing images made from it."""
        from ...images import save_grid

        save_grid(self.model.sample(64, seed=SEED).cpu(), folder / "samples.png", rows=8)
        return ["samples.png"]


def mmd_squared(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD^2 between samples ``x`` (n, d) and ``y`` (m, d), Gaussian kernel of variance d."""
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    scale = 2.0 * x.shape[1]

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.exp(-torch.cdist(a.double(), b.double()).pow(2) / scale)

    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    n, m = len(x), len(y)
    within_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    within_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(within_x + within_y - 2 * kxy.mean())
