"""What a generative model is measured against: held-out faces, training faces and the simple
baselines a sceptical reader tries first, shared by the VAE, AAE and GAN steps.

- samples: the multi-scale sliced Wasserstein distance (``aezoo.swd``, Karras et al. 2018) between
  model samples (seed 0) and the held-out images; next to it, with ``options["baselines"]``, the
  same distance for samples of probabilistic PCA with as many components as the model has latent
  dimensions (``ppca_swd``), and for real training images (``real_swd``, the floor);
  (the training images are the first ``MAX_TRAIN_IMAGES`` of the split, so memory stays bounded)
- copies: the RMS distance from each sample to its nearest training image, next to the same
  distance for held-out real images (a model that copies training images scores far below it);
- reconstructions: the MSE of PCA with the model's latent size (``pca_mse``) and of the mean face.
"""

from __future__ import annotations

from typing import Any

import torch

from ...baselines import PCABaseline
from ...swd import sliced_wasserstein
from .base import TrainingStep, images_of

SEED = 0  # samples, PPCA draws, SWD projections and the real training subset all use seed 0
MAX_SWD_IMAGES = 2000  # images per set in the sample distances (the held-out split's size, if smaller)
MAX_TRAIN_IMAGES = 20_000  # training images kept (the first, by index): 1 GB at 64x64 RGB, whatever the data set
DISTANCE_BATCH = 512

METRIC_PROTOCOLS: dict[str, tuple[str, str]] = {
    "swd": (
        "multi-scale sliced Wasserstein distance (Karras et al. 2018: 7x7 patches of the Laplacian pyramid down to "
        f"16x16, 128 per image, 512 projections, x1e3, averaged over levels; seed {SEED}) between model samples "
        f"(seed {SEED}) and as many held-out images (all of them, at most {MAX_SWD_IMAGES:,}); lower is better", ""),
    "ppca_swd": (
        "baseline: the same distance for samples of probabilistic PCA (Tipping & Bishop 1999) fitted on the training "
        "images with as many components as the model's latent size", ""),
    "real_swd": (
        f"floor: the same distance for as many real training images (drawn with seed {SEED}): what a perfect sampler "
        "of this data set scores at this sample size", ""),
    "nearest_train_distance": (
        f"mean over the samples of the RMS pixel distance (images in [0, 1]) to the nearest training image (the "
        f"first {MAX_TRAIN_IMAGES:,}); far below "
        "heldout_nearest_train_distance = copies of training images", ""),
    "min_nearest_train_distance": ("the smallest of those distances: near 0 = at least one copied training image", ""),
    "heldout_nearest_train_distance": (
        "mean over the held-out images of the RMS pixel distance to the nearest training image: what new faces score",
        ""),
    "pca_mse": (
        "baseline for mse: held-out images reconstructed by PCA fitted on the training images with as many components "
        "as the model's latent size; MSE per pixel on [0, 1], clamped to [0, 1]", ""),
    "mean_face_mse": ("baseline for mse: every held-out image predicted by the mean training image; MSE per pixel", ""),
}


class GenerativeStep(TrainingStep):
    """Base of the VAE, AAE and GAN steps: their ``references`` (``GenerativeReferences``; with
    ``options["baselines"]`` also the PCA / PPCA baselines), fitted once before the first evaluation."""

    latent_attribute = "latent_dim"  # the model member that holds its latent size

    def __init__(self, model: Any, recipe: Any, device: torch.device) -> None:
        super().__init__(model, recipe, device)
        self.references: GenerativeReferences | None = None

    def fit_references(self, train_data: Any) -> None:
        self.references = GenerativeReferences(train_data, int(getattr(self.model, self.latent_attribute)),
                                               baselines=bool(self.options.get("baselines", False)))


def stack_images(data: Any, limit: int | None = None) -> torch.Tensor:
    """The images of a data set as one float tensor on the CPU (by slicing, for in-memory sets)."""
    count = len(data) if limit is None else min(len(data), limit)
    tensors = getattr(data, "tensors", None)
    if isinstance(tensors, tuple) and tensors and torch.is_tensor(tensors[0]):
        batch = tuple(t[:count] for t in tensors)
        decode = getattr(data, "decode", None)
        return images_of(decode(batch) if decode else batch).float().cpu()
    return torch.stack([images_of(data[i]) for i in range(count)]).float().cpu()


def nearest_distances(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """RMS pixel distance from each of ``images`` to its nearest image of ``reference``."""
    a, b = images.flatten(1).float(), reference.flatten(1).float()
    b_norms = (b * b).sum(1)
    nearest = []
    for chunk in a.split(DISTANCE_BATCH):
        squared = (chunk * chunk).sum(1, keepdim=True) - 2 * chunk @ b.T + b_norms
        nearest.append(squared.min(1).values.clamp_min(0))
    return (torch.cat(nearest) / a.shape[1]).sqrt()


class GenerativeReferences:
    """The training images and the baselines fitted on them, kept for every evaluation of a run."""

    def __init__(self, train_data: Any, latent_dim: int, *, baselines: bool) -> None:
        self.train = stack_images(train_data, MAX_TRAIN_IMAGES)
        self.mean_image = self.train.mean(0)
        components = min(int(latent_dim), self.train.shape[0] - 1, self.train[0].numel() - 1)
        self.pca = PCABaseline().fit(self.train, components, seed=SEED) if baselines and components > 0 else None
        self._fixed: dict[int, dict[str, float]] = {}  # per held-out size: what does not depend on the model

    def swd_size(self, test: torch.Tensor) -> int:
        return min(len(test), MAX_SWD_IMAGES)

    def sample_metrics(self, samples: torch.Tensor, test: torch.Tensor) -> dict[str, float]:
        """Distances of ``samples`` (as many as ``swd_size(test)``) to the held-out and training images."""
        n = self.swd_size(test)
        test, samples = test[:n].float().cpu(), samples[:n].float().cpu()
        metrics = {"swd": sliced_wasserstein(samples, test, seed=SEED)["swd_avg"]}
        if n not in self._fixed:
            fixed = {"heldout_nearest_train_distance": float(nearest_distances(test, self.train).mean())}
            if self.pca is not None:
                real = self.train[torch.randperm(len(self.train), generator=torch.Generator().manual_seed(SEED))[:n]]
                fixed["ppca_swd"] = sliced_wasserstein(self.pca.sample(n, seed=SEED), test, seed=SEED)["swd_avg"]
                fixed["real_swd"] = sliced_wasserstein(real, test, seed=SEED)["swd_avg"]
            self._fixed[n] = fixed
        nearest = nearest_distances(samples, self.train)
        metrics["nearest_train_distance"] = float(nearest.mean())
        metrics["min_nearest_train_distance"] = float(nearest.min())
        return metrics | self._fixed[n]

    def reconstruction_baselines(self, test: torch.Tensor) -> dict[str, float]:
        """MSE per pixel of the mean face and, with baselines, of PCA at the model's latent size."""
        test = test.float().cpu()
        metrics = {"mean_face_mse": float(((test - self.mean_image) ** 2).mean())}
        if self.pca is not None:
            metrics["pca_mse"] = float(((self.pca.reconstruct(test) - test) ** 2).mean())
        return metrics
