"""A write-capable Hugging Face Hub on 127.0.0.1 for tests: the smallest server the unmodified
huggingface_hub client (2.x) publishes to and downloads from.

Why it exists: no package serves the Hub's write API offline. olah, which the read-path tests use
(tests/hubserver.py), is a read-only mirror; every write (create_repo, upload) fails against it.
This is a test tool, not a hub: repos live in memory, in the test process, for one server's life.

It speaks what huggingface_hub calls (read from its source, version 2.4):

- ``create_repo``: ``POST /api/repos/create`` (409 when it exists); a new repo gets an initial
  commit holding ``.gitattributes``, as on the Hub; ``create_branch``: ``POST /api/models/R/branch/B``;
- ``create_commit``: ``POST /api/validate-yaml`` (README front matter: YAML, a license id), ``POST
  /api/models/R/preupload/REV`` (each file "lfs" or "regular", with the id of the file already
  there so unchanged files are skipped), the LFS batch API ``POST /R.git/info/lfs/objects/batch``
  with the ``basic`` transfer (a ``PUT`` of the whole object, checked against its sha256, then a
  verify ``POST``), and ``POST /api/models/R/commit/REV``, an NDJSON body;
- reads: ``GET /api/models/R[/revision/REV]``, ``GET /api/models/R/tree/REV[/PATH]`` and ``HEAD|GET
  /R/resolve/REV/PATH`` with ``X-Repo-Commit``, ``ETag`` (the git blob id of a plain file, the sha256
  of an LFS file, also as ``X-Linked-Etag`` with ``X-Linked-Size``), as hf_hub_download expects.

Xet is not spoken: huggingface_hub 2.4 picks Xet on the client side whenever ``hf_xet`` is installed,
whatever the server answers, so the tests set ``HF_HUB_DISABLE_XET=1`` (tests/isolation.py); a
client that still asks for a Xet token gets HTTP 501 saying so.

Commit ids are deterministic: sha1 of the parent id, the sorted file list with each file's sha256,
and the commit message; so the same pushes to a fresh server give the same ids, which is what lets
the first-party release files be re-pinned reproducibly. The real Hub's ids are not: it makes git
commits with their own dates, so a push there always gets a new id.

``tokens`` (None: anyone may write) maps each accepted token to the namespaces it may write; a
write without a known token is 401, one to a namespace the token lacks is 403. Private repos are
hidden (404) from requests without a token for their namespace.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.hubserver import LoopbackHTTPServer

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".onnx", ".npy", ".npz", ".zip", ".gz",
                ".tar", ".tgz", ".pkl", ".pickle", ".msgpack", ".parquet", ".arrow")
GITATTRIBUTES = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES).encode()
REGULAR_LIMIT = 10 * 1024 * 1024  # the Hub puts larger files in LFS whatever their name
EMPTY_PARENT = "0" * 40
LICENSE_ID = re.compile(r"[a-z0-9][a-z0-9.+-]*")  # the Hub refuses a card whose license is not an id


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    blob_id: str  # the git blob id, the ETag of a plain file
    lfs: bool


@dataclass
class Repo:
    private: bool
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict[str, StoredFile]] = field(default_factory=dict)  # commit id -> its whole tree


class HttpError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class HubWriteServer(LoopbackHTTPServer):
    """The server; use as a context manager, or ``start()`` and ``stop()``."""

    protocol = "HTTP/1.1"  # keep-alive: every answer has a Content-Length
    methods = ("GET", "HEAD", "POST", "PUT")

    def __init__(self, tokens: dict[str, set[str]] | None = None) -> None:
        self.tokens = tokens
        self.repos: dict[str, Repo] = {}
        self.objects: dict[str, bytes] = {}  # sha256 -> content, for plain and LFS files alike
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        super().__init__()

    # -- state ---------------------------------------------------------------------------------------------------
    def _commit(self, repo: Repo, parent: str, tree: dict[str, StoredFile], message: str) -> str:
        listing = "".join(f"{path} {tree[path].sha256}\n" for path in sorted(tree))
        commit = hashlib.sha1(f"{parent}\n{listing}{message}".encode()).hexdigest()
        repo.commits[commit] = dict(tree)
        return commit

    def _store(self, data: bytes, *, lfs: bool) -> StoredFile:
        sha256 = hashlib.sha256(data).hexdigest()
        self.objects[sha256] = data
        return StoredFile(sha256, len(data), git_blob_id(data), lfs)

    def _repo(self, org: str, name: str, token: str | None, *, write: bool) -> Repo:
        repo_id = f"{org}/{name}"
        repo = self.repos.get(repo_id)
        allowed = self.tokens is None or org in self.tokens.get(token or "", set())
        if write and self.tokens is not None and token not in self.tokens:
            raise HttpError(401, "Invalid credentials in Authorization header")
        if repo is None or (repo.private and not allowed):
            raise HttpError(404, f"Repository Not Found for {repo_id}.", "RepoNotFound")
        if write and not allowed:
            raise HttpError(403, f"You don't have the rights to write to {repo_id}.")
        return repo

    def _resolve(self, repo: Repo, revision: str) -> tuple[str, dict[str, StoredFile]]:
        commit = repo.branches.get(revision, revision)
        if commit not in repo.commits:
            raise HttpError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit, repo.commits[commit]

    # -- API -----------------------------------------------------------------------------------------------------
    def create_repo(self, body: dict[str, Any], token: str | None) -> tuple[int, Any]:
        org, name = body.get("organization"), body.get("name")
        if not org or not name:
            raise HttpError(400, "This test hub needs an organization (org/name).")
        if self.tokens is not None:
            if token not in self.tokens:
                raise HttpError(401, "Invalid credentials in Authorization header")
            if org not in self.tokens[token]:
                raise HttpError(403, f"You don't have the rights to create a model under the namespace {org!r}")
        repo_id, url = f"{org}/{name}", f"{self.endpoint}/{org}/{name}"
        if repo_id in self.repos:
            return 409, {"error": "You already created this model repo", "url": url}
        repo = Repo(private=body.get("visibility") == "private" or bool(body.get("private")))
        tree = {".gitattributes": self._store(GITATTRIBUTES, lfs=False)}
        repo.branches["main"] = self._commit(repo, EMPTY_PARENT, tree, "initial commit")
        self.repos[repo_id] = repo
        return 200, {"url": url, "name": repo_id}

    def create_branch(self, repo: Repo, branch: str, body: dict[str, Any]) -> tuple[int, Any]:
        if branch in repo.branches:
            raise HttpError(409, f"Reference already exists: refs/heads/{branch}")
        repo.branches[branch], _ = self._resolve(repo, body.get("startingPoint") or "main")
        return 200, {}

    def preupload(self, repo: Repo, revision: str, body: dict[str, Any]) -> tuple[int, Any]:
        _, tree = self._resolve(repo, revision)
        answers = []
        for entry in body.get("files", []):
            path, size, sample = entry["path"], entry["size"], base64.b64decode(entry["sample"])
            lfs = path.endswith(LFS_SUFFIXES) or size > REGULAR_LIMIT or b"\0" in sample
            there = tree.get(path)
            oid = None if there is None or there.lfs != lfs else (there.sha256 if lfs else there.blob_id)
            answers.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid})
        return 200, {"files": answers}

    def lfs_batch(self, org: str, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        if body.get("operation") != "upload" or "basic" not in body.get("transfers", ["basic"]):
            raise HttpError(400, "This test hub accepts only uploads with the basic transfer.")
        objects = []
        for obj in body.get("objects", []):
            oid, size = obj["oid"], obj["size"]
            answer: dict[str, Any] = {"oid": oid, "size": size}
            if self.objects.get(oid) is None:
                href = f"{self.endpoint}/lfs-objects/{org}/{name}/{oid}/{size}"
                answer["actions"] = {"upload": {"href": href}, "verify": {"href": href}}
            objects.append(answer)
        return 200, {"transfer": "basic", "objects": objects}

    def lfs_put(self, oid: str, size: str, data: bytes) -> tuple[int, Any]:
        if hashlib.sha256(data).hexdigest() != oid or str(len(data)) != size:
            raise HttpError(400, f"The uploaded object is not {oid} of {size} bytes.")
        self.objects[oid] = data
        return 200, {}

    def lfs_verify(self, oid: str, body: dict[str, Any]) -> tuple[int, Any]:
        if oid not in self.objects or len(self.objects[oid]) != body.get("size"):
            raise HttpError(404, f"Object {oid} was not uploaded.")
        return 200, {}

    def commit(self, repo_id: str, repo: Repo, revision: str, lines: list[dict[str, Any]]) -> tuple[int, Any]:
        if revision not in repo.branches:
            raise HttpError(404, f"Invalid rev id: {revision} (a commit goes to a branch)", "RevisionNotFound")
        parent = repo.branches[revision]
        tree = dict(repo.commits[parent])
        header = lines[0]["value"] if lines and lines[0].get("key") == "header" else {}
        if header.get("parentCommit") not in (None, parent):
            raise HttpError(412, "A commit has happened since. Please refresh and try again.")
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value", {})
            if key == "file":
                tree[value["path"]] = self._store(base64.b64decode(value["content"]), lfs=False)
            elif key == "lfsFile":
                data = self.objects.get(value["oid"])
                if data is None:
                    raise HttpError(400, f"LFS pointer of {value['path']} points to an object that was not uploaded.")
                tree[value["path"]] = StoredFile(value["oid"], len(data), git_blob_id(data), True)
            elif key == "deletedFile":
                if tree.pop(value["path"], None) is None:
                    raise HttpError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                tree = {p: f for p, f in tree.items() if not p.startswith(prefix)}
            else:
                raise HttpError(400, f"Unknown commit operation {key!r}.")
        commit = self._commit(repo, parent, tree, header.get("summary", ""))
        repo.branches[revision] = commit
        return 200, {"success": True, "commitOid": commit, "commitUrl": f"{self.endpoint}/{repo_id}/commit/{commit}",
                     "hookOutput": ""}

    def info(self, repo_id: str, repo: Repo, revision: str) -> tuple[int, Any]:
        commit, tree = self._resolve(repo, revision)
        return 200, {"id": repo_id, "modelId": repo_id, "sha": commit, "private": repo.private,
                     "siblings": [{"rfilename": p} for p in sorted(tree)]}

    def tree(self, repo: Repo, revision: str, folder: str, recursive: bool) -> tuple[int, Any]:
        commit, tree = self._resolve(repo, revision)
        prefix = folder.strip("/") + "/" if folder.strip("/") else ""
        listing: list[dict[str, Any]] = []
        below = sorted(p for p in tree if p.startswith(prefix))
        if not recursive:
            folders = sorted({prefix + p[len(prefix):].split("/")[0] for p in below if "/" in p[len(prefix):]})
            listing += [{"type": "directory", "path": f, "oid": hashlib.sha1(f"{commit}:{f}".encode()).hexdigest()}
                        for f in folders]
            below = [p for p in below if "/" not in p[len(prefix):]]
        for path in below:
            stored = tree[path]
            entry: dict[str, Any] = {"type": "file", "path": path, "size": stored.size, "oid": stored.blob_id}
            if stored.lfs:
                entry["lfs"] = {"oid": stored.sha256, "size": stored.size, "pointerSize": 134}
            listing.append(entry)
        return 200, listing

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def _route(self, method: str, parts: list[str], query: dict[str, list[str]], body: bytes, token: str | None,
               ) -> tuple[int, Any, dict[str, str]]:
        """(status, JSON document or raw bytes, extra headers) for one request."""
        def doc() -> Any:
            return json.loads(body or b"{}")

        with self._lock:
            if method == "POST" and parts == ["api", "repos", "create"]:
                return (*self.create_repo(doc(), token), {})
            if method == "POST" and parts == ["api", "validate-yaml"]:
                return (*self.validate_yaml(doc()), {})
            if method == "PUT" and len(parts) == 5 and parts[0] == "lfs-objects":
                return (*self.lfs_put(parts[3], parts[4], body), {})
            if method == "POST" and len(parts) == 5 and parts[0] == "lfs-objects":
                return (*self.lfs_verify(parts[3], doc()), {})
            if len(parts) == 6 and parts[2:] == ["info", "lfs", "objects", "batch"] and parts[1].endswith(".git"):
                org, name = parts[0], parts[1].removesuffix(".git")
                self._repo(org, name, token, write=True)
                return (*self.lfs_batch(org, name, doc()), {})
            if len(parts) >= 4 and parts[:2] == ["api", "models"]:
                org, name, rest = parts[2], parts[3], parts[4:]
                repo_id, write = f"{org}/{name}", method == "POST"
                repo = self._repo(org, name, token, write=write)
                if method == "POST" and len(rest) >= 2 and rest[0] == "branch":
                    return (*self.create_branch(repo, "/".join(rest[1:]), doc()), {})
                if method == "POST" and len(rest) == 2 and rest[0] == "preupload":
                    return (*self.preupload(repo, rest[1], doc()), {})
                if method == "POST" and len(rest) == 2 and rest[0] == "commit":
                    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                    return (*self.commit(repo_id, repo, rest[1], lines), {})
                if method == "GET" and not rest:
                    return (*self.info(repo_id, repo, "main"), {})
                if method == "GET" and len(rest) == 2 and rest[0] == "revision":
                    return (*self.info(repo_id, repo, rest[1]), {})
                if method == "GET" and len(rest) >= 2 and rest[0] == "tree":
                    recursive = query.get("recursive", ["False"])[0].lower() == "true"
                    return (*self.tree(repo, rest[1], "/".join(rest[2:]), recursive), {})
                if len(rest) >= 1 and rest[0].startswith("xet-"):
                    raise HttpError(501, "This test hub does not speak Xet: set HF_HUB_DISABLE_XET=1.")
            if method in ("GET", "HEAD") and len(parts) >= 5 and parts[2] == "resolve":
                repo = self._repo(parts[0], parts[1], token, write=False)
                commit, tree = self._resolve(repo, parts[3])
                stored = tree.get("/".join(parts[4:]))
                if stored is None:
                    raise HttpError(404, "Entry not found", "EntryNotFound")
                headers = {"X-Repo-Commit": commit, "ETag": f'"{stored.sha256 if stored.lfs else stored.blob_id}"',
                           "Content-Type": "application/octet-stream"}
                if stored.lfs:
                    headers.update({"X-Linked-Etag": headers["ETag"], "X-Linked-Size": str(stored.size)})
                return 200, self.objects[stored.sha256], headers
        raise HttpError(501, f"{method} /{'/'.join(parts)} is not part of this test hub.")

    def validate_yaml(self, body: dict[str, Any]) -> tuple[int, Any]:
        import yaml

        content = body.get("content", "")
        if content.startswith("---"):
            try:
                meta = yaml.safe_load(content.split("---", 2)[1])
            except yaml.YAMLError as exc:
                return 400, {"errors": [{"message": f"Invalid YAML: {exc}"}], "warnings": []}
            if meta is not None and not isinstance(meta, dict):
                return 400, {"errors": [{"message": "The metadata is not a mapping."}], "warnings": []}
            license_id = (meta or {}).get("license")
            if license_id is not None and not (isinstance(license_id, str) and LICENSE_ID.fullmatch(license_id)):
                return 400, {"errors": [{"message": f'"license" must be a license id such as mit or apache-2.0, '
                                                    f"not {license_id!r}"}], "warnings": []}
        return 200, {"errors": [], "warnings": []}

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(handler.path)
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        self.requests.append((handler.command, url.path))
        auth = handler.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        body = _read_body(handler)
        try:
            try:
                status, payload, headers = self._route(handler.command, parts, urllib.parse.parse_qs(url.query),
                                                       body, token or None)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a malformed request body
                raise HttpError(400, f"Malformed request: {type(exc).__name__}: {exc}") from exc
        except HttpError as exc:
            status, payload = exc.status, {"error": exc.message}
            headers = {"X-Error-Code": exc.code} if exc.code else {}
            headers["X-Error-Message"] = exc.message
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        handler.send_response(status)
        if not isinstance(payload, bytes):
            handler.send_header("Content-Type", "application/json")
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The request body, sent with a Content-Length or chunked (httpx streams file uploads)."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline().strip():  # trailers, then the empty line
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""
