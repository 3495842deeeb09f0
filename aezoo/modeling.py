"""Building blocks for a model's task API (``denoise``, ``encode``, ``sample``...), shared by the
first-party models and open to third-party ones: the same input checks and the same inference
mode everywhere. Imported by model modules only (it imports torch)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import torch
from torch import nn


@contextmanager
def inference(module: nn.Module, *, deterministic: bool = False) -> Iterator[None]:
    """Eval mode (BatchNorm running statistics, no dropout) and no gradients; the module's mode
    is restored afterwards, so a task call in the middle of training changes nothing. ``no_grad``
    rather than ``inference_mode``: outputs stay ordinary tensors that users can feed to any
    other call, training included (inference tensors cannot be saved for backward).

    ``deterministic`` also makes cuDNN pick deterministic kernels (transposed convolutions run
    backward-data kernels that may sum in any order on a GPU): ``sample(n, seed=s)`` promises the
    same images on every call."""
    was_training = module.training
    if was_training:  # a loaded model is already in eval mode: no walk over its submodules then
        module.eval()
    try:
        with torch.no_grad():
            if deterministic:
                with torch.backends.cudnn.flags(enabled=torch.backends.cudnn.enabled, benchmark=False,
                                                deterministic=True):
                    yield
            else:
                yield
    finally:
        if was_training:
            module.train()


def image_batch(module: nn.Module, images: torch.Tensor, caller: str) -> tuple[torch.Tensor, bool]:
    """Check float images against ``module.image_shape`` (C, H, W); grayscale may come as (N, H, W).
    Returns the (N, C, H, W) batch on the module's device and dtype, and whether a channel axis
    was added (so the caller can give back the shape it was given).

    NaN or infinite pixels are refused (``InvalidInputError``): a model would only pass them on.
    An empty batch (N = 0) is valid; task methods give back an empty result for it."""
    from .errors import InputTypeError, InvalidInputError

    image_shape = cast("tuple[int, int, int]", module.image_shape)  # a plain attribute the model sets
    channels, height, width = image_shape
    if not torch.is_tensor(images) or not images.is_floating_point():
        what = f"a {images.dtype} tensor" if torch.is_tensor(images) else type(images).__name__
        raise InputTypeError(
            f"{caller}() takes a float tensor of images in [0, 1], got {what}.",
            "Convert it first, e.g. images.float() / 255 for 8-bit pixels.",
        )
    squeeze = images.dim() == 3 and channels == 1
    batch = images.unsqueeze(1) if squeeze else images
    if batch.dim() != 4 or tuple(batch.shape[1:]) != tuple(image_shape):
        raise InvalidInputError(
            f"{caller}() takes images shaped (N, {channels}, {height}, {width})"
            + (f" or (N, {height}, {width})" if channels == 1 else "")
            + f", got {tuple(images.shape)}.",
            "Resize the images to the model's input (model.aezoo.preprocessing).",
        )
    # One reduction, no mask: a NaN or infinite pixel always makes the sum non-finite (a finite sum
    # that overflows is rechecked pixel by pixel below).
    if batch.numel() and not bool(torch.isfinite(batch.sum())) and not bool(torch.isfinite(batch).all()):
        bad = int((~torch.isfinite(batch)).flatten(1).any(1).sum())
        raise InvalidInputError(
            f"{caller}() was given {bad} image(s) with NaN or infinite pixels.",
            "Clean or drop those images (torch.nan_to_num, or a mask with torch.isfinite) and try again.",
        )
    param = next(module.parameters())
    return batch.to(device=param.device, dtype=param.dtype), squeeze
