"""The one training loop every recipe runs on.

It owns what all families share: device choice, seeding and CPU determinism, data order, the
progress bar, per-epoch evaluation, atomic resumable state, the non-finite-loss stop and the
final Hub-shaped checkpoint folder.

Under ``torchrun`` (torch.distributed initialised by the caller, or by ``aezoo train``) the same
loop runs data-parallel (``aezoo.training.distributed``): every rank starts from rank 0's parameters
and buffers, takes the interleaved shard ``order[rank::world]`` of the permutation one process
would use, and averages each optimizer's gradients in ``TrainingStep.optimize``; steps see their
plain model. N processes with batch b thus see, at every step, the samples one process with batch
N*b sees. Rank 0 alone writes state and checkpoints; the others wait for it at the end, so every
rank can then load the checkpoint. BatchNorm running statistics stay per rank (each sees its own
shard); rank 0's are saved.

Data held in memory (a TensorDataset, aezoo's uint8 image sets, tables: anything with a
``tensors`` tuple) is moved to the training device once and batched by slicing a seeded
permutation, in the same order a DataLoader with a seeded RandomSampler gives, without per-item
work; other Datasets go through a DataLoader. Losses are checked for finiteness in bulk (one
device sync per ``CHECK_EVERY`` steps, not one per step), so a GPU is never waiting on Python.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from ..checkpoint import CARD_FILE, CheckpointConfig, atomic_write, save_checkpoint
from ..errors import AezooError, NonFiniteLossError, OutputExistsError, ResumeMismatchError, TrainingError
from ..spec import Recipe
from .distributed import agree, barrier, broadcast_module, rank_and_world, shard
from .events import EventLog, require_tensorboard
from .output import EVENTS_DIR, METRICS_CSV, STATE_DIR, RunFolder
from .state import load_state, save_state
from .steps import TrainingStep

CHECK_EVERY = 50  # steps between finiteness checks of the losses (each check is one device sync)
DEVICE_DATA_LIMIT = 4 * 2**30  # in-memory data up to this many bytes moves to the GPU once
EVAL_BATCH = 256
REPORTING_OPTIONS = frozenset({"eval_every", "artifacts"})  # change what is reported, not what is trained


@dataclass
class FitResult:
    """What a run produced: the final metrics, their history, and where the checkpoint is.

    ``history`` has one row per epoch: ``epoch``, ``step``, ``lr``, the epoch's mean of each training
    loss (``train_<name>``), the held-out metrics on the epochs that evaluated, and the timing
    columns ``seconds`` (of the run so far) and ``samples_per_s`` (of that epoch). The run folder's
    metrics.csv holds the same rows."""

    metrics: dict[str, float]
    history: list[dict[str, float]] = field(default_factory=list)
    epochs: int = 0
    steps: int = 0
    samples: int = 0
    seconds: float = 0.0
    artifacts: list[str] = field(default_factory=list)
    # the settings of each part of the run: one part, unless a resume went on with other settings
    # (force_resume): [{"epochs": [first, last], "settings": run_settings(...)}, ...]
    parts: list[dict[str, Any]] = field(default_factory=list)
    processes: int = 1  # data-parallel processes; samples counts the global batches


TIMING_COLUMNS = ("seconds", "samples_per_s")  # the history columns a rerun does not reproduce


def run_settings(recipe: Recipe, checkpoint: CheckpointConfig) -> dict[str, Any]:
    """What a resumed run must share with the state it resumes (everything but the epoch count and
    options that only change reporting), in JSON form as the state stores it. Under torchrun the
    process count too (it sets the global batch); a one-process run records none, as before."""
    options = {k: v for k, v in recipe.options.items() if k not in REPORTING_OPTIONS}
    settings = {"step": recipe.step, "batch_size": recipe.batch_size, "lr": recipe.lr, "seed": recipe.seed,
                "options": options, "config": checkpoint.config}
    world = rank_and_world()[1]
    if world > 1:
        settings["processes"] = world
    return json.loads(json.dumps(settings, default=str))


def _flat(settings: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(settings, dict) and (not prefix or settings):
        flat: dict[str, Any] = {}
        for key, value in settings.items():
            flat.update(_flat(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}"))
        return flat
    return {prefix: settings}


def setting_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``["lr 0.01 -> 0.001", "config.latent 4 -> 8", ...]``: what differs between two settings."""
    before, after = _flat(saved), _flat(current)
    missing = object()
    changed = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, missing), after.get(key, missing)
        if old != new:
            shown = ["(unset)" if v is missing else json.dumps(v) for v in (old, new)]
            changed.append(f"{key} {shown[0]} -> {shown[1]}")
    return changed


def check_resume(saved_run: Any, settings: dict[str, Any], *, force: bool, output_dir: Path) -> list[str]:
    """Refuse (``ResumeMismatchError``, the differences listed) to resume a state made with other
    settings, unless ``force``; returns the differences. States written before settings were
    recorded have none to compare (``saved_run`` None)."""
    if not isinstance(saved_run, dict) or not isinstance(saved_run.get("settings"), dict):
        return []
    changed = setting_differences(saved_run["settings"], settings)
    if changed and not force:
        raise ResumeMismatchError(
            f"{output_dir} holds a training state made with other settings: {'; '.join(changed)}.",
            "Run with the saved settings to resume, pass --force-resume (force_resume=True) to go on with the new "
            "ones (the card records both), or --no-resume (resume=False) to start over.",
        )
    return changed


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy

        numpy.random.seed(seed % 2**32)
    except ImportError:
        pass


class Batches:
    """Batches sliced from a data set's tensors in a given order: a DataLoader without per-item work.

    ``data`` must have ``tensors`` (a tuple of tensors of equal length; ``decode(batch)``, if it
    has one, turns a stored batch into what a step trains on, e.g. uint8 pixels into floats).
    ``dataset`` keeps the original for steps that read whole splits (``loader.dataset``)."""

    def __init__(self, data: Any, tensors: tuple[torch.Tensor, ...], batch_size: int,
                 order: torch.Tensor | None) -> None:
        self.dataset = data
        self.tensors = tensors
        self.batch_size = batch_size
        self.order = order
        self.decode = getattr(data, "decode", None)

    def __len__(self) -> int:
        count = len(self.order) if self.order is not None else len(self.tensors[0])
        return math.ceil(count / self.batch_size)

    def __iter__(self) -> Any:
        count = len(self.order) if self.order is not None else len(self.tensors[0])
        for start in range(0, count, self.batch_size):
            if self.order is None:
                batch = tuple(t[start : start + self.batch_size] for t in self.tensors)
            else:
                index = self.order[start : start + self.batch_size]
                batch = tuple(t[index] for t in self.tensors)
            yield self.decode(batch) if self.decode is not None else list(batch)


def in_memory(data: Any, device: torch.device) -> tuple[torch.Tensor, ...] | None:
    """The tensors of an in-memory data set, on ``device`` when they fit (else where they are)."""
    tensors = getattr(data, "tensors", None)
    if not isinstance(tensors, tuple) or not tensors or not all(torch.is_tensor(t) for t in tensors):
        return None
    if device.type != "cpu" and sum(t.numel() * t.element_size() for t in tensors) <= DEVICE_DATA_LIMIT:
        tensors = tuple(t.to(device) for t in tensors)
    return tensors


def _order(count: int, seed: int, epoch: int, rank: int, world: int) -> torch.Tensor:
    """Data order depends only on (seed, epoch): a resumed run sees what an uninterrupted one saw.
    The permutation a seeded RandomSampler draws; under torchrun this rank's interleaved shard of it."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    return shard(order, rank, world)


def _loader(data: Any, tensors: tuple[torch.Tensor, ...] | None, batch_size: int, seed: int, epoch: int,
            rank: int, world: int, *, shuffle: bool) -> Any:
    if tensors is not None:
        order = _order(len(tensors[0]), seed, epoch, rank, world) if shuffle else None
        if order is not None:
            order = order.to(tensors[0].device)
        return Batches(data, tensors, batch_size, order)
    if world > 1:
        everything = torch.arange(len(data))
        indices = _order(len(data), seed, epoch, rank, world) if shuffle else shard(everything, rank, world)
        return DataLoader(data, batch_size=batch_size, sampler=indices.tolist())
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
    overwrite: bool = False,
    force_resume: bool = False,
    run_folder: RunFolder | None = None,
    tensorboard: bool = False,
) -> FitResult:
    """Train ``step.model`` for ``epochs`` (the recipe's by default) and write ``output_dir``.

    ``card`` is a callable ``(metrics, result) -> README markdown`` for the final folder.
    State is saved after every epoch under ``output_dir/training-state``; with ``resume`` a run
    continues from there, if it was made with the same settings (``run_settings``), or with
    ``force_resume`` whatever they were (``result.parts`` then holds both). A non-finite loss stops
    the run with ``NonFiniteLossError``; the last good state stays on disk.

    ``output_dir`` is claimed first (``RunFolder``: locked, and refused if it holds files aezoo did
    not write, unless ``overwrite``), unless the caller passes the ``run_folder`` it already holds.
    Every check happens before the first step. ``tensorboard`` also writes TensorBoard events
    (``aezoo.training.events``) into ``output_dir/tensorboard``.
    """
    output_dir = Path(output_dir)
    epochs = recipe.epochs if epochs is None else epochs
    eval_every = max(1, int(recipe.options.get("eval_every", 1)))
    rank, world = rank_and_world()
    if tensorboard:
        require_tensorboard()
    claim = nullcontext(run_folder) if run_folder is not None else RunFolder(output_dir, overwrite=overwrite,
                                                                             enabled=rank == 0)
    with claim as folder, _global_state(step.device):
        result, start_epoch = _start(step, train_data, recipe=recipe, checkpoint=checkpoint, output_dir=output_dir,
                                     epochs=epochs, resume=resume, force_resume=force_resume, world=world)
        if progress is None:
            progress = sys.stderr.isatty() and rank == 0
        agree(start_epoch, "the epoch to start from (the training state each found in the output folder)",
              "Runs on several machines need the output folder on a filesystem every machine sees.")
        broadcast_module(step.model)  # every rank starts from rank 0's weights and buffers
        events = EventLog(output_dir / EVENTS_DIR, resumed_step=result.steps) if tensorboard and rank == 0 else None
        loop = _EpochLoop(step, train_data, test_data, recipe, result, output_dir / STATE_DIR, progress=progress,
                          events=events)
        try:
            for epoch in range(start_epoch, epochs):
                last = epoch + 1 == epochs
                row = loop.train(epoch, epochs)
                if last or (epoch + 1) % eval_every == 0:
                    row |= loop.evaluate(epoch)
                loop.finish(epoch, epochs, row)
                if rank == 0:  # one line per epoch that stays (the progress bar clears itself)
                    shown = ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k not in ("epoch", "step", "seconds"))
                    print(f"epoch {epoch + 1}/{epochs}: {shown}", file=sys.stderr)
                    save_state(output_dir / STATE_DIR, f"epoch-{epoch + 1:04d}", _capture(step, result), durable=last)
                    folder.write(METRICS_CSV, _csv(result.history))
                    if events is not None:
                        events.row(row)
        finally:
            if events is not None:
                events.close()
        if rank == 0:
            _write_outputs(folder, step, checkpoint, test_data, result, card)
        barrier()  # the checkpoint exists for every rank once fit returns
    return result


def _start(step: TrainingStep, train_data: Dataset, *, recipe: Recipe, checkpoint: CheckpointConfig,
           output_dir: Path, epochs: int, resume: bool, force_resume: bool, world: int) -> tuple[FitResult, int]:
    """Every check before the first step, then a fresh or resumed start: (the result so far, the
    first epoch to train). A resume must have been made with the same settings unless
    ``force_resume`` (the result's ``parts`` then records both), and must leave epochs to train."""
    settings = run_settings(recipe, checkpoint)
    result = FitResult(metrics={}, parts=[{"epochs": [0, 0], "settings": settings}], processes=world)
    state_dir = output_dir / STATE_DIR
    state = load_state(state_dir) if resume else None
    if state is not None:
        changed = check_resume(state.get("run"), settings, force=force_resume, output_dir=output_dir)
        _check_state_fits(step, state, state_dir)
        done = _progress_of(state, state_dir)
        if done >= epochs:
            raise TrainingError(
                f"Nothing to train: {output_dir} already has {done} of {epochs} epochs.",
                "Ask for more epochs, pass resume=False (--no-resume) to start over, or use another output folder.",
            )
    seed_everything(recipe.seed)
    step.prepare(train_data)  # before a resume restores the state, which then wins
    if state is None:
        return result, 0
    start_epoch = _restore(step, state, result, state_dir)
    saved_parts = (state.get("run") or {}).get("parts")
    if isinstance(saved_parts, list) and saved_parts:
        result.parts = [dict(p) for p in saved_parts]
        if changed:
            result.parts.append({"epochs": [start_epoch, start_epoch], "settings": settings})
    else:  # a state from before settings were recorded: credit the run to today's settings
        result.parts[0]["epochs"] = [0, start_epoch]
    return result, start_epoch


class _EpochLoop:
    """One epoch at a time: train (batches, bulk finiteness checks, progress), evaluate, and account
    for it in the result. Holds what lasts across epochs: the data on the device and the clocks."""

    def __init__(self, step: TrainingStep, train_data: Dataset, test_data: Dataset, recipe: Recipe,
                 result: FitResult, state_dir: Path, *, progress: bool, events: EventLog | None = None) -> None:
        self.step, self.recipe, self.result, self.state_dir, self.progress = step, recipe, result, state_dir, progress
        self.events = events
        self.train_data, self.test_data = train_data, test_data
        self.rank, self.world = rank_and_world()
        self.train_tensors = in_memory(train_data, step.device)
        self.test_tensors = in_memory(test_data, step.device)
        self.references_fitted = False
        self.started = time.perf_counter()
        self.seconds_before, self.samples_before, self.steps_before = result.seconds, result.samples, result.steps
        step.model.train()

    def train(self, epoch: int, epochs: int) -> dict[str, float]:
        """One pass over this rank's shard; returns the epoch's row: epoch, step, lr, mean training losses."""
        step, result = self.step, self.result
        loader = _loader(self.train_data, self.train_tensors, self.recipe.batch_size, self.recipe.seed, epoch,
                         self.rank, self.world, shuffle=True)
        bar = _progress(loader, epoch, epochs, self.progress)
        step.start_epoch(epoch, epochs)
        pending: list[dict[str, torch.Tensor]] = []
        loss_sums: list[torch.Tensor] = []  # per finiteness check: each loss summed over its steps
        names: list[str] = []
        self.epoch_started, epoch_steps, epoch_samples = time.perf_counter(), result.steps, result.samples
        try:
            for batch in bar:
                pending.append(step.train_batch(batch))
                result.steps += 1
                result.samples += _batch_len(batch) * self.world
                if len(pending) >= CHECK_EVERY:
                    names = self._check(pending, loss_sums, epoch)
                    if self.progress:
                        self._show(bar, pending[-1])
                    pending.clear()
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            if result.steps != self.steps_before or isinstance(exc, AezooError):
                raise
            raise TrainingError(  # nothing was trained or written: the model and the data do not fit
                f"The first training step failed: the model cannot take this data ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}).",
                "Check the config (--config, 'aezoo info NAME') against the data's shape, and that the batch "
                "fits the device.",
            ) from exc
        self.samples_per_s = (result.samples - epoch_samples) / max(time.perf_counter() - self.epoch_started, 1e-9)
        if pending:
            names = self._check(pending, loss_sums, epoch)
        step.calibrate(self.train_data)
        means = (torch.stack(loss_sums).sum(0) / (result.steps - epoch_steps)).tolist() if loss_sums else []
        return {"epoch": epoch + 1, "step": result.steps, "lr": _learning_rate(step),
                **{f"train_{name}": value for name, value in zip(names, means, strict=True)}}

    def _check(self, pending: list[dict[str, torch.Tensor]], loss_sums: list[torch.Tensor], epoch: int) -> list[str]:
        """Check the pending steps' losses, add their sums to ``loss_sums`` (and their means to the
        events); returns the loss names."""
        values = _check_finite(pending, self.result.steps, epoch, self.state_dir)
        loss_sums.append(values.sum(0))
        names = list(pending[-1])
        if self.events is not None:
            self.events.losses(self.result.steps, names, (loss_sums[-1] / len(pending)).tolist())
        return names

    def _show(self, bar: Any, losses: dict[str, torch.Tensor]) -> None:
        rate = (self.result.samples - self.samples_before) / max(time.perf_counter() - self.started, 1e-9)
        bar.set_postfix({k: f"{float(v):.4g}" for k, v in losses.items()} | {"samples/s": f"{rate:.0f}"})

    def evaluate(self, epoch: int) -> dict[str, float]:
        """The held-out metrics (the references are fitted before the first evaluation)."""
        if not self.references_fitted:
            self.step.fit_references(self.train_data)
            self.references_fitted = True
        metrics = self.step.evaluate(_loader(self.test_data, self.test_tensors, EVAL_BATCH, self.recipe.seed, epoch,
                                             0, 1, shuffle=False))
        self.result.metrics = metrics
        return metrics

    def finish(self, epoch: int, epochs: int, row: dict[str, float]) -> None:
        """Account for the epoch: counters, the run's settings parts, timing, and its history row."""
        result = self.result
        result.epochs = epoch + 1
        result.parts[-1]["epochs"][1] = epoch + 1
        result.seconds = self.seconds_before + time.perf_counter() - self.started
        row |= {"seconds": result.seconds, "samples_per_s": self.samples_per_s}
        result.history.append(row)


def _write_outputs(folder: RunFolder, step: TrainingStep, checkpoint: CheckpointConfig, test_data: Any,
                   result: FitResult, card: Any) -> None:
    """The checkpoint, the card's images and the card, written into a staging folder and then moved
    into the output folder one file at a time (each replaces only a file aezoo wrote)."""
    staged = folder.staging()
    try:
        save_checkpoint(staged, step.model, checkpoint)
        result.artifacts = step.write_artifacts(staged, test_data)
        if card is not None:
            atomic_write(staged / CARD_FILE, card(result.metrics, result).encode())
        folder.publish(staged)
    except OutputExistsError:
        raise  # the staged files are kept for the user, as the message says
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


@contextmanager
def _global_state(device: torch.device) -> Iterator[None]:
    """Deterministic algorithms on the CPU (a seeded run is repeatable), cuDNN autotuning on a GPU,
    for the run only: the caller's global torch settings are restored afterwards."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    benchmark = torch.backends.cudnn.benchmark
    try:
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True, warn_only=True)
        elif device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.backends.cudnn.benchmark = benchmark


def _check_finite(pending: list[dict[str, torch.Tensor]], steps: int, epoch: int, state_dir: Path) -> torch.Tensor:
    """Raise ``NonFiniteLossError`` naming the first step of ``pending`` with a non-finite loss
    (one device sync for the whole list); return the losses, (steps, losses) on the device."""
    values = torch.stack([torch.stack([torch.as_tensor(v).float().reshape(()) for v in losses.values()])
                          for losses in pending])
    finite = torch.isfinite(values).all(1)
    if bool(finite.all()):
        return values
    first = int((~finite).nonzero()[0])
    bad = {k: float(v) for k, v in pending[first].items() if not math.isfinite(float(v))}
    at = steps - len(pending) + first + 1
    raise NonFiniteLossError(
        f"Training stopped at step {at} (epoch {epoch + 1}): non-finite loss {bad}.",
        f"The last good state is kept in {state_dir}; lower the learning rate or check the data for NaNs.",
        step=at,
    )


def _learning_rate(step: TrainingStep) -> float:
    """The learning rate of the step's first optimizer (all follow one schedule)."""
    return float(next(iter(step.optimizers.values())).param_groups[0]["lr"])


def _csv(rows: list[dict[str, Any]]) -> bytes:
    """The history as CSV: the columns in the order they first appear; a value a row lacks is empty."""
    import csv
    import io

    columns = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def _batch_len(batch: Any) -> int:
    first = batch[0] if isinstance(batch, list | tuple) else batch
    return int(first.shape[0])


def _progress(loader: DataLoader, epoch: int, epochs: int, enabled: bool) -> Any:
    if not enabled:
        return loader
    from tqdm.auto import tqdm

    return tqdm(loader, desc=f"epoch {epoch + 1}/{epochs}", file=sys.stderr, leave=False)


def _capture(step: TrainingStep, result: FitResult) -> dict[str, Any]:
    return {
        "model": step.model.state_dict(),
        "optimizers": {name: opt.state_dict() for name, opt in step.optimizers.items()},
        "rng": {"torch": torch.get_rng_state(), "python": list(random.getstate()[1]),
                **({"cuda": torch.cuda.get_rng_state(step.device)} if step.device.type == "cuda" else {})},
        "progress": {"epoch": result.epochs, "steps": result.steps, "samples": result.samples,
                     "seconds": result.seconds, "history": result.history, "metrics": result.metrics},
        "run": {"settings": result.parts[-1]["settings"], "parts": result.parts},
    }


def _unusable_state(state_dir: Path, exc: BaseException) -> TrainingError:
    return TrainingError(
        f"The training state in {state_dir} is not one this aezoo can resume ({type(exc).__name__}: {exc}).",
        "Start over with --no-resume (resume=False), or use another output folder.",
    )


def _progress_of(state: dict[str, Any], state_dir: Path) -> int:
    try:
        return int(state["progress"]["epoch"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _unusable_state(state_dir, exc) from exc


def _check_state_fits(step: TrainingStep, state: dict[str, Any], state_dir: Path) -> None:
    """The saved weights must have the names and shapes of the model built now; no setting (not
    even force_resume) carries weights over to another architecture."""
    saved = state.get("model")
    if not isinstance(saved, dict) or not all(torch.is_tensor(v) for v in saved.values()):
        raise _unusable_state(state_dir, TypeError("no weights"))
    expected = {k: tuple(v.shape) for k, v in step.model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in saved.items()}
    if expected != found:
        differing = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
        shown = ", ".join(f"{k} {list(found[k]) if k in found else '(none)'} -> "
                          f"{list(expected[k]) if k in expected else '(none)'}" for k in differing[:3])
        raise ResumeMismatchError(
            f"The training state in {state_dir} holds weights of other shapes than the model built now "
            f"({len(differing)} differ: {shown}{', ...' if len(differing) > 3 else ''}).",
            "The architecture changed (--config), which no resume can carry over: start over with --no-resume "
            "(resume=False) or use another output folder.",
        )


def _restore(step: TrainingStep, state: dict[str, Any], result: FitResult, state_dir: Path) -> int:
    try:
        step.model.load_state_dict(state["model"])
        for name, optimizer in step.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        torch.set_rng_state(state["rng"]["torch"])
        if "cuda" in state["rng"] and step.device.type == "cuda":
            torch.cuda.set_rng_state(state["rng"]["cuda"], step.device)
        random.setstate((3, tuple(state["rng"]["python"]), None))
        done = state["progress"]
        result.epochs, result.steps, result.samples = done["epoch"], done["steps"], done["samples"]
        result.seconds, result.history, result.metrics = done["seconds"], done["history"], done["metrics"]
        return int(done["epoch"])
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
        raise _unusable_state(state_dir, exc) from exc
