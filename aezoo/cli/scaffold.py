"""``aezoo new-plugin``: start a plugin distribution (no torch)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("new-plugin")
@click.argument("name")
@click.option("--dir", "target", type=click.Path(path_type=Path, file_okay=False),
              help="The folder to write (new or empty; default: ./aezoo-NAME).")
def new_plugin_command(name: str, target: Path | None) -> None:
    """Write a working plugin for the model NAME: pyproject.toml, the spec, the module, a recipe on
    built-in data, a test that runs the conformance kit and a README with the steps to publish.
    Prints the folder."""
    from .. import scaffold

    folder = scaffold.new_plugin(name, target)
    click.echo(str(folder))
    click.echo(f"next: pip install -e '{folder}[test]' && aezoo train {name} (see {folder / 'README.md'})", err=True)


COMMANDS = [new_plugin_command]
