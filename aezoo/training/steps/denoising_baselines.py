"""The classical denoisers a sceptical reader tries before a denoising autoencoder, fitted on the
clean training images: ridge regression from noisy to clean pixels, projection onto the top
principal components, and k-nearest-neighbour regression. ``DenoisingStep`` re-measures them
next to the model (recipe option ``baselines``); ``benchmarks/denoise_baselines.py`` chooses their
settings on a validation part of the training split and adds the series' own recipe.

Each works on flattened images (N, D) in [0, 1] corrupted by pixel masking with probability ``p``.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import mask_pixels

RIDGE_SEED = 1  # the masks of the ridge fit's two noisy copies of every training image


def fit_ridge(noisy: np.ndarray, clean: np.ndarray, alphas: list[float]) -> dict[float, np.ndarray]:
    """Closed-form ridge maps (with an unpenalised bias row last) for each alpha."""
    x = np.hstack([noisy, np.ones((len(noisy), 1))]).astype(np.float64)
    gram, cross = x.T @ x, x.T @ clean.astype(np.float64)
    out = {}
    for alpha in alphas:
        penalty = alpha * np.eye(len(gram))
        penalty[-1, -1] = 0.0
        out[alpha] = np.linalg.solve(gram + penalty, cross)
    return out


def apply_ridge(weights: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    return noisy @ weights[:-1] + weights[-1]


def noisy_pairs(clean: torch.Tensor, p: float, copies: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``copies`` masked versions of every image (seeded), beside the clean targets."""
    generator = torch.Generator().manual_seed(RIDGE_SEED)
    noisy = torch.cat([mask_pixels(clean, p, generator) for _ in range(copies)]).numpy()
    return noisy, torch.cat([clean] * copies).numpy()


def pca_basis(clean: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and principal directions (columns, by decreasing variance) of clean images, in float64."""
    flat = clean.double()
    mean = flat.mean(0)
    centred = flat - mean
    values, vectors = torch.linalg.eigh(centred.T @ centred)
    return mean, vectors[:, values.argsort(descending=True)]


def apply_pca(mean: torch.Tensor, basis: torch.Tensor, k: int, noisy: torch.Tensor, p: float) -> torch.Tensor:
    """Rescale by 1 / (1 - p) (an unbiased estimate of the clean image), project on the top k."""
    estimate = noisy.double() / (1 - p) - mean
    top = basis[:, :k]
    return ((estimate @ top) @ top.T + mean).float()


def knn_predict(reference: torch.Tensor, noisy: torch.Tensor, ks: list[int], p: float) -> dict[int, torch.Tensor]:
    """Average of the k nearest clean images (1 / distance weights), found by comparing the noisy
    image with each clean image's expected noisy version (1 - p) * clean."""
    keys = reference * (1 - p)
    key_norms = (keys**2).sum(1)
    out = {k: torch.empty_like(noisy) for k in ks}
    for i in range(0, len(noisy), 500):
        chunk = noisy[i : i + 500]
        distance = ((chunk**2).sum(1, keepdim=True) - 2 * chunk @ keys.T + key_norms).clamp_min(0).sqrt()
        nearest, index = distance.topk(max(ks), dim=1, largest=False)
        for k in ks:
            weights = 1.0 / (nearest[:, :k] + 1e-6)
            weighted = (reference[index[:, :k]] * weights.unsqueeze(-1)).sum(1)
            out[k][i : i + 500] = weighted / weights.sum(1, keepdim=True)
    return out


class DenoisingBaselines:
    """Ridge, PCA and kNN denoisers fitted on clean training images with fixed settings."""

    def __init__(self, clean: torch.Tensor, p: float, *, ridge_alpha: float, pca_components: int,
                 knn_neighbours: int) -> None:
        self.p = p
        self.reference = clean.flatten(1).float()
        self.ridge = fit_ridge(*noisy_pairs(self.reference, p), [ridge_alpha])[ridge_alpha]
        self.mean, self.basis = pca_basis(self.reference)
        self.components = min(int(pca_components), self.basis.shape[1])
        self.neighbours = min(int(knn_neighbours), len(self.reference))

    def restore(self, noisy: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each baseline's restoration of ``noisy`` (N, C, H, W), clamped to [0, 1], in its shape."""
        flat = noisy.flatten(1).float().cpu()
        restored = {
            "ridge": torch.from_numpy(apply_ridge(self.ridge, flat.numpy())).float(),
            "pca": apply_pca(self.mean, self.basis, self.components, flat, self.p),
            "knn": knn_predict(self.reference, flat, [self.neighbours], self.p)[self.neighbours],
        }
        return {name: image.reshape(noisy.shape).clamp(0, 1) for name, image in restored.items()}
