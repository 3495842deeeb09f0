"""Train a model from scratch with its recipe, or fine-tune pretrained weights, in one call."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api import ModelInfo, build, import_object, load, model_info, pick_device, pop_hub_options
from ..card import render_model_card
from ..checkpoint import CheckpointConfig
from ..errors import AezooError, TrainingError
from ..registry import get_registry
from ..spec import CardData, Metric, ModelSpec, Recipe
from .events import require_tensorboard

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
    overwrite: bool = False,
    force_resume: bool = False,
    tensorboard: bool = False,
    **overrides: Any,
) -> torch.nn.Module:
    """Train ``name`` from scratch with its recipe (overridable: ``lr=``, ``batch_size=``, ``seed=``)
    on ``data`` (the recipe's data set by default); returns the trained model, also saved to
    ``output_dir`` (default ``runs/NAME``) as a checkpoint that ``aezoo.load`` reads. The model's
    ``history`` lists one dict per epoch (losses, held-out metrics, lr, samples/s), as the folder's
    ``metrics.csv`` does.

    ``config`` overrides keys of the spec's architecture config (e.g. a 64x64 RGB shape); the
    preprocessing keys it shares (``image_size``, ``channels``) follow it, so the data does too.

    ``output_dir`` must be new, empty or an aezoo run folder (which resumes); ``overwrite=True``
    lets aezoo write its files into a folder holding others. A resume with other settings than the
    saved state's is refused unless ``force_resume=True`` (see docs/training.md). ``tensorboard=True``
    also writes TensorBoard events into ``output_dir/tensorboard`` (needs the tensorboard package)."""
    if tensorboard:
        require_tensorboard()
    spec = get_registry().get(name)
    recipe = _recipe(spec, epochs, overrides)
    from .engine import seed_everything

    seed_everything(recipe.seed)  # the initial weights belong to the run: same seed, same weights
    model_config = {**spec.config, **(config or {})}
    preprocessing = {**spec.preprocessing, **{k: v for k, v in model_config.items() if k in spec.preprocessing}}
    try:
        model = build(spec, model_config)
    except AezooError:
        raise
    except (RuntimeError, ValueError, TypeError, OverflowError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise TrainingError(
            f"{spec.name} cannot be built with config {json.dumps(config or {})} ({type(exc).__name__}: {reason}).",
            f"Check the values against 'aezoo info {spec.name}'.",
        ) from exc
    # torch types Module.__setattr__'s value as Tensor | Module; any value is set as a plain attribute
    model.aezoo = ModelInfo(spec.name, model_config, preprocessing, spec.card, None, spec)  # type: ignore[assignment]
    return _run(spec, model, recipe, data, output_dir, device=device, resume=resume, progress=progress, base=None,
                overwrite=overwrite, force_resume=force_resume, tensorboard=tensorboard)


def finetune(
    name_or_path: str | Path,
    *,
    data: Any,
    output_dir: str | Path | None = None,
    epochs: int = 5,
    device: str = "auto",
    resume: bool = True,
    progress: bool | None = None,
    overwrite: bool = False,
    force_resume: bool = False,
    tensorboard: bool = False,
    **overrides: Any,
) -> torch.nn.Module:
    """Start from pretrained weights (a name, folder or ``hf://`` reference) and train on ``data``
    with the model's recipe; the learning rate defaults to a tenth of the recipe's. ``output_dir``,
    ``overwrite``, ``force_resume`` and ``tensorboard`` are as for ``train``; ``revision``,
    ``cache_dir``, ``local_files_only`` and ``token`` as for ``aezoo.load``."""
    if tensorboard:
        require_tensorboard()
    model = load(name_or_path, device="cpu", **pop_hub_options(overrides))
    spec = model_info(model).spec
    overrides.setdefault("lr", spec.recipe.lr / 10 if spec.recipe else 1e-4)
    recipe = _recipe(spec, epochs, overrides)
    return _run(spec, model.train(), recipe, data, output_dir, device=device, resume=resume, progress=progress,
                base=str(name_or_path), overwrite=overwrite, force_resume=force_resume, tensorboard=tensorboard)


def _recipe(spec: ModelSpec, epochs: int | None, overrides: dict[str, Any]) -> Recipe:
    if spec.recipe is None:
        raise TrainingError(f"{spec.name} has no training recipe.", "Ask its plugin's author for one.")
    fields = {f.name for f in dataclasses.fields(Recipe)}
    unknown = set(overrides) - fields
    if unknown:
        raise TrainingError(f"Unknown recipe settings {sorted(unknown)}.", f"Known: {sorted(fields)}.")
    options = {**spec.recipe.options, **overrides.pop("options", {})}
    recipe = dataclasses.replace(spec.recipe, options=options, **overrides)
    recipe = recipe if epochs is None else dataclasses.replace(recipe, epochs=epochs)
    _check_recipe(recipe)
    return recipe


def _check_recipe(recipe: Recipe) -> None:
    """The values a user can set, checked before anything is built or read."""
    def whole(value: Any, low: int, high: int | None = None) -> bool:
        return (isinstance(value, int) and not isinstance(value, bool) and value >= low
                and (high is None or value <= high))

    problems = []
    if not isinstance(recipe.lr, int | float) or isinstance(recipe.lr, bool) or not math.isfinite(recipe.lr) \
            or recipe.lr <= 0:
        problems.append(f"lr {recipe.lr!r} (must be a finite number above 0)")
    if not whole(recipe.batch_size, 1):
        problems.append(f"batch_size {recipe.batch_size!r} (must be a whole number from 1)")
    if not whole(recipe.epochs, 1):
        problems.append(f"epochs {recipe.epochs!r} (must be a whole number from 1)")
    if not whole(recipe.seed, 0, MAX_SEED):
        problems.append(f"seed {recipe.seed!r} (must be a whole number from 0 to {MAX_SEED})")
    if not isinstance(recipe.options, dict):
        problems.append("options (must be a dict)")
    if problems:
        raise TrainingError(f"Cannot train with {'; '.join(problems)}.", "Fix these settings and run again.")


MAX_SEED = 2**32 - 1  # the engine derives per-epoch seeds from it (seed * 100003 + epoch) within 64 bits


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
    overwrite: bool = False,
    force_resume: bool = False,
    tensorboard: bool = False,
) -> torch.nn.Module:
    """Checks first, cheapest first, all before the first step: the device, the output folder
    (claimed and locked), a resume's settings, the data; then the engine runs."""
    from ..data.resolve import resolve_data
    from .distributed import rank_and_world
    from .engine import check_resume, fit, run_settings
    from .output import STATE_DIR, RunFolder
    from .state import read_settings

    output = Path(output_dir) if output_dir is not None else Path("runs") / spec.name
    loaded = getattr(model, "aezoo", None)
    config = dict(loaded.config if loaded else spec.config)
    checkpoint = CheckpointConfig(spec.name, config, _preprocessing(model, spec))
    target = _device(device)
    with RunFolder(output, overwrite=overwrite, enabled=rank_and_world()[0] == 0) as folder:
        if resume:
            check_resume(read_settings(output / STATE_DIR), run_settings(recipe, checkpoint), force=force_resume,
                         output_dir=output)
        splits = resolve_data(recipe.dataset if data is None else data, spec, _preprocessing(model, spec))
        step_class = import_object(recipe.step)
        step = step_class(model.to(target), recipe, target)
        card = _card_writer(spec, step_class, splits, recipe, target, base)
        result = fit(step, splits.train, splits.test, recipe=recipe, output_dir=output, checkpoint=checkpoint,
                     resume=resume, progress=progress, card=card, run_folder=folder, force_resume=force_resume,
                     tensorboard=tensorboard)
    trained = load(output, device=str(target))
    # one row per epoch, as in the run folder's metrics.csv (a plain attribute: see train)
    trained.history = result.history  # type: ignore[assignment]
    return trained


def _device(device: str) -> torch.device:
    """The training device, refused by name when it is not one torch knows or not on this machine."""
    import torch

    try:
        target = pick_device(device)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise TrainingError(f"Unknown device {device!r} ({exc}).", "Use cuda, cuda:N, mps, cpu or auto.") from exc
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if not available.get(target.type, False):
        raise TrainingError(f"Device {device!r} is not available on this machine.",
                            "Use --device auto (or cpu) to train on what is here.")
    if target.type == "cuda" and target.index is not None and target.index >= torch.cuda.device_count():
        raise TrainingError(f"Device {device!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s).",
                            "Use --device cuda (the first GPU) or auto.")
    return target


def _card_writer(spec: ModelSpec, step_class: Any, splits: Splits, recipe: Recipe, target: torch.device,
                 base: str | None) -> Any:

    def card(metrics: dict[str, float], result: FitResult) -> str:
        return render_model_card(
            spec,
            _measured_card(spec, step_class, splits, recipe, metrics, result, target, base),
            image=result.artifacts[0] if result.artifacts else None,
        )

    return card


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
    if len(result.parts) > 1:  # resumed with other settings (force_resume): say which epochs had which
        from .engine import setting_differences

        first = result.parts[0]["settings"]
        described = []
        for part in result.parts:
            a, b = part["epochs"]
            changed = setting_differences(first, part["settings"])
            extra = "".join(f", {c.split(' -> ')[0]} {c.split(' -> ')[1]}" for c in changed
                            if c.split(" ")[0] not in ("lr", "batch_size", "seed"))
            span = f"epochs {a + 1}-{b}" if b > a + 1 else f"epoch {b}"
            described.append(f"{span}: batch {part['settings'].get('batch_size')}, "
                             f"lr {part['settings'].get('lr')}, seed {part['settings'].get('seed')}{extra}")
        training = (
            f"{start} on {splits.description}; {splits.split}. {result.epochs} epochs, {result.steps} steps "
            f"({result.samples:,} samples), on {device.type}, resumed with other settings (force_resume): "
            + "; ".join(described) + "."
        )
    else:
        training = (
            f"{start} on {splits.description}; {splits.split}. {result.epochs} epochs, {result.steps} steps of batch "
            f"{recipe.batch_size}{f' on each of {result.processes} processes' if result.processes > 1 else ''} "
            f"({result.samples:,} samples), lr {recipe.lr}, seed {recipe.seed}, on {device.type}."
        )
    return dataclasses.replace(spec.card, metrics=measured, training_data=training)

