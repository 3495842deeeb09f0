"""The training engine: determinism, resume after interruption, the non-finite stop, pickle-free state."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

import aezoo
from aezoo.checkpoint import CheckpointConfig
from aezoo.errors import NonFiniteLossError, TrainingError
from aezoo.training.engine import STATE_DIR, TIMING_COLUMNS, fit
from aezoo.training.state import load_state
from aezoo.training.steps.reconstruction import ReconstructionStep

EPOCHS = 3


def _data(n: int = 40) -> tuple[TensorDataset, TensorDataset]:
    generator = torch.Generator().manual_seed(7)
    x = torch.randn(n, 16, generator=generator)
    return TensorDataset(x[:32], torch.zeros(32)), TensorDataset(x[32:], torch.zeros(n - 32))


class Interrupted(Exception):
    pass


class InterruptedStep(ReconstructionStep):
    """Stands in for a run killed mid-epoch: raises after a set number of optimisation steps."""

    stop_after = 0

    def train_batch(self, batch):
        type(self).stop_after -= 1
        if type(self).stop_after < 0:
            raise Interrupted
        return super().train_batch(batch)


class NaNAfterStep(ReconstructionStep):
    nan_at = 6

    def train_batch(self, batch):
        losses = super().train_batch(batch)
        self.calls = getattr(self, "calls", 0) + 1
        return {"loss": torch.tensor(float("nan"))} if self.calls >= self.nan_at else losses


def _run(tiny_registry, folder: Path, *, epochs: int = EPOCHS, step_class=ReconstructionStep, resume: bool = True):
    spec = aezoo.info("tiny-ae")
    torch.manual_seed(123)  # a different global seed each time must not matter: fit seeds itself
    model = aezoo.build(spec)
    step = step_class(model, spec.recipe, torch.device("cpu"))
    train, test = _data()
    result = fit(step, train, test, recipe=spec.recipe, output_dir=folder, epochs=epochs, resume=resume,
                 checkpoint=CheckpointConfig(spec.name, dict(spec.config)), progress=False)
    return step, result


def _weights(step) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in step.model.state_dict().items()}


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_same_seed_same_weights(tiny_registry, tmp_path):
    first, _ = _run(tiny_registry, tmp_path / "a")
    second, _ = _run(tiny_registry, tmp_path / "b")
    _assert_same(_weights(first), _weights(second))


def test_resume_at_an_epoch_boundary_ends_where_an_uninterrupted_run_does(tiny_registry, tmp_path):
    straight, straight_result = _run(tiny_registry, tmp_path / "straight")
    _run(tiny_registry, tmp_path / "resumed", epochs=1)
    resumed, resumed_result = _run(tiny_registry, tmp_path / "resumed")
    _assert_same(_weights(straight), _weights(resumed))
    assert resumed_result.steps == straight_result.steps
    untimed = [[{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in result.history]
               for result in (straight_result, resumed_result)]
    assert untimed[0] == untimed[1] and len(untimed[0]) == EPOCHS  # losses, lr, metrics: all reproduced


def test_resume_after_a_kill_mid_epoch_ends_where_an_uninterrupted_run_does(tiny_registry, tmp_path):
    straight, _ = _run(tiny_registry, tmp_path / "straight")
    InterruptedStep.stop_after = 4 + 2  # 4 steps per epoch: dies inside the second epoch
    with pytest.raises(Interrupted):
        _run(tiny_registry, tmp_path / "killed", step_class=InterruptedStep)
    assert load_state(tmp_path / "killed" / STATE_DIR)["progress"]["epoch"] == 1
    resumed, _ = _run(tiny_registry, tmp_path / "killed")
    _assert_same(_weights(straight), _weights(resumed))


def test_non_finite_loss_stops_naming_the_step_and_keeps_the_last_good_state(tiny_registry, tmp_path):
    with pytest.raises(NonFiniteLossError, match="step 6") as caught:
        _run(tiny_registry, tmp_path / "run", step_class=NaNAfterStep)
    assert caught.value.step == 6
    state = load_state(tmp_path / "run" / STATE_DIR)
    assert state["progress"]["epoch"] == 1  # epoch 1 (4 steps) completed before the NaN
    assert all(torch.isfinite(t).all() for t in state["model"].values())
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_state_is_safetensors_and_json_only(tiny_registry, tmp_path):
    _run(tiny_registry, tmp_path / "run", epochs=2)
    state_dir = tmp_path / "run" / STATE_DIR
    files = sorted(p.relative_to(state_dir).as_posix() for p in state_dir.rglob("*") if p.is_file())
    assert files == ["epoch-0002/state.json", "epoch-0002/state.safetensors", "latest"]
    json.loads((state_dir / "epoch-0002" / "state.json").read_text())


def test_output_is_a_loadable_checkpoint(tiny_registry, tmp_path):
    step, result = _run(tiny_registry, tmp_path / "run")
    model = aezoo.load(tmp_path / "run", device="cpu")
    _assert_same(_weights(step), dict(model.state_dict()))
    assert set(result.metrics) == {"mse"}
    assert len(result.history) == EPOCHS


def test_a_finished_run_asked_for_no_more_epochs_says_so(tiny_registry, tmp_path):
    _run(tiny_registry, tmp_path / "run", epochs=1)
    with pytest.raises(TrainingError, match="already has 1 of 1 epochs"):
        _run(tiny_registry, tmp_path / "run", epochs=1)
    _run(tiny_registry, tmp_path / "run", epochs=1, resume=False)  # starting over is explicit


def test_aezoo_train_is_one_call_and_still_a_package(tiny_registry, tmp_path):
    data = torch.randn(40, 16, generator=torch.Generator().manual_seed(0))
    model = aezoo.train("tiny-ae", data=data, epochs=1, output_dir=tmp_path / "a", progress=False)
    again = aezoo.train("tiny-ae", data=data, epochs=1, output_dir=tmp_path / "b", progress=False)
    _assert_same(dict(model.state_dict()), dict(again.state_dict()))  # the recipe's seed fixes the start too
    assert model.aezoo.path == tmp_path / "a" and aezoo.training.finetune is aezoo.finetune


def test_every_epoch_is_logged_to_metrics_csv(tiny_registry, tmp_path):
    import csv

    from aezoo.plots import read_history

    _, result = _run(tiny_registry, tmp_path / "run")
    with (tmp_path / "run" / "metrics.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    assert {"step", "lr", "train_loss", "mse", "seconds", "samples_per_s"} <= set(rows[0])
    for row, logged in zip(rows, result.history, strict=True):
        assert {k: float(v) for k, v in row.items()} == pytest.approx(logged, rel=1e-12)
        assert float(row["samples_per_s"]) > 0 and math.isfinite(float(row["train_loss"]))
    assert read_history(tmp_path / "run").source == "metrics.csv"


@pytest.mark.parametrize("mode", [True, False])
def test_evaluate_runs_in_eval_mode_without_gradients_and_restores_the_mode(tiny_registry, mode):
    spec = aezoo.info("tiny-ae")
    step = ReconstructionStep(aezoo.build(spec).train(mode), spec.recipe, torch.device("cpu"))
    seen = set()  # (gradients on, training mode) at every forward
    step.model.register_forward_hook(lambda module, *_: seen.add((torch.is_grad_enabled(), module.training)))
    metrics = step.evaluate(torch.utils.data.DataLoader(_data()[1], batch_size=4))
    assert seen == {(False, False)} and step.model.training is mode and metrics["mse"] > 0
