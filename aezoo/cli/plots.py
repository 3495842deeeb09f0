"""``aezoo plot``: draw a training run's curves (matplotlib, imported when the command runs)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import json_option
from .output import echo_json


@click.command("plot")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The PNG to write (default: RUN_DIR's name + '-curves.png' in the current folder, so the "
                   "run folder is left as aezoo wrote it).")
@json_option
def plot_command(run_dir: Path, output: Path | None, as_json: bool) -> None:
    """Draw the loss and metric curves of a training run folder (the -o of 'aezoo train' or 'aezoo
    finetune'): from its metrics.csv when it has one, else from the per-epoch evaluation metrics in
    its training-state/. Prints the path of the PNG written.

    \b
    Example:
      aezoo plot runs/my-mnist -o curves.png
    """
    from ..plots import plot_run

    target = output if output is not None else Path(f"{run_dir.resolve().name}-curves.png")
    written = plot_run(run_dir, target)
    if as_json:
        echo_json({"output": str(written)})
    else:
        click.echo(written)


COMMANDS = [plot_command]
