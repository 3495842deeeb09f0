"""A Hugging Face Hub-compatible server on 127.0.0.1 for tests: olah, serving local git repos.

olah (a self-hosted Hub mirror) runs from its own virtual environment so its pins never touch
aezoo's: ``make test`` builds ``.venv-olah`` and names its ``olah-cli`` in ``AEZOO_OLAH``. With
``offline = true`` olah never contacts huggingface.co; it answers from ``mirrors-path``, which
holds ``models/<org>/<name>/`` as ordinary (non-bare) git repositories, read through git itself,
so any commit of a repo can be asked for, and new commits are seen at once.

Files are committed as plain git blobs (no LFS), so the hub's content id of each file (its ETag,
and the blob name in the huggingface_hub cache) is the git blob id, a sha1.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

from aezoo.publish import published_files

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OLAH = ROOT / ".venv-olah" / "bin" / "olah-cli"


class OlahNotFound(RuntimeError):
    """olah is not installed where the tests look for it."""


def find_olah() -> Path | None:
    """``$AEZOO_OLAH``, else ``.venv-olah/bin/olah-cli`` of this checkout, else None.

    A set but wrong ``AEZOO_OLAH`` raises: it is a mistake to report, not a reason to skip.
    """
    value = os.environ.get("AEZOO_OLAH", "").strip()
    if value:
        path = Path(value)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise OlahNotFound(f"AEZOO_OLAH={value} is not an executable olah-cli.")
        return path
    return DEFAULT_OLAH if DEFAULT_OLAH.is_file() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "aezoo tests",
        "GIT_AUTHOR_EMAIL": "tests@aezoo.invalid",
        "GIT_COMMITTER_NAME": "aezoo tests",
        "GIT_COMMITTER_EMAIL": "tests@aezoo.invalid",
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def git_commit_folder(folder: Path, repo: Path) -> str:
    """Make ``repo`` a git repository holding exactly ``folder``'s published files (plain blobs, no
    LFS) in one commit on ``main``; returns the commit id."""
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    copy_published(folder, repo)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", f"Publish {Path(folder).name}")
    return _git(repo, "rev-parse", "HEAD")


class HubServer:
    """One olah process on 127.0.0.1 and the git repositories it serves.

    Use as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(self, root: Path, executable: Path) -> None:
        self.root = Path(root)
        self.executable = Path(executable)
        self.mirrors = self.root / "mirrors"
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._log = self.root / "olah-output.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- repositories ---------------------------------------------------------------------------
    def repo_path(self, repo_id: str) -> Path:
        """Where the git repository of model repo ``org/name`` lives."""
        org, name = repo_id.split("/")
        return self.mirrors / "models" / org / name

    def publish(self, folder: Path, repo_id: str) -> str:
        """Serve checkpoint ``folder``'s published files as ``repo_id`` (replacing what was there),
        in one plain git commit on ``main``; returns its id."""
        return git_commit_folder(folder, self.repo_path(repo_id))

    def push(self, repo_id: str, files: dict[str, bytes], message: str = "Update") -> str:
        """Add a commit on ``main`` of ``repo_id`` that writes ``files``; returns its id."""
        repo = self.repo_path(repo_id)
        for name, data in files.items():
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        _git(repo, "add", "-A")
        _git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", message)
        return _git(repo, "rev-parse", "HEAD")

    # -- process --------------------------------------------------------------------------------
    def _write_config(self) -> Path:
        config = self.root / "olah.toml"
        config.write_text(
            "[basic]\n"
            'host = "127.0.0.1"\n'
            f"port = {self.port}\n"
            f'repos-path = "{self.root / "cache"}"\n'
            'mirror-scheme = "http"\n'
            f'mirror-netloc = "127.0.0.1:{self.port}"\n'
            f'mirror-lfs-netloc = "127.0.0.1:{self.port}"\n'
            f'mirrors-path = ["{self.mirrors}"]\n'
            "\n"
            "[accessibility]\n"
            "offline = true\n",
            encoding="utf-8",
        )
        return config

    def start(self, timeout: float = 30.0, attempts: int = 3) -> HubServer:
        """Start olah on a free port and wait until it answers HTTP; retry on another port if
        the chosen one was taken meanwhile."""
        self.mirrors.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            self.port = free_port()
            config = self._write_config()
            with self._log.open("ab") as log:
                self.process = subprocess.Popen(
                    [str(self.executable), "-c", str(config), "--log-path", str(self.root / "logs")],
                    cwd=self.root,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_ready(timeout):
                return self
            self.stop()
            if "address already in use" not in self.log_tail().lower():
                break
        raise RuntimeError(
            f"olah did not start on 127.0.0.1 within {timeout:.0f} s. Its output ends:\n{self.log_tail()}"
        )

    def _wait_ready(self, timeout: float) -> bool:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            try:
                opener.open(f"{self.endpoint}/api/models/ready/probe/revision/main", timeout=2).close()
                return True
            except urllib.error.HTTPError:
                return True  # any HTTP answer means the server is up
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self._log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no output)"

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def copy_published(folder: Path, target: Path) -> Path:
    """Copy a checkpoint folder's published files to ``target`` (a local mirror's repo folder)."""
    for name in published_files(folder):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / name, target / name)
    return target


# -- hubs that misbehave ----------------------------------------------------------------------------------------------


def git_blob_id(data: bytes) -> str:
    """The id the hub gives a file committed as a plain git blob (its ETag)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class LoopbackHTTPServer:
    """An HTTP server on a free port of 127.0.0.1, in a thread of the test process; a subclass
    answers every request in ``_handle``. Use as a context manager, or ``start()`` and ``stop()``."""

    protocol = "HTTP/1.0"
    methods = ("GET", "HEAD")

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        owner = self

        def answer(handler: BaseHTTPRequestHandler) -> None:
            owner._handle(handler)

        handler_class = type("Handler", (BaseHTTPRequestHandler,), {
            "protocol_version": self.protocol,
            "log_message": lambda handler, *args: None,
            **{f"do_{method}": answer for method in self.methods},
        })
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ScriptedHub(LoopbackHTTPServer):
    """A small Hub-compatible server on 127.0.0.1, in the test process, that serves in-memory files
    the way the hub serves plain git blobs, and answers what the test scripts, lies included.

    - ``files``: path -> bytes, served for every repo id and revision at commit ``commit``.
    - ``headers``: header -> value (None drops it) put on every ``/resolve/`` answer, after the true
      ones: ``{"ETag": '"../../../x"'}`` is a hub lying about a file's id.
    - ``status``: answer every request with this HTTP status instead.
    - ``requests``: (method, path) of every request received, to prove none was made.

    It speaks just enough of the hub's API for huggingface_hub's hf_hub_download and list_repo_files:
    ``HEAD|GET /{org}/{name}/resolve/{revision}/{file}`` and ``GET /api/models/{org}/{name}/tree/{revision}``.
    """

    def __init__(self, files: dict[str, bytes], commit: str = "c0ffee" * 6 + "c0ff") -> None:
        self.files = dict(files)
        self.commit = commit
        self.headers: dict[str, str | None] = {}
        self.status: int | None = None
        self.requests: list[tuple[str, str]] = []
        super().__init__()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        self._answer(handler, with_body=handler.command != "HEAD")

    def _answer(self, handler: BaseHTTPRequestHandler, with_body: bool) -> None:
        self.requests.append((handler.command, handler.path))
        path = urllib.parse.unquote(handler.path.split("?", 1)[0])
        parts = path.strip("/").split("/")
        body, headers, status = b"", {"X-Repo-Commit": self.commit}, 404
        if self.status is not None:
            status, headers = self.status, {}
        elif len(parts) >= 5 and parts[2] == "resolve":
            name = "/".join(parts[4:])
            if name in self.files:
                body, status = self.files[name], 200
                headers.update({"ETag": f'"{git_blob_id(body)}"', "Content-Type": "application/octet-stream"})
                for key, value in self.headers.items():
                    headers.pop(key, None)
                    if value is not None:
                        headers[key] = value
            else:
                headers["X-Error-Code"] = "EntryNotFound"
        elif len(parts) >= 5 and parts[:2] == ["api", "models"] and parts[4] == "tree":
            listing = [
                {"type": "file", "path": n, "size": len(d), "oid": git_blob_id(d)} for n, d in self.files.items()
            ]
            body, status = json.dumps(listing).encode(), 200
            headers["Content-Type"] = "application/json"
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if with_body:
            handler.wfile.write(body)


class SilentHub:
    """A socket on 127.0.0.1 that accepts every connection and never answers: a stalled hub."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self._socket.settimeout(0.1)  # so the accepting thread sees the stop
        self._held: list[socket.socket] = []
        self._stopped = threading.Event()
        self.accepted = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._held.append(connection)  # kept open, never read from, never written to
            self.accepted += 1

    def __enter__(self) -> SilentHub:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._socket.close()
        for connection in self._held:
            connection.close()
