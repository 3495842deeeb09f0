"""Model cards (aezoo/card.py): rendered from the spec, read back exactly, valid Hub metadata, a
Usage section whose code runs, and the shipped cards of the first-party models."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from huggingface_hub import ModelCard

import aezoo
from aezoo.card import HUB_GITATTRIBUTES, PIPELINE_TAGS, read_card, read_prose, render_card, render_model_card
from aezoo.cli import main
from aezoo.errors import CheckpointError, InvalidSpecError
from aezoo.registry import Registry
from aezoo.spec import TASKS, CardData, Metric

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.parent.name for p in (ROOT / "weights").glob("*/config.json"))
CARD = CardData(
    license="mit",
    datasets=("ylecun/mnist",),
    training_data="trained on 4,000 digits; 3 epochs.",
    full_data_training="Run `aezoo train x --data mnist`.\n\nA second paragraph, with ### a sub-heading inside.",
    notes="Measured on the CPU.",
    metrics=(Metric("psnr", 20.460412, "mnist-5k", "test", "PSNR of the pooled MSE", "dB"),
             Metric("ssim", 0.918066, "mnist-5k", "test", "mean SSIM, 'quoted: yes'")),
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "README.md"
    path.write_text(text, encoding="utf-8")
    return path


def _python_block(card: str) -> str:
    usage = card.split("## Usage", 1)[1]
    return re.search(r"```python\n(.*?)```", usage, re.DOTALL).group(1)


@pytest.mark.parametrize("task", TASKS)
def test_render_then_read_gives_the_card_back_exactly(tmp_path, task):
    text = render_card(name="x", summary="An autoencoder.", task=task, card=CARD, image="samples.png")
    assert read_card(_write(tmp_path, text)) == CARD
    assert text.count(CARD.notes) == 1 and text.count(CARD.training_data) == 1  # the prose, once


def test_a_card_without_prose_or_data_sets_reads_back_empty_fields(tmp_path):
    card = CardData(license="other", metrics=CARD.metrics)
    assert read_card(_write(tmp_path, render_card(name="x", summary="s", task="generate", card=card))) == card


def test_cards_of_the_older_layout_still_read(tmp_path):
    old = ("---\ndatasets:\n- mnist\nlicense: mit\naezoo:\n  license: mit\n  datasets:\n  - mnist\n"
           "  training_data: trained on digits\n  full_data_training: train longer\n  notes: a note\n"
           "  metrics:\n  - {name: psnr, value: 20.5, dataset: mnist-5k, split: test, protocol: p, unit: dB}\n"
           "---\n# x\n\n## Notes\n\na note\n")
    assert read_card(_write(tmp_path, old)) == CardData(
        license="mit", datasets=("mnist",), training_data="trained on digits", full_data_training="train longer",
        notes="a note", metrics=(Metric("psnr", 20.5, "mnist-5k", "test", "p", "dB"),))


def test_a_heading_inside_the_prose_is_refused_before_it_breaks_the_sections():
    with pytest.raises(InvalidSpecError, match=r"card.notes holds a '## ' heading"):
        render_card(name="x", summary="s", task="denoise", card=dataclasses.replace(CARD, notes="a\n## Oops\nb"))


@pytest.mark.parametrize("datasets", [(), ("ylecun/mnist",), ("ylecun/mnist", "zalando-datasets/fashion_mnist")])
def test_hub_metadata_is_valid_and_the_model_index_names_only_listed_data_sets(tmp_path, datasets):
    card = dataclasses.replace(CARD, datasets=datasets)
    data = ModelCard(render_card(name="x", summary="s", task="anomaly", card=card)).data
    assert data.pipeline_tag == "tabular-classification" and data.library_name == "aezoo"
    assert data.license == "mit" and tuple(data.datasets or ()) == datasets
    results = data.eval_results or []
    assert {r.dataset_type for r in results} <= set(datasets)
    # one Hub data set: every metric in the model-index; none or several: no guess at which one
    assert [(r.metric_type, r.metric_value, r.dataset_name) for r in results] == (
        [(m.name, m.value, m.dataset) for m in card.metrics] if len(datasets) == 1 else [])


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_cards_are_hub_metadata_with_the_specs_numbers(name):
    spec = aezoo.info(name)
    path = ROOT / "weights" / name / "README.md"
    data = ModelCard.load(path).data
    assert data.pipeline_tag == PIPELINE_TAGS[spec.task]
    assert data.license == spec.card.license and tuple(data.datasets or ()) == spec.card.datasets
    assert {r.dataset_type for r in data.eval_results or []} <= set(spec.card.datasets)
    card = read_card(path)
    # the measured facts are exactly the release's; the prose may lag the plugin's card file
    assert (card.metrics, card.training_data) == (spec.card.metrics, spec.card.training_data)
    text = path.read_text(encoding="utf-8")
    assert f"pip install aezoo {spec.distribution}" in text and f'aezoo.load("{name}")' in text
    assert (path.parent / ".gitattributes").read_text() == HUB_GITATTRIBUTES


def test_the_hub_gitattributes_keep_weights_in_lfs():
    lines = HUB_GITATTRIBUTES.splitlines()
    assert "*.safetensors filter=lfs diff=lfs merge=lfs -text" in lines
    assert "*.png filter=lfs diff=lfs merge=lfs -text" in lines and len(lines) == len(set(lines))


def test_the_card_file_prose_is_read_and_checked(tmp_path):
    path = tmp_path / "card.md"
    path.write_text("## Notes\n\nA note.\n\n## Training on the full data set\n\nMore data.\n")
    assert read_prose(path) == {"full_data_training": "More data.", "notes": "A note."}
    path.write_text("## Notes\n\nA note.\n\n## Limitations\n\nx\n")
    with pytest.raises(InvalidSpecError, match="unknown sections: Limitations"):
        read_prose(path)
    path.write_text("Loose text.\n## Notes\n\nA note.\n")
    with pytest.raises(InvalidSpecError, match="text outside its sections"):
        read_prose(path)
    with pytest.raises(InvalidSpecError, match="package-data"):
        read_prose(tmp_path / "missing.md")


def test_the_usage_code_of_a_card_runs_as_written(tmp_path, monkeypatch):
    """fc-ae-fraud (25 kB of weights) loaded by name, as the card's Usage says, from a mirror
    that holds its checkpoint with the rendered card, pinned by a manifest of those files."""
    from aezoo import hookimpl, registry
    from aezoo.checkpoint import read_config
    from aezoo.integrity import sha256_of
    from aezoo.spec import WeightsFile, WeightsManifest

    shipped = aezoo.info("fc-ae-fraud")
    folder = tmp_path / "mirror" / "fc-ae-fraud"
    folder.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copyfile(ROOT / "weights" / "fc-ae-fraud" / name, folder / name)
    text = render_model_card(shipped, checkpoint=read_config(folder))
    (folder / "README.md").write_text(text, encoding="utf-8")
    files = tuple(WeightsFile(p.name, sha256_of(p), p.stat().st_size) for p in sorted(folder.iterdir()))
    spec = dataclasses.replace(shipped, weights=WeightsManifest("aezoo/fc-ae-fraud", "0" * 40, files))

    class Pinned:
        @hookimpl
        def aezoo_register_models(self) -> list:
            return [spec]

    reg = Registry(autoload=False)
    reg.register(Pinned(), "pinned", distribution=shipped.distribution)
    registry.set_registry(reg)
    monkeypatch.setenv("AEZOO_MIRRORS", str(tmp_path / "mirror"))
    namespace: dict = {}
    exec(compile(_python_block(text), "README.md Usage", "exec"), namespace)
    assert namespace["scores"].shape == (8,) and set(namespace["flags"].tolist()) <= {0, 1}
    assert namespace["detector"].aezoo.path == folder


@pytest.mark.parametrize("name", SHIPPED)
def test_the_usage_calls_the_task_method_on_inputs_of_the_checkpoints_shape(name):
    spec = aezoo.info(name)
    code = _python_block(render_model_card(spec))
    call = {"denoise": ".denoise(", "generate": ".sample(16, seed=0)", "anomaly": ".decision_function("}[spec.task]
    assert call in code
    shape = spec.preprocessing.get("image_size")
    if shape:
        assert f"{spec.preprocessing['channels']}, {shape}, {shape}" in code
    else:
        assert f"random((8, {len(spec.preprocessing['features'])}))" in code


def test_aezoo_card_writes_the_card_and_gitattributes_of_a_folder(tmp_path):
    folder = shutil.copytree(ROOT / "weights" / "fc-ae-fraud", tmp_path / "fc-ae-fraud")
    (folder / "README.md").unlink()
    (folder / ".gitattributes").unlink()
    result = CliRunner().invoke(main, ["card", str(folder)])
    assert result.exit_code == 0, result.output
    assert read_card(folder / "README.md") == aezoo.info("fc-ae-fraud").card
    assert "![fc-ae-fraud](scores.png)" in (folder / "README.md").read_text()
    assert (folder / ".gitattributes").read_text() == HUB_GITATTRIBUTES
    shutil.copyfile(folder / "scores.png", folder / "other.png")
    result = CliRunner().invoke(main, ["card", str(folder)])
    assert result.exit_code == 1 and "holds several images (other.png, scores.png)" in result.output
    assert "--image" in result.output
    assert CliRunner().invoke(main, ["card", str(folder), "--image", "other.png"]).exit_code == 0
    assert "![fc-ae-fraud](other.png)" in (folder / "README.md").read_text()


def test_a_folder_that_is_no_checkpoint_is_a_named_error(tmp_path):
    with pytest.raises(CheckpointError, match="no config.json"):
        from aezoo.card import render_folder

        render_folder(tmp_path)
