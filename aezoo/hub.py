"""Weights resolution: local mirrors first, then the Hugging Face cache and hub, always verified.

Resolution goes through huggingface_hub, so ``HF_ENDPOINT``, ``HF_HOME``, ``HF_HUB_CACHE``,
``HF_HUB_OFFLINE`` and tokens (``HF_TOKEN``, ``hf auth login``) work as users expect; a call's own
``cache_dir``, ``local_files_only`` and ``token`` (``HubAccess``) go to every request it makes, and
the cache checks below use the cache that call actually writes. A file is
trusted only after its full sha256 matched the pinned manifest; a file that fails is removed
from the cache, so a bad download never poisons later loads.

The hub is not trusted either (an endpoint may be plain http, a mirror, or hostile):

- repo ids and revisions are checked against the hub's own naming rules before any request;
- while aezoo downloads, every answer of the hub is checked before huggingface_hub builds a
  cache path from it: the commit (``X-Repo-Commit``) must be 40 hex digits and the content id
  (``X-Linked-Etag``/``ETag``) 40 or 64 hex digits, else ``UntrustedHubError``;
- whatever comes back (snapshot link, blob) must resolve inside the cache root on its real path
  before aezoo reads, hashes or removes it; a failed checksum removes only files in the cache;
- a hub that does not answer costs at most ``AEZOO_HUB_TIMEOUT`` seconds (default 30), and
  refused connections, timeouts and HTTP errors are named errors; on a terminal, a request still
  waiting for its answer after ``WAIT_NOTICE_SECONDS`` says so on stderr (downloads that have
  started show huggingface_hub's progress bar).
"""

from __future__ import annotations

import contextvars
import errno
import importlib
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from .errors import (
    AezooError,
    CacheNotWritableError,
    ChecksumMismatchError,
    HubHTTPError,
    HubTimeoutError,
    HubUnreachableError,
    InvalidReferenceError,
    UntrustedHubError,
    WeightsUnavailableError,
)
from .integrity import is_inside, verify
from .settings import hub_timeout, mirrors
from .spec import WeightsFile, WeightsManifest, check_relative_path

HUB_PREFIX = "hf://"
_REF = re.compile(r"hf://(?P<repo>[^@]*)(?:@(?P<rev>.*))?", re.DOTALL)
DEFAULT_REPO_FILES = ("config.json", "model.safetensors", "README.md")
WAIT_NOTICE_SECONDS = 2.0  # a request with no answer after this long is announced on a terminal
REF_FORMAT = "Write it as hf://org/name or hf://org/name@revision."

# huggingface_hub's repo id rules (utils/_validators.py), ASCII only: each part starts and ends with a
# letter, digit or '_', no '--' or '..', a name of at most 96 characters, not ending in '.git'.
_REPO_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_CONTENT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # git blob sha1 or LFS sha256
_PR_REF = re.compile(r"refs/pr/[0-9]+")
_REF_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def check_repo_id(repo_id: str, *, ref: str | None = None) -> str:
    """Refuse a repo id that is not ``org/name`` under the hub's rules (so never ``..`` or ``.``)."""
    parts = repo_id.split("/")
    if (
        len(parts) != 2
        or not all(_REPO_PART.fullmatch(part) for part in parts)
        or len(parts[1]) > 96
        or "--" in repo_id
        or ".." in repo_id
        or repo_id.endswith(".git")
    ):
        raise InvalidReferenceError(
            f"{ref or repo_id!r}: {repo_id!r} is not a hub repo id (org/name of letters, digits, '_', '-' and '.',"
            " each part starting and ending with a letter, digit or '_', no '--' or '..').",
            REF_FORMAT,
        )
    return repo_id


def check_revision(revision: str, *, ref: str | None = None) -> str:
    """Refuse a revision that could be read as a path: a 40-hex commit, ``refs/pr/N``, or a branch
    or tag name whose '/'-separated parts are plain names (no ``..``, no leading '/', '.' or '-')."""
    parts = revision.split("/")
    if not (
        _COMMIT.fullmatch(revision)
        or _PR_REF.fullmatch(revision)
        or (
            len(revision) <= 255
            and parts[0] != "refs"
            and ".." not in revision
            and all(_REF_PART.fullmatch(part) and not part.endswith((".", ".lock")) for part in parts)
        )
    ):
        raise InvalidReferenceError(
            f"{ref or revision!r}: {revision!r} is not a revision (a 40-hex commit, refs/pr/N, or a branch or tag"
            " name of letters, digits, '_', '-', '.' and '/', with no '..' and no part starting with '.', '-' or '/').",
            REF_FORMAT,
        )
    return revision


def parse_hub_ref(ref: str, *, revision: str | None = None) -> tuple[str, str]:
    """``hf://org/name@revision`` -> (repo_id, revision); the revision defaults to ``revision``,
    else ``main``. A reference that names one revision and ``revision`` another is refused.

    Both are checked here, before any request, so no reference can name a path."""
    match = _REF.fullmatch(ref)
    if not match or not match["repo"] or match["rev"] == "":
        raise InvalidReferenceError(f"{ref!r} is not a hub reference.", REF_FORMAT)
    if match["rev"] is not None and revision is not None and match["rev"] != revision:
        raise InvalidReferenceError(
            f"{ref!r} names revision {match['rev']!r}, but revision={revision!r} was also given.",
            "Give the revision once: in the reference or as revision= (--revision), not both.",
        )
    return check_repo_id(match["repo"], ref=ref), check_revision(match["rev"] or revision or "main", ref=ref)


@dataclass(frozen=True)
class HubAccess:
    """How one call reaches the hub, passed to huggingface_hub on every request it makes.

    ``cache_dir``: the cache to use (None: ``HF_HUB_CACHE``); ``local_files_only``: never ask the
    hub, as with ``HF_HUB_OFFLINE=1``; ``token``: sent to the hub (None: ``HF_TOKEN`` or the stored
    login; False: none); ``force``: download again even if cached."""

    cache_dir: str | os.PathLike[str] | None = None
    local_files_only: bool = False
    token: str | bool | None = None
    force: bool = False

    @property
    def cache_root(self) -> Path:
        """The cache folder huggingface_hub uses for this call, resolved as it resolves it: what every
        file aezoo reads, hashes or removes must lie inside."""
        from huggingface_hub import constants

        chosen = constants.HF_HUB_CACHE if self.cache_dir is None else self.cache_dir
        return Path(chosen).expanduser().resolve()

    @property
    def offline(self) -> bool:
        from huggingface_hub import constants

        return self.local_files_only or constants.is_offline_mode()

    def storage_folder(self, repo_id: str) -> Path:
        org, name = repo_id.split("/")
        return self.cache_root / f"models--{org}--{name}"

    def download(self, repo_id: str, filename: str, revision: str) -> str:
        from huggingface_hub import hf_hub_download

        return hf_hub_download(
            repo_id, filename, revision=revision, force_download=self.force, cache_dir=self.cache_root,
            local_files_only=self.local_files_only, token=self.token,
        )

    def list_files(self, repo_id: str, revision: str) -> list[str]:
        # A fresh HfApi reads the endpoint now, as hf_hub_download does; the module-level
        # list_repo_files keeps the one set when huggingface_hub.hf_api was first imported.
        from huggingface_hub import HfApi

        return HfApi(token=self.token).list_repo_files(repo_id, revision=revision)


def fetch(
    manifest: WeightsManifest,
    *,
    force: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    skip_mirror: Path | None = None,
) -> Path:
    """Return a local folder holding every file of ``manifest``, each verified by sha256: from a
    mirror (but ``skip_mirror``, a mirror being rewritten), else the cache, else the hub (the other
    keywords are ``HubAccess``'s)."""
    access = HubAccess(cache_dir, local_files_only, token, force)
    check_repo_id(manifest.repo_id)
    check_revision(manifest.revision)
    folder = find_in_mirrors(manifest, force=force, skip=skip_mirror)
    if folder is not None:
        return folder
    snapshot: Path | None = None
    for entry in manifest.files:
        path, _ = _download(access, manifest.repo_id, entry.path, manifest.revision, pinned=True)
        _verify_cached(access, path, entry.sha256, size=entry.size)
        if entry.path == "config.json":  # always at the top of the snapshot (the manifest checks it is listed)
            snapshot = path.parent
    assert snapshot is not None
    return snapshot


def find_in_mirrors(manifest: WeightsManifest, *, force: bool = False, skip: Path | None = None) -> Path | None:
    """The first mirror folder named after the repo, every file verified by sha256; None when no
    mirror holds one. A mirror folder that fails is an error, never skipped for the next."""
    for mirror in mirrors():
        if skip is not None and os.path.realpath(mirror) == os.path.realpath(skip):
            continue
        folder = mirror / manifest.repo_name
        if folder.is_dir():
            for entry in manifest.files:
                _verify_mirror_file(folder, entry, manifest, force=force)
            return folder
    return None


def fetch_ref(
    repo_id: str,
    revision: str,
    *,
    force: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
) -> Path:
    """Download a checkpoint repo named by reference; each file is checked against the hub's own
    content id (sha256 for LFS files, the git blob id otherwise). Mirrors are never consulted:
    they hold pinned checkpoints, verified against a manifest this reference does not have."""
    access = HubAccess(cache_dir, local_files_only, token, force)
    check_repo_id(repo_id)
    check_revision(revision)
    wanted = list(DEFAULT_REPO_FILES)
    if not access.offline:
        with _hub_errors(access, repo_id, "the file list", revision, pinned=False), _guarded(
            f"the file list of {repo_id}@{revision[:12]}", pinned=False
        ):
            present = set(access.list_files(repo_id, revision))
        wanted = [f for f in DEFAULT_REPO_FILES if f in present]
        if "model.safetensors" not in wanted:
            raise WeightsUnavailableError(
                f"hf://{repo_id}@{revision} has no model.safetensors.", "Check the repo: aezoo loads safetensors only."
            )
    folder: Path | None = None
    for name in wanted:
        try:
            path, etag = _download(access, repo_id, name, revision, pinned=False)
        except WeightsUnavailableError as exc:
            if name == "README.md" and not isinstance(exc, HubUnreachableError | HubHTTPError | UntrustedHubError):
                continue  # offline, and the card was never cached: it is optional
            raise
        algorithm, expected = _content_id(access, path, repo_id, etag)
        _verify_cached(access, path, expected, algorithm=algorithm)
        folder = path.parent
    assert folder is not None
    return folder


def _content_id(access: HubAccess, path: Path, repo_id: str, etag: str | None) -> tuple[str, str]:
    """The hub's id of a downloaded file: the name of its blob in the cache, else the ETag the hub
    gave in this call (a cache without symlinks holds copies, not links to named blobs)."""
    blob = Path(os.path.realpath(path))
    blobs = os.path.realpath(access.storage_folder(repo_id) / "blobs")
    if str(blob.parent) == blobs and _CONTENT_ID.fullmatch(blob.name):
        content_id = blob.name
    elif etag is not None:
        content_id = etag
    else:
        raise WeightsUnavailableError(
            f"Cannot tell the hub's content id of {path.name} of {repo_id}: the cached copy is not a link to a"
            " named blob.",
            "Load it again with force_download=True (CLI: --force) so the hub is asked for it.",
        )
    return ("sha256" if len(content_id) == 64 else "sha1"), content_id


def _verify_mirror_file(folder: Path, entry: WeightsFile, manifest: WeightsManifest, *, force: bool) -> None:
    path = folder / check_relative_path(entry.path)
    if not path.is_file():
        raise WeightsUnavailableError(
            f"Mirror {folder} lacks {entry.path} for {manifest.repo_id}.",
            f"Rewrite it ('aezoo download MODEL --to {folder.parent} --overwrite'), or leave {folder.parent} out of"
            " AEZOO_MIRRORS.",
        )
    try:
        verify(path, entry.sha256, size=entry.size, force=force)
    except ChecksumMismatchError as exc:
        raise ChecksumMismatchError(
            f"Mirror file does not match the pinned {manifest.repo_id}@{manifest.revision[:12]}: {exc.what}",
            f"Rewrite it ('aezoo download MODEL --to {folder.parent} --overwrite'), or leave {folder.parent} out of"
            " AEZOO_MIRRORS.",
        ) from exc


def _verify_cached(
    access: HubAccess, path: Path, expected: str, *, size: int | None = None, algorithm: str = "sha256"
) -> None:
    """Verify a file in the HF cache; on mismatch remove it (blob and snapshot link) and raise.

    The file's real path must be inside the cache root: nothing outside it is read or removed."""
    root = access.cache_root
    if not is_inside(path, root):
        raise _outside_cache(path, root)
    try:
        verify(path, expected, size=size, algorithm=algorithm, force=access.force)
    except ChecksumMismatchError as exc:
        blob = Path(os.path.realpath(path))
        try:
            if is_inside(blob, root):  # checked again: the link may have changed while the file was hashed
                blob.unlink(missing_ok=True)
            if (path.is_symlink() or path.exists()) and is_inside(os.path.dirname(os.path.abspath(path)), root):
                path.unlink()
        except OSError as unlink_error:  # a read-only cache must not hide the checksum failure
            raise ChecksumMismatchError(
                f"{exc.what} The bad file could not be removed from the cache "
                f"({unlink_error.strerror or unlink_error}).",
                f"Remove {path} (and {blob}) by hand, or make the cache ({root}) writable, then try again.",
            ) from exc
        raise ChecksumMismatchError(
            f"{exc.what} The bad file was removed from the cache.",
            "Try again; if it persists, the hub or mirror serves a file that differs from the pinned manifest.",
        ) from exc


def _outside_cache(path: Path, root: Path) -> UntrustedHubError:
    return UntrustedHubError(
        f"{path} resolves to {os.path.realpath(path)}, outside the Hugging Face cache {root}; aezoo did not"
        " read, verify or remove it.",
        "Remove that entry from the cache (or use another HF_HUB_CACHE) and check HF_ENDPOINT: the hub may be hostile.",
    )


def _checked_pointer(access: HubAccess, path: Path, repo_id: str, filename: str, revision: str) -> Path:
    """The file huggingface_hub returned must be ``<repo>/snapshots/<commit>/<filename>`` of this
    repo's cache folder, and resolve inside the cache root."""
    snapshot = path.parents[len(PurePosixPath(filename).parts) - 1]
    snapshots = os.path.realpath(access.storage_folder(repo_id) / "snapshots")
    if (
        os.path.realpath(snapshot.parent) != snapshots
        or not _COMMIT.fullmatch(snapshot.name)
        or (_COMMIT.fullmatch(revision) and snapshot.name != revision)
    ):
        raise UntrustedHubError(
            f"huggingface_hub returned {path} for {filename} of {repo_id}@{revision[:12]}, which is not a snapshot of"
            " that repo at that revision; aezoo did not use it.",
            "Check HF_ENDPOINT (the hub may be hostile) and the cache.",
        )
    if not is_inside(path, access.cache_root):
        raise _outside_cache(path, access.cache_root)
    return path


def _download(
    access: HubAccess, repo_id: str, filename: str, revision: str, *, pinned: bool
) -> tuple[Path, str | None]:
    """One file into the cache, every hub answer checked; returns its snapshot path and the content
    id the hub gave in this call (None when the cache answered alone). ``pinned``: for a registered
    model, whose advice may name mirrors."""
    where = f"{filename} of {repo_id}@{revision[:12]}"
    with _hub_errors(access, repo_id, filename, revision, pinned=pinned), _guarded(where, pinned=pinned) as guard:
        path = Path(access.download(repo_id, filename, revision))
    return _checked_pointer(access, path, repo_id, filename, revision), guard.etag


def _local_copies(pinned: bool) -> str:
    """The way out that needs no hub. Mirrors hold pinned checkpoints only: an ``hf://`` reference
    or ``org/name`` never consults them, so its advice never names them."""
    if pinned:
        return "use local copies (AEZOO_MIRRORS, HF_HUB_OFFLINE=1)"
    return "load from the local cache (HF_HUB_OFFLINE=1)"


# -- every answer of the hub, checked while aezoo asks ----------------------------------------------------------------


class _Guard:
    """One aezoo request to the hub (one file, or the file list): checks each answer before
    huggingface_hub uses it, and bounds how long a silent or failing hub can hold it."""

    def __init__(self, where: str, timeout: float, *, notice: bool = False, pinned: bool = True) -> None:
        self.where = where
        self.pinned = pinned
        self.timeout = timeout
        self.etag: str | None = None
        self.down_since: float | None = None  # when the hub stopped answering usefully
        self.problem: Any = None  # the last failure: an httpcore exception, or an HTTP status
        self.notice = notice  # say on stderr when a request waits WAIT_NOTICE_SECONDS for its answer
        self._timer: threading.Timer | None = None
        self.noticed = False

    def _wait_notice(self) -> None:
        from huggingface_hub import constants

        self.noticed = True
        print(f"aezoo: waiting for the hub at {constants.ENDPOINT} ({self.where}); giving up after "
              f"{self.timeout:g} s (AEZOO_HUB_TIMEOUT)...", file=sys.stderr, flush=True)

    def _arm(self) -> None:
        self.disarm()
        if self.notice and not self.noticed:
            self._timer = threading.Timer(WAIT_NOTICE_SECONDS, self._wait_notice)
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # request hook
    def before(self, request: Any) -> None:
        self._arm()
        budget = self.timeout
        if self.down_since is not None:
            budget -= time.monotonic() - self.down_since
            if budget <= 0:
                raise self.gave_up()
        timeouts = dict(request.extensions.get("timeout") or {})
        for key in ("connect", "read", "write", "pool"):
            current = timeouts.get(key)
            timeouts[key] = budget if current is None else min(current, budget)
        request.extensions = {
            **request.extensions,
            "timeout": timeouts,
            "trace": self._tracer(request.extensions.get("trace"), timeouts),
        }

    def _tracer(self, inner: Any, timeouts: dict[str, float]) -> Any:
        def trace(event: str, info: dict[str, Any]) -> None:
            if event.endswith(".failed") and "response_closed" not in event:
                exc = info.get("exception")
                timed_out = "Timeout" in type(exc).__name__
                waited = timeouts["connect" if "connect" in event else "read"] if timed_out else 0.0
                if self.down_since is None:
                    self.down_since = time.monotonic() - waited
                self.problem = exc
            if inner is not None:
                inner(event, info)

        return trace

    # response hook
    def after(self, response: Any) -> None:
        self.disarm()  # an answer came: huggingface_hub's own progress bar shows the download from here
        status = response.status_code
        if status >= 500 or status == 429:
            if self.down_since is None:
                self.down_since = time.monotonic()
            self.problem = status
        else:
            self.down_since, self.problem = None, None
        commit = response.headers.get("X-Repo-Commit")
        if commit is not None and not _COMMIT.fullmatch(commit):
            raise UntrustedHubError(
                f"The hub answered commit {commit!r} for {self.where}, which is not a 40-hex commit id; aezoo refused"
                " it before anything was written.",
                "Check HF_ENDPOINT: that server is not a trustworthy hub.",
            )
        if commit is not None and response.request.method == "HEAD":
            # What huggingface_hub's get_hf_file_metadata takes as the file's id, and names the blob after.
            raw = response.headers.get("X-Linked-Etag") or response.headers.get("ETag")
            etag = None if raw is None else raw.lstrip("W/").strip('"')
            if etag is not None and not _CONTENT_ID.fullmatch(etag):
                raise UntrustedHubError(
                    f"The hub answered content id {raw!r} for {self.where}, which is not a sha1 or sha256 hex digest;"
                    " aezoo refused it before anything was written.",
                    "Check HF_ENDPOINT: that server is not a trustworthy hub.",
                )
            if etag is not None:
                self.etag = etag

    def gave_up(self) -> WeightsUnavailableError:
        from huggingface_hub import constants

        endpoint, seconds = constants.ENDPOINT, f"{self.timeout:g} s"
        if isinstance(self.problem, int):
            return HubHTTPError(
                f"The hub at {endpoint} kept answering HTTP {self.problem} for {seconds} while aezoo fetched"
                f" {self.where}.",
                "The hub is failing: retry later, or point HF_ENDPOINT at a mirror.",
            )
        if "Timeout" in type(self.problem).__name__:
            return HubTimeoutError(
                f"The hub at {endpoint} gave no answer within {seconds} (AEZOO_HUB_TIMEOUT) for {self.where}.",
                "Check the connection and HF_ENDPOINT; on a slow link raise AEZOO_HUB_TIMEOUT.",
            )
        return HubUnreachableError(
            f"Cannot connect to the hub at {endpoint} for {self.where} (tried for {seconds}): {self.problem}.",
            f"Check the connection and HF_ENDPOINT, or {_local_copies(self.pinned)}.",
        )


_INSTALL_LOCK = threading.Lock()
_GUARD: contextvars.ContextVar[_Guard | None] = contextvars.ContextVar("aezoo_hub_guard", default=None)


def _on_request(request: Any) -> None:
    guard = _GUARD.get()
    if guard is not None:
        guard.before(request)


def _on_response(response: Any) -> None:
    guard = _GUARD.get()
    if guard is not None:
        guard.after(response)


def _add_hooks(client: Any) -> Any:
    hooks = client.event_hooks
    if _on_request not in hooks["request"]:
        hooks["request"].append(_on_request)
    if _on_response not in hooks["response"]:
        hooks["response"].append(_on_response)
    return client


def _install_hooks() -> None:
    """Put aezoo's checks on huggingface_hub's shared HTTP client, also on the ones it makes later
    (it closes and remakes the client after a connection error). The hooks do nothing outside
    aezoo's own calls, so other huggingface_hub use in the process is unaffected."""
    from huggingface_hub.utils import _http

    with _INSTALL_LOCK:
        factory = getattr(_http, "_GLOBAL_CLIENT_FACTORY", None)
        if callable(factory) and not getattr(factory, "aezoo_hooks", False):

            def factory_with_hooks() -> Any:
                return _add_hooks(factory())

            factory_with_hooks.aezoo_hooks = True  # type: ignore[attr-defined]
            # Not set_client_factory(): it closes the shared client, which other threads may be using.
            _http._GLOBAL_CLIENT_FACTORY = factory_with_hooks
    _add_hooks(_http.get_session())


@contextmanager
def _guarded(where: str, *, pinned: bool) -> Iterator[_Guard]:
    guard = _Guard(where, hub_timeout(), notice=wants_wait_notice(), pinned=pinned)
    _install_hooks()
    token = _GUARD.set(guard)
    try:
        yield guard
    finally:
        guard.disarm()
        _GUARD.reset(token)


def wants_wait_notice(stream: Any = None) -> bool:
    """Whether a request that waits on the hub is announced (one line on stderr after
    ``WAIT_NOTICE_SECONDS``): only when stderr is a terminal, where huggingface_hub's progress bars
    also show, so logs and pipes stay clean."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False


# -- huggingface_hub's and httpx's exceptions, named ----------------------------------------------------------------


def _transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(timeouts, other transport failures) of the httpx huggingface_hub uses (httpx2, or httpx before 2.x)."""
    timeouts: list[type[BaseException]] = []
    transport: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transport.append(module.TransportError)
    return tuple(timeouts), tuple(transport)


_CACHE_WRITE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOTDIR, errno.EEXIST}


def _is_cache_write_error(exc: OSError) -> bool:
    """A local file system error (permission, read-only, full, a file where a folder should be),
    as opposed to a network failure that happens to be an OSError."""
    return isinstance(exc, PermissionError | FileExistsError | NotADirectoryError) or exc.errno in _CACHE_WRITE_ERRNOS


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


class _hub_errors:
    """Turn huggingface_hub's and httpx's exceptions into aezoo's named errors with a way out."""

    def __init__(self, access: HubAccess, repo_id: str, filename: str, revision: str, *, pinned: bool) -> None:
        self.where = f"{filename} of {repo_id}@{revision[:12]}"
        self.access = access
        self.pinned = pinned

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> Literal[False]:  # raises aezoo's error, or lets exc go on
        if exc is None or isinstance(exc, AezooError) or not isinstance(exc, Exception):
            return False
        from huggingface_hub import constants
        from huggingface_hub import errors as hf

        if isinstance(exc, hf.HFValidationError):
            raise InvalidReferenceError(
                f"Cannot ask the hub for {self.where}: {exc}", "Check the repo id and revision."
            ) from exc
        if isinstance(exc, hf.RevisionNotFoundError):
            raise WeightsUnavailableError(f"Revision not found for {self.where}.", "Check the revision.") from exc
        if isinstance(exc, hf.RepositoryNotFoundError | hf.GatedRepoError):
            raise WeightsUnavailableError(
                f"Cannot access {self.where}: the repo does not exist, is private, or the file is missing "
                f"({exc.__class__.__name__}).",
                "Check the name and revision; for a private repo set HF_TOKEN or run 'hf auth login'.",
            ) from exc
        if isinstance(exc, hf.EntryNotFoundError) and not isinstance(exc, hf.LocalEntryNotFoundError):
            raise WeightsUnavailableError(f"{self.where} does not exist on the hub.", "Check the revision.") from exc

        timeouts, transport = _transport_errors()
        endpoint = constants.ENDPOINT
        for cause in _chain(exc):
            if isinstance(cause, hf.OfflineModeIsEnabled):
                break
            if isinstance(cause, timeouts):
                raise HubTimeoutError(
                    f"The hub at {endpoint} did not answer in time for {self.where} ({cause.__class__.__name__}).",
                    "Check the connection and HF_ENDPOINT; on a slow link raise AEZOO_HUB_TIMEOUT.",
                ) from exc
            if isinstance(cause, transport):
                raise HubUnreachableError(
                    f"Cannot reach the hub at {endpoint} for {self.where}: {cause.__class__.__name__}: {cause}.",
                    f"Check the connection and HF_ENDPOINT, or {_local_copies(self.pinned)}.",
                ) from exc
            if isinstance(cause, hf.HfHubHTTPError):
                status = getattr(getattr(cause, "response", None), "status_code", "?")
                raise HubHTTPError(
                    f"The hub at {endpoint} answered HTTP {status} for {self.where}.",
                    "Retry later; for 401/403 set HF_TOKEN or run 'hf auth login'; or point HF_ENDPOINT at a mirror.",
                ) from exc
            if isinstance(cause, hf.FileMetadataError):
                raise HubHTTPError(
                    f"{endpoint} answered {self.where} without the commit id or ETag a Hub gives: {cause}",
                    "Point HF_ENDPOINT at a Hub-compatible server.",
                ) from exc
        if isinstance(exc, hf.LocalEntryNotFoundError):
            why = (
                "only local files were allowed (local_files_only, --offline)" if self.access.local_files_only
                else "the hub could not be reached (or HF_HUB_OFFLINE=1)"
            )
            raise WeightsUnavailableError(
                f"Cannot get {self.where}: it is not in the local cache {self.access.cache_root} and {why}.",
                "Connect and run 'aezoo download NAME', point HF_ENDPOINT at a hub mirror, or set AEZOO_MIRRORS"
                " to a folder written by 'aezoo download NAME --to DIR'." if self.pinned else
                "Load it once with a connection (it is then cached), or point HF_ENDPOINT at a hub that serves it.",
            ) from exc
        if isinstance(exc, OSError) and _is_cache_write_error(exc):
            raise CacheNotWritableError(
                f"Cannot write {self.where} into the Hugging Face cache {self.access.cache_root}: "
                f"{exc.strerror or exc}.",
                "Make that folder writable (or free space), point HF_HUB_CACHE (cache_dir, --cache-dir) at a writable"
                " folder" + (", or use local copies (AEZOO_MIRRORS)." if self.pinned else "."),
            ) from exc
        if isinstance(exc, OSError):
            raise WeightsUnavailableError(
                f"Download of {self.where} failed: {exc}.", "Check the connection and HF_ENDPOINT, then retry."
            ) from exc
        return False
