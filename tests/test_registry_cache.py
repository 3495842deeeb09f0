"""The listing cache (aezoo.registry_cache): ``aezoo list`` in its own process, as a user runs it, over
real pip-installed test distributions, with the installs and edits that must show at once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from aezoo.cli import main
from tests import distributions_fixture
from tests.conftest import PYTHON, ROOT, python_env
from tests.distributions_fixture import BROKEN, TINY

installed = distributions_fixture.installed

# The listing, and whether the process imported the plugin (a cached listing imports none).
LIST = """
import sys
from aezoo.cli import main
try:
    main(["list", "--json"])
finally:
    print("aezoo_test_tiny" in sys.modules, "pluggy" in sys.modules, file=sys.stderr)
"""


def listing(home: Path, pythonpath: str) -> tuple[dict[str, str], bool, str]:
    """(model name -> summary, whether discovery ran, stderr) of one ``aezoo list --json``."""
    done = subprocess.run([PYTHON, "-c", LIST], env=python_env(PYTHONPATH=pythonpath, AEZOO_HOME=str(home)),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    *messages, flags = done.stderr.strip().splitlines()
    return {m["name"]: m["summary"] for m in json.loads(done.stdout)}, flags.split()[1] == "True", "\n".join(messages)


def site_with_tiny(installed, tmp_path: Path) -> Path:
    """A folder of our own holding the tiny test distribution (its .dist-info and package), as pip left it."""
    site = tmp_path / "site"
    shutil.copytree(Path(installed(TINY)), site)
    return site


def test_a_second_listing_is_the_cached_one_and_imports_no_plugin(installed, tmp_path):
    pythonpath = installed(TINY)
    first, discovered, _ = listing(tmp_path / "home", pythonpath)
    assert discovered and "tiny-ae" in first and "fc-dae-mnist" in first
    assert (tmp_path / "home" / "registry.json").is_file()
    again, discovered, _ = listing(tmp_path / "home", pythonpath)
    assert again == first and not discovered


def test_a_distribution_installed_or_removed_shows_at_once(installed, tmp_path):
    site = site_with_tiny(installed, tmp_path)
    home = tmp_path / "home"
    assert "tiny-ae" in listing(home, str(site))[0]
    assert listing(home, str(site))[1] is False  # cached
    for item in list(site.iterdir()):  # uninstalled, as pip leaves the folder
        shutil.rmtree(item)
    models, discovered, _ = listing(home, str(site))
    assert "tiny-ae" not in models and discovered
    shutil.copytree(Path(installed(TINY)), site, dirs_exist_ok=True)  # installed again
    assert "tiny-ae" in listing(home, str(site))[0]


def test_an_edited_plugin_source_shows_at_once(installed, tmp_path):
    """An editable install or a source checkout: the spec changes in place, no .dist-info does."""
    site = site_with_tiny(installed, tmp_path)
    home = tmp_path / "home"
    assert listing(home, str(site))[0]["tiny-ae"] == "A 16-4-16 autoencoder for tests"
    plugin = site / "aezoo_test_tiny" / "plugin.py"
    plugin.write_text(plugin.read_text().replace("for tests", "for tests, edited"))
    models, discovered, _ = listing(home, str(site))
    assert discovered and models["tiny-ae"] == "A 16-4-16 autoencoder for tests, edited"


def test_no_cache_while_a_plugin_is_broken_so_its_warning_shows_every_time(installed, tmp_path):
    pythonpath = installed(TINY, BROKEN)
    for _ in range(2):
        models, discovered, messages = listing(tmp_path / "home", pythonpath)
        assert discovered and "tiny-ae" in models and "aezoo skipped plugin" in messages
    assert not (tmp_path / "home" / "registry.json").exists()


def test_a_corrupt_cache_is_replaced_and_an_unwritable_home_only_costs_time(installed, tmp_path):
    pythonpath = installed(TINY)
    home = tmp_path / "home"
    home.mkdir()
    (home / "registry.json").write_text('{"fingerprint": ')
    models, discovered, _ = listing(home, pythonpath)
    assert discovered and "tiny-ae" in models
    assert json.loads((home / "registry.json").read_text())["models"]  # rewritten whole
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for _ in range(2):  # AEZOO_HOME under a regular file: no cache, the same listing
        assert listing(blocker / "home", pythonpath)[:2] == (models, True)


def test_a_registry_set_in_the_process_is_listed_not_the_cache(tmp_path, monkeypatch):
    from aezoo import registry, registry_cache

    discovered = registry_cache.installed_models()  # the default registry: discovered, then cached
    assert (Path(os.environ["AEZOO_HOME"]) / "registry.json").is_file()
    registry.set_registry(None)
    assert registry_cache.installed_models() == discovered and registry.registry_in_use() is None  # a hit
    tiny = registry.Registry(autoload=False)
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "distributions" / "aezoo-test-tiny" / "src"))
    from aezoo_test_tiny import plugin

    tiny.register(plugin, "tiny", distribution="aezoo-test-tiny")
    registry.set_registry(tiny)
    result = CliRunner().invoke(main, ["list", "--json"])
    assert [m["name"] for m in json.loads(result.output)] == ["tiny-ae"]
