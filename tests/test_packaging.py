"""Packaging ready for PyPI: the core and a plugin built as wheels (offline, from copies of their
sources so no build output lands in the repository) carry valid classifiers, their licence,
py.typed, the plugin's release and card files, and dependency ranges that were tested."""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version
from trove_classifiers import classifiers as TROVE

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))
PLUGIN = ROOT / "plugins" / "aezoo-fc-ae-fraud"
JUNK = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "tests")


def _pins() -> dict[str, Version]:
    """constraints.txt: the versions the suite runs at."""
    lines = (line.split("#")[0].strip() for line in (ROOT / "constraints.txt").read_text().splitlines())
    return {Requirement(line).name: Version(line.split("==")[1]) for line in lines if "==" in line}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, zipfile.ZipFile]:
    """The core's and fc-ae-fraud's wheels, built at the same time."""
    root = tmp_path_factory.mktemp("wheels")
    core = root / "src" / "aezoo"
    shutil.copytree(ROOT / "aezoo", core / "aezoo", ignore=JUNK)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copyfile(ROOT / name, core / name)
    plugin = shutil.copytree(PLUGIN, root / "src" / PLUGIN.name, ignore=JUNK)
    jobs = [subprocess.Popen([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                              "--no-index", "--disable-pip-version-check", "-w", str(root / "dist"), str(source)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for source in (core, plugin)]
    for job in jobs:
        output, _ = job.communicate(timeout=300)
        assert job.returncode == 0, output
    built = {w.name.split("-")[0]: zipfile.ZipFile(w) for w in (root / "dist").glob("*.whl")}
    yield built
    for wheel in built.values():
        wheel.close()


def _metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return email.parser.Parser().parsestr(wheel.read(name).decode())


def _check_common(wheel: zipfile.ZipFile, package: str) -> email.message.Message:
    meta = _metadata(wheel)
    assert meta["License-Expression"] == "MIT" and meta.get_all("License-File") == ["LICENSE"]
    names = wheel.namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert f"{package}/py.typed" in names
    assert not [c for c in meta.get_all("Classifier") if c not in TROVE]
    assert "Typing :: Typed" in meta.get_all("Classifier")
    assert meta["Description-Content-Type"] == "text/markdown" and meta.get_payload().strip()
    return meta


def test_the_core_wheel_has_licence_py_typed_valid_classifiers_and_tested_floors(wheels):
    meta = _check_common(wheels["aezoo"], "aezoo")
    pins = _pins()
    for line in meta.get_all("Requires-Dist"):
        requirement = Requirement(line)
        if requirement.name == "aezoo":  # the test extra asks for the export extra of itself
            continue
        floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert floors, f"{line}: no floor"
        pin = pins.get(requirement.name)
        if pin is not None:  # the floor is the tested minor version, and the tested pin satisfies it
            assert (floors[0].major, floors[0].minor) == (pin.major, pin.minor), f"{line}: tested at {pin}"
            assert requirement.specifier.contains(pin)


def test_the_plugin_wheel_ships_its_release_and_card_and_a_compatible_aezoo_range(wheels):
    meta = _check_common(wheels["aezoo_fc_ae_fraud"], "aezoo_fc_ae_fraud")
    names = wheels["aezoo_fc_ae_fraud"].namelist()
    assert {"aezoo_fc_ae_fraud/release.json", "aezoo_fc_ae_fraud/card.md"} <= set(names)
    assert "aezoo-plugin" in meta["Keywords"].split(",")
    aezoo = next(Requirement(r) for r in meta.get_all("Requires-Dist") if Requirement(r).name == "aezoo")
    assert aezoo.specifier.contains("0.1.0") and aezoo.specifier.contains("0.1.9")
    assert not aezoo.specifier.contains("0.2.0") and not aezoo.specifier.contains("0.0.9")
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "[aezoo]\nfc-ae-fraud = aezoo_fc_ae_fraud.plugin" in wheels["aezoo_fc_ae_fraud"].read(entry_points).decode()


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_every_plugin_declares_what_a_wheel_needs(plugin):
    """Without building: the same declarations in each first-party plugin's pyproject.toml."""
    project = tomllib.loads((plugin / "pyproject.toml").read_text())
    meta, data = project["project"], project["tool"]["setuptools"]["package-data"]
    assert meta["license"] == "MIT" and meta["license-files"] == ["LICENSE"] and (plugin / "LICENSE").is_file()
    assert (plugin / meta["readme"]).is_file() and "aezoo-plugin" in meta["keywords"]
    assert not [c for c in meta["classifiers"] if c not in TROVE]
    assert "aezoo>=0.1,<0.2" in meta["dependencies"]
    [(package, shipped)] = data.items()
    folder = plugin / "src" / package
    needed = {p.name for p in folder.iterdir() if p.name.startswith(("release", "card")) or p.name == "py.typed"}
    assert needed >= {"py.typed", "release.json", "card.md"} and set(shipped) == needed
