"""Fixtures for resolving and publishing weights through real Hub-compatible servers on 127.0.0.1.

``hub_server`` is one olah process per test session (per xdist worker); every test serves its
own repo names from it, so tests never see each other's repos. Without olah these tests skip,
unless ``AEZOO_REQUIRE_OLAH=1`` (set by ``make test``) turns the skip into a failure.

``write_hub_server`` is one write-capable hub (tests/hubwrite.py, a thread of the test process)
per session and worker, for publishing; ``write_hub`` points huggingface_hub at it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aezoo import hookimpl
from aezoo.publish import release_data
from aezoo.registry import Registry, env_flag, set_registry
from aezoo.spec import ModelSpec, WeightsManifest
from tests.conftest import hub_env
from tests.hubserver import HubServer, OlahNotFound, find_olah, git_commit_folder
from tests.hubwrite import HubWriteServer

if TYPE_CHECKING:
    import torch


@pytest.fixture(scope="session")
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """olah on a free port of 127.0.0.1, offline, serving git repos from its ``mirrors`` folder."""
    try:
        executable = find_olah()
    except OlahNotFound as exc:
        pytest.fail(str(exc))
    if executable is None:
        reason = (
            "olah (the loopback Hub server) is not installed: run 'make test', which builds .venv-olah, "
            "or set AEZOO_OLAH to an olah-cli."
        )
        if env_flag("AEZOO_REQUIRE_OLAH"):
            pytest.fail(reason + " AEZOO_REQUIRE_OLAH=1 forbids skipping.")
        pytest.skip(reason)
    with HubServer(tmp_path_factory.mktemp("hub-server"), executable) as server:
        yield server


@pytest.fixture
def hub(hub_server: HubServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> HubServer:
    """huggingface_hub pointed at ``hub_server``, online, with this test's own cache."""
    hub_env(monkeypatch, tmp_path / "hf", endpoint=hub_server.endpoint, offline=False)
    return hub_server


@pytest.fixture(scope="session")
def write_hub_server() -> Iterator[HubWriteServer]:
    """A write-capable hub on a free port of 127.0.0.1 (anyone may write), for the whole session."""
    with HubWriteServer() as server:
        yield server


@pytest.fixture
def write_hub(write_hub_server: HubWriteServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> HubWriteServer:
    """huggingface_hub pointed at ``write_hub_server``, online, with this test's own cache."""
    hub_env(monkeypatch, tmp_path / "hf", endpoint=write_hub_server.endpoint, offline=False)
    return write_hub_server


@pytest.fixture
def repo_id(request: pytest.FixtureRequest) -> str:
    """A repo id no other test of the session uses."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:70].strip("-")
    return f"aezoo-test/{slug}-{hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]}"


@pytest.fixture
def hf_cache(tmp_path: Path) -> Path:
    """The huggingface_hub cache of this test (``$HF_HOME/hub``, as set by ``isolated``/``hub``)."""
    return tmp_path / "hf" / "hub"


@pytest.fixture
def make_checkpoint(tiny_registry, tmp_path: Path) -> Callable[[int], Path]:
    """``make_checkpoint(seed)``: a real tiny-ae checkpoint folder with weights drawn from ``seed``."""

    def make(seed: int) -> Path:
        import torch

        from aezoo import build, info
        from aezoo.card import render_card
        from aezoo.checkpoint import CheckpointConfig, save_checkpoint

        spec = info("tiny-ae")
        torch.manual_seed(seed)
        folder = tmp_path / f"tiny-checkpoint-seed{seed}"
        card = render_card(name=spec.name, summary=spec.summary, task=spec.task, card=spec.card)
        save_checkpoint(folder, build(spec), CheckpointConfig(spec.name, dict(spec.config)), card)
        return folder

    return make


def assert_weights_equal(model: torch.nn.Module, safetensors_file: Path) -> None:
    import torch

    from aezoo.checkpoint import load_tensors

    saved = load_tensors(safetensors_file)
    state = model.state_dict()
    assert state.keys() == saved.keys()
    for key, tensor in saved.items():
        assert torch.equal(state[key].cpu(), tensor), key


def flip_last_byte(path: Path, *, keep_mtime: bool) -> None:
    """Change one byte of tensor data in place: same size, same inode, and (optionally) same mtime."""
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size and os.stat(path).st_ino == st.st_ino


def release_manifest(folder: Path, repo_id: str, scratch: Path) -> WeightsManifest:
    """The manifest a release of ``folder`` as ``repo_id`` pins, at the commit that holds it in the
    git repository ``scratch`` (olah serves it when that is ``hub.repo_path(repo_id)``)."""
    return WeightsManifest.from_dict(release_data(folder, repo_id, git_commit_folder(folder, scratch))["weights"])


class _Specs:
    """A plugin object that registers the given specs."""

    def __init__(self, specs: list[ModelSpec]) -> None:
        self.specs = specs

    @hookimpl
    def aezoo_register_models(self) -> list[ModelSpec]:
        return self.specs


@pytest.fixture
def pin(tiny_registry) -> Callable[[WeightsManifest], str]:
    """``pin(manifest)``: register tiny-ae carrying ``manifest``, as a plugin's release.json
    would; returns the model name."""

    def pin(manifest: WeightsManifest) -> str:
        from aezoo_test_tiny.plugin import TINY

        registry = Registry(autoload=False)
        registry.register(_Specs([replace(TINY, weights=manifest)]), "tiny-published", distribution="aezoo-test-tiny")
        set_registry(registry)
        return TINY.name

    return pin
