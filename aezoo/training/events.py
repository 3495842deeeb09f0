"""TensorBoard events of a run, when asked for (``tensorboard=True``, ``--tensorboard``).

The event files in ``OUTPUT/tensorboard/`` hold what ``metrics.csv`` holds and a finer training curve:

- ``epoch/<column>``: every column of each metrics.csv row (``train_<loss>``, the held-out metrics,
  ``lr``, ``samples_per_s``), at the row's global step;
- ``train/<loss>``: the mean of each training loss over the steps since the last finiteness check
  (every ``CHECK_EVERY`` steps, where the engine reads the losses anyway), at that step.

A resumed run appends a new event file, and asks TensorBoard to drop whatever an earlier attempt
logged after the state it resumes (``purge_step``), so a crash between two states leaves no
duplicate points; a run started over (``--no-resume``) drops the earlier curves the same way.
Under torchrun, rank 0 logs its own losses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import TensorBoardUnavailableError

NOT_LOGGED = frozenset({"epoch", "step", "seconds"})  # the x axis and the wall clock TensorBoard keeps itself


def require_tensorboard() -> None:
    """Refuse, before anything is built, a run that asks for events where tensorboard is missing."""
    try:
        import tensorboard  # noqa: F401
    except ImportError as exc:
        raise TensorBoardUnavailableError(
            "TensorBoard events were asked for (--tensorboard), and the tensorboard package is not installed.",
            "pip install tensorboard  (or: pip install 'aezoo[tensorboard]'), or train without --tensorboard: "
            "metrics.csv holds the same rows.",
        ) from exc


class EventLog:
    """One writer for the run's events folder; ``resumed_step`` is the global step of the state
    the run starts from (0 for a fresh start): anything logged after it before is dropped."""

    def __init__(self, folder: Path, *, resumed_step: int) -> None:
        require_tensorboard()
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(folder), purge_step=resumed_step + 1)

    def losses(self, step: int, names: Sequence[str], means: Sequence[float]) -> None:
        for name, value in zip(names, means, strict=True):
            self.writer.add_scalar(f"train/{name}", value, step)

    def row(self, row: dict[str, Any]) -> None:
        """One metrics.csv row, written to disk at once (as metrics.csv is)."""
        for column, value in row.items():
            if column not in NOT_LOGGED:
                self.writer.add_scalar(f"epoch/{column}", value, int(row["step"]))
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
