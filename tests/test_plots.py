"""aezoo.plots and `aezoo plot`: figures are real PNG files of the size asked for, with what they
show where it should be; the history reader on a real (tiny) training run, preferring metrics.csv;
the card images the training steps draw; named errors for folders without a history."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import aezoo
from aezoo.cli import main
from aezoo.plots import NoHistoryError, plot_history, plot_image_rows, plot_run, plot_scores, read_history

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A two-epoch fc-ae-fraud run on 1,000 synthetic transactions (about 3 s): a real run folder."""
    from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame

    folder = tmp_path_factory.mktemp("plots") / "fraud-run"
    frame = synthetic_creditcard_frame(1_000, seed=4, fraud_rate=0.03)
    options = {**aezoo.info("fc-ae-fraud").recipe.options, "baselines": False}
    aezoo.train("fc-ae-fraud", data=frame, epochs=2, output_dir=folder, options=options)
    return folder


def _png(path) -> Image.Image:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(path).convert("RGB")


def test_a_run_folder_without_metrics_csv_falls_back_to_its_training_state(run_dir, tmp_path):
    older = tmp_path / "older-run"  # as runs made before metrics.csv was written look
    shutil.copytree(run_dir, older)
    (older / "metrics.csv").unlink()
    history = read_history(older)
    assert history.source == "training-state/" and history.x == "epoch"
    assert [row["epoch"] for row in history.rows] == [1.0, 2.0]
    assert {"roc_auc", "average_precision", "flagged"} <= set(history.columns)


def test_history_of_a_real_run(run_dir, tmp_path):
    history = read_history(run_dir)
    assert history.source == "metrics.csv" and history.x == "epoch"
    assert [row["epoch"] for row in history.rows] == [1.0, 2.0]
    assert {"roc_auc", "average_precision", "flagged", "lr", "samples_per_s"} <= set(history.columns)
    assert history.columns[0].startswith("train_")  # training losses come first
    assert all(0.0 <= row["roc_auc"] <= 1.0 for row in history.rows)
    written = plot_run(run_dir, tmp_path / "curves.png")
    columns = len(history.columns)
    assert _png(written).size == (100 * 4 * min(3, columns), round(100 * (2.8 * -(-columns // 3) + 0.6)))


def test_metrics_csv_is_preferred_when_present(run_dir, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "metrics.csv").write_text("step,epoch,loss,psnr,lr\n10,1,0.5,,0.001\n20,1,0.25,18.5,0.001\n"
                                        "30,2,0.125,,0.0005\n40,2,0.0625,19.25,0.0005\n")
    history = read_history(folder)
    assert history.source == "metrics.csv" and history.x == "epoch" and history.columns[0] == "loss"
    assert [row.get("psnr") for row in history.rows] == [None, 18.5, None, 19.25]  # empty cells are absent
    assert _png(plot_history(history, tmp_path / "h.png")).size == (1200, 340)


def test_folders_without_a_history_are_named_errors(tmp_path):
    with pytest.raises(NoHistoryError, match="no training history") as error:
        read_history(tmp_path)
    assert "aezoo train" in error.value.hint
    with pytest.raises(NoHistoryError, match="no training history"):
        read_history(tmp_path / "absent")
    (tmp_path / "metrics.csv").write_text("epoch,loss\n1,high\n")
    with pytest.raises(NoHistoryError, match="line 2 has a value that is not a number"):
        read_history(tmp_path)


def test_the_cli_plots_a_run(run_dir, tmp_path, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(main, ["plot", str(run_dir), "-o", str(tmp_path / "out.png")])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(tmp_path / "out.png") and _png(tmp_path / "out.png").size[0] > 0
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(main, ["plot", str(run_dir)]).exit_code == 0
    assert (tmp_path / "fraud-run-curves.png").is_file() and not (run_dir / "fraud-run-curves.png").exists()
    failed = runner.invoke(main, ["plot", str(tmp_path / "nothing-here")])
    assert failed.exit_code == 1 and "no training history" in failed.output and "Traceback" not in failed.output


def test_score_figures_mark_the_threshold_with_both_classes_or_one(tmp_path):
    rng = np.random.default_rng(0)
    scores = np.r_[np.exp(rng.normal(size=2_000)), np.exp(rng.normal(size=30) + 3)]
    labels = np.r_[np.zeros(2_000), np.ones(30)]
    assert _png(plot_scores(scores, labels, 12.0, tmp_path / "both.png")).size == (1500, 440)  # + ROC and PR
    assert _png(plot_scores(scores[:2_000], labels[:2_000], 12.0, tmp_path / "one.png")).size == (650, 440)


def test_the_anomaly_steps_card_image_is_the_matplotlib_figure(run_dir):
    assert _png(run_dir / "scores.png").size == (1500, 440)  # labelled held-out rows: histogram, ROC, PR


def test_image_rows_are_laid_out_with_their_labels(tmp_path):
    """Row 0 white, row 1 black, row 2 mid grey: each sits where the labels say (2 px per pixel)."""
    rows = [torch.full((10, 1, 28, 28), value) for value in (1.0, 0.0, 0.5)]
    image = _png(plot_image_rows(rows, ["input", "noisy", "output"], tmp_path / "g.png", title="t"))
    # make_grid: 10 x 3 tiles of 28 + 2 px padding -> 302 x 92 px, twice that on screen, plus margins
    assert image.size == (694, 239)
    left, top = 90, 45  # the label margin (0.9 in) and the title band (0.45 in) at 100 dpi
    centre = lambda row: image.getpixel((left + 2 * 16, top + 2 * (16 + 30 * row)))  # noqa: E731
    assert centre(0) == (255, 255, 255) and centre(1) == (0, 0, 0) and abs(centre(2)[0] - 128) <= 1
    with pytest.raises(ValueError, match="one label per row"):
        plot_image_rows(rows, ["input"], tmp_path / "x.png")


def test_denoising_card_image_shows_one_item_per_class(tmp_path):
    """Class k's images are all k / 9 bright: the input row of before_after.png then steps up from
    black to white, one class per column, whatever order the items come in."""
    from torch.utils.data import TensorDataset

    from aezoo.training.steps.denoising import DenoisingStep

    labels = torch.tensor([3, 3, 0, 7, 1, 9, 2, 4, 8, 5, 6, 6, 1] * 4)
    images = (labels.float() / 9).view(-1, 1, 1, 1).expand(-1, 1, 28, 28).contiguous()
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 784), torch.nn.Sigmoid(),
                                torch.nn.Unflatten(1, (1, 28, 28)))
    step = DenoisingStep(model, aezoo.info("fc-dae-mnist").recipe, torch.device("cpu"))
    assert step.write_artifacts(tmp_path, TensorDataset(images, labels)) == ["before_after.png"]
    image = _png(tmp_path / "before_after.png")
    top = image.size[1] - 10 - 2 * 92  # the grid's top edge: 10 px above the bottom, 184 px high
    row = [image.getpixel((90 + 2 * (16 + 30 * k), top + 2 * 16))[0] for k in range(10)]
    assert np.abs(np.array(row) - 255 * np.arange(10) / 9).max() <= 1  # matplotlib rounds to 8 bits its own way
