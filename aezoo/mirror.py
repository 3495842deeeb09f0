"""Write verified checkpoints as a mirror folder: ``aezoo download NAME --to DIR``.

The result is exactly what ``AEZOO_MIRRORS`` reads: ``DIR/<repo name>/`` holding every file of the
model's pinned manifest, for machines that never reach a hub. Each checkpoint is copied into a
hidden staging folder beside its target (``DIR/.<repo name>.partial-*``), every copy is checked by
sha256 against the manifest, and only then is the folder moved into place with a rename: an
interrupted run leaves no half-written mirror folder, at most a hidden staging folder that no
lookup reads.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import ChecksumMismatchError, OutputExistsError, WeightsUnavailableError
from .integrity import remember, sha256_of, verify
from .spec import WeightsManifest, check_relative_path


def holds(folder: Path, manifest: WeightsManifest) -> bool:
    """Whether ``folder`` already holds every file of ``manifest``, each verified by sha256."""
    if not folder.is_dir():
        return False
    try:
        for entry in manifest.files:
            verify(folder / check_relative_path(entry.path), entry.sha256, size=entry.size)
    except (ChecksumMismatchError, WeightsUnavailableError):
        return False
    return True


def write_mirror(manifest: WeightsManifest, source: Path, to: Path, *, overwrite: bool = False) -> Path:
    """Copy the verified checkpoint ``source`` to ``to/<repo name>/``; returns that folder.

    A folder there that already holds the pinned files is kept as it is; any other is replaced only
    with ``overwrite``. Nothing is moved into place before every copied file matched its sha256."""
    target = to / manifest.repo_name
    if holds(target, manifest):
        return target
    if os.path.lexists(target) and not overwrite:
        raise OutputExistsError(
            f"{target} exists and does not hold {manifest.repo_id}@{manifest.revision[:12]} (the pinned files).",
            "Pass --overwrite (overwrite=True) to replace it, or write the mirror somewhere else (--to).",
        )
    to.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=to, prefix=f".{manifest.repo_name}.partial-"))
    try:
        for entry in manifest.files:
            copy = staging / check_relative_path(entry.path)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / entry.path, copy)  # follows the cache's snapshot links to the blobs
            actual = sha256_of(copy)
            if actual != entry.sha256:
                raise ChecksumMismatchError(
                    f"The copy of {entry.path} for {manifest.repo_id} has sha256 {actual}, "
                    f"not the pinned {entry.sha256}; {target} was not written.",
                    "Check the disk the mirror is written to, then run the command again.",
                )
        _move_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for entry in manifest.files:  # a rename keeps inode and mtime: the first load from the mirror is warm
        remember(target / entry.path, entry.sha256)
    return target


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``; an existing ``target`` is first renamed aside, then removed."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    aside = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
    os.rename(target, aside / target.name)
    os.rename(staging, target)
    shutil.rmtree(aside, ignore_errors=True)
