"""Task metrics, each computed exactly as the model cards state.

- PSNR: ``10 log10(1 / MSE)`` over the MSE pooled across every pixel of the split, images in [0, 1].
- SSIM: torchmetrics' SSIM (Gaussian window 11, sigma 1.5, data range 1), averaged over images.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def psnr_from_mse(mse: float) -> float:
    return float("inf") if mse == 0 else 10.0 * math.log10(1.0 / mse)


def ssim(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """Mean SSIM of (N, C, H, W) images in [0, 1]."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    return float(structural_similarity_index_measure(predicted.float(), target.float(), data_range=1.0))
