"""Weights resolution: local mirrors first, then the Hugging Face cache and hub, always verified.

Resolution goes through huggingface_hub, so ``HF_ENDPOINT``, ``HF_HOME``, ``HF_HUB_CACHE``,
``HF_HUB_OFFLINE`` and tokens (``HF_TOKEN``, ``hf auth login``) work as users expect. A file is
trusted only after its full sha256 matched the pinned manifest; a file that fails is removed
from the cache, so a bad download never poisons later loads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import ChecksumMismatchError, InvalidReferenceError, WeightsUnavailableError
from .integrity import verify
from .settings import mirrors
from .spec import WeightsFile, WeightsManifest, check_relative_path

HUB_PREFIX = "hf://"
_REF = re.compile(r"^hf://(?P<repo>[\w.-]+/[\w.-]+)(?:@(?P<rev>[\w./-]+))?$")
DEFAULT_REPO_FILES = ("config.json", "model.safetensors", "README.md")


def parse_hub_ref(ref: str) -> tuple[str, str]:
    """``hf://org/name@revision`` -> (repo_id, revision); the revision defaults to ``main``."""
    match = _REF.match(ref)
    if not match:
        raise InvalidReferenceError(
            f"{ref!r} is not a hub reference.", "Write it as hf://org/name or hf://org/name@revision."
        )
    return match["repo"], match["rev"] or "main"


def fetch(manifest: WeightsManifest, *, force: bool = False) -> Path:
    """Return a local folder holding every file of ``manifest``, each verified by sha256."""
    for mirror in mirrors():
        folder = mirror / manifest.repo_name
        if folder.is_dir():
            for entry in manifest.files:
                _verify_mirror_file(folder, entry, manifest, force=force)
            return folder
    for entry in manifest.files:
        path = _download(manifest.repo_id, entry.path, manifest.revision, force=force)
        _verify_cached(path, entry.sha256, size=entry.size, force=force)
        if entry.path == "config.json":  # always at the top of the snapshot (the manifest checks it is listed)
            snapshot = path.parent
    return snapshot


def fetch_ref(repo_id: str, revision: str, *, force: bool = False) -> Path:
    """Download a checkpoint repo named by reference; each file is checked against the hub's own
    content id (sha256 for LFS files, the git blob id otherwise)."""
    from huggingface_hub import HfApi, constants

    offline = constants.is_offline_mode()
    wanted = list(DEFAULT_REPO_FILES)
    if not offline:
        with _hub_errors(repo_id, "the file list", revision):
            # A fresh HfApi reads the endpoint now, as hf_hub_download does; the module-level
            # list_repo_files keeps the one set when huggingface_hub.hf_api was first imported.
            present = set(HfApi().list_repo_files(repo_id, revision=revision))
        wanted = [f for f in DEFAULT_REPO_FILES if f in present]
        if "model.safetensors" not in wanted:
            raise WeightsUnavailableError(
                f"hf://{repo_id}@{revision} has no model.safetensors.", "Check the repo: aezoo loads safetensors only."
            )
    folder: Path | None = None
    for name in wanted:
        try:
            path = _download(repo_id, name, revision, force=force)
        except WeightsUnavailableError:
            if name == "README.md":
                continue
            raise
        blob = Path(os.path.realpath(path))
        algorithm = "sha256" if len(blob.name) == 64 else "sha1"
        _verify_cached(path, blob.name, algorithm=algorithm, force=force)
        folder = path.parent
    assert folder is not None
    return folder


def _verify_mirror_file(folder: Path, entry: WeightsFile, manifest: WeightsManifest, *, force: bool) -> None:
    path = folder / check_relative_path(entry.path)
    if not path.is_file():
        raise WeightsUnavailableError(
            f"Mirror {folder} lacks {entry.path} for {manifest.repo_id}.",
            "Complete the mirror, remove that folder, or set AEZOO_MIRRORS to skip it.",
        )
    try:
        verify(path, entry.sha256, size=entry.size, force=force)
    except ChecksumMismatchError as exc:
        raise ChecksumMismatchError(
            f"Mirror file does not match the pinned {manifest.repo_id}@{manifest.revision[:12]}: {exc.what}",
            "Update the mirror from the hub, or set AEZOO_MIRRORS to skip it.",
        ) from exc


def _verify_cached(path: Path, expected: str, *, size: int | None = None, algorithm: str = "sha256", force: bool) -> None:
    """Verify a file in the HF cache; on mismatch remove it (blob and snapshot link) and raise."""
    try:
        verify(path, expected, size=size, algorithm=algorithm, force=force)
    except ChecksumMismatchError as exc:
        blob = Path(os.path.realpath(path))
        blob.unlink(missing_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        raise ChecksumMismatchError(
            f"{exc.what} The bad file was removed from the cache.",
            "Try again; if it persists, the hub or mirror serves a file that differs from the pinned manifest.",
        ) from exc


def _download(repo_id: str, filename: str, revision: str, *, force: bool) -> Path:
    from huggingface_hub import hf_hub_download

    with _hub_errors(repo_id, filename, revision):
        return Path(hf_hub_download(repo_id, filename, revision=revision, force_download=force))


class _hub_errors:
    """Turn huggingface_hub's exceptions into aezoo's named errors with a way out."""

    def __init__(self, repo_id: str, filename: str, revision: str) -> None:
        self.where = f"{filename} of {repo_id}@{revision[:12]}"

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:  # noqa: ANN001
        if exc is None:
            return False
        from huggingface_hub import errors as hf

        if isinstance(exc, hf.HFValidationError):
            raise InvalidReferenceError(
                f"Cannot ask the hub for {self.where}: {exc}", "Check the repo id and revision."
            ) from exc
        if isinstance(exc, hf.LocalEntryNotFoundError):
            raise WeightsUnavailableError(
                f"Cannot get {self.where}: it is not in the local cache and the hub could not be reached"
                " (or HF_HUB_OFFLINE=1).",
                "Connect and run 'aezoo download NAME', point HF_ENDPOINT at a mirror, or set AEZOO_MIRRORS.",
            ) from exc
        if isinstance(exc, hf.RevisionNotFoundError):
            raise WeightsUnavailableError(f"Revision not found for {self.where}.", "Check the revision.") from exc
        if isinstance(exc, hf.RepositoryNotFoundError | hf.GatedRepoError):
            raise WeightsUnavailableError(
                f"Cannot access {self.where}: the repo does not exist, is private, or the file is missing ({exc.__class__.__name__}).",
                "Check the name and revision; for a private repo set HF_TOKEN or run 'hf auth login'.",
            ) from exc
        if isinstance(exc, hf.EntryNotFoundError):
            raise WeightsUnavailableError(f"{self.where} does not exist on the hub.", "Check the revision.") from exc
        if isinstance(exc, hf.HfHubHTTPError | OSError):
            raise WeightsUnavailableError(
                f"Download of {self.where} failed: {exc}.", "Check the connection and HF_ENDPOINT, then retry."
            ) from exc
        return False
