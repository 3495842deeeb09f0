"""aezoo.load / list_models / info / download through the public API."""

from __future__ import annotations

import json
import sys

import pytest
import torch

import aezoo
from aezoo.errors import CheckpointError, ModelNotFoundError, WeightsUnavailableError


def test_load_folder_gives_eval_model_with_config_and_card(tiny_checkpoint):
    model = aezoo.load(tiny_checkpoint, device="cpu")
    assert not model.training
    assert model.aezoo.name == "tiny-ae"
    assert model.aezoo.config == {"features": 16, "latent": 4}
    assert model.aezoo.card.license == "mit"
    assert model.aezoo.path == tiny_checkpoint
    assert model(torch.zeros(2, 16)).shape == (2, 16)


def test_load_folder_reproduces_saved_weights(tiny_checkpoint):
    from safetensors.torch import load_file

    saved = load_file(tiny_checkpoint / "model.safetensors")
    model = aezoo.load(str(tiny_checkpoint), device="cpu")
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key])


def test_pretrained_without_published_weights_is_an_error_not_random_weights(tiny_registry):
    with pytest.raises(WeightsUnavailableError, match="no published weights"):
        aezoo.load("tiny-ae")


def test_pretrained_false_builds_fresh_weights_and_says_so(tiny_registry):
    model = aezoo.load("tiny-ae", pretrained=False, device="cpu")
    assert model.aezoo.path is None
    assert not model.training


def test_unknown_name_suggests(tiny_registry):
    with pytest.raises(ModelNotFoundError, match="Did you mean 'tiny-ae'"):
        aezoo.load("tiny-aee")


def test_missing_folder_is_named(tiny_registry, tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint folder"):
        aezoo.load(str(tmp_path / "nowhere/"))


def test_config_that_does_not_fit_the_builder(tiny_checkpoint):
    config = json.loads((tiny_checkpoint / "config.json").read_text())
    config["config"]["depth"] = 3
    (tiny_checkpoint / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="does not fit"):
        aezoo.load(tiny_checkpoint)


def test_list_models_wildcards(tiny_registry):
    assert [s.name for s in aezoo.list_models("tiny-*")] == ["tiny-ae"]
    assert aezoo.list_models("conv-*") == []


def test_info_reports_distribution(tiny_registry):
    assert aezoo.info("tiny-ae").distribution == "aezoo-test-tiny"


def test_importing_aezoo_does_not_import_torch():
    import subprocess

    code = "import aezoo, sys; aezoo.list_models(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
