"""``aezoo train`` / ``finetune`` and their output folder: foreign files, one run at a time, resuming with
other settings. The real CLI on the tiny test model, real files in tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from aezoo.cli import main
from aezoo.training.output import LOCK, RECORD
from aezoo.training.state import load_state
from tests.conftest import python_env
from tests.conftest import train_tiny as train


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in line, line


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---- foreign files ----------------------------------------------------------------------------------------------

def test_a_folder_with_files_aezoo_did_not_write_is_refused_and_left_as_it_was(tiny_registry, table, tmp_path):
    mine = tmp_path / "mine"
    (mine / "training-state" / "keep").mkdir(parents=True)
    (mine / "training-state" / "keep" / "notes.txt").write_text("notes")
    (mine / "README.md").write_text("my readme")
    (mine / "config.json").write_text('{"mine": true}')
    before = snapshot(mine)
    one_line_error(train(table, mine, "--epochs", "1"), "holds files aezoo did not write",
                   str(mine), "--overwrite")
    assert snapshot(mine) == before
    assert sorted(p.name for p in mine.iterdir()) == ["README.md", "config.json", "training-state"]  # no lock left


def test_overwrite_writes_the_checkpoint_and_deletes_nothing(tiny_registry, table, tmp_path):
    mine = tmp_path / "mine"
    (mine / "training-state" / "keep").mkdir(parents=True)
    (mine / "training-state" / "keep" / "notes.txt").write_text("notes")
    (mine / "notes.txt").write_text("mine")
    (mine / "README.md").write_text("my readme")
    result = train(table, mine, "--epochs", "2", "--overwrite")
    assert result.exit_code == 0, result.output
    assert (mine / "notes.txt").read_text() == "mine"
    assert (mine / "training-state" / "keep" / "notes.txt").read_text() == "notes"  # once removed by save_state
    assert (mine / "README.md").read_text().startswith("---")  # the card: replacing it was what --overwrite allowed


def test_a_run_folder_resumes_and_files_added_to_it_are_left_alone(tiny_registry, table, tmp_path):
    run = tmp_path / "run"
    assert train(table, run, "--epochs", "1").exit_code == 0
    (run / "notes.txt").write_text("mine")
    (run / "training-state" / "mine").mkdir()
    (run / "training-state" / "mine" / "a.txt").write_text("a")
    result = train(table, run, "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert load_state(run / "training-state")["progress"]["epoch"] == 2
    assert (run / "notes.txt").read_text() == "mine"
    assert (run / "training-state" / "mine" / "a.txt").read_text() == "a"
    names = sorted(p.name for p in run.iterdir())
    assert names == [RECORD, LOCK, "README.md", "config.json", "metrics.csv", "model.safetensors", "notes.txt",
                     "training-state"]
    assert set(json.loads((run / RECORD).read_text())["files"]) == {"README.md", "config.json", "metrics.csv",
                                                                    "model.safetensors"}


def test_a_file_of_aezoo_changed_by_the_user_is_not_replaced_without_overwrite(tiny_registry, table, tmp_path):
    run = tmp_path / "run"
    assert train(table, run, "--epochs", "1").exit_code == 0
    (run / "README.md").write_text("my notes on this run")
    one_line_error(train(table, run, "--epochs", "2"), "README.md", "not written by aezoo (or changed since)",
                   "--overwrite")
    assert (run / "README.md").read_text() == "my notes on this run"
    assert load_state(run / "training-state")["progress"]["epoch"] == 1
    assert train(table, run, "--epochs", "2", "--overwrite").exit_code == 0
    assert (run / "README.md").read_text().startswith("---")


def test_a_run_folder_of_an_older_aezoo_without_a_record_resumes(tiny_registry, table, tmp_path):
    run = tmp_path / "run"
    assert train(table, run, "--epochs", "1").exit_code == 0
    (run / RECORD).unlink()
    (run / LOCK).unlink(missing_ok=True)
    result = train(table, run, "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert load_state(run / "training-state")["progress"]["epoch"] == 2


def test_an_output_that_is_a_file_is_refused(tiny_registry, table, tmp_path):
    path = tmp_path / "run"
    path.write_text("mine")
    one_line_error(train(table, path, "--epochs", "1"), "is a file, not a folder")
    assert path.read_text() == "mine"


def test_the_final_files_are_moved_into_place_leaving_no_temporary_files(tiny_registry, table, tmp_path):
    run = tmp_path / "run"
    assert train(table, run, "--epochs", "2").exit_code == 0
    hidden = [p.name for p in run.rglob(".*") if p.name not in (LOCK, RECORD)]
    assert hidden == []


# ---- one run at a time ------------------------------------------------------------------------------------------

def test_a_second_run_into_a_locked_folder_is_refused_naming_the_folder(tiny_registry, table, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = textwrap.dedent(f"""
        import sys, time
        from filelock import FileLock
        with FileLock({str(run / LOCK)!r}):
            print("locked", flush=True)
            sys.stdin.read()
    """)
    process = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, env=python_env())
    try:
        assert process.stdout.readline().strip() == "locked"
        one_line_error(train(table, run, "--epochs", "1"), f"Another aezoo run is writing to {run}", "Wait for it")
        assert not (run / "training-state").exists()
    finally:
        process.communicate("", timeout=30)
    assert train(table, run, "--epochs", "1").exit_code == 0  # free again once that run ends


# ---- resuming with other settings -------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "differences"), [
    (("--lr", "0.5"), ["lr 0.01 -> 0.5"]),
    (("--batch-size", "4", "--seed", "3"), ["batch_size 8 -> 4", "seed 0 -> 3"]),
    (("--config", '{"latent": 8}'), ["config.latent 4 -> 8"]),
])
def test_resuming_with_other_settings_is_refused_listing_the_differences(tiny_registry, table, tmp_path, args,
                                                                         differences):
    run = tmp_path / "run"
    assert train(table, run, "--epochs", "1").exit_code == 0
    before = snapshot(run)
    one_line_error(train(table, run, "--epochs", "2", *args), "other settings", "--force-resume", "--no-resume",
                   *differences)
    assert snapshot(run) == before


def test_a_forced_resume_with_another_architecture_is_a_named_error_not_a_traceback(tiny_registry, table, tmp_path):
    run = tmp_path / "run"
    assert train(table, run, "--epochs", "1").exit_code == 0
    one_line_error(train(table, run, "--epochs", "2", "--config", '{"latent": 8}', "--force-resume"),
                   "weights of other shapes", "encoder.weight [4, 16] -> [8, 16]", "--no-resume")
    assert load_state(run / "training-state")["progress"]["epoch"] == 1


def test_a_forced_resume_goes_on_and_the_card_records_both_parts(tiny_registry, table, tmp_path):
    run = tmp_path / "run"
    assert train(table, run, "--epochs", "2").exit_code == 0
    result = train(table, run, "--epochs", "3", "--lr", "0.005", "--force-resume")
    assert result.exit_code == 0, result.output
    card = (run / "README.md").read_text()
    assert "epochs 1-2: batch 8, lr 0.01, seed 0; epoch 3: batch 8, lr 0.005, seed 0" in card
    parts = load_state(run / "training-state")["run"]["parts"]
    assert [p["epochs"] for p in parts] == [[0, 2], [2, 3]]
    assert [p["settings"]["lr"] for p in parts] == [0.01, 0.005]
    # the new settings are now the run's: going on with them needs no force, and the card keeps both
    assert train(table, run, "--epochs", "4", "--lr", "0.005").exit_code == 0
    card = (run / "README.md").read_text()
    assert "epochs 1-2: batch 8, lr 0.01, seed 0; epochs 3-4: batch 8, lr 0.005, seed 0" in card


def test_no_resume_starts_over_with_new_settings(tiny_registry, table, tmp_path):
    run = tmp_path / "run"
    assert train(table, run, "--epochs", "1").exit_code == 0
    assert train(table, run, "--epochs", "1", "--lr", "0.5", "--no-resume").exit_code == 0
    assert "lr 0.5, seed 0" in (run / "README.md").read_text()


# ---- inputs checked before the first step ------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (("--lr", "nan"), "lr nan (must be a finite number above 0)"),
    (("--lr", "-1"), "lr -1.0 (must be a finite number above 0)"),
    (("--seed", str(2**70)), "must be a whole number from 0 to 4294967295"),
    (("--device", "cuda:99"), "cuda:99"),
])
def test_bad_settings_are_refused_before_anything_is_written(tiny_registry, table, tmp_path, args, message):
    run = tmp_path / "run"
    one_line_error(train(table, run, "--epochs", "1", *args), message)
    assert not run.exists()


def test_a_device_that_is_not_one_is_a_usage_error_before_anything_is_written(tiny_registry, table, tmp_path):
    result = train(table, tmp_path / "run", "--epochs", "1", "--device", "bogus")
    assert result.exit_code == 2 and "'bogus' is not a device" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_bad_data_is_refused_before_the_first_step_and_leaves_no_folder(tiny_registry, tmp_path):
    one_line_error(train(tmp_path / "missing.csv", tmp_path / "run", "--epochs", "1"))
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("config", ['{"latent": -1}', '{"latent": "x"}'])
def test_a_config_that_cannot_build_the_model_is_a_named_error(tiny_registry, table, tmp_path, config):
    one_line_error(train(table, tmp_path / "run", "--epochs", "1", "--config", config), "cannot be built with config",
                   "aezoo info tiny-ae")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("name, config", [
    ("fc-dae-mnist", '{"hidden": -1}'), ("fc-dae-mnist", '{"hidden": 0}'), ("fc-dae-mnist", '{"image_size": 0}'),
    ("conv-vae-faces", '{"image_size": 0}'), ("dcgan-faces", '{"image_size": 0}'),
])
def test_a_config_the_shipped_models_cannot_be_built_with_is_refused_before_training(name, config, tmp_path):
    """Issue 10: `--config hidden=-1` / `image_size=0` used to fail after training started (or train a
    0-wide model); the builder refuses them before the output folder is touched or any data is read."""
    result = CliRunner().invoke(main, ["train", name, "--data", str(tmp_path / "missing-folder"), "-o",
                                       str(tmp_path / "run"), "--device", "cpu", "--epochs", "1", "--config", config],
                                prog_name="aezoo")
    one_line_error(result, "cannot be built with config", f"aezoo info {name}")
    assert not (tmp_path / "run").exists()


def test_images_are_not_read_at_a_size_below_one(tmp_path):
    from aezoo.data.images import read_images
    from aezoo.errors import DatasetUnavailableError

    with pytest.raises(DatasetUnavailableError, match="image_size 0"):
        read_images([tmp_path / "a.png"], 0, 1)


def test_a_config_that_does_not_fit_the_data_stops_at_the_first_step_writing_nothing(tiny_registry, table, tmp_path):
    one_line_error(train(table, tmp_path / "run", "--epochs", "1", "--config", '{"features": 8}'),
                   "The first training step failed", "--config")
    assert not (tmp_path / "run").exists()


def test_finetune_into_a_folder_with_foreign_files_is_refused_too(monkeypatch, tmp_path):
    monkeypatch.setenv("AEZOO_MIRRORS", str(Path(__file__).resolve().parents[2] / "weights"))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("mine")
    result = CliRunner().invoke(main, ["finetune", "fc-dae-mnist", "--data", "digits", "-o", str(mine), "--device",
                                       "cpu", "--epochs", "1"], prog_name="aezoo")
    one_line_error(result, "holds files aezoo did not write", "--overwrite")
    assert sorted(p.name for p in mine.iterdir()) == ["README.md"] and (mine / "README.md").read_text() == "mine"
