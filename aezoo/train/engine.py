"""The one training loop every recipe runs on.

It owns what all families share: device choice, seeding and CPU determinism, data order, the
progress bar, per-epoch evaluation, atomic resumable state, the non-finite-loss stop and the
final Hub-shaped checkpoint folder.

Under ``torchrun`` (torch.distributed initialised by the caller) the same loop runs data-parallel:
each rank reads its shard through a DistributedSampler, ``step.model`` is wrapped in
DistributedDataParallel so gradients are averaged in ``backward``, and rank 0 alone writes state
and checkpoints. A step that calls submodules directly (``self.model.generator``) should call
them through ``unwrap(self.model)`` and run its forward through ``self.model`` where gradients
must be shared.
"""

from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from ..checkpoint import CheckpointConfig, save_checkpoint
from ..errors import NonFiniteLossError, TrainingError
from ..spec import Recipe
from .state import load_state, save_state
from .steps import TrainingStep

STATE_DIR = "training-state"


@dataclass
class FitResult:
    """What a run produced: the final metrics, their history, and where the checkpoint is."""

    metrics: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    epochs: int = 0
    steps: int = 0
    samples: int = 0
    seconds: float = 0.0
    artifacts: list[str] = field(default_factory=list)


def _distributed() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy

        numpy.random.seed(seed % 2**32)
    except ImportError:
        pass


def _loader(data: Dataset, batch_size: int, seed: int, epoch: int, world: int, *, shuffle: bool) -> DataLoader:
    """Data order depends only on (seed, epoch): a resumed run sees what an uninterrupted one saw."""
    if world > 1:
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(data, shuffle=shuffle, seed=seed)
        sampler.set_epoch(epoch)
        return DataLoader(data, batch_size=batch_size, sampler=sampler)
    if not shuffle:
        return DataLoader(data, batch_size=batch_size)
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return DataLoader(data, batch_size=batch_size, sampler=RandomSampler(data, generator=generator))


def fit(
    step: TrainingStep,
    train_data: Dataset,
    test_data: Dataset,
    *,
    recipe: Recipe,
    output_dir: Path,
    checkpoint: CheckpointConfig,
    epochs: int | None = None,
    resume: bool = True,
    progress: bool | None = None,
    card: Any = None,
) -> FitResult:
    """Train ``step.model`` for ``epochs`` (the recipe's by default) and write ``output_dir``.

    ``card`` is a callable ``(metrics, result) -> README markdown`` for the final folder.
    State is saved after every epoch under ``output_dir/training-state``; with ``resume`` a run
    continues from there. A non-finite loss stops the run with ``NonFiniteLossError``; the last
    good state stays on disk.
    """
    output_dir = Path(output_dir)
    epochs = recipe.epochs if epochs is None else epochs
    rank, world = _distributed()
    model, device = step.model, step.device
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)
    seed_everything(recipe.seed)
    step.prepare(train_data)  # before a resume restores the state, which then wins
    result = FitResult(metrics={})
    start_epoch = 0
    state_dir = output_dir / STATE_DIR
    if resume and (state := load_state(state_dir)) is not None:
        start_epoch = _restore(step, state, result)
        if start_epoch >= epochs:
            raise TrainingError(
                f"Nothing to train: {output_dir} already has {start_epoch} of {epochs} epochs.",
                "Ask for more epochs, pass resume=False (--no-resume) to start over, or use another output folder.",
            )
    if progress is None:
        progress = sys.stderr.isatty() and rank == 0
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        step.model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    model.train()
    started, seconds_before, samples_before = time.perf_counter(), result.seconds, result.samples
    for epoch in range(start_epoch, epochs):
        loader = _loader(train_data, recipe.batch_size, recipe.seed, epoch, world, shuffle=True)
        bar = _progress(loader, epoch, epochs, progress)
        step.start_epoch(epoch, epochs)
        for batch in bar:
            losses = step.train_batch(batch)
            result.steps += 1
            result.samples += _batch_len(batch)
            bad = {k: float(v) for k, v in losses.items() if not math.isfinite(float(v))}
            if bad:
                raise NonFiniteLossError(
                    f"Training stopped at step {result.steps} (epoch {epoch + 1}): non-finite loss {bad}.",
                    f"The last good state is kept in {state_dir}; lower the learning rate or check the data for NaNs.",
                    step=result.steps,
                )
            if progress:
                rate = (result.samples - samples_before) / max(time.perf_counter() - started, 1e-9)
                bar.set_postfix({k: f"{float(v):.4g}" for k, v in losses.items()} | {"samples/s": f"{rate:.0f}"})
        step.calibrate(train_data)
        metrics = step.evaluate(_loader(test_data, 256, recipe.seed, epoch, 1, shuffle=False))
        result.history.append({"epoch": epoch + 1, **metrics})
        result.metrics, result.epochs = metrics, epoch + 1
        result.seconds = seconds_before + time.perf_counter() - started
        if rank == 0:
            save_state(state_dir, f"epoch-{epoch + 1:04d}", _capture(step, result))
            if not progress:
                shown = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
                print(f"epoch {epoch + 1}/{epochs}: {shown}", file=sys.stderr)
    if rank == 0:
        plain = unwrap(model)
        save_checkpoint(output_dir, plain, checkpoint)
        result.artifacts = step.write_artifacts(output_dir, test_data)
        if card is not None:
            (output_dir / "README.md").write_text(card(result.metrics, result), encoding="utf-8")
    return result


def _batch_len(batch: Any) -> int:
    first = batch[0] if isinstance(batch, list | tuple) else batch
    return int(first.shape[0])


def _progress(loader: DataLoader, epoch: int, epochs: int, enabled: bool) -> Any:
    if not enabled:
        return loader
    from tqdm.auto import tqdm

    return tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", file=sys.stderr, leave=False)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside a DistributedDataParallel wrapper (or the module itself)."""
    return model.module if hasattr(model, "module") and isinstance(model.module, torch.nn.Module) else model


def _capture(step: TrainingStep, result: FitResult) -> dict[str, Any]:
    return {
        "model": unwrap(step.model).state_dict(),
        "optimizers": {name: opt.state_dict() for name, opt in step.optimizers.items()},
        "rng": {"torch": torch.get_rng_state(), "python": list(random.getstate()[1])},
        "progress": {"epoch": result.epochs, "steps": result.steps, "samples": result.samples,
                     "seconds": result.seconds, "history": result.history, "metrics": result.metrics},
    }


def _restore(step: TrainingStep, state: dict[str, Any], result: FitResult) -> int:
    unwrap(step.model).load_state_dict(state["model"])
    for name, optimizer in step.optimizers.items():
        optimizer.load_state_dict(state["optimizers"][name])
    torch.set_rng_state(state["rng"]["torch"])
    random.setstate((3, tuple(state["rng"]["python"]), None))
    done = state["progress"]
    result.epochs, result.steps, result.samples = done["epoch"], done["steps"], done["samples"]
    result.seconds, result.history, result.metrics = done["seconds"], done["history"], done["metrics"]
    return int(done["epoch"])
