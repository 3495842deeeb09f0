"""TensorBoard events of a run (``tensorboard=True``, ``--tensorboard``): the rows of metrics.csv and
the training losses, read back with TensorBoard's own event reader."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # the test extra has it

from aezoo.errors import TensorBoardUnavailableError
from tests.conftest import train_tiny as train

EPOCHS = 3
STEPS_PER_EPOCH = 4  # 32 training rows (of 40, the rest held out) in batches of 8


def scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar TensorBoard shows for the run: tag -> [(step, value)], after its purges."""
    events = EventAccumulator(str(folder / "tensorboard"))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def metrics_csv(folder: Path) -> list[dict[str, float]]:
    with (folder / "metrics.csv").open() as file:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(file)]


def test_the_events_hold_every_metrics_csv_row_and_the_training_losses(tiny_registry, table, tmp_path):
    result = train(table, tmp_path / "run", "--epochs", str(EPOCHS), "--tensorboard")
    assert result.exit_code == 0, result.output
    rows, logged = metrics_csv(tmp_path / "run"), scalars(tmp_path / "run")
    assert len(rows) == EPOCHS
    columns = {k for row in rows for k in row} - {"epoch", "step", "seconds"}
    assert {"train_loss", "lr", "mse", "samples_per_s"} <= columns
    assert set(logged) == {f"epoch/{c}" for c in columns} | {"train/loss"}
    for column in columns:
        expected = [(int(row["step"]), row[column]) for row in rows if column in row]
        assert [s for s, _ in logged[f"epoch/{column}"]] == [s for s, _ in expected]
        assert [v for _, v in logged[f"epoch/{column}"]] == pytest.approx([v for _, v in expected], rel=1e-6)
    # fewer steps per epoch than between two loss checks: one training-loss point per epoch, its mean
    assert [s for s, _ in logged["train/loss"]] == [STEPS_PER_EPOCH * e for e in range(1, EPOCHS + 1)]
    assert [v for _, v in logged["train/loss"]] == pytest.approx([v for _, v in logged["epoch/train_loss"]], rel=1e-6)


def test_a_resumed_run_continues_the_curves_and_a_restarted_one_replaces_them(tiny_registry, table, tmp_path):
    run = tmp_path / "run"
    assert train(table, run, "--epochs", "1", "--tensorboard").exit_code == 0
    assert train(table, run, "--epochs", str(EPOCHS), "--tensorboard").exit_code == 0
    resumed = scalars(run)
    assert [s for s, _ in resumed["epoch/train_loss"]] == [STEPS_PER_EPOCH * e for e in range(1, EPOCHS + 1)]
    assert [v for _, v in resumed["epoch/train_loss"]] == pytest.approx(
        [r["train_loss"] for r in metrics_csv(run)], rel=1e-6)

    assert train(table, run, "--epochs", "2", "--no-resume", "--tensorboard", "--seed", "5").exit_code == 0
    restarted = scalars(run)  # the first run's points are gone from TensorBoard's view, not mixed in
    assert [s for s, _ in restarted["epoch/train_loss"]] == [STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH]
    assert [v for _, v in restarted["epoch/train_loss"]] == pytest.approx(
        [r["train_loss"] for r in metrics_csv(run)], rel=1e-6)
    assert len(list((run / "tensorboard").iterdir())) == 3  # one event file per run; nothing deleted


def test_no_events_unless_asked_for(tiny_registry, table, tmp_path):
    assert train(table, tmp_path / "run", "--epochs", "1").exit_code == 0
    assert not (tmp_path / "run" / "tensorboard").exists()


def test_events_asked_for_without_tensorboard_installed_are_refused_before_anything_is_written(
        tiny_registry, table, tmp_path, monkeypatch):
    # The suite needs tensorboard installed to read events back, so its absence is made here the way
    # Python itself spells "not importable": a None entry in sys.modules makes ``import tensorboard`` fail.
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    result = train(table, tmp_path / "run", "--epochs", "1", "--tensorboard")
    assert result.exit_code == 1 and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert "tensorboard package is not installed" in line and "pip install tensorboard" in line
    assert not (tmp_path / "run").exists()
    import aezoo

    with pytest.raises(TensorBoardUnavailableError):
        aezoo.train("tiny-ae", data=str(table), output_dir=tmp_path / "api", tensorboard=True)
    assert not (tmp_path / "api").exists()
