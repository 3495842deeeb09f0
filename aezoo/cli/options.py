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


DEVICES = ("auto", "cpu", "cuda", "mps")


class DeviceType(click.ParamType):
    """``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``: a choice, except that any GPU index is
    accepted (a plain ``click.Choice`` could not name the second GPU)."""

    name = "device"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if text in DEVICES or (text.startswith("cuda:") and text[5:].isdigit()):
            return text
        self.fail(f"{text!r} is not a device: use auto, cpu, cuda, cuda:N or mps.", param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(device) for device in DEVICES if device.startswith(incomplete)]


device_option = click.option(
    "--device", type=DeviceType(), default="auto", show_default=True,
    help="Where to run: auto (cuda if present, then mps, then cpu), cpu, cuda, cuda:N or mps.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def complete_model_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of installed model names (asks the registry, so only when completing)."""
    from click.shell_completion import CompletionItem

    from ..registry_cache import installed_models

    return [CompletionItem(spec["name"], help=spec["summary"]) for spec in installed_models()
            if spec["name"].startswith(incomplete)]


def model_argument(name: str = "name", **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A positional model reference whose installed names the shell completes."""
    return click.argument(name, shell_complete=complete_model_names, **kwargs)
