"""Re-measure a model's card metrics on the card's protocol (or on other data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .api import import_object, load
from .errors import TrainingError


def evaluate(name_or_path: str | Path, *, data: Any = None, device: str = "auto") -> dict[str, float]:
    """Load a model and measure its task metrics with its family step on the held-out split of
    ``data`` (the recipe's data set by default: the card's protocol)."""
    import torch

    from .data.resolve import resolve_data

    model = load(name_or_path, device=device)
    spec = model.aezoo.spec
    if spec.recipe is None:
        raise TrainingError(f"{spec.name} has no recipe, so no evaluation protocol.", "Ask its plugin's author for one.")
    splits = resolve_data(spec.recipe.dataset if data is None else data, spec, model.aezoo.preprocessing)
    step = import_object(spec.recipe.step)(model, spec.recipe, next(model.parameters()).device)
    return step.evaluate(torch.utils.data.DataLoader(splits.test, batch_size=256))
