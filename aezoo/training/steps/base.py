"""The base of the family steps: what one training step and one evaluation mean for a kind of autoencoder.

The engine (``aezoo.training.engine``) owns the loop, checkpoints, seeding and progress; a step
owns its optimizers, its losses and its metrics. A recipe names its step by import string, so
third-party families plug in the same way.

Steps see their plain model, also under torchrun: every optimizer step goes through
``optimize(loss, name)``, which averages that optimizer's gradients over the processes
(``aezoo.training.distributed``). Per-sample random numbers a step draws (latents, masking noise,
augmentation) come from ``batch_draw``: drawn for the global batch from the CPU generator every
rank shares, and this rank's rows taken, so N processes draw what one process with the global
batch draws. A model that draws inside its own forward (a VAE's reparameterisation, dropout) runs
it under ``own_randomness``: independent draws on each rank.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from ...errors import TrainingError
from ...modeling import inference
from ...spec import Recipe
from ..distributed import average_gradients, rank_and_world
from .contracts import missing_members

if TYPE_CHECKING:
    from torch.utils.data import DataLoader


def evaluating(evaluate: Callable[[Any, Any], dict[str, float]]) -> Callable[[Any, Any], dict[str, float]]:
    """Decorates a step's ``evaluate``: it runs in eval mode without gradients, and the model's mode is
    restored after (``aezoo.modeling.inference``), whoever calls it in the middle of what."""
    @functools.wraps(evaluate)
    def measured(step: Any, loader: Any) -> dict[str, float]:
        with inference(step.model):
            return evaluate(step, loader)

    return measured


def images_of(batch: Any) -> torch.Tensor:
    """The image tensor of a batch (a bare tensor, or the first item of a (x, y) pair)."""
    return batch[0] if isinstance(batch, list | tuple) else batch


class TrainingStep:
    """Base of the family steps.

    ``train_batch`` runs one optimisation step and returns its losses (detached scalars) for the
    progress bar and the finiteness check; ``evaluate`` returns the task's metrics on a held-out
    loader; ``metric_protocols`` says, for the card, how each metric was measured.
    """

    metric_protocols: ClassVar[dict[str, tuple[str, str]]] = {}  # name -> (protocol, unit)
    contract: type | None = None  # what the step needs of its model (aezoo.training.steps.contracts)

    def __init__(self, model: nn.Module, recipe: Recipe, device: torch.device) -> None:
        if self.contract is not None and (missing := missing_members(model, self.contract)):
            raise TrainingError(
                f"{type(model).__name__} cannot be trained by {type(self).__name__}: it lacks {', '.join(missing)}.",
                f"Give the model those members (aezoo.training.steps.contracts.{self.contract.__name__}), or name a "
                "step that fits it in the recipe.",
            )
        self.model = model
        self.recipe = recipe
        self.device = device
        self.options: dict[str, Any] = dict(recipe.options)
        self.optimizers = self.configure_optimizers()

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = tuple(self.options.get("betas", (0.9, 0.999)))
        return {"model": torch.optim.Adam(self.model.parameters(), lr=self.recipe.lr, betas=betas)}

    def start_epoch(self, epoch: int, epochs: int) -> None:
        """Set each optimizer's learning rate for this epoch. A function of the epoch alone, so a
        resumed run follows the same schedule: ``options["schedule"]`` is "constant" or "cosine"."""
        schedule = self.options.get("schedule", "constant")
        factor = 0.5 * (1 + math.cos(math.pi * epoch / epochs)) if schedule == "cosine" else 1.0
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = self.recipe.lr * factor

    def optimize(self, loss: torch.Tensor | None, optimizer: str = "model") -> None:
        """One gradient step of ``loss`` with the named optimizer; under torchrun its gradients are
        averaged over the processes first (every rank must call it, in the same order). ``None``: this
        rank has nothing to learn from in this batch (it still takes part; its gradients count as zeros)."""
        chosen = self.optimizers[optimizer]
        chosen.zero_grad(set_to_none=True)
        if loss is not None:
            loss.backward()
        average_gradients(chosen)
        chosen.step()

    def train_batch(self, batch: Any) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def prepare(self, train_data: Any) -> None:
        """Called once before training (fresh or resumed): fit what must be known before the first
        batch, from the whole training split (e.g. normalisation statistics held in buffers)."""

    def fit_references(self, train_data: Any) -> None:
        """Called once before the first evaluation (by the engine, and by ``aezoo.evaluate``): keep what
        ``evaluate`` compares the model with (training images, the mean face, baselines fitted on the
        training split). Never changes the model."""

    def calibrate(self, train_data: Any) -> None:
        """Called after each epoch, before ``evaluate``: fit anything derived from the training
        data rather than learned by gradient (an anomaly threshold, normalisation statistics)."""

    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        """The held-out metrics over ``loader``; a step's own is decorated with ``@evaluating``."""
        raise NotImplementedError

    def write_artifacts(self, folder: Any, test_data: Any) -> list[str]:
        """Write sample or before/after images into the checkpoint folder; return their names."""
        return []


def batch_draw(draw: Callable[[int], torch.Tensor], n: int) -> torch.Tensor:
    """Random numbers for this rank's ``n`` samples: ``draw(count)`` (a CPU draw whose first dimension
    is ``count``) for the global batch of ``n * world`` samples, and this rank's rows ``[rank::world]``,
    the samples it holds (``aezoo.training.distributed.shard``). Every rank draws the same numbers from
    the generator they share, so the CPU generator stays in step everywhere and N processes see the
    draws of one. One process: ``draw(n)``."""
    rank, world = rank_and_world()
    return draw(n) if world == 1 else draw(n * world)[rank::world]


@contextmanager
def own_randomness(device: torch.device) -> Iterator[None]:
    """Under torchrun, random draws inside the block differ between ranks (a model's own noise: a VAE's
    reparameterisation, dropout), as independent samples must; outside it the shared generators stay
    in step (the block's seed is one draw of the shared CPU generator, plus the rank: resumable). One
    process: nothing changes."""
    rank, world = rank_and_world()
    if world == 1:
        yield
        return
    seed = int(torch.randint(2**62, ()))
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else [], device_type=device.type):
        torch.manual_seed(seed + rank)
        yield


def random_shift(images: torch.Tensor, pixels: int) -> torch.Tensor:
    """Shift each image by up to ``pixels`` in x and y (zero fill): cheap augmentation for small sets.
    The offsets come from the CPU generator (resumable, the same on every device; ``batch_draw``); the
    shift is one gather on the images' device."""
    if pixels <= 0:
        return images
    padded = nn.functional.pad(images, (pixels, pixels, pixels, pixels))
    offsets = batch_draw(lambda count: torch.randint(0, 2 * pixels + 1, (count, 2)), images.shape[0]).to(images.device)
    height, width = images.shape[-2:]
    rows = offsets[:, 0, None] + torch.arange(height, device=images.device)  # (N, H)
    cols = offsets[:, 1, None] + torch.arange(width, device=images.device)  # (N, W)
    batch = torch.arange(images.shape[0], device=images.device)[:, None, None]
    return padded[batch, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()  # from (N, H, W, C)


def augment(images: torch.Tensor, *, flip: bool = False, shift: int = 0) -> torch.Tensor:
    """Random horizontal flips and shifts, for the small data sets the shipped weights train on."""
    if flip:
        flipped = (batch_draw(torch.rand, images.shape[0]) < 0.5).to(images.device)
        images = torch.where(flipped.view(-1, 1, 1, 1), images.flip(-1), images)
    return random_shift(images, shift)


def mask_pixels(images: torch.Tensor, drop: float, generator: torch.Generator | None = None, *,
                batch: bool = False) -> torch.Tensor:
    """The masking noise of the series: each pixel is zeroed with probability ``drop``, kept as is
    otherwise (no 1/(1-p) rescaling, unlike nn.Dropout). ``batch``: the noise of a training batch,
    drawn for the global batch under torchrun (``batch_draw``)."""
    def uniform(count: int) -> torch.Tensor:
        return torch.rand((count, *images.shape[1:]), generator=generator, device="cpu")

    noise = batch_draw(uniform, images.shape[0]) if batch else uniform(images.shape[0])
    return images * (noise.to(images.device) >= drop)
