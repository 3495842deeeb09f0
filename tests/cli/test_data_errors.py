"""Data a careless user passes (issue 10, item 10): unreadable CSVs, data of the wrong kind or size for the
model, too few items. Each is one line naming the problem, exit 1, found before any step runs (and
before the model loads where the command reads the file itself); nothing is written."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame
from click.testing import CliRunner

from aezoo.cli import main
from aezoo.errors import CSVReadError

ROOT = Path(__file__).resolve().parents[2]
FRAUD_COLUMNS = [f"V{i}" for i in range(1, 29)] + ["Amount"]


@pytest.fixture
def shipped_weights(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))


def run(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="aezoo")


def one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in line, line
    return line


def _table_text(rows: int = 20) -> str:
    values = np.random.default_rng(0).normal(size=(rows, len(FRAUD_COLUMNS)))
    return ",".join(FRAUD_COLUMNS) + "\n" + "\n".join(",".join(f"{v:.4f}" for v in row) for row in values) + "\n"


BAD_CSVS = {
    "empty": (b"", "is empty"),
    "blank": (b"\n\n  \n", "is empty"),
    "header-only": (b"V1,V2,Amount\n", "has a header but no rows"),
    "ragged": (b"V1,V2\n1,2\n3,4,5\n6,7\n", "Expected 2 fields in line 3, saw 3"),
    "binary": (bytes(range(256)) * 16, "holds NUL bytes"),
    "utf-16 without a byte-order mark": ("V1,V2\n1,2\n".encode("utf-16-le"), "holds NUL bytes"),
    "latin-1": ("V1,Beträge\n1,2\n".encode("latin-1"), "is not UTF-8 text"),
    "broken gzip": (b"not gzip at all", "could not be read"),
}


@pytest.fixture(params=list(BAD_CSVS), ids=list(BAD_CSVS))
def bad_csv(request, tmp_path) -> tuple[Path, str]:
    content, message = BAD_CSVS[request.param]
    path = tmp_path / ("table.csv.gz" if request.param == "broken gzip" else "table.csv")
    path.write_bytes(content)
    return path, message


def test_aezoo_score_names_an_unreadable_csv_before_loading_the_model(bad_csv, tmp_path, monkeypatch):
    path, message = bad_csv
    monkeypatch.setenv("AEZOO_MIRRORS", str(tmp_path / "no-weights-here"))  # the model is never reached
    one_line_error(run("score", "fc-ae-fraud", str(path), "-o", str(tmp_path / "scores.csv")), path.name, message,
                   "UTF-8")
    assert not (tmp_path / "scores.csv").exists()


def test_an_unreadable_csv_as_training_data_is_named_before_the_first_step(bad_csv, tiny_registry, tmp_path):
    path, message = bad_csv
    one_line_error(run("train", "tiny-ae", "--data", str(path), "-o", str(tmp_path / "run"), "--device", "cpu"),
                   message)
    assert not (tmp_path / "run").exists()


def test_an_unreadable_csv_as_evaluation_data_is_named_before_measuring(bad_csv, shipped_weights):
    path, message = bad_csv
    one_line_error(run("evaluate", "fc-ae-fraud", "--data", str(path), "--device", "cpu"), message)
    one_line_error(run("evaluate", "fc-ae-fraud", "--data", f"creditcard:{path}", "--device", "cpu"), message)


def test_the_reader_raises_only_its_named_error(bad_csv):
    from aezoo.data.csvfile import read_csv

    path, message = bad_csv
    with pytest.raises(CSVReadError, match=message):
        read_csv(path)


@pytest.mark.parametrize("bom", ["utf-16", "utf-8-sig"])
def test_a_csv_saved_as_utf_16_or_with_a_utf_8_byte_order_mark_is_read(bom, shipped_weights, tmp_path):
    text = _table_text()
    (tmp_path / "table.csv").write_bytes(text.encode(bom))
    assert (tmp_path / "table.csv").read_bytes()[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"\xef\xbb")
    result = run("score", "fc-ae-fraud", str(tmp_path / "table.csv"), "-o", str(tmp_path / "scores.csv"))
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "scores.csv").read_text().splitlines()) == 21


def test_an_image_model_given_a_csv_is_refused_before_training(shipped_weights, tmp_path):
    (tmp_path / "table.csv").write_text(_table_text(40))
    one_line_error(run("train", "fc-dae-mnist", "--data", str(tmp_path / "table.csv"), "-o", str(tmp_path / "run"),
                       "--device", "cpu", "--epochs", "1"), "rows of 29 columns (a table)", "1x28x28 images")
    assert not (tmp_path / "run").exists()
    one_line_error(run("evaluate", "fc-dae-mnist", "--data", str(tmp_path / "table.csv"), "--device", "cpu"),
                   "1x28x28 images", "folder of images")


def test_a_table_model_given_images_or_a_table_of_another_width_is_refused(shipped_weights, tmp_path):
    from aezoo.images import save_image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(6):
        save_image(torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(i)), folder / f"{i}.png")
    one_line_error(run("evaluate", "fc-ae-fraud", "--data", str(folder), "--device", "cpu"),
                   "not table rows", "29 columns")
    # the size mismatch of the issue: 64 pixel columns for a 29-column model
    one_line_error(run("evaluate", "fc-ae-fraud", "--data", "digits", "--device", "cpu"),
                   "digits gives rows of 64 columns", "fc-ae-fraud reads tables of 29 columns")
    one_line_error(run("finetune", "fc-ae-fraud", "--data", "digits", "-o", str(tmp_path / "run"), "--device", "cpu",
                       "--epochs", "1"), "rows of 64 columns")
    assert not (tmp_path / "run").exists()


def _image_folder(folder: Path, count: int) -> Path:
    from aezoo.images import save_image

    folder.mkdir()
    for i in range(count):
        save_image(torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(i)), folder / f"{i}.png")
    return folder


def test_an_image_folder_with_fewer_than_five_images_is_refused_before_training(tmp_path):
    folder = _image_folder(tmp_path / "four", 4)
    one_line_error(run("train", "fc-dae-mnist", "--data", str(folder), "-o", str(tmp_path / "run"), "--device", "cpu",
                       "--epochs", "1"), "4 training and 0 held-out items", "at least 5")
    assert not (tmp_path / "run").exists()


def test_an_image_folder_of_five_images_trains(tmp_path):
    folder = _image_folder(tmp_path / "five", 5)
    result = run("train", "fc-dae-mnist", "--data", str(folder), "-o", str(tmp_path / "run"), "--device", "cpu",
                 "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_sample_refuses_a_seed_beyond_32_bits_as_a_usage_error(tmp_path):
    result = run("sample", "dcgan-faces", "--seed", str(2**70), "-o", str(tmp_path / "s.png"))
    assert result.exit_code == 2 and "--seed" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "s.png").exists()


def test_evaluate_checks_the_name_or_reference_before_measuring(tmp_path, monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(tmp_path / "no-weights-here"))
    one_line_error(run("evaluate", "hf://aezoo/.."), "hf://aezoo/..")
    one_line_error(run("evaluate", "no-such-model"), "no-such-model")


def test_evaluate_shows_the_card_of_a_bare_name_even_beside_a_folder_of_that_name(shipped_weights, tmp_path,
                                                                                    monkeypatch):
    (tmp_path / "fc-ae-fraud").mkdir()  # same name as the model: a bare name still means the registered model
    synthetic_creditcard_frame(1000, seed=5).to_csv(tmp_path / "creditcard.csv", index=False)
    monkeypatch.chdir(tmp_path)
    result = run("evaluate", "fc-ae-fraud", "--data", "creditcard:creditcard.csv", "--json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["flagged"]["card"] is not None
