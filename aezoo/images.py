"""Reading and writing image grids (PIL), for demos, cards and the CLI."""

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
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return path
