"""Options shared by every command that takes a model reference: where its weights come from.

``@hub_options`` adds ``--revision``, ``--cache-dir``, ``--local-files-only`` (``--offline``) and
``--token``, and hands the command one ``hub`` keyword: the ``aezoo.api.HubOptions`` that
``aezoo.load`` takes, so the CLI passes them on unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

_OPTIONS = [
    click.option("--revision", help="Branch, tag or commit of the hub repo (for a model name: of its repo, checked "
                 "against the hub's content ids instead of the pinned sha256)."),
    click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                 help="Hugging Face cache folder to use (default: HF_HUB_CACHE)."),
    click.option("--local-files-only", "--offline", "local_files_only", is_flag=True,
                 help="Never ask the hub: use mirrors and the cache only (as HF_HUB_OFFLINE=1)."),
    click.option("--token", help="Hub token (default: HF_TOKEN or 'hf auth login', which keep it off the command "
                 "line, where other users of the machine can see it)."),
]


def hub_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the hub options to a click command; it receives them as ``hub`` (a dict for ``aezoo.load``)."""

    @functools.wraps(command)
    def wrapper(*args: Any, revision: str | None, cache_dir: Path | None, local_files_only: bool,
                token: str | None, **kwargs: Any) -> Any:
        hub = {"revision": revision, "cache_dir": cache_dir, "local_files_only": local_files_only, "token": token}
        return command(*args, hub=hub, **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper
