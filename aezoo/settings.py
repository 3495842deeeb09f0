"""Environment variables aezoo reads (beside the ``HF_*`` ones huggingface_hub reads itself).

- ``AEZOO_HOME``: aezoo's own state, such as remembered sha256 verifications and the listing
  cache of ``aezoo list`` (default ``$XDG_CACHE_HOME/aezoo``, else ``~/.cache/aezoo``).
- ``AEZOO_MIRRORS``: folders searched for a registered model's weights before the cache and the
  hub, separated by ``os.pathsep``; each holds one Hub-shaped folder per repo, named after the
  repo (``fc-dae-mnist/``), as ``aezoo download NAME --to DIR`` writes them. They are searched
  first, then the default mirror: the ``weights/`` folder of a source checkout when aezoo runs
  from one (setting the variable adds folders, it never drops the default silently). The entry
  ``none`` leaves the default out: ``AEZOO_MIRRORS=none`` searches no mirror at all, and
  ``AEZOO_MIRRORS=/srv/mirror:none`` only ``/srv/mirror``. Mirrors serve pinned models only
  (verified by sha256); ``hf://`` references and ``org/name`` repos never consult them.
- ``AEZOO_HUB_TIMEOUT``: seconds aezoo waits on a hub that does not answer (connection,
  first byte, or a stall in a download) before it stops with ``HubTimeoutError``; retries of
  huggingface_hub count against the same budget. Default 30; any value > 0.
- ``AEZOO_STRICT_PLUGINS=1``: a plugin that fails to load is an error, not a warning.
- ``AEZOO_DISABLE_PLUGIN_AUTOLOAD=1``: do not discover entry points.
- ``AEZOO_DEBUG=1``: the CLI shows tracebacks.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InvalidSettingError

SOURCE_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_HUB_TIMEOUT = 30.0
SLOW_PLUGIN_SECONDS = 1.0


def env_flag(name: str) -> bool:
    """Whether a boolean environment variable is on (1, true, yes, on; any case)."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def aezoo_home() -> Path:
    if os.environ.get("AEZOO_HOME"):
        return Path(os.environ["AEZOO_HOME"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aezoo"


NO_DEFAULT_MIRRORS = "none"  # the AEZOO_MIRRORS entry that leaves the default mirror out


def default_mirrors() -> list[Path]:
    """The source checkout's ``weights/`` folder, when aezoo runs from a checkout that has one."""
    return [SOURCE_WEIGHTS] if SOURCE_WEIGHTS.is_dir() else []


def mirrors() -> list[Path]:
    """The mirror folders to search, in order: ``AEZOO_MIRRORS``'s, then the default ones (unless an
    entry is ``none``); empty entries are ignored and a folder is listed once."""
    entries = [e for e in os.environ.get("AEZOO_MIRRORS", "").split(os.pathsep) if e.strip()]
    folders = [Path(e).expanduser() for e in entries if e.strip().lower() != NO_DEFAULT_MIRRORS]
    if len(folders) == len(entries):
        folders += default_mirrors()
    unique: dict[str, Path] = {}
    for folder in folders:
        unique.setdefault(os.path.normcase(os.path.abspath(folder)), folder)
    return list(unique.values())


def hub_timeout() -> float:
    """``AEZOO_HUB_TIMEOUT`` in seconds: a stalled hub costs at most this long, never minutes."""
    value = os.environ.get("AEZOO_HUB_TIMEOUT", "").strip()
    if not value:
        return DEFAULT_HUB_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not (0 < seconds < float("inf")):
        raise InvalidSettingError(
            f"AEZOO_HUB_TIMEOUT={value!r} is not a number of seconds above 0.",
            f"Set it to, say, 30 (the default, {DEFAULT_HUB_TIMEOUT:g} s when unset), or unset it.",
        )
    return seconds
