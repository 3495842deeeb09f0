"""Shared fixtures. Every test runs offline, with its own caches and a fresh registry.

huggingface_hub reads HF_* variables once, at import, into ``huggingface_hub.constants``; the
``hub_env`` fixture therefore sets both the variables (for subprocesses) and the constants.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DISTRIBUTIONS = TESTS / "distributions"
UNREACHABLE = "http://127.0.0.1:9"  # nothing listens here: proves no test reaches a network

# Before anything imports huggingface_hub: no telemetry, no real hub, no user caches.
os.environ.update(
    HF_HUB_DISABLE_TELEMETRY="1", HF_ENDPOINT=UNREACHABLE, HF_HUB_DISABLE_XET="1",
    HF_HUB_DISABLE_UPDATE_CHECK="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
)
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_HUB_OFFLINE", None)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Own AEZOO_HOME and HF cache per test, no mirrors, and a fresh plugin registry."""
    from aezoo import registry

    hub_env(monkeypatch, tmp_path / "hf", endpoint=UNREACHABLE, offline=False)
    monkeypatch.setenv("AEZOO_HOME", str(tmp_path / "aezoo-home"))
    monkeypatch.setenv("AEZOO_MIRRORS", "")
    monkeypatch.delenv("AEZOO_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("AEZOO_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("AEZOO_DEBUG", raising=False)
    previous = registry.set_registry(None)
    yield
    registry.set_registry(previous)


def hub_env(monkeypatch: pytest.MonkeyPatch, hf_home: Path, *, endpoint: str, offline: bool) -> None:
    """Point huggingface_hub (variables and already-read constants) at ``endpoint`` and ``hf_home``."""
    from huggingface_hub import constants

    cache = hf_home / "hub"
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
    monkeypatch.setattr(constants, "HF_HOME", str(hf_home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)


@pytest.fixture
def tiny_registry(monkeypatch: pytest.MonkeyPatch):
    """A registry with autoload off and the tiny test plugin registered in code."""
    from aezoo import registry

    monkeypatch.syspath_prepend(str(DISTRIBUTIONS / "aezoo-test-tiny" / "src"))
    from aezoo_test_tiny import plugin

    reg = registry.Registry(autoload=False)
    reg.register(plugin, "tiny", distribution="aezoo-test-tiny")
    registry.set_registry(reg)
    return reg


@pytest.fixture
def tiny_checkpoint(tiny_registry, tmp_path: Path) -> Path:
    """A real checkpoint folder of the tiny model: config.json, model.safetensors, README.md."""
    import torch

    from aezoo import build, info
    from aezoo.card import render_card
    from aezoo.checkpoint import CheckpointConfig, save_checkpoint

    spec = info("tiny-ae")
    torch.manual_seed(0)
    folder = tmp_path / "tiny-checkpoint"
    card = render_card(name=spec.name, summary=spec.summary, task=spec.task, card=spec.card)
    save_checkpoint(folder, build(spec), CheckpointConfig(spec.name, dict(spec.config)), card)
    return folder


def python_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess running this interpreter's aezoo."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(extra)
    return env


PYTHON = sys.executable
