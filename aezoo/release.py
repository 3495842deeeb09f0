"""Prepare a checkpoint folder for publishing: a reproducible git snapshot and ``release.json``.

``weights/NAME/`` is laid out as the Hub repo ``org/NAME``. Its snapshot is committed with a fixed
author, date and message, so the commit id depends on the files alone: the manifest pins that
commit, and any git-backed hub or mirror built from the same files serves the same revision.

    python -m aezoo.release weights/fc-dae-mnist aezoo/fc-dae-mnist > plugins/.../release.json
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .card import read_card
from .integrity import sha256_of
from .spec import Release, WeightsFile, WeightsManifest, check_relative_path

EXCLUDED = {"training-state"}
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "aezoo",
    "GIT_AUTHOR_EMAIL": "weights@aezoo.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "aezoo",
    "GIT_COMMITTER_EMAIL": "weights@aezoo.invalid",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000",
}


def published_files(folder: Path) -> list[str]:
    """The files of a checkpoint folder that belong to its hub repo, sorted."""
    folder = Path(folder)
    names = [
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).parts[0] not in EXCLUDED and not p.name.startswith(".")
    ]
    return sorted(check_relative_path(n) for n in names)


def git_snapshot(folder: Path, repo: Path) -> str:
    """Make ``repo`` a git repository holding exactly ``folder``'s published files in one
    reproducible commit on ``main``; return the commit id."""
    repo = Path(repo)
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    for name in published_files(folder):
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(folder) / name, target)
    env = {**os.environ, **_GIT_IDENTITY}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout

    git("init", "-q", "-b", "main")
    git("-c", "core.fileMode=false", "add", "-A")
    git("-c", "commit.gpgsign=false", "commit", "-q", "-m", f"Publish {Path(folder).name}")
    return git("rev-parse", "HEAD").strip()


def make_release(folder: Path, repo_id: str, scratch: Path) -> dict:
    """The ``release.json`` content for ``folder`` published as ``repo_id``."""
    folder = Path(folder)
    card = read_card(folder / "README.md")
    if card is None:
        raise SystemExit(f"{folder} has no README.md card written by aezoo.")
    files = [WeightsFile(n, sha256_of(folder / n), (folder / n).stat().st_size) for n in published_files(folder)]
    manifest = WeightsManifest(repo_id, git_snapshot(folder, scratch), tuple(files))
    release = Release(manifest, card.metrics, card.training_data)
    return {
        "weights": manifest.to_dict(),
        "metrics": [m.__dict__ for m in release.metrics],
        "training_data": release.training_data,
    }


def main(argv: list[str] | None = None) -> None:
    import tempfile

    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        raise SystemExit("usage: python -m aezoo.release WEIGHTS_FOLDER ORG/NAME > release.json")
    with tempfile.TemporaryDirectory() as scratch:
        print(json.dumps(make_release(Path(args[0]), args[1], Path(scratch) / "repo"), indent=2))


if __name__ == "__main__":
    main()
