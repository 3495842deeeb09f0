"""Publishing checkpoints to a Hub: ``push_folder``, and ``save_pretrained`` / ``push_to_hub`` on models.

A plugin pins its weights to what the hub itself holds: the commit id the hub gave the upload, and
each file's size and sha256, checked against the hub's own listing of that commit. The upload goes
through huggingface_hub (``create_repo``, ``create_commit``), which sends weights through LFS or Xet
as it decides, so whatever huggingface.co (or any Hub-compatible server) accepts is what is pinned.

    pin = push_folder("weights/my-model", "org/my-model")        # or: aezoo push weights/my-model --repo ...
    write_release(pin, "src/my_plugin/release.json")

torch is imported only by ``save_pretrained`` (through ``aezoo.checkpoint``), never at import time.
"""

from __future__ import annotations

import json
import tempfile
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import hub
from .card import read_card, render_model_card
from .checkpoint import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, CheckpointConfig, atomic_write, read_config
from .errors import (
    AezooError,
    CheckpointError,
    HubHTTPError,
    HubTimeoutError,
    HubUnreachableError,
    InputIsOutputError,
    InvalidReferenceError,
)
from .integrity import git_blob_sha1, is_inside, sha256_of
from .safetensors_header import read_header
from .spec import WeightsFile, WeightsManifest, check_relative_path

if TYPE_CHECKING:
    import torch

EXCLUDED = {"training-state"}  # resumable training state stays local; it is not part of a release


class PublishError(AezooError):
    """Publishing a checkpoint to the hub failed."""


class NotACheckpointError(CheckpointError):
    """The folder to publish is not an aezoo checkpoint (no config.json or no model.safetensors)."""


class PublishAuthError(PublishError):
    """The hub answered 401 (no valid token) or 403 (the token may not write there)."""


class RepoRefusedError(PublishError):
    """The hub refused to create the repo, the branch or the commit (an HTTP 4xx other than 401/403)."""


class PublishVerificationError(PublishError):
    """The hub's listing of the new commit does not hold the uploaded files as they were sent."""


def published_files(folder: Path) -> list[str]:
    """The files of a checkpoint folder that belong to its hub repo, sorted: everything but the
    ``training-state/`` folder and dot files (locks, run records, ``.gitattributes``)."""
    folder = Path(folder)
    names = [
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file()
        and p.relative_to(folder).parts[0] not in EXCLUDED
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted(check_relative_path(n) for n in names)


def check_checkpoint(folder: Path) -> list[str]:
    """Refuse, before any upload, a folder that is not a readable aezoo checkpoint; return the
    files that would be published."""
    folder = Path(folder)
    missing = [name for name in (CONFIG_FILE, WEIGHTS_FILE) if not (folder / name).is_file()]
    if not folder.is_dir() or missing:
        lacks = "does not exist" if not folder.exists() else "is not a folder" if not folder.is_dir() else (
            "has no " + " and no ".join(missing))
        raise NotACheckpointError(
            f"{folder} {lacks}, so it is not an aezoo checkpoint; nothing was uploaded.",
            "Push a folder written by aezoo: 'aezoo train NAME -o DIR' or model.save_pretrained(DIR).",
        )
    read_config(folder)  # named CheckpointErrors for a config.json, weights file or card aezoo could not read
    read_header(folder / WEIGHTS_FILE)
    read_card(folder / CARD_FILE)
    return published_files(folder)


def release_data(folder: Path, repo_id: str, revision: str, files: list[str] | None = None) -> dict[str, Any]:
    """The pin of ``folder`` published as ``repo_id`` at commit ``revision``, as ``release.json``
    holds it (``aezoo.spec.Release.from_json`` reads it): the weights manifest, and the metrics and
    training data stated by the folder's card (none when it has no card)."""
    folder = Path(folder)
    names = published_files(folder) if files is None else files
    entries = tuple(WeightsFile(n, sha256_of(folder / n), (folder / n).stat().st_size) for n in names)
    manifest = WeightsManifest(repo_id, revision, entries)
    card = read_card(folder / CARD_FILE)
    return {
        "weights": {**manifest.to_dict(), "files": [asdict(entry) for entry in manifest.files]},  # as JSON reads it
        "metrics": [asdict(m) for m in card.metrics] if card else [],
        "training_data": card.training_data if card else "",
    }


def write_release(pin: dict[str, Any], path: Path) -> Path:
    """Write a pin as a release file (atomically: a failed write leaves the old one)."""
    path = Path(path)
    atomic_write(path, (json.dumps(pin, indent=2) + "\n").encode())
    return path


def push_folder(
    folder: Path,
    repo_id: str,
    *,
    revision: str = "main",
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
) -> dict[str, Any]:
    """Upload a checkpoint folder to the hub as ``repo_id`` (created if needed) on branch
    ``revision`` (created from ``main`` if needed), in one commit; return its pin.

    The pin names the commit the hub returned, and each file's size and sha256, after the hub's
    own listing of that commit was found to hold exactly those files. Pushing files the branch
    already holds makes no new commit: the pin names the branch's current commit."""
    from huggingface_hub import CommitOperationAdd, HfApi

    folder = Path(folder)
    names = check_checkpoint(folder)
    hub.check_repo_id(repo_id)
    hub.check_revision(revision)
    if hub._COMMIT.fullmatch(revision) or revision.startswith("refs/"):
        raise InvalidReferenceError(
            f"{revision!r} is not a branch name; a push adds a commit to a branch.", "Pass a branch: --revision main."
        )
    api = HfApi(token=token)  # made now: it reads HF_ENDPOINT as it is at this call
    with _push_errors(api.endpoint, repo_id, "create the repo"):
        api.create_repo(repo_id, private=private, exist_ok=True)
    if revision != "main":
        with _push_errors(api.endpoint, repo_id, f"create the branch {revision!r} of"):
            api.create_branch(repo_id, branch=revision, exist_ok=True)
    operations = [CommitOperationAdd(path_in_repo=n, path_or_fileobj=str(folder / n)) for n in names]
    with _push_errors(api.endpoint, repo_id, f"commit to {revision!r} of"):
        commit = api.create_commit(
            repo_id, operations, commit_message=commit_message or f"Publish {repo_id} with aezoo", revision=revision
        )
    pin = release_data(folder, repo_id, commit.oid, names)
    _check_listing(api, repo_id, commit.oid, folder, pin["weights"]["files"])
    return pin


def _check_listing(api: Any, repo_id: str, commit: str, folder: Path, files: list[dict[str, Any]]) -> None:
    """The hub's tree at ``commit`` must hold every pinned file with its size, and its content id
    must be the file's sha256 (LFS, Xet) or git blob id (a plain git file)."""
    with _push_errors(api.endpoint, repo_id, f"list commit {commit[:12]} of"):
        listed = {
            entry.path: entry
            for entry in api.list_repo_tree(repo_id, revision=commit, recursive=True)
            if hasattr(entry, "blob_id")
        }
    wrong = []
    for pinned in files:
        entry = listed.get(pinned["path"])
        if entry is None or entry.size != pinned["size"]:
            same = False
        elif entry.lfs:
            same = entry.lfs.sha256 == pinned["sha256"]
        else:
            same = entry.blob_id == git_blob_sha1(folder / pinned["path"])
        if not same:
            wrong.append(pinned["path"])
    if wrong:
        raise PublishVerificationError(
            f"The hub's commit {commit} of {repo_id} does not hold {', '.join(wrong)} as uploaded; no pin was written.",
            "Push again; if it persists, the hub (HF_ENDPOINT) does not store what it accepts.",
        )


@contextmanager
def _push_errors(endpoint: str, repo_id: str, action: str) -> Iterator[None]:
    """huggingface_hub's and httpx's exceptions during a push, as aezoo's named errors."""
    from huggingface_hub import errors as hf

    try:
        yield
    except AezooError:
        raise
    except Exception as exc:  # classified below; re-raised when unknown
        where = f"{action} {repo_id} at {endpoint}"
        timeouts, transport = hub._transport_errors()
        for cause in hub._chain(exc):
            if isinstance(cause, timeouts):
                raise HubTimeoutError(
                    f"The hub gave no answer in time when asked to {where} ({type(cause).__name__}).",
                    "Check the connection and HF_ENDPOINT, then push again; nothing half-done is pinned.",
                ) from exc
            if isinstance(cause, transport):
                raise HubUnreachableError(
                    f"Cannot reach the hub to {where}: {type(cause).__name__}: {cause}.",
                    "Check the connection and HF_ENDPOINT, then push again; publishing needs the hub.",
                ) from exc
            if isinstance(cause, hf.HfHubHTTPError) and getattr(cause, "response", None) is not None:
                raise _http_error(cause, where, repo_id) from exc
        if isinstance(exc, ValueError):  # the client's own refusals: LFS batch errors, malformed answers
            raise RepoRefusedError(f"Could not {where}: {exc}",
                                   "Check the repo and the folder, then push again.") from exc
        raise


def _http_error(cause: Any, where: str, repo_id: str) -> AezooError:
    status = cause.response.status_code
    said = (getattr(cause, "server_message", None) or "").strip().replace("\n", " ")[:300]
    said = f": {said}" if said else ""
    org = repo_id.split("/")[0]
    if status == 401:
        return PublishAuthError(
            f"The hub refused to {where} without a valid token (HTTP 401){said}.",
            "Log in with 'hf auth login', set HF_TOKEN, or pass a write token (--token / token=).",
        )
    if status == 403:
        return PublishAuthError(
            f"The hub refused to {where}: the token may not write there (HTTP 403){said}.",
            f"Use a token with write access to {org!r} (a fine-grained token needs it granted), or push to a"
            " namespace you own.",
        )
    if status >= 500 or status == 429:
        return HubHTTPError(f"The hub answered HTTP {status} when asked to {where}{said}.", "Push again later.")
    return RepoRefusedError(
        f"The hub refused to {where} (HTTP {status}){said}.",
        "Check the repo id, the branch and the folder; the hub's message says what it wants.",
    )


# -- on loaded models -----------------------------------------------------------------------------------------------


def save_pretrained(model: torch.nn.Module, folder: Path) -> Path:
    """Write ``model`` (as returned by ``aezoo.load``) as a checkpoint folder that ``aezoo.load``
    reads back: config.json, model.safetensors and a README.md card from its card data."""
    from .api import model_info
    from .checkpoint import save_checkpoint

    info = model_info(model)
    folder = Path(folder)
    if info.path is not None and folder.exists() and is_inside(folder, info.path) and is_inside(info.path, folder):
        raise InputIsOutputError(
            f"{folder} is the folder this model was loaded from; saving there would replace its files.",
            "Save to another folder.",
        )
    spec = info.spec
    checkpoint = CheckpointConfig(info.name, dict(info.config), dict(info.preprocessing))
    card = render_model_card(spec, info.card or spec.card, checkpoint=checkpoint)
    return save_checkpoint(folder, model, checkpoint, card)


def push_to_hub(
    model: torch.nn.Module,
    repo_id: str,
    *,
    revision: str = "main",
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
) -> dict[str, Any]:
    """Save ``model`` to a temporary folder and ``push_folder`` it; returns the pin."""
    with tempfile.TemporaryDirectory(prefix="aezoo-push-") as scratch:
        folder = save_pretrained(model, Path(scratch) / repo_id.split("/")[-1])
        return push_folder(
            folder, repo_id, revision=revision, private=private, token=token, commit_message=commit_message
        )


def attach(model: torch.nn.Module) -> torch.nn.Module:
    """Give a loaded model ``save_pretrained(DIR)`` and ``push_to_hub(repo_id, ...)``; returns it."""
    # torch types Module.__setattr__'s value as Tensor | Module; any value is set as a plain attribute
    model.save_pretrained = types.MethodType(save_pretrained, model)  # type: ignore[assignment]
    model.push_to_hub = types.MethodType(push_to_hub, model)  # type: ignore[assignment]
    return model
