"""What ``aezoo list`` and model-name completion show, cached, so that they need not discover entry
points and import every plugin (``importlib.metadata``, pluggy and the specs) each time.

The cache is one JSON file, ``AEZOO_HOME/registry.json``: every installed model's ``spec.to_dict()``
and the fingerprint of what could change them. It is used only while the fingerprint still holds:

- the interpreter, aezoo's version and the plugin switches (``AEZOO_DISABLE_PLUGIN_AUTOLOAD``,
  ``AEZOO_STRICT_PLUGINS``);
- ``sys.path`` and each of its entries' modification time: installing, upgrading or removing a
  distribution adds or removes its ``.dist-info`` folder there;
- each folder holding a module that discovery imported from aezoo or a plugin's package (its
  modification time: a file added or removed), and every file in it (modification time and size):
  where an editable install or a source checkout changes a spec, a release file or a card.

It is written only after a discovery with nothing to report (every plugin loaded, none slow, every
spec valid, no name claimed twice), so it never hides a warning, and only when the process uses the
default registry (``set_registry`` bypasses it). A cache that cannot be read, parsed or written is
ignored: the listing is then discovered as without one.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import Any

from . import __version__
from .settings import aezoo_home

CACHE_FILE = "registry.json"
FORMAT = 1
SWITCHES = ("AEZOO_DISABLE_PLUGIN_AUTOLOAD", "AEZOO_STRICT_PLUGINS")


def installed_models() -> list[dict[str, Any]]:
    """Every installed model's spec as ``spec.to_dict()`` in JSON types, sorted by name: from the cache
    when it still holds, else discovered (and the cache written, when discovery had nothing to report)."""
    registry = sys.modules.get("aezoo.registry")
    in_use = registry.registry_in_use() if registry is not None else None
    if in_use is not None:  # this process set or built its own: it is the truth
        return _as_json(in_use.models())
    cached = _read()
    if cached is not None:
        return cached
    from .registry import get_registry

    discovered = get_registry()
    models = _as_json(discovered.models())
    if discovered.clean():
        _write(models, discovered.packages())
    return models


def _as_json(specs: Iterable[Any]) -> list[dict[str, Any]]:
    """Specs as the cache holds them (JSON types: lists, not tuples), whichever way they came."""
    return json.loads(json.dumps([spec.to_dict() for spec in specs]))


def _read() -> list[dict[str, Any]] | None:
    try:
        with open(aezoo_home() / CACHE_FILE, encoding="utf-8") as file:
            doc = json.load(file)
        if doc["fingerprint"] == _fingerprint(doc["fingerprint"]["folders"]) and isinstance(doc["models"], list):
            return doc["models"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _write(models: list[dict[str, Any]], packages: Iterable[str]) -> None:
    """After a discovery: the folders of every module it imported from aezoo and the plugins' packages."""
    from .checkpoint import atomic_write

    chosen = {"aezoo", *packages}
    files = [getattr(module, "__file__", None) for name, module in list(sys.modules.items())
             if name.partition(".")[0] in chosen]
    folders = {os.path.dirname(file) for file in files if file}
    doc = {"fingerprint": _fingerprint(sorted(folders)), "models": models}
    try:
        atomic_write(aezoo_home() / CACHE_FILE, json.dumps(doc).encode(), durable=False)
    except OSError:
        pass  # a read-only home: every listing discovers, as without a cache


def _fingerprint(folders: list[str]) -> dict[str, Any]:
    return {
        "format": FORMAT, "python": sys.version, "executable": sys.executable, "aezoo": __version__,
        "switches": {name: os.environ.get(name, "") for name in SWITCHES},
        "path": [[entry, _mtime(entry or ".")] for entry in sys.path],
        "folders": folders,
        "files": _stats(folders),
    }


def _stats(folders: Iterable[str]) -> dict[str, int | list[int] | None]:
    """Each folder's mtime, and each file's in it (mtime, size)."""
    found: dict[str, int | list[int] | None] = {}
    for folder in folders:
        found[folder] = _mtime(folder)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_file():
                stat = entry.stat()
                found[entry.path] = [stat.st_mtime_ns, stat.st_size]
    return found


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
