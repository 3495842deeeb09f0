"""``aezoo card``: write checkpoint folders' model cards from their specs (no torch)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("card")
@click.argument("folders", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--image", help="The card's image, a file inside the folder (default: the folder's only image).")
def card_command(folders: tuple[Path, ...], image: str | None) -> None:
    """Write README.md (the Hub model card) and the Hub's .gitattributes of each checkpoint FOLDER from
    its registered spec: the prose of the plugin's card file, the numbers of its release file."""
    from ..card import render_folder

    for folder in folders:
        click.echo(render_folder(folder, image=image))


COMMANDS = [card_command]
