"""What ``denoise``, ``score`` and ``sample`` write: never an input, never an existing file without
--overwrite, never two inputs into one output, each file moved into place. Shipped weights, real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from aezoo.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shipped_weights(monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))


def run(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="aezoo")


def one_line_error(result, *fragments: str, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    line = result.stderr.strip().splitlines()[-1]
    for fragment in fragments:
        assert fragment in line, line


def noisy(path: Path, seed: int = 0) -> Path:
    from aezoo.images import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    return save_image(torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(seed)), path)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---- denoise ----------------------------------------------------------------------------------------------------

def test_denoise_into_the_folder_of_its_input_never_replaces_the_input(shipped_weights, tmp_path):
    image = noisy(tmp_path / "img" / "digit.png")
    before = files(tmp_path / "img")
    for extra in ([], ["--overwrite"]):
        one_line_error(run("denoise", "fc-dae-mnist", str(image), "-o", str(tmp_path / "img"), *extra),
                       "is the input", "never replaces an input")
    assert files(tmp_path / "img") == before


def test_an_output_that_is_an_input_through_a_link_is_refused(shipped_weights, tmp_path):
    image = noisy(tmp_path / "img" / "digit.png")
    (tmp_path / "view").symlink_to(tmp_path / "img")
    before = image.read_bytes()
    one_line_error(run("denoise", "fc-dae-mnist", str(image), "-o", str(tmp_path / "view"), "--overwrite"),
                   "is the input")
    assert image.read_bytes() == before


def test_inputs_with_the_same_name_from_different_folders_are_refused(shipped_weights, tmp_path):
    a, b = noisy(tmp_path / "a" / "x.png", 1), noisy(tmp_path / "b" / "x.png", 2)
    one_line_error(run("denoise", "fc-dae-mnist", str(a), str(b), "-o", str(tmp_path / "out")),
                   str(a), str(b), "would both be written to", "separate folders")
    assert not (tmp_path / "out").exists()


def test_the_same_image_given_twice_is_denoised_once(shipped_weights, tmp_path):
    image = noisy(tmp_path / "a" / "x.png")
    result = run("denoise", "fc-dae-mnist", str(image), str(tmp_path / "a" / ".." / "a" / "x.png"),
                 "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(tmp_path / "out" / "x.png")]


def test_denoise_replaces_an_existing_output_only_with_overwrite(shipped_weights, tmp_path):
    image = noisy(tmp_path / "in" / "x.png")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.png").write_bytes(b"mine")
    one_line_error(run("denoise", "fc-dae-mnist", str(image), "-o", str(tmp_path / "out")),
                   "already exists", "--overwrite")
    assert (tmp_path / "out" / "x.png").read_bytes() == b"mine"
    result = run("denoise", "fc-dae-mnist", str(image), "-o", str(tmp_path / "out"), "--overwrite")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "x.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(os.listdir(tmp_path / "out")) == ["x.png"]  # no temporary file left beside it


# ---- score ------------------------------------------------------------------------------------------------------

@pytest.fixture
def transactions(tmp_path: Path) -> Path:
    from aezoo_fc_ae_fraud.creditcard import synthetic_creditcard_frame

    path = tmp_path / "x.csv"
    synthetic_creditcard_frame(200, seed=3).to_csv(path, index=False)
    return path


def test_score_into_its_own_input_is_refused_even_with_overwrite(shipped_weights, transactions, tmp_path):
    before = transactions.read_bytes()
    for extra in ([], ["--overwrite"]):
        one_line_error(run("score", "fc-ae-fraud", str(transactions), "-o", str(transactions), *extra),
                       "is the input")
    (tmp_path / "link.csv").symlink_to(transactions)
    one_line_error(run("score", "fc-ae-fraud", str(transactions), "-o", str(tmp_path / "link.csv"), "--overwrite"),
                   "is the input")
    assert transactions.read_bytes() == before


def test_score_replaces_an_existing_output_only_with_overwrite(shipped_weights, transactions, tmp_path):
    out = tmp_path / "out" / "scores.csv"
    out.parent.mkdir()
    out.write_text("mine")
    one_line_error(run("score", "fc-ae-fraud", str(transactions), "-o", str(out)), "already exists", "--overwrite")
    assert out.read_text() == "mine"
    result = run("score", "fc-ae-fraud", str(transactions), "-o", str(out), "--overwrite")
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("row,score,is_anomaly")
    assert sorted(p.name for p in out.parent.iterdir()) == ["scores.csv"]  # no temporary file left beside it


# ---- sample -----------------------------------------------------------------------------------------------------

def test_sample_into_an_existing_file_needs_overwrite(shipped_weights, tmp_path):
    grid = tmp_path / "out" / "grid.png"
    grid.parent.mkdir()
    grid.write_bytes(b"mine")
    one_line_error(run("sample", "conv-vae-faces", "-n", "4", "-o", str(grid)), "already exists", "--overwrite")
    assert grid.read_bytes() == b"mine"
    result = run("sample", "conv-vae-faces", "-n", "4", "-o", str(grid), "--overwrite")
    assert result.exit_code == 0, result.output
    assert grid.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in grid.parent.iterdir()) == ["grid.png"]


def test_sample_to_a_name_that_is_not_png_is_a_usage_error(tmp_path):
    one_line_error(run("sample", "conv-vae-faces", "-o", str(tmp_path / "x.txt")), "must end in .png", code=2)
    assert not (tmp_path / "x.txt").exists()
