"""Isolation for every test, core or plugin (the root conftest.py makes ``isolated`` autouse
everywhere): offline, own caches, no mirrors, a fresh plugin registry.

huggingface_hub reads HF_* variables once, at import, into ``huggingface_hub.constants``; the
``hub_env`` helper therefore sets both the variables (for subprocesses) and the constants.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
    monkeypatch.setenv("AEZOO_MIRRORS", "none")
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
