"""The task commands on the shipped weights: evaluate, sample, denoise, score, and datasets."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import aezoo
from aezoo.cli import main
from aezoo.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [s for s in Registry().models() if (ROOT / "weights" / s.name).is_dir()]


# The face models' card data set, CelebA, is not shipped (it needs a path): they are evaluated on a folder of images.
ON_CELEBA = [s.name for s in SHIPPED if s.recipe and s.recipe.dataset == "celeba"]


# Fashion-MNIST is not shipped either: where its idx files are not installed, its card is checked on small
# idx files written here (the full re-measurement runs where `apt-get install dataset-fashion-mnist` was done).
ON_FASHION = [s.name for s in SHIPPED if s.recipe and s.recipe.dataset == "fashion-mnist"]
# the real credit-card table is not shipped
ON_CREDITCARD = [s.name for s in SHIPPED if s.recipe and s.recipe.dataset == "creditcard"]


def _fashion_installed() -> bool:
    from aezoo.data.images import FASHION_MNIST_SYSTEM_FOLDER, _has_idx_files

    return _has_idx_files(FASHION_MNIST_SYSTEM_FOLDER)


def by_task(*tasks: str) -> list[str]:
    return [s.name for s in SHIPPED if s.task in tasks]


@pytest.fixture
def image_folder(tmp_path):
    """20 random 64x64 RGB PNGs: data for the commands of models whose recipe data set is not shipped."""
    from aezoo.images import save_image

    folder = tmp_path / "images"
    folder.mkdir()
    images = torch.rand(20, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for i, image in enumerate(images):
        save_image(image, folder / f"face{i:02d}.png")
    return folder


@pytest.fixture
def shipped_weights(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_datasets_lists_offline_and_online_sets():
    result = run("datasets", "--json")
    assert result.exit_code == 0, result.output
    sets = {d["name"]: d for d in json.loads(result.stdout)}
    assert sets["mnist-5k"]["offline"] and not sets["celeba"]["offline"]


@pytest.mark.parametrize("name", [s.name for s in SHIPPED if s.name not in ON_CELEBA + ON_CREDITCARD])
def test_evaluate_reproduces_the_card(name, shipped_weights):
    if name in ON_FASHION and not _fashion_installed():
        pytest.skip("the Fashion-MNIST idx files are not installed (apt-get install dataset-fashion-mnist)")
    result = run("evaluate", name, "--json")
    assert result.exit_code == 0, result.output
    for metric, values in json.loads(result.stdout).items():
        if values["card"] is not None:
            assert values["measured"] == pytest.approx(values["card"], rel=1e-3, abs=1e-3), metric


@pytest.mark.parametrize("name", ON_CELEBA)
def test_evaluate_on_a_folder_measures_every_card_metric(name, shipped_weights, image_folder):
    result = run("evaluate", name, "--data", str(image_folder), "--json")
    assert result.exit_code == 0, result.output
    measured = json.loads(result.stdout)
    assert set(measured) == {m.name for m in Registry().get(name).card.metrics}
    assert all(values["card"] is not None and math.isfinite(values["measured"]) for values in measured.values())


@pytest.mark.parametrize("name", ON_FASHION)
def test_evaluate_on_small_fashion_idx_files_measures_every_card_metric(name, shipped_weights, tmp_path):
    import gzip

    import numpy

    images = (numpy.random.default_rng(0).random((12, 28, 28)) * 255).astype(numpy.uint8)
    for split in ("train", "t10k"):
        for kind, array in (("images-idx3", images), ("labels-idx1", numpy.arange(12, dtype=numpy.uint8) % 10)):
            header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
            (tmp_path / f"{split}-{kind}-ubyte.gz").write_bytes(gzip.compress(header + array.tobytes()))
    result = run("evaluate", name, "--data", f"fashion-mnist:{tmp_path}", "--json")
    assert result.exit_code == 0, result.output
    measured = json.loads(result.stdout)
    assert set(measured) == {m.name for m in Registry().get(name).card.metrics}
    assert all(values["card"] is not None and math.isfinite(values["measured"]) for values in measured.values())


@pytest.mark.parametrize("name", by_task("generate", "reconstruct"))
def test_sample_writes_a_grid(name, shipped_weights, tmp_path):
    from PIL import Image

    result = run("sample", name, "-n", "16", "-o", str(tmp_path / "grid.png"), "--seed", "3")
    assert result.exit_code == 0, result.output
    with Image.open(result.stdout.strip()) as grid:
        assert grid.width > 32 and grid.height > 32


@pytest.mark.parametrize("name", by_task("denoise"))
def test_denoise_writes_one_png_per_input(name, shipped_weights, tmp_path):
    from aezoo.images import save_image

    inputs = [save_image(torch.rand(1, 28, 28), tmp_path / f"noisy{i}.png") for i in range(3)]
    result = run("denoise", name, *map(str, inputs), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert [Path(p).name for p in result.stdout.split()] == ["noisy0.png", "noisy1.png", "noisy2.png"]


@pytest.mark.parametrize("name", by_task("denoise"))
def test_sampling_from_a_denoiser_is_a_one_line_error(name, shipped_weights, tmp_path):
    result = run("sample", name, "-o", str(tmp_path / "grid.png"))
    assert result.exit_code == 1
    assert "has no sample()" in result.stderr and "Traceback" not in result.stderr


def test_denoise_an_unreadable_image_is_a_one_line_error(shipped_weights, tmp_path):
    bad = tmp_path / "not-an-image.png"
    bad.write_text("hello")
    result = run("denoise", "fc-dae-mnist", str(bad), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "Cannot read" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", by_task("generate"))
def test_fid_without_inception_weights_is_a_one_line_error(name, shipped_weights, tmp_path, image_folder):
    data = ["--data", str(image_folder)] if name in ON_CELEBA else []
    result = run("evaluate", name, *data, "--inception", str(tmp_path / "missing.safetensors"))
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr and "safetensors" in result.stderr


@pytest.mark.parametrize("name", by_task("anomaly"))
def test_score_writes_a_score_per_row(name, shipped_weights, tmp_path):
    import csv

    from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame

    frame = synthetic_creditcard_frame(2000, seed=11)
    frame.to_csv(tmp_path / "transactions.csv", index=False)
    result = run("score", name, str(tmp_path / "transactions.csv"), "-o", str(tmp_path / "scores.csv"))
    assert result.exit_code == 0, result.output
    with open(result.stdout.strip()) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2000 and {"row", "score", "is_anomaly"} <= set(rows[0])
    flagged = [r for r in rows if r["is_anomaly"] in ("1", "True")]
    threshold = float(aezoo.load(name, device="cpu").threshold_)
    assert flagged and len(flagged) == sum(float(r["score"]) > threshold for r in rows)
    assert f"{len(flagged)} " in result.stderr and "rows flagged" in result.stderr


@pytest.mark.parametrize("name", ON_CREDITCARD)
def test_evaluate_on_a_small_creditcard_table_measures_the_model(name, shipped_weights, tmp_path):
    from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame

    synthetic_creditcard_frame(3000, seed=5).to_csv(tmp_path / "creditcard.csv", index=False)
    result = run("evaluate", name, "--data", f"creditcard:{tmp_path / 'creditcard.csv'}", "--json")
    assert result.exit_code == 0, result.output
    measured = json.loads(result.stdout)
    assert {"roc_auc", "average_precision", "recall", "flagged"} <= set(measured)
    assert all(math.isfinite(v["measured"]) for v in measured.values())


def test_score_names_missing_columns(shipped_weights, tmp_path):
    (tmp_path / "bad.csv").write_text("Time,V1,Amount\n0,1.0,3.5\n")
    result = run("score", "fc-ae-fraud", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "scores.csv"))
    assert result.exit_code == 1 and "V2" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", by_task("denoise", "reconstruct", "generate"))
def test_reconstruct_draws_labelled_rows_or_says_the_model_cannot(name, shipped_weights, tmp_path):
    """Models with reconstruct(): the PNG's rows are the inputs and their reconstructions as the API
    gives them (pixel for pixel, to 8 bits), then samples where the model samples; others refuse in one line."""
    import numpy as np
    from PIL import Image

    import aezoo
    from aezoo.data.images import read_images
    from aezoo.images import save_image

    model = aezoo.load(name, device="cpu")
    size, channels = model.aezoo.preprocessing["image_size"], model.aezoo.preprocessing["channels"]
    images = torch.rand(3, channels, size, size, generator=torch.Generator().manual_seed(0))
    inputs = [save_image(image, tmp_path / f"in{i}.png") for i, image in enumerate(images)]
    result = run("reconstruct", name, *map(str, inputs), str(inputs[0]), "-o", str(tmp_path / "grid.png"))
    if not callable(getattr(model, "reconstruct", None)):
        assert result.exit_code == 1 and "has no reconstruct()" in result.stderr
        assert "Traceback" not in result.output and not (tmp_path / "grid.png").exists()
        return
    assert result.exit_code == 0, result.output
    real = read_images(inputs, image_size=size, channels=channels, as_float=True)  # the PNGs, as 8-bit pixels
    rows = [real, model.reconstruct(real)] + ([model.sample(3, seed=0)] if callable(getattr(model, "sample", None))
                                              else [])
    grid = np.asarray(Image.open(result.stdout.strip()).convert("RGB")).astype(float) / 255
    pixels, tile = max(1, 64 // size), size + 2
    left = round(100 * max(0.9, 0.2 + 0.075 * len("reconstruction")))  # the label margin, at 100 dpi
    top = grid.shape[0] - 10 - pixels * (tile * len(rows) + 2)
    drawn = grid[top::pixels, left::pixels]
    for r, row in enumerate(rows):  # the file named twice is drawn once: three columns
        for c in range(3):
            cell = drawn[2 + tile * r : tile * (r + 1), 2 + tile * c : tile * (c + 1)]
            expected = row[c].permute(1, 2, 0).expand(size, size, 3).numpy()
            assert np.abs(cell - expected).max() <= 2 / 255, (r, c)
