"""Installed from wheels, without a source tree: the core and every first-party plugin are built as
wheels, installed into a fresh venv, and every model loads by name from the loopback write hub at
its pinned commit, then offline from the cache; run from a folder outside the checkout, with no
mirrors (``AEZOO_MIRRORS`` empty), so nothing of the source tree can stand in.

The fresh venv gets aezoo's third-party dependencies (torch and the rest, several GB) from this
venv instead of installing them again, which would take minutes: a ``.pth`` line names a folder of
links to this venv's site-packages entries, leaving out everything of aezoo's own (its editable
installs, their finders and ``.pth`` files, and the dist-info of the core and the plugins). The test
asserts that aezoo and its plugins are then found once each, from the wheels alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from aezoo.publish import push_folder
from tests.conftest import UNREACHABLE, hub_env, python_env
from tests.hubwrite import HubWriteServer
from tests.release_pins import ROOT, release_files

# Measured: 39 s on the 2-core build machine (building six wheels, a fresh venv, two subprocesses loading six models).
pytestmark = [pytest.mark.timeout(300),
              pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")]  # huggingface_hub's upload

OWN = ("aezoo", "__editable__")  # what of this venv must not be visible in the fresh one
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")

PROBE = """
import importlib.metadata as md, json, sys
import aezoo
dists = [(d.metadata["Name"], str(d._path)) for d in md.distributions() if d.metadata["Name"].startswith("aezoo")]
paths = {s.name: str(aezoo.load(s.name, device="cpu").aezoo.path) for s in aezoo.list_models()}
print(json.dumps({"aezoo": aezoo.__file__, "dists": dists, "paths": paths}))
"""


def build_wheels(work: Path) -> list[Path]:
    """Wheels of the core and each plugin, built from copies of their sources (the checkout is not written)."""
    core = work / "src" / "aezoo"
    shutil.copytree(ROOT / "aezoo", core / "aezoo", ignore=IGNORED)
    for path in ROOT.iterdir():
        if path.is_file() and path.name.split(".")[0] in ("pyproject", "README", "LICENSE", "COPYING", "NOTICE"):
            shutil.copy2(path, core / path.name)
    sources = [core] + [
        Path(shutil.copytree(p, work / "src" / p.name, ignore=IGNORED)) for p in sorted((ROOT / "plugins").iterdir())
        if (p / "pyproject.toml").is_file()
    ]
    wheels = work / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    *map(str, sources)], check=True, cwd=work, capture_output=True)
    return sorted(wheels.glob("*.whl"))


def fresh_venv(work: Path, wheels: list[Path]) -> Path:
    """A venv holding the wheels, with this venv's third-party packages (and nothing of aezoo's) beside them."""
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    *map(str, wheels)], check=True, capture_output=True)
    deps = work / "third-party"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(OWN) and entry.suffix != ".pth" and entry.name != "__pycache__":
            (deps / entry.name).symlink_to(entry)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "third-party.pth").write_text(f"{deps}\n")
    return python


def probe(python: Path, cwd: Path, **env: str) -> dict:
    result = subprocess.run([str(python), "-c", PROBE], cwd=cwd, capture_output=True, text=True, timeout=240,
                            check=False,
                            env={k: v for k, v in python_env(**env).items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_wheels_in_a_fresh_venv_load_every_model_from_the_hub_then_offline(tmp_path, monkeypatch):
    python = fresh_venv(tmp_path, build_wheels(tmp_path))
    site = str(tmp_path / "venv")
    pins = {}
    with HubWriteServer() as server:
        hub_env(monkeypatch, tmp_path / "hf-push", endpoint=server.endpoint, offline=False)
        for path, repo_id in release_files().items():
            pin = push_folder(ROOT / "weights" / repo_id.split("/")[1], repo_id)
            pinned = json.loads(path.read_text(encoding="utf-8"))["weights"]["revision"]
            assert pin["weights"]["revision"] == pinned, f"{path.relative_to(ROOT)} is stale: run 'make release'"
            pins[repo_id.split("/")[1]] = pinned
        outside = tmp_path / "elsewhere"
        outside.mkdir()
        env = {"HF_HOME": str(tmp_path / "hf"), "AEZOO_HOME": str(tmp_path / "aezoo-home"), "AEZOO_MIRRORS": "",
               "HF_HUB_DISABLE_XET": "1", "OMP_NUM_THREADS": "1"}
        online = probe(python, outside, HF_ENDPOINT=server.endpoint, HF_HUB_OFFLINE="0", **env)
    offline = probe(python, outside, HF_ENDPOINT=UNREACHABLE, HF_HUB_OFFLINE="1", **env)

    assert online["aezoo"].startswith(site)
    names = [name for name, _ in online["dists"]]
    assert len(names) == len(set(names)) == len(list((ROOT / "plugins").glob("*/pyproject.toml"))) + 1
    assert all(where.startswith(site) for _, where in online["dists"]), online["dists"]
    cache = tmp_path / "hf" / "hub"
    expected = {name: str(cache / f"models--aezoo--{name}" / "snapshots" / commit) for name, commit in pins.items()}
    assert online["paths"] == expected
    assert offline["paths"] == expected
    assert not any(str(ROOT) in p for p in [online["aezoo"], *online["paths"].values()])
    assert os.listdir(outside) == []
