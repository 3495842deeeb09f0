"""The engine's side of output folders and resuming: what save_state may remove, fit claiming its folder,
aezoo.train's overwrite / force_resume, and states that cannot be resumed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import aezoo
from aezoo.errors import OutputExistsError, ResumeMismatchError, TrainingError
from aezoo.training.engine import STATE_DIR
from aezoo.training.state import LATEST, load_state, save_state

DATA = torch.randn(40, 16, generator=torch.Generator().manual_seed(0))


def train(folder: Path, **kwargs):
    kwargs.setdefault("epochs", 1)
    return aezoo.train("tiny-ae", data=DATA, output_dir=folder, device="cpu", progress=False, **kwargs)


def test_save_state_removes_only_the_states_it_wrote(tmp_path):
    folder = tmp_path / STATE_DIR
    save_state(folder, "epoch-0001", {"x": torch.zeros(2)})
    (folder / "mine").mkdir()
    (folder / "mine" / "notes.txt").write_text("keep")
    (folder / "epoch-0000").mkdir()  # named like a state, but holding the user's file
    (folder / "epoch-0000" / "notes.txt").write_text("keep")
    save_state(folder, "epoch-0002", {"x": torch.ones(2)})
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0000", "epoch-0002", LATEST, "mine"]
    assert (folder / "mine" / "notes.txt").read_text() == "keep"
    assert (folder / "epoch-0000" / "notes.txt").read_text() == "keep"


def test_save_state_does_not_replace_a_folder_it_did_not_write(tmp_path):
    folder = tmp_path / STATE_DIR
    (folder / "epoch-0001").mkdir(parents=True)
    (folder / "epoch-0001" / "notes.txt").write_text("keep")
    with pytest.raises(TrainingError, match="not written by aezoo"):
        save_state(folder, "epoch-0001", {"x": torch.zeros(2)})
    assert (folder / "epoch-0001" / "notes.txt").read_text() == "keep"
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0001"]


def test_the_api_refuses_a_foreign_folder_unless_overwrite(tiny_registry, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    with pytest.raises(OutputExistsError, match="holds files aezoo did not write"):
        train(tmp_path / "run")
    assert (tmp_path / "run" / "config.json").read_text() == "{}"
    model = train(tmp_path / "run", overwrite=True)
    assert model.aezoo.path == tmp_path / "run"


def test_the_api_refuses_other_settings_unless_force_resume(tiny_registry, tmp_path):
    train(tmp_path / "run")
    with pytest.raises(ResumeMismatchError, match=r"lr 0.01 -> 0.02; seed 0 -> 1"):
        train(tmp_path / "run", epochs=2, lr=0.02, seed=1)
    model = train(tmp_path / "run", epochs=2, lr=0.02, seed=1, force_resume=True)
    assert "epoch 1: batch 8, lr 0.01, seed 0; epoch 2: batch 8, lr 0.02, seed 1" in model.aezoo.card.training_data


def test_other_recipe_options_are_differences_but_reporting_options_are_not(tiny_registry, tmp_path):
    train(tmp_path / "run")
    with pytest.raises(ResumeMismatchError, match=r'options.noise \(unset\) -> 0.5'):
        train(tmp_path / "run", epochs=2, options={"noise": 0.5})
    train(tmp_path / "run", epochs=2, options={"eval_every": 2})


def test_a_state_with_the_wrong_structure_is_a_named_error(tiny_registry, tmp_path):
    train(tmp_path / "run")
    state_dir = tmp_path / "run" / STATE_DIR
    state = load_state(state_dir)
    del state["rng"]
    save_state(state_dir, "epoch-0001", state)
    with pytest.raises(TrainingError, match="not one this aezoo can resume"):
        train(tmp_path / "run", epochs=2)


def test_a_state_from_before_settings_were_recorded_resumes(tiny_registry, tmp_path):
    train(tmp_path / "run")
    state_dir = tmp_path / "run" / STATE_DIR
    state = load_state(state_dir)
    del state["run"]
    save_state(state_dir, "epoch-0001", state)
    model = train(tmp_path / "run", epochs=2)
    assert "2 epochs" in model.aezoo.card.training_data


def test_settings_are_checked_before_the_data_is_read(tiny_registry, tmp_path):
    train(tmp_path / "run")
    with pytest.raises(ResumeMismatchError):  # the missing file would be a DatasetUnavailableError after
        aezoo.train("tiny-ae", data=str(tmp_path / "missing.csv"), output_dir=tmp_path / "run", epochs=2, lr=0.5,
                     device="cpu", progress=False)


def test_the_record_lists_the_files_aezoo_wrote_with_their_digest(tiny_registry, tmp_path):
    import hashlib

    train(tmp_path / "run")
    record = json.loads((tmp_path / "run" / ".aezoo-run.json").read_text())["files"]
    assert set(record) == {"README.md", "config.json", "model.safetensors", "metrics.csv"}
    for name, digest in record.items():
        assert hashlib.sha256((tmp_path / "run" / name).read_bytes()).hexdigest() == digest
