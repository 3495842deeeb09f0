"""``aezoo new-plugin``: write a working plugin distribution to start from.

The files come from ``aezoo/templates/plugin/`` (package data): a pyproject.toml with the ``aezoo``
entry point, package data for the release pin and the card prose, and a compatible aezoo range; the
spec (``plugin.py``), the module (``model.py``), a recipe on a data set that needs no download, a
test that runs the conformance kit, and a README with the steps from training to PyPI. The plugin
trains, passes the kit and loads as written. No torch here.
"""

from __future__ import annotations

import os
import re
import shutil
import string
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Any

from .errors import AezooError, OutputExistsError

TEMPLATE_SUFFIX = ".tmpl"
PACKAGE_FOLDER = "__package__"  # renamed to the plugin's import package
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
MAX_NAME = 64


class InvalidPluginNameError(AezooError, ValueError):
    """A new plugin's model name cannot name a model, a distribution and a Python package."""


def plugin_names(model: str) -> dict[str, str]:
    """The names a plugin for ``model`` gets: its distribution (``aezoo-NAME``) and import package
    (``aezoo_NAME``). Refuses a name that is not lowercase words joined by '-', or that an installed
    plugin registers already (two distributions registering one name is an error)."""
    from .registry import get_registry

    if not isinstance(model, str) or not _NAME.fullmatch(model) or len(model) > MAX_NAME:
        raise InvalidPluginNameError(
            f"{model!r} is not a model name for a new plugin.",
            f"Use lowercase letters and digits in words joined by '-', starting with a letter, at most {MAX_NAME} "
            "characters: e.g. my-dae.",
        )
    known = {spec.name: spec.distribution for spec in get_registry().models()}
    if model in known:
        raise InvalidPluginNameError(
            f"A model named {model!r} is already registered by {known[model]!r}.", "Pick another name.")
    distribution = model if model.startswith("aezoo-") else f"aezoo-{model}"
    return {"model": model, "distribution": distribution, "package": distribution.replace("-", "_"),
            "requirement": compatible_range()}


def compatible_range(version: str | None = None) -> str:
    """The aezoo versions a new plugin may depend on: this one up to the next breaking release
    (the next minor release while aezoo is 0.x, else the next major one)."""
    from . import __version__

    parts = [int(p) for p in re.findall(r"\d+", version or __version__)[:2]]
    major, minor = (parts + [0, 0])[:2]
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f">={major}.{minor},<{upper}"


def new_plugin(model: str, target: Path | str | None = None) -> Path:
    """Write a plugin for ``model`` into ``target`` (default ``./aezoo-MODEL``), which must not exist
    or be empty; returns the folder. Everything is written beside it first and moved into place, so
    a failure leaves no half-written plugin."""
    names = plugin_names(model)
    target = Path(target) if target is not None else Path.cwd() / names["distribution"]
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OutputExistsError(
            f"{target} already exists and is not an empty folder; aezoo new-plugin writes only into a new one.",
            "Name another folder (--dir), or remove that one.",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _render(files("aezoo.templates") / "plugin", staging, names)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _render(template: Any, folder: Path, names: dict[str, str]) -> None:
    """Copy the template tree, substituting ``${...}`` in file contents and ``__package__`` in names."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in template.iterdir():
        if entry.name == "__pycache__":
            continue
        name = names["package"] if entry.name == PACKAGE_FOLDER else entry.name
        if entry.is_dir():
            _render(entry, folder / name, names)
        elif name.endswith(TEMPLATE_SUFFIX):
            text = string.Template(entry.read_text(encoding="utf-8")).substitute(names)
            (folder / name.removesuffix(TEMPLATE_SUFFIX)).write_text(text, encoding="utf-8")
