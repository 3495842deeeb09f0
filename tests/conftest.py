"""Fixtures of the core's tests. Isolation (offline, own caches, fresh registry) comes from
tests/isolation.py through the root conftest.py, for plugin tests too."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.isolation import UNREACHABLE, hub_env  # noqa: F401 - re-exported for the test modules

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DISTRIBUTIONS = TESTS / "distributions"


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


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """40 rows of 16 columns in a CSV file: data for the tiny 16-4-16 model."""
    import numpy as np

    path = tmp_path / "table.csv"
    rows = np.random.default_rng(0).normal(size=(40, 16))
    np.savetxt(path, rows, delimiter=",", header=",".join(f"f{i}" for i in range(16)), comments="")
    return path


def train_tiny(table: Path, output: Path, *args: str):
    """``aezoo train tiny-ae --data TABLE -o OUTPUT --device cpu ARGS`` through click's runner."""
    from click.testing import CliRunner

    from aezoo.cli import main

    return CliRunner().invoke(main, ["train", "tiny-ae", "--data", str(table), "-o", str(output), "--device", "cpu",
                                     *args], prog_name="aezoo")


def python_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess running this interpreter's aezoo."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(extra)
    return env


PYTHON = sys.executable
