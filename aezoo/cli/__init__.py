"""The ``aezoo`` command: a thin layer over the library, one module per command group.

Data goes to stdout, progress and warnings to stderr. Expected failures print one line that says
what to do next and exit 1 (usage errors exit 2); ``AEZOO_DEBUG=1`` shows the traceback instead.
Commands import torch only inside the ones that run models.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import click

from ..errors import AezooError
from ..settings import env_flag


class AezooGroup(click.Group):
    """Turns aezoo's named errors into one-line messages with exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AezooError as exc:
            if env_flag("AEZOO_DEBUG"):
                raise
            raise click.ClickException(str(exc)) from exc


def _one_line_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> str:
    return f"warning: {message}\n"


@click.group(cls=AezooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aezoo")
def main() -> None:
    """aezoo: a zoo of autoencoders with pretrained, verified weights.

    Set AEZOO_DEBUG=1 to see tracebacks. See 'aezoo COMMAND --help' for each command.
    """
    warnings.formatwarning = _one_line_warning
    if not sys.stderr.isatty():  # no progress bars in logs and pipes
        if "huggingface_hub.constants" in sys.modules:
            from huggingface_hub.utils import disable_progress_bars

            disable_progress_bars()
        else:  # read when huggingface_hub loads: importing it (and tqdm) here cost every command 40 ms
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def _register() -> None:
    from . import cards, data, export, models, plots, plugins, publish, scaffold, tasks, training

    for module in (models, plugins, data, training, tasks, publish, export, cards, scaffold, plots):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
