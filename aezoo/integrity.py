"""Full sha256 verification of weights files, remembered so a warm load does not rehash.

huggingface_hub's cache only checks sizes. aezoo hashes each file once, then records
(path, size, mtime, inode) under ``$AEZOO_HOME/verified/``; a file that changes afterwards no
longer matches its record and is hashed again.

The records are a cache: when ``$AEZOO_HOME`` cannot be written (read-only, not a folder, full),
a verified file is simply hashed again on the next load, with one warning per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

from .checkpoint import atomic_write
from .errors import ChecksumMismatchError, WeightsUnavailableError
from .settings import aezoo_home


class VerificationCacheWarning(UserWarning):
    """A verification record could not be written; the file was verified, and will be hashed again."""


_warned_home: set[str] = set()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def git_blob_sha1(path: Path) -> str:
    """The id git (and the hub, for files not in LFS) gives a file's content."""
    digest = hashlib.sha1(f"blob {Path(path).stat().st_size}\0".encode())
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies under ``root`` once every symlink and ``..`` of both is resolved.

    The real path is what a read, a hash or an unlink touches, so that is what must stay inside.
    """
    real, base = os.path.realpath(path), os.path.realpath(root)
    try:
        return os.path.commonpath([real, base]) == base
    except ValueError:  # different drives on Windows
        return False


def _record_path(path: Path, expected: str) -> Path:
    key = hashlib.sha256(f"{os.path.realpath(path)}\0{expected}".encode()).hexdigest()
    return aezoo_home() / "verified" / f"{key}.json"


def _fingerprint(path: Path) -> dict[str, object]:
    st = Path(path).stat()
    return {"path": os.path.realpath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}


def is_verified(path: Path, expected: str) -> bool:
    record = _record_path(path, expected)
    try:
        return json.loads(record.read_text()) == {**_fingerprint(path), "digest": expected}
    except (OSError, ValueError):
        return False


def verify(path: Path, expected: str, *, size: int | None = None, algorithm: str = "sha256",
           force: bool = False) -> None:
    """Raise ``ChecksumMismatchError`` unless ``path`` has the expected digest (and size)."""
    path = Path(path)
    if not force and is_verified(path, expected):
        return
    try:
        actual_size = path.stat().st_size
        if size is not None and actual_size != size:
            raise ChecksumMismatchError(
                f"{path} is {actual_size} bytes, but the pinned manifest says {size}.",
                "The file is corrupt or not the published one: download it again with --force.",
            )
        actual = sha256_of(path) if algorithm == "sha256" else git_blob_sha1(path)
    except OSError as exc:
        raise WeightsUnavailableError(
            f"Cannot read {path} to verify it: {exc.strerror or exc}.",
            "Check that the file exists and is readable, or download it again with --force.",
        ) from exc
    if actual != expected:
        raise ChecksumMismatchError(
            f"{path} has {algorithm} {actual}, but {expected} was expected.",
            "The file is corrupt or not the published one: download it again with --force.",
        )
    remember(path, expected)


def remember(path: Path, expected: str) -> None:
    """Record that ``path`` was verified; a record that cannot be written is a warning, never a failure."""
    record = _record_path(path, expected)
    try:
        atomic_write(record, json.dumps({**_fingerprint(path), "digest": expected}).encode())
    except OSError as exc:
        home = str(aezoo_home())
        if home in _warned_home:
            return
        _warned_home.add(home)
        warnings.warn(
            f"aezoo cannot remember verified files in {home} ({exc.strerror or exc}); files are hashed again "
            "on every load. Make it writable or set AEZOO_HOME to a writable folder.",
            VerificationCacheWarning,
            stacklevel=3,
        )
