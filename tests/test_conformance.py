"""Every installed model, first- or third-party, passes the conformance kit (aezoo.testing)."""

from __future__ import annotations

from pathlib import Path

import pytest

import aezoo
from aezoo import testing
from aezoo.registry import Registry

ROOT = Path(__file__).resolve().parent.parent
INSTALLED = [spec.name for spec in Registry().models()]
FIRST_PARTY = sorted(p.name.removeprefix("aezoo-") for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())


def test_every_first_party_plugin_is_installed_and_registered_through_its_entry_point():
    specs = {spec.name: spec for spec in Registry().models()}
    for name in FIRST_PARTY:
        assert name in specs, f"plugins/aezoo-{name} is not installed or does not register {name!r}"
        assert specs[name].distribution == f"aezoo-{name}"


@pytest.mark.parametrize("name", INSTALLED)
def test_model_conforms(name, tmp_path):
    testing.check_model(name, tmp_path)


@pytest.mark.parametrize("name", FIRST_PARTY)
def test_shipped_weights_match_the_pinned_release(name, tmp_path):
    testing.check_release(aezoo.info(name), ROOT / "weights" / name, tmp_path / "snapshot")


@pytest.mark.parametrize("name", FIRST_PARTY)
def test_shipped_weights_load_by_name_from_the_source_mirror(name, monkeypatch):
    monkeypatch.setenv("AEZOO_MIRRORS", str(ROOT / "weights"))
    model = aezoo.load(name, device="cpu")
    assert model.aezoo.path == ROOT / "weights" / name
    assert model.aezoo.card == aezoo.info(name).card
