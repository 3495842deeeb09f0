"""Train a model from scratch with its recipe, or fine-tune pretrained weights, in one call."""

from __future__ import annotations

import dataclasses
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api import ModelInfo, build, import_object, load, pick_device
from ..card import render_card
from ..checkpoint import CheckpointConfig
from ..errors import TrainingError
from ..registry import get_registry
from ..spec import CardData, Metric, ModelSpec, Recipe

if TYPE_CHECKING:
    import torch

    from ..data import Splits
    from .engine import FitResult


def train(
    name: str,
    *,
    data: Any = None,
    output_dir: str | Path | None = None,
    epochs: int | None = None,
    device: str = "auto",
    resume: bool = True,
    progress: bool | None = None,
    config: dict[str, Any] | None = None,
    **overrides: Any,
) -> torch.nn.Module:
    """Train ``name`` from scratch with its recipe (overridable: ``lr=``, ``batch_size=``, ``seed=``)
    on ``data`` (the recipe's data set by default); returns the trained model, also saved to
    ``output_dir`` (default ``runs/NAME``) as a checkpoint that ``aezoo.load`` reads.

    ``config`` overrides keys of the spec's architecture config (e.g. a 64x64 RGB shape); the
    preprocessing keys it shares (``image_size``, ``channels``) follow it, so the data does too."""
    spec = get_registry().get(name)
    recipe = _recipe(spec, epochs, overrides)
    from .engine import seed_everything

    seed_everything(recipe.seed)  # the initial weights belong to the run: same seed, same weights
    model_config = {**spec.config, **(config or {})}
    preprocessing = {**spec.preprocessing, **{k: v for k, v in model_config.items() if k in spec.preprocessing}}
    model = build(spec, model_config)
    model.aezoo = ModelInfo(spec.name, model_config, preprocessing, spec.card, None, spec)
    return _run(spec, model, recipe, data, output_dir, device=device, resume=resume, progress=progress, base=None)


def finetune(
    name_or_path: str | Path,
    *,
    data: Any,
    output_dir: str | Path | None = None,
    epochs: int = 5,
    device: str = "auto",
    resume: bool = True,
    progress: bool | None = None,
    **overrides: Any,
) -> torch.nn.Module:
    """Start from pretrained weights (a name, folder or ``hf://`` reference) and train on ``data``
    with the model's recipe; the learning rate defaults to a tenth of the recipe's."""
    model = load(name_or_path, device="cpu")
    spec = model.aezoo.spec
    overrides.setdefault("lr", spec.recipe.lr / 10 if spec.recipe else 1e-4)
    recipe = _recipe(spec, epochs, overrides)
    return _run(spec, model.train(), recipe, data, output_dir, device=device, resume=resume, progress=progress,
                base=str(name_or_path))


def _recipe(spec: ModelSpec, epochs: int | None, overrides: dict[str, Any]) -> Recipe:
    if spec.recipe is None:
        raise TrainingError(f"{spec.name} has no training recipe.", "Ask its plugin's author for one.")
    fields = {f.name for f in dataclasses.fields(Recipe)}
    unknown = set(overrides) - fields
    if unknown:
        raise TrainingError(f"Unknown recipe settings {sorted(unknown)}.", f"Known: {sorted(fields)}.")
    options = {**spec.recipe.options, **overrides.pop("options", {})}
    recipe = dataclasses.replace(spec.recipe, options=options, **overrides)
    return recipe if epochs is None else dataclasses.replace(recipe, epochs=epochs)


def _run(
    spec: ModelSpec,
    model: torch.nn.Module,
    recipe: Recipe,
    data: Any,
    output_dir: str | Path | None,
    *,
    device: str,
    resume: bool,
    progress: bool | None,
    base: str | None,
) -> torch.nn.Module:
    from ..data.resolve import resolve_data
    from .engine import fit

    splits = resolve_data(recipe.dataset if data is None else data, spec, _preprocessing(model, spec))
    target = pick_device(device)
    step_class = import_object(recipe.step)
    step = step_class(model.to(target), recipe, target)
    output = Path(output_dir) if output_dir is not None else Path("runs") / spec.name
    loaded = getattr(model, "aezoo", None)
    config = dict(loaded.config if loaded else spec.config)
    checkpoint = CheckpointConfig(spec.name, config, _preprocessing(model, spec))

    def card(metrics: dict[str, float], result: FitResult) -> str:
        return render_card(
            name=spec.name,
            summary=spec.summary,
            task=spec.task,
            card=_measured_card(spec, step_class, splits, recipe, metrics, result, target, base),
            image=result.artifacts[0] if result.artifacts else None,
        )

    fit(step, splits.train, splits.test, recipe=recipe, output_dir=output, checkpoint=checkpoint,
        resume=resume, progress=progress, card=card)
    return load(output, device=device)


def _preprocessing(model: torch.nn.Module, spec: ModelSpec) -> dict[str, Any]:
    """A fine-tuned model keeps the preprocessing of the checkpoint it started from."""
    loaded = getattr(model, "aezoo", None)
    return dict(loaded.preprocessing if loaded else spec.preprocessing)


def _measured_card(
    spec: ModelSpec, step_class: Any, splits: Splits, recipe: Recipe, metrics: dict[str, float],
    result: FitResult, device: torch.device, base: str | None,
) -> CardData:
    protocols = step_class.metric_protocols
    measured = tuple(
        Metric(name=k, value=round(float(v), 6), dataset=splits.name, split="test",
               protocol=protocols.get(k, ("", ""))[0], unit=protocols.get(k, ("", ""))[1])
        for k, v in metrics.items()
    )
    start = f"fine-tuned from {base}" if base else "trained from scratch"
    training = (
        f"{start} on {splits.description}; {splits.split}. {result.epochs} epochs, {result.steps} steps of batch "
        f"{recipe.batch_size} ({result.samples:,} samples), lr {recipe.lr}, seed {recipe.seed}, on {device.type}."
    )
    return dataclasses.replace(spec.card, metrics=measured, training_data=training)


class _CallableModule(types.ModuleType):
    """Lets ``aezoo.train`` be both this package (``aezoo.train.engine``, ``aezoo.train.train``)
    and the one-call function (``aezoo.train("fc-dae-mnist")``), instead of one shadowing the other."""

    def __call__(self, name: str, **kwargs: Any) -> torch.nn.Module:
        return train(name, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
