"""Writing images and image grids (PIL), for demos, cards and the CLI; reading is ``aezoo.data.images.read_images``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def save_grid(images: torch.Tensor, path: Path, *, rows: int | None = None, scale: int = 2) -> Path:
    """Save (N, C, H, W) images in [0, 1] as one PNG grid, ``rows`` rows (square by default)."""
    import math

    from PIL import Image
    from torchvision.utils import make_grid

    n = images.shape[0]
    per_row = math.ceil(n / rows) if rows else math.ceil(math.sqrt(n))
    grid = make_grid(images.detach().float().clamp(0, 1).cpu(), nrow=per_row, padding=2, pad_value=1.0)
    array = (grid.mul(255).round().byte().permute(1, 2, 0).numpy())
    picture = Image.fromarray(array[:, :, 0] if images.shape[1] == 1 else array)
    if scale != 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return path


def save_image(image: torch.Tensor, path: Path) -> Path:
    """Save one (C, H, W) or (H, W) image in [0, 1] as PNG."""
    from PIL import Image

    array = image.detach().float().clamp(0, 1).mul(255).round().byte().cpu()
    array = array.squeeze(0) if array.dim() == 3 and array.shape[0] == 1 else array
    array = array.permute(1, 2, 0) if array.dim() == 3 else array
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array.numpy()).save(path)
    return path

