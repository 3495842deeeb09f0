"""The test distributions under ``tests/distributions/``, installed for real by pip.

Each distribution is built from a copy of its sources (so no ``build/`` or ``*.egg-info`` lands
in the repository) and installed with pip into its own folder under the session's temporary
directory, never into the virtual environment. A test then puts the folders it wants on
``sys.path`` (or ``PYTHONPATH`` for a subprocess), where ``importlib.metadata`` finds their
entry points exactly as it finds those of any installed third-party distribution.

A test module takes the fixture by naming it at module level (an assignment, not an import, so
that linters do not take the test's argument for a redefinition)::

    from tests import distributions_fixture

    installed = distributions_fixture.installed

The install runs once per process (per xdist worker), on first use.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

DISTRIBUTIONS = Path(__file__).resolve().parent / "distributions"
TINY, BROKEN, DUPLICATE = "aezoo-test-tiny", "aezoo-test-broken", "aezoo-test-duplicate"
EXIT, SLOW, BADSPEC = "aezoo-test-exit", "aezoo-test-slow", "aezoo-test-badspec"
DATACLASH, UNKNOWNHOOK = "aezoo-test-dataclash", "aezoo-test-unknownhook"
NAMES = (TINY, BROKEN, DUPLICATE, EXIT, SLOW, BADSPEC, DATACLASH, UNKNOWNHOOK)
# Top-level packages the test distributions install; purged from sys.modules around each test
# so that "was this entry point imported?" has an honest answer in every test.
PACKAGES = tuple(name.replace("-", "_") for name in NAMES)


@functools.cache
def _install(basetemp: Path) -> dict[str, Path]:
    """Install the test distributions in parallel, offline and without dependencies."""
    root = basetemp / "aezoo-test-distributions"
    junk = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    folders, jobs = {}, []
    for name in NAMES:
        source = shutil.copytree(DISTRIBUTIONS / name, root / "src" / name, ignore=junk, dirs_exist_ok=True)
        folders[name] = root / "site" / name
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
            "--no-index", "--disable-pip-version-check", "--target", str(folders[name]), str(source),
        ]
        jobs.append((name, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
    for name, job in jobs:
        output, _ = job.communicate(timeout=300)
        assert job.returncode == 0, f"pip could not install {name}:\n{output}"
    return folders


@pytest.fixture
def installed(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., str]]:
    """``installed(*names)`` puts those installed distributions on ``sys.path`` for this test and
    returns the matching ``PYTHONPATH`` value for subprocesses."""
    folders = _install(tmp_path_factory.getbasetemp())
    saved = {m: sys.modules[m] for m in list(sys.modules) if m.partition(".")[0] in PACKAGES}
    for module in saved:
        del sys.modules[module]

    def put_on_path(*names: str) -> str:
        for name in names:
            monkeypatch.syspath_prepend(str(folders[name]))
        return os.pathsep.join(str(folders[name]) for name in names)

    yield put_on_path
    for module in [m for m in sys.modules if m.partition(".")[0] in PACKAGES]:
        del sys.modules[module]
    sys.modules.update(saved)
