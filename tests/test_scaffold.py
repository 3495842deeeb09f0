"""``aezoo new-plugin``: the plugin it writes installs, lists, trains, passes the conformance kit and
loads, as made; pinned, it passes the kit's release checks, and a pin left out of the package data
is caught. The plugin is installed (editable, as an author works) into a throwaway virtual
environment that sees this one's packages, never into this one: other tests list installed models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from aezoo import scaffold
from aezoo.cli import main
from aezoo.errors import OutputExistsError
from tests.conftest import python_env

NAME = "scaffold-dae"
PACKAGE = "aezoo_scaffold_dae"
CLI = "import sys; from aezoo.cli import main; sys.exit(main(sys.argv[1:], prog_name='aezoo'))"


def throwaway_venv(folder: Path) -> Path:
    """A venv whose site-packages adds this interpreter's (with its .pth files: the editable installs)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site,
         "_parent_environment.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    return python


def run(python: Path, *args: str, cwd: Path, ok: bool = True, **env: str) -> subprocess.CompletedProcess:
    done = subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
                          env=python_env(OMP_NUM_THREADS="1", **env))
    if ok:
        assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The scaffolded plugin, installed editable into a throwaway venv: (python, plugin folder, work folder)."""
    work = tmp_path_factory.mktemp("scaffold")
    result = CliRunner().invoke(main, ["new-plugin", NAME, "--dir", str(work / "plugin")], prog_name="aezoo")
    assert result.exit_code == 0, result.output
    folder = Path(result.stdout.strip())
    python = throwaway_venv(work / "venv")
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
        "--disable-pip-version-check", "-e", str(folder), cwd=work)
    return python, folder, work


def test_the_plugin_lists_trains_passes_the_kit_and_loads_as_made(plugin):
    python, folder, work = plugin
    listed = json.loads(run(python, "-c", CLI, "list", NAME, "--json", cwd=work).stdout)
    assert [m["name"] for m in listed] == [NAME]
    run(python, "-c", CLI, "train", NAME, "--epochs", "1", "--device", "cpu", "-o", str(work / "run"), cwd=work)
    kit = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "tests", cwd=folder)
    assert "PASSED tests/test_conformance.py::test_conforms[scaffold-dae]" in kit.stdout
    loaded = run(python, "-c", "import aezoo, torch; m = aezoo.load('./run', device='cpu');"
                 "print(m.aezoo.name, tuple(m.denoise(torch.rand(2, 28, 28)).shape),"
                 "[x.name for x in m.aezoo.card.metrics][:2])", cwd=work)
    assert loaded.stdout.split("\n")[0] == "scaffold-dae (2, 28, 28) ['psnr', 'ssim']"


def test_pinned_it_passes_the_release_checks_and_a_pin_left_out_of_the_wheel_is_caught(plugin):
    python, folder, work = plugin
    if not (work / "run" / "model.safetensors").is_file():
        run(python, "-c", CLI, "train", NAME, "--epochs", "1", "--device", "cpu", "-o", str(work / "run"), cwd=work)
    # What 'aezoo push --write-release' writes, for a repo whose folder a mirror holds (no hub here).
    mirror = work / "mirror"
    shutil.copytree(work / "run", mirror / NAME, ignore=shutil.ignore_patterns("training-state", ".*"))
    from aezoo.publish import release_data, write_release

    write_release(release_data(mirror / NAME, f"someone/{NAME}", "1" * 40), folder / "src" / PACKAGE / "release.json")
    kit = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "-W",
              "error::aezoo.testing.ConformanceWarning",
              "tests", cwd=folder, AEZOO_MIRRORS=str(mirror))
    assert "PASSED tests/test_conformance.py::test_conforms[scaffold-dae]" in kit.stdout
    ran = run(python, "-c", f"from aezoo import testing; print(testing.check_model({NAME!r}))", cwd=work,
              AEZOO_MIRRORS=str(mirror)).stdout
    assert all(check in ran for check in ("check_package_data", "check_release", "check_weights_fit", "check_card"))

    pyproject = folder / "pyproject.toml"
    original = pyproject.read_text()
    pyproject.write_text(original.replace('["release.json", "card.md"]', '["card.md"]'))
    try:
        missing = run(python, "-c", f"from aezoo import testing; testing.check_package_data({NAME!r})", cwd=work,
                      ok=False)
    finally:
        pyproject.write_text(original)
    assert missing.returncode != 0
    assert f"{PACKAGE}/release.json not in a wheel built from {folder}" in missing.stderr
    assert f'{PACKAGE} = ["release.json"]' in missing.stderr


def test_new_plugin_refuses_a_folder_that_holds_files_and_bad_names(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="is not an empty folder"):
        scaffold.new_plugin("my-dae", tmp_path / "taken")
    assert os.listdir(tmp_path / "taken") == ["keep.txt"]
    for bad in ("My-Dae", "my_dae", "-dae", "dae-", "a--b", "9dae", "", "x" * 65):
        with pytest.raises(scaffold.InvalidPluginNameError, match="not a model name"):
            scaffold.new_plugin(bad, tmp_path / "new")
    assert not (tmp_path / "new").exists()
    result = CliRunner().invoke(main, ["new-plugin", "fc-dae-mnist", "--dir", str(tmp_path / "x")], prog_name="aezoo")
    assert result.exit_code == 1 and "already registered by 'aezoo-fc-dae-mnist'" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no staging folder left behind


def test_an_empty_folder_is_filled_and_the_range_follows_the_version(tmp_path):
    (tmp_path / "empty").mkdir()
    folder = scaffold.new_plugin("my-dae", tmp_path / "empty")
    assert folder == tmp_path / "empty" and (folder / "src" / "aezoo_my_dae" / "plugin.py").is_file()
    requirement = 'dependencies = ["aezoo[data]' + scaffold.compatible_range() + '"]'
    assert requirement in (folder / "pyproject.toml").read_text()
    assert scaffold.compatible_range("0.1.0") == ">=0.1,<0.2"
    assert scaffold.compatible_range("2.3.1") == ">=2.3,<3"
