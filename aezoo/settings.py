"""Environment variables aezoo reads (beside the ``HF_*`` ones huggingface_hub reads itself).

- ``AEZOO_HOME``: aezoo's own state, such as remembered sha256 verifications
  (default ``$XDG_CACHE_HOME/aezoo``, else ``~/.cache/aezoo``).
- ``AEZOO_MIRRORS``: folders searched for weights before the hub, separated by ``os.pathsep``;
  each holds one Hub-shaped folder per repo, named after the repo (``fc-dae-mnist/``). Unset,
  it is the ``weights/`` folder of a source checkout when aezoo runs from one; set it empty to
  search no mirror.
- ``AEZOO_STRICT_PLUGINS=1``: a plugin that fails to load is an error, not a warning.
- ``AEZOO_DISABLE_PLUGIN_AUTOLOAD=1``: do not discover entry points.
- ``AEZOO_DEBUG=1``: the CLI shows tracebacks.
"""

from __future__ import annotations

import os
from pathlib import Path

SOURCE_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"


def aezoo_home() -> Path:
    if os.environ.get("AEZOO_HOME"):
        return Path(os.environ["AEZOO_HOME"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aezoo"


def mirrors() -> list[Path]:
    value = os.environ.get("AEZOO_MIRRORS")
    if value is None:
        return [SOURCE_WEIGHTS] if SOURCE_WEIGHTS.is_dir() else []
    return [Path(p) for p in value.split(os.pathsep) if p]
