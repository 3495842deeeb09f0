"""aezoo.load / list_models / info / download through the public API."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

import aezoo
from aezoo.errors import CheckpointError, InvalidReferenceError, ModelNotFoundError, WeightsUnavailableError


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



def test_public_names_survive_importing_every_submodule():
    """Importing a submodule binds its name on the package; no public function may share a
    submodule's name, or ``aezoo.NAME`` turns into the module once something imports it."""
    import subprocess

    code = (
        "import importlib, pkgutil, aezoo\n"
        "for m in pkgutil.walk_packages(aezoo.__path__, 'aezoo.'):\n"
        "    if '.templates' not in m.name: importlib.import_module(m.name)\n"
        "import types\n"
        "print([n for n in aezoo.__all__ if isinstance(getattr(aezoo, n), types.ModuleType)])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert callable(aezoo.evaluate) and callable(aezoo.train) and callable(aezoo.finetune)

# -- a folder named like a model is not the model (issue 10, item 5) -------------------------------------------


@pytest.fixture
def lookalike(tiny_checkpoint, tmp_path, monkeypatch):
    """The working directory holds ./tiny-ae/, a real checkpoint folder named like the registered model."""
    import shutil

    workdir = tmp_path / "workdir"
    workdir.mkdir()
    shutil.copytree(tiny_checkpoint, workdir / "tiny-ae")
    monkeypatch.chdir(workdir)
    return workdir / "tiny-ae"


def test_a_bare_name_is_the_registered_model_even_beside_a_folder_of_that_name(lookalike):
    # tiny-ae has no published weights: the registered name is resolved, and says so, instead of
    # quietly loading the unverified folder.
    with pytest.raises(WeightsUnavailableError, match="no published weights"):
        aezoo.load("tiny-ae")


@pytest.mark.parametrize("written", ["./tiny-ae", "./tiny-ae/", "ABSOLUTE", "PATH", "TILDE"])
def test_a_folder_is_loaded_when_the_user_wrote_a_path(lookalike, monkeypatch, written):
    ref = {"ABSOLUTE": str(lookalike), "PATH": Path("tiny-ae"), "TILDE": "~/tiny-ae"}.get(written, written)
    monkeypatch.setenv("HOME", str(lookalike.parent))
    model = aezoo.load(ref, device="cpu")
    assert model.aezoo.path.resolve() == lookalike.resolve()


def test_looks_like_path_follows_the_written_form():
    from aezoo.api import looks_like_path, ref_kind

    for path in ("./x", "../x", "/abs", "~/x", ".hidden", Path("x"), Path("a/b")):
        assert looks_like_path(path), path
        assert ref_kind(path) == "folder", path
    for name in ("fc-dae-mnist", "tiny-ae", "x", "org/name", "x/"):
        assert not looks_like_path(name), name
    assert [ref_kind(r) for r in ("tiny-ae", "org/name", "hf://org/name@v1")] == ["name", "repo", "hf"]


def test_a_string_with_a_slash_is_a_hub_repo_and_a_folder_there_gets_a_hint(lookalike):
    """``org/name`` is a hub repo even when ./org/name exists; offline and uncached, the error says
    how to load the folder instead, and, as for hf://, never points at mirrors."""
    folder = lookalike.parent / "org" / "name"
    folder.mkdir(parents=True)
    with pytest.raises(WeightsUnavailableError) as caught:
        aezoo.load("org/name", local_files_only=True)
    message = str(caught.value)
    assert "config.json of org/name@main" in message and "local_files_only" in message
    assert "write it as a path: ./org/name" in message and "AEZOO_MIRRORS" not in message


@pytest.mark.parametrize("ref", ["tiny-ae/", "a/b/c", "org/a--b"])
def test_a_reference_that_is_neither_name_repo_nor_path_says_how_to_write_a_folder(lookalike, ref):
    with pytest.raises(InvalidReferenceError) as caught:
        aezoo.load(ref)
    assert f"Write a folder as ./{ref}" in str(caught.value)


def test_revision_applies_to_hub_repos_only(lookalike):
    with pytest.raises(InvalidReferenceError, match="applies to hub repos"):
        aezoo.load("./tiny-ae", revision="main")
    with pytest.raises(InvalidReferenceError, match="pretrained=False loads none"):
        aezoo.load("tiny-ae", revision="main", pretrained=False)
    with pytest.raises(InvalidReferenceError, match="names revision 'v1', but revision='v2'"):
        aezoo.load("hf://org/name@v1", revision="v2")


def test_the_revision_of_a_hub_reference_is_given_once():
    from aezoo.hub import parse_hub_ref

    assert parse_hub_ref("hf://org/name", revision="v2") == ("org/name", "v2")
    assert parse_hub_ref("hf://org/name@v1", revision="v1") == ("org/name", "v1")
    assert parse_hub_ref("hf://org/name") == ("org/name", "main")
    with pytest.raises(InvalidReferenceError, match="is not a revision"):
        parse_hub_ref("hf://org/name", revision="../x")


def test_an_unknown_name_beside_a_folder_of_that_name_says_how_to_load_the_folder(lookalike, tmp_path):
    (lookalike.parent / "my-run").mkdir()
    with pytest.raises(ModelNotFoundError) as caught:
        aezoo.load("my-run")
    assert "No model named 'my-run'" in str(caught.value) and "./my-run" in str(caught.value)


def test_a_written_path_that_is_not_a_folder_is_named(lookalike):
    with pytest.raises(CheckpointError, match="No checkpoint folder at './nowhere'"):
        aezoo.load("./nowhere")
