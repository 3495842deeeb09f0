"""Re-measure a model's card metrics on the card's protocol (or on other data)."""

from __future__ import annotations

from collections.abc import Sized
from pathlib import Path
from typing import Any, Unpack, cast

from .api import HubOptions, import_object, load, model_info
from .errors import TrainingError


def evaluate(
    name_or_path: str | Path,
    *,
    data: Any = None,
    device: str = "auto",
    inception_weights: str | Path | None = None,
    **hub: Unpack[HubOptions],
) -> dict[str, float]:
    """Load a model and measure its task metrics with its family step on the held-out split of
    ``data`` (the recipe's data set by default: the card's protocol). ``revision``, ``cache_dir``,
    ``local_files_only`` and ``token`` are as for ``aezoo.load``.

    With ``inception_weights`` (a safetensors file of the FID Inception, see ``aezoo.fid``), a
    generative model also gets ``fid``: held-out real images against as many samples (seed 0)."""
    import torch

    from .data.resolve import resolve_data

    model = load(name_or_path, device=device, **hub)
    info = model_info(model)
    spec = info.spec
    if spec.recipe is None:
        raise TrainingError(f"{spec.name} has no recipe, so no evaluation protocol.",
                            "Ask its plugin's author for one.")
    splits = resolve_data(spec.recipe.dataset if data is None else data, spec, info.preprocessing)
    step = import_object(spec.recipe.step)(model, spec.recipe, next(model.parameters()).device)
    step.fit_references(splits.train)
    metrics = step.evaluate(torch.utils.data.DataLoader(splits.test, batch_size=256))
    if inception_weights is not None:
        from .fid import fid

        sample = getattr(model, "sample", None)
        if not callable(sample):
            raise TrainingError(f"FID needs a generative model; {spec.name} has no sample().", "Drop --inception.")
        count = len(cast(Sized, splits.test))  # torch's Dataset declares no __len__; a split's datasets have one
        real = torch.stack([splits.test[i][0] for i in range(count)])
        metrics["fid"] = fid(real, sample(len(real), seed=0).cpu(), inception_weights)
    return metrics
