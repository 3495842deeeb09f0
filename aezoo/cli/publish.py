"""``aezoo push``: publish a checkpoint folder to the hub and pin what the hub returned (no torch)."""

from __future__ import annotations

from pathlib import Path

import click

from .output import echo_json


@click.command("push")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--repo", "repo_id", required=True, help="The hub repo, org/name (created if it does not exist).")
@click.option("--revision", default="main", show_default=True, help="The branch to commit to (created if needed).")
@click.option("--private", is_flag=True, help="Create the repo private (an existing repo keeps its visibility).")
@click.option("--token", help="A hub token with write access (default: HF_TOKEN or 'hf auth login').")
@click.option("--commit-message", help="The commit message (default: 'Publish ORG/NAME with aezoo').")
@click.option("--write-release", "release_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the pin to this release file (a plugin's release.json); else print it as JSON.")
def push_command(folder: Path, repo_id: str, revision: str, private: bool, token: str | None,
                 commit_message: str | None, release_path: Path | None) -> None:
    """Upload the checkpoint FOLDER (config.json, model.safetensors, card, images; never training-state/)
    to the hub in one commit, and pin the commit id the hub returned with each file's size and sha256."""
    from .. import publish

    pin = publish.push_folder(folder, repo_id, revision=revision, private=private, token=token,
                              commit_message=commit_message)
    if release_path is None:
        echo_json(pin)
        return
    publish.write_release(pin, release_path)
    click.echo(f"hf://{repo_id}@{pin['weights']['revision']}")
    click.echo(f"wrote {release_path}", err=True)


COMMANDS = [push_command]
