"""The conformance kit (aezoo.testing): every installed model passes it, and each check catches what
it is for, never writes into a folder it is given, and runs offline."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import socket
import stat
from pathlib import Path

import pytest
import torch
from torch import nn

import aezoo
from aezoo import testing
from aezoo.registry import Registry, get_registry

ROOT = Path(__file__).resolve().parent.parent
INSTALLED = [spec.name for spec in Registry().models()]
FIRST_PARTY = sorted(p.name.removeprefix("aezoo-") for p in (ROOT / "plugins").iterdir()
                     if (p / "pyproject.toml").exists())


def shipped(name: str) -> Path:
    return ROOT / "weights" / aezoo.info(name).weights.repo_name


def test_every_first_party_plugin_is_installed_and_registered_through_its_entry_point():
    specs = {spec.name: spec for spec in Registry().models()}
    for name in FIRST_PARTY:
        assert name in specs, f"plugins/aezoo-{name} is not installed or does not register {name!r}"
        assert specs[name].distribution == f"aezoo-{name}"


@pytest.mark.aezoo_models(*INSTALLED)
def test_model_conforms(aezoo_model_name):
    """The kit's pytest plugin parametrizes this test; every check runs, on the shipped weights."""
    spec = aezoo.info(aezoo_model_name)
    published = spec.weights and (ROOT / "weights" / spec.weights.repo_name).is_dir()
    weights = shipped(aezoo_model_name) if published else None
    ran = testing.check_model(aezoo_model_name, weights=weights)
    assert {"check_spec", "check_builds", "check_task_api", "check_round_trip", "check_no_torch_on_listing"} <= set(ran)
    if weights is not None:
        assert {"check_package_data", "check_release", "check_weights_fit", "check_card"} <= set(ran)


@pytest.mark.parametrize("name", FIRST_PARTY)
def test_shipped_weights_load_by_name_from_the_source_mirror(name, monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    model = aezoo.load(name, device="cpu")
    assert model.aezoo.path == ROOT / "weights" / name
    assert model.aezoo.card == aezoo.info(name).card


# -- the checks catch what they are for --------------------------------------------------------------
def tree_digest(folder: Path) -> dict[str, tuple[int, str]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_mode, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def pinned(spec: aezoo.ModelSpec, folder: Path) -> aezoo.ModelSpec:
    """``spec`` with a pin of ``folder`` as ``aezoo push`` writes it (the checks take specs as well as names)."""
    from aezoo.publish import release_data

    release = release_data(folder, "someone/" + spec.name, "0" * 40)
    return dataclasses.replace(spec, weights=aezoo.WeightsManifest.from_dict(release["weights"]))


@pytest.fixture
def published(tmp_path):
    """A copy of fc-dae-mnist's published folder, and its spec pinned to that copy."""
    folder = shutil.copytree(shipped("fc-dae-mnist"), tmp_path / "fc-dae-mnist")
    return pinned(aezoo.info("fc-dae-mnist"), folder), folder


@pytest.fixture
def read_only(published):
    """The published copy made read-only: a check that writes into it fails."""
    spec, folder = published
    for path in [*folder.rglob("*"), folder]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield spec, folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_checks_given_a_folder_never_write_into_it(read_only):
    spec, folder = read_only
    before = tree_digest(folder)
    for check in (testing.check_task_api, testing.check_release, testing.check_weights_fit, testing.check_card):
        check(spec, folder)
    assert tree_digest(folder) == before
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == sorted(Path(n) for n in before)


def test_check_release_names_a_changed_or_extra_file(published):
    spec, folder = published
    testing.check_release(spec, folder)
    (folder / "notes.txt").write_text("not pinned")
    with pytest.raises(testing.ConformanceError, match=r"notes\.txt"):
        testing.check_release(spec, folder)
    (folder / "notes.txt").unlink()
    config = folder / "config.json"
    config.write_text(config.read_text().replace("1176", "1177"))
    with pytest.raises(testing.ConformanceError,
                       match=r"config\.json differs from the pinned someone/fc-dae-mnist@000"):
        testing.check_release(spec, folder)


def test_check_weights_fit_names_tensors_that_do_not_fit_the_spec(tmp_path):
    """Weights trained with another width, published under the spec's config: only load would have found out."""
    from aezoo.checkpoint import CheckpointConfig, save_checkpoint

    spec = aezoo.info("fc-dae-mnist")
    wider = aezoo.build(spec, {**spec.config, "hidden": 8})
    folder = save_checkpoint(tmp_path / "mismatch", wider, CheckpointConfig(spec.name, dict(spec.config)))
    with pytest.raises(testing.ConformanceError, match=r"encoder\.weight: checkpoint float32\[8, 784\] vs model"):
        testing.check_weights_fit(spec, folder)
    save_checkpoint(folder, wider, CheckpointConfig(spec.name, {**spec.config, "hidden": 8}))
    with pytest.raises(testing.ConformanceError, match=r"another config than the spec \(keys \['hidden'\]\)"):
        testing.check_weights_fit(spec, folder)


def test_check_card_needs_hub_metadata(published):
    spec, folder = published
    testing.check_card(spec, folder)
    card = folder / "README.md"
    lines = card.read_text().splitlines(keepends=True)
    card.write_text("".join(line for line in lines if not line.startswith("library_name:")))
    with pytest.raises(testing.ConformanceError, match="library_name None, not 'aezoo'"):
        testing.check_card(spec, folder)
    card.write_text("---\nlicense: [unclosed\n---\n# card\n")
    with pytest.raises(testing.ConformanceError, match="huggingface_hub cannot read the card"):
        testing.check_card(spec, folder)


def test_check_builds_and_check_spec_catch_a_wrong_declaration():
    spec = aezoo.info("fc-dae-mnist")
    with pytest.raises(testing.ConformanceError, match="the spec says 1,845,929 parameters, the module has 1,845,928"):
        testing.check_builds(dataclasses.replace(spec, params=spec.params + 1))
    with pytest.raises(testing.ConformanceError, match="field 'task' is 'segment', not one of denoise"):
        testing.check_spec(dataclasses.replace(spec, task="segment"))
    with pytest.raises(testing.ConformanceError, match="trains on 'nowhere', which no installed plugin registers"):
        testing.check_spec(dataclasses.replace(spec, recipe=dataclasses.replace(spec.recipe, dataset="nowhere")))


def test_check_package_data_needs_a_pin():
    spec = aezoo.info("fc-dae-mnist")
    with pytest.raises(testing.ConformanceError, match="has no weights pin"):
        testing.check_package_data(dataclasses.replace(spec, weights=None))


# Modules of a plugin registered in code below, by import string, as an entry point would.
class Shrinks(nn.Module):
    """A denoiser that gives back fewer pixels than it was given."""

    image_shape = (1, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def denoise(self, images: torch.Tensor) -> torch.Tensor:
        return images[..., :4, :4].clamp(0, 1) * self.scale


class PhonesHome(Shrinks):
    """A model that reaches for the network when it is built (say, to fetch weights in __init__)."""

    def __init__(self) -> None:
        super().__init__()
        socket.create_connection(("hub.example.invalid", 443), timeout=1)


def build_shrinks() -> nn.Module:
    return Shrinks()


def build_phones_home() -> nn.Module:
    return PhonesHome()


@pytest.fixture
def in_code_models():
    registry = get_registry()
    specs = [aezoo.ModelSpec(name=name, summary="", task="denoise", family="test", builder=f"{__name__}:{builder}",
                             config={}, card=aezoo.CardData(license="mit"), params=1)
             for name, builder in (("shrinks", "build_shrinks"), ("phones-home", "build_phones_home"))]

    class Plugin:
        @aezoo.hookimpl
        def aezoo_register_models(self):
            return specs

    registry.register(Plugin(), "in-code", distribution="in-code")
    return registry


def test_check_task_api_names_the_wrong_shape(in_code_models):
    with pytest.raises(testing.ConformanceError,
                       match=r"denoise\(images of shape \(3, 1, 8, 8\)\) gave \(3, 1, 4, 4\)"):
        testing.check_task_api("shrinks")


def test_a_check_that_tries_the_network_fails_by_name(in_code_models):
    with pytest.raises(testing.NetworkUsedError, match="hub.example.invalid:443"):
        testing.check_builds("phones-home")
    socket.getaddrinfo("localhost", 80)  # restored after the check


def test_offline_refuses_connections_and_puts_huggingface_hub_offline(aezoo_offline):
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    assert constants.HF_HUB_OFFLINE
    with pytest.raises(testing.NetworkUsedError, match="127.0.0.1"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(LocalEntryNotFoundError):  # the cache only: huggingface_hub never opened a connection
        hf_hub_download("aezoo/fc-dae-mnist", "config.json")


def test_the_kit_names_the_models_of_the_project_that_holds_the_test():
    from aezoo.testing.plugin import models_of_project

    assert models_of_project(ROOT / "plugins" / "aezoo-fc-dae-mnist" / "tests" / "test_x.py") == [
        "fc-dae-fashion-mnist", "fc-dae-mnist"]
    with pytest.raises(testing.ConformanceError, match="'aezoo' .* registers no models here"):
        models_of_project(ROOT / "tests" / "test_x.py")


def test_weights_manifest_from_json_reads_a_release_file_and_names_release_from_json_otherwise(published, tmp_path):
    from aezoo.errors import InvalidSpecError
    from aezoo.publish import release_data, write_release

    spec, folder = published
    release = write_release(release_data(folder, "someone/fc-dae-mnist", "0" * 40), tmp_path / "release.json")
    assert aezoo.WeightsManifest.from_json(release) == aezoo.Release.from_json(release).weights == spec.weights
    (tmp_path / "other.json").write_text('{"metrics": []}')
    with pytest.raises(InvalidSpecError, match=r"neither a weights manifest nor a release file") as caught:
        aezoo.WeightsManifest.from_json(tmp_path / "other.json")
    assert "aezoo.Release.from_json" in caught.value.hint
