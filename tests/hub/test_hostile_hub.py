"""A hub that lies, fails or stalls never costs a user a file, and always ends in a named error.

The real huggingface_hub client talks to a ScriptedHub (tests/hubserver.py) on 127.0.0.1 that
serves a real tiny checkpoint and says what each test scripts: a content id of ``../../../x``, a
commit that is not hex, HTTP 500; or to a SilentHub that accepts and never answers; or to a port
where nothing listens. None of these need olah, so they run everywhere.
"""

from __future__ import annotations

import os
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

import aezoo
from aezoo.errors import (
    ChecksumMismatchError,
    HubHTTPError,
    HubTimeoutError,
    HubUnreachableError,
    InvalidReferenceError,
    InvalidSettingError,
    UntrustedHubError,
    WeightsUnavailableError,
)
from aezoo.hub import check_revision, parse_hub_ref
from aezoo.settings import DEFAULT_HUB_TIMEOUT, hub_timeout
from tests.conftest import UNREACHABLE, hub_env
from tests.hub.conftest import assert_weights_equal, release_manifest
from tests.hubserver import ScriptedHub, SilentHub, git_blob_id

REPO_ID = "aezoo-test/hostile"
FILES = ("config.json", "model.safetensors", "README.md")
PRECIOUS = b"the user's own file, not aezoo's\n"


@pytest.fixture(autouse=True)
def same_commit_for_the_same_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """``served`` and ``by_name`` each commit the tiny checkpoint; with the dates fixed both get one commit
    id, as a hub and the pin of its release do (else a second passing between them makes two)."""
    for variable in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(variable, "2026-01-01T00:00:00+0000")


@pytest.fixture
def served(tiny_checkpoint, tmp_path) -> tuple[ScriptedHub, str]:
    """A ScriptedHub serving ``tiny_checkpoint`` at the commit a release of it pins; (hub, commit)."""
    manifest = release_manifest(tiny_checkpoint, REPO_ID, tmp_path / "release-scratch")
    with ScriptedHub({n: (tiny_checkpoint / n).read_bytes() for n in FILES}, commit=manifest.revision) as hub:
        yield hub, manifest.revision


@pytest.fixture
def online(served, monkeypatch, tmp_path) -> ScriptedHub:
    """huggingface_hub online, pointed at the scripted hub, with this test's own cache."""
    hub, _ = served
    hub_env(monkeypatch, tmp_path / "hf", endpoint=hub.endpoint, offline=False)
    return hub


@pytest.fixture
def victims(tmp_path) -> dict[Path, bytes]:
    """User files outside the HF cache ($HF_HOME/hub) where a lying id would point: ``$HF_HOME/x``
    is ``blobs/../../../x`` of any repo, ``tmp_path/victim`` one level further up."""
    files = {tmp_path / "hf" / "x": PRECIOUS, tmp_path / "victim": PRECIOUS, tmp_path / "hf" / "y": PRECIOUS}
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def outside_cache(tmp_path: Path) -> dict[str, bytes]:
    """Every file under tmp_path but outside the HF cache and aezoo's home, with its content."""
    skip = (tmp_path / "hf" / "hub", tmp_path / "aezoo-home", tmp_path / "release-scratch")
    return {
        str(p.relative_to(tmp_path)): p.read_bytes()
        for p in sorted(tmp_path.rglob("*"))
        if p.is_file() and not any(p.is_relative_to(s) for s in skip)
    }


def by_name(pin, tiny_checkpoint, tmp_path) -> str:
    return pin(release_manifest(tiny_checkpoint, REPO_ID, tmp_path / "release-scratch"))


# -- item 1: a hub that lies about a file's id or commit ---------------------------------------------------------------

LYING_IDS = ['"../../../x"', '"../../../../victim"', 'W/"../../../x"', '"not-a-digest"', '"' + "G" * 40 + '"', '""']


@pytest.mark.parametrize("header", ["ETag", "X-Linked-Etag"])
@pytest.mark.parametrize("lie", LYING_IDS)
@pytest.mark.parametrize("force", [False, True])
def test_a_hub_lying_about_a_file_id_touches_nothing_outside_the_cache(
    online, served, victims, tmp_path, header, lie, force
):
    _, commit = served
    online.headers = {header: lie}
    before = outside_cache(tmp_path)

    with pytest.raises(UntrustedHubError) as caught:
        aezoo.load(f"hf://{REPO_ID}@{commit}", force_download=force)

    assert "not a sha1 or sha256" in str(caught.value) and "HF_ENDPOINT" in str(caught.value)
    assert outside_cache(tmp_path) == before  # the victims are intact and nothing new appeared
    for path, data in victims.items():
        assert path.read_bytes() == data
    assert not list((tmp_path / "hf" / "hub").rglob("x"))  # not even a link to a victim


@pytest.mark.parametrize("force", [False, True])
def test_a_lying_id_for_a_pinned_model_is_refused_too(online, pin, tiny_checkpoint, victims, tmp_path, force):
    name = by_name(pin, tiny_checkpoint, tmp_path)
    online.headers = {"ETag": '"../../../x"'}
    before = outside_cache(tmp_path)

    with pytest.raises(UntrustedHubError, match="of aezoo-test/hostile@"):
        aezoo.download(name, force=force)

    assert outside_cache(tmp_path) == before


@pytest.mark.parametrize("commit", ["../../../y", "main", "C0FFEE" * 6 + "C0FF", "c0ffee", "../" + "a" * 37])
def test_a_hub_lying_about_the_commit_touches_nothing_outside_the_cache(online, victims, tmp_path, commit):
    online.commit = commit
    before = outside_cache(tmp_path)

    with pytest.raises(UntrustedHubError, match="not a 40-hex commit id"):
        aezoo.load(f"hf://{REPO_ID}")

    assert outside_cache(tmp_path) == before


def test_the_honest_scripted_hub_loads(online, served, tiny_checkpoint):
    """The control for the lies above: the same hub, telling the truth, serves a working model."""
    _, commit = served
    model = aezoo.load(f"hf://{REPO_ID}@{commit}")
    assert model.aezoo.path.name == commit
    assert_weights_equal(model, tiny_checkpoint / "model.safetensors")


def test_parallel_loads_each_get_their_own_checks(online, served, tiny_checkpoint):
    """The checks live in a context variable: eight threads loading at once all succeed."""
    from concurrent.futures import ThreadPoolExecutor

    _, commit = served
    with ThreadPoolExecutor(8) as pool:
        models = list(pool.map(lambda _: aezoo.load(f"hf://{REPO_ID}@{commit}", device="cpu"), range(8)))
    for model in models:
        assert_weights_equal(model, tiny_checkpoint / "model.safetensors")


def test_the_id_a_hub_gives_a_file_must_match_what_it_serves(online, served, tmp_path):
    """A well-formed but false id is a checksum failure, and only the cache's copy is removed."""
    _, commit = served
    online.headers = {"ETag": '"' + git_blob_id(b"something else") + '"'}

    with pytest.raises(ChecksumMismatchError, match="removed from the cache"):
        aezoo.load(f"hf://{REPO_ID}@{commit}")

    assert not [p for p in (tmp_path / "hf" / "hub").rglob("blobs/*") if p.is_file()]


def _plant_link(tmp_path: Path, commit: str, target: Path, name: str = "model.safetensors") -> Path:
    snapshot = tmp_path / "hf" / "hub" / f"models--{REPO_ID.replace('/', '--')}" / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    (snapshot / name).symlink_to(target)
    return snapshot / name


@pytest.mark.parametrize("offline", [False, True])
def test_a_cache_entry_leading_outside_the_cache_is_neither_read_nor_removed(
    served, pin, tiny_checkpoint, victims, monkeypatch, tmp_path, offline
):
    """The second line of defence: whatever huggingface_hub returns is checked on its real path.
    Here the cache itself holds a link out (planted, or left by another tool), which
    huggingface_hub returns without asking the hub; the victim does not match any pinned sha256."""
    hub, commit = served
    name = by_name(pin, tiny_checkpoint, tmp_path)
    _plant_link(tmp_path, commit, tmp_path / "victim")
    hub_env(monkeypatch, tmp_path / "hf", endpoint=hub.endpoint, offline=offline)
    if offline:  # everything else is cached, so only the planted link can stop the load
        for file in ("config.json", "README.md"):
            data = (tiny_checkpoint / file).read_bytes()
            blob = tmp_path / "hf" / "hub" / f"models--{REPO_ID.replace('/', '--')}" / "blobs" / git_blob_id(data)
            blob.parent.mkdir(parents=True, exist_ok=True)
            blob.write_bytes(data)
            _plant_link(tmp_path, commit, blob, file)

    for load in (lambda: aezoo.download(name), lambda: aezoo.load(f"hf://{REPO_ID}@{commit}")):
        with pytest.raises(UntrustedHubError, match="outside the Hugging Face cache") as caught:
            load()
        assert "did not read, verify or remove it" in str(caught.value)
        assert (tmp_path / "victim").read_bytes() == PRECIOUS


def test_a_cache_dir_bounds_what_aezoo_reads_and_removes_not_the_default_cache(
    served, pin, tiny_checkpoint, monkeypatch, tmp_path
):
    """Issue 7: with cache_dir, the containment checks use that cache. A link out of it into the default
    cache ($HF_HOME/hub) is outside the cache in use: neither read nor removed."""
    hub, commit = served
    name = by_name(pin, tiny_checkpoint, tmp_path)
    victim = tmp_path / "hf" / "hub" / "victim"  # inside the default cache, outside the one asked for
    victim.parent.mkdir(parents=True)
    victim.write_bytes(PRECIOUS)
    custom = tmp_path / "custom-cache"
    snapshot = custom / f"models--{REPO_ID.replace('/', '--')}" / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").symlink_to(victim)
    hub_env(monkeypatch, tmp_path / "hf", endpoint=hub.endpoint, offline=False)

    with pytest.raises(UntrustedHubError, match="outside the Hugging Face cache") as caught:
        aezoo.download(name, cache_dir=custom)
    assert str(custom.resolve()) in str(caught.value)
    assert victim.read_bytes() == PRECIOUS


class HeaderRecordingHub(ScriptedHub):
    """The scripted hub, also keeping the Authorization header of every request (None when absent)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.authorizations: list[str | None] = []

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:  # LoopbackHTTPServer's subclass hook
        self.authorizations.append(handler.headers.get("Authorization"))
        super()._handle(handler)


@pytest.mark.parametrize("how", ["api", "cli"])
def test_the_token_given_is_sent_with_every_request(tiny_checkpoint, pin, monkeypatch, tmp_path, how):
    from click.testing import CliRunner

    from aezoo.cli import main

    name = by_name(pin, tiny_checkpoint, tmp_path)
    files = {n: (tiny_checkpoint / n).read_bytes() for n in FILES}
    commit = aezoo.info(name).weights.revision
    with HeaderRecordingHub(files, commit=commit) as hub:
        hub_env(monkeypatch, tmp_path / "hf", endpoint=hub.endpoint, offline=False)
        if how == "api":
            aezoo.load(f"hf://{REPO_ID}@{commit}", token="hf_aezoo_test_token")
        else:
            result = CliRunner().invoke(main, ["download", name, "--token", "hf_aezoo_test_token"])
            assert result.exit_code == 0, result.output
        sent = list(hub.authorizations)
        aezoo.load(f"hf://{REPO_ID}@{commit}", token=False, force_download=True)
    assert len(sent) >= 3 and set(sent) == {"Bearer hf_aezoo_test_token"}
    assert set(hub.authorizations[len(sent):]) == {None}  # token=False: none at all


# -- item 2: references that name paths, refused before any request ---------------------------------------------------

REFUSED = [
    "hf://org/name@../../x", "hf://aezoo/..", "hf://aezoo/.", "hf://../name", "hf://./name", "hf://org/.name",
    "hf://org/name.", "hf://org/-name", "hf://org/name-", "hf://org/a--b", "hf://org/a..b", "hf://org/name.git",
    "hf://-org/name", "hf://org/" + "n" * 97, "hf://org/na%2F..", "hf://org/name@/main", "hf://org/name@main/",
    "hf://org/name@a//b", "hf://org/name@..", "hf://org/name@main/../x", "hf://org/name@.hidden", "hf://org/name@-rf",
    "hf://org/name@v1.lock", "hf://org/name@v1.", "hf://org/name@refs/heads/main", "hf://org/name@refs/pr/1/../x",
    "hf://org/name@refs/pr/x", "hf://org/name@a\\b", "hf://org/name@a b", "hf://org/name@x\n", "hf://org/name@a:b",
    "hf://org/name@" + "a" * 256, "hf://", "hf://fc-dae-mnist", "hf://org/name/extra", "hf://org/name@",
    "hf://org/na me", "hf://org/name@a@b", "hf://orgé/name",
]


@pytest.mark.parametrize("ref", REFUSED)
def test_references_that_could_name_a_path_are_refused_before_any_request(online, tiny_registry, ref, tmp_path):
    with pytest.raises(InvalidReferenceError, match="hf://org/name@revision"):
        aezoo.load(ref)
    assert online.requests == []
    assert not (tmp_path / "hf" / "hub").exists()


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("hf://org/name", ("org/name", "main")),
        ("hf://Org_1/Name.v2-x@v1.0", ("Org_1/Name.v2-x", "v1.0")),
        ("hf://org/name@release/2024-01", ("org/name", "release/2024-01")),
        ("hf://org/name@refs/pr/12", ("org/name", "refs/pr/12")),
        ("hf://org/name@" + "0123456789abcdef" * 2 + "01234567", ("org/name", "0123456789abcdef" * 2 + "01234567")),
        ("hf://org/" + "n" * 96, ("org/" + "n" * 96, "main")),
    ],
)
def test_references_the_hub_accepts_parse(ref, expected):
    assert parse_hub_ref(ref) == expected
    assert check_revision(expected[1]) == expected[1]


@pytest.mark.parametrize("repo_id", ["aezoo/..", "aezoo/.", "../x", "org/a--b"])
def test_a_pinned_manifest_with_an_unsafe_repo_id_is_refused_before_mirrors_and_hub(
    online, pin, tiny_checkpoint, monkeypatch, tmp_path, repo_id
):
    from dataclasses import replace

    manifest = release_manifest(tiny_checkpoint, REPO_ID, tmp_path / "release-scratch")
    name = pin(replace(manifest, repo_id=repo_id))
    (tmp_path / "mirror").mkdir()
    monkeypatch.setenv("AEZOO_MIRRORS", str(tmp_path / "mirror"))  # mirror/.. is a folder: it must not be used

    with pytest.raises(InvalidReferenceError, match="is not a hub repo id"):
        aezoo.download(name)
    assert online.requests == []


# -- item 2: a refused connection, HTTP errors -------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["ref", "name"])
def test_a_refused_connection_is_named(pin, tiny_checkpoint, monkeypatch, tmp_path, how):
    monkeypatch.setenv("AEZOO_HUB_TIMEOUT", "1")  # bounds huggingface_hub's retries, so this is quick
    name = by_name(pin, tiny_checkpoint, tmp_path)
    ref = f"hf://{REPO_ID}" if how == "ref" else name

    started = time.monotonic()
    with pytest.raises(HubUnreachableError) as caught:
        aezoo.load(ref)
    elapsed = time.monotonic() - started

    assert type(caught.value) is HubUnreachableError  # refused, not a timeout
    assert UNREACHABLE in str(caught.value) and "HF_ENDPOINT" in str(caught.value)
    assert ("AEZOO_MIRRORS" in str(caught.value)) == (how == "name")  # hf:// never consults mirrors
    assert isinstance(caught.value, WeightsUnavailableError)
    assert elapsed < 10, f"a refused connection took {elapsed:.1f} s with AEZOO_HUB_TIMEOUT=1"


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("how", ["ref", "name"])
def test_a_failing_hub_is_an_http_error_within_the_timeout(
    online, pin, tiny_checkpoint, monkeypatch, tmp_path, status, how
):
    monkeypatch.setenv("AEZOO_HUB_TIMEOUT", "2")
    online.status = status
    ref = f"hf://{REPO_ID}" if how == "ref" else by_name(pin, tiny_checkpoint, tmp_path)

    started = time.monotonic()
    with pytest.raises(HubHTTPError, match=f"HTTP {status}"):
        aezoo.load(ref)
    assert time.monotonic() - started < 12


@pytest.mark.parametrize("how", ["ref", "name"])
def test_a_forbidden_answer_is_an_http_error(online, pin, tiny_checkpoint, tmp_path, how):
    online.status = 403
    ref = f"hf://{REPO_ID}" if how == "ref" else by_name(pin, tiny_checkpoint, tmp_path)
    with pytest.raises(HubHTTPError, match="HTTP 403") as caught:
        aezoo.load(ref)
    assert "HF_TOKEN" in str(caught.value)


# -- item 12: a hub that accepts and never answers ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["ref", "name"])
@pytest.mark.parametrize("seconds", ["1", "1.5"])
def test_a_silent_hub_fails_within_the_configured_time(pin, tiny_checkpoint, monkeypatch, tmp_path, how, seconds):
    monkeypatch.setenv("AEZOO_HUB_TIMEOUT", seconds)
    name = by_name(pin, tiny_checkpoint, tmp_path)
    with SilentHub() as silent:
        hub_env(monkeypatch, tmp_path / "hf", endpoint=silent.endpoint, offline=False)
        started = time.monotonic()
        with pytest.raises(HubTimeoutError) as caught:
            aezoo.load(f"hf://{REPO_ID}" if how == "ref" else name)
        elapsed = time.monotonic() - started
        assert silent.accepted >= 1  # it did connect: the hub accepted and stayed silent

    assert f"{float(seconds):g} s" in str(caught.value) or "did not answer in time" in str(caught.value)
    assert "AEZOO_HUB_TIMEOUT" in str(caught.value)
    assert float(seconds) * 0.9 <= elapsed < float(seconds) + 3, f"took {elapsed:.2f} s"


def test_the_default_hub_timeout_is_at_most_a_minute(monkeypatch):
    monkeypatch.delenv("AEZOO_HUB_TIMEOUT", raising=False)
    assert hub_timeout() == DEFAULT_HUB_TIMEOUT <= 60
    monkeypatch.setenv("AEZOO_HUB_TIMEOUT", "2.5")
    assert hub_timeout() == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_hub_timeout_is_named(monkeypatch, value):
    monkeypatch.setenv("AEZOO_HUB_TIMEOUT", value)
    with pytest.raises(InvalidSettingError, match="AEZOO_HUB_TIMEOUT"):
        hub_timeout()


def test_the_checks_stay_out_of_other_huggingface_hub_calls(online, served, tmp_path):
    """aezoo's hooks act only inside aezoo's own calls: the user's own hf_hub_download of the same
    lying hub sees huggingface_hub's behaviour, not aezoo's errors."""
    from huggingface_hub import hf_hub_download

    _, commit = served
    aezoo.load(f"hf://{REPO_ID}@{commit}")  # installs the hooks
    online.headers = {"ETag": '"not-a-digest"'}  # huggingface_hub accepts it (a blob of that name in the cache)
    path = hf_hub_download(REPO_ID, "README.md", revision=commit, cache_dir=tmp_path / "user-cache")
    assert os.path.basename(os.path.realpath(path)) == "not-a-digest"
    with pytest.raises(UntrustedHubError):  # ... while aezoo, asking the same hub, refuses it
        aezoo.load(f"hf://{REPO_ID}@{commit}", force_download=True)


# -- the command line: one line, exit 1 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "ref", "says"),
    [
        ({"headers": {"ETag": '"../../../x"'}}, "hf://aezoo-test/hostile@{commit}", "not a sha1 or sha256 hex digest"),
        ({"status": 503}, "hf://aezoo-test/hostile", "HTTP 503"),
        ({}, "hf://aezoo/..", "is not a hub repo id"),
        ({}, "hf://aezoo-test/hostile@../../x", "is not a revision"),
    ],
)
def test_the_cli_reports_a_hostile_or_failing_hub_in_one_line(online, served, victims, monkeypatch, script, ref, says):
    from click.testing import CliRunner

    from aezoo.cli import main

    _, commit = served
    for key, value in script.items():
        setattr(online, key, value)
    monkeypatch.setenv("AEZOO_HUB_TIMEOUT", "2")

    result = CliRunner().invoke(main, ["evaluate", ref.format(commit=commit)], prog_name="aezoo")

    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], result.output
    for path, data in victims.items():
        assert path.read_bytes() == data


# -- a stalled hub on a terminal: one line says aezoo is waiting, and for how long at most -----------------------


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other end of the pty is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_stalled_hub_is_announced_on_a_terminal_while_aezoo_waits(monkeypatch, tmp_path):
    """The real CLI in a subprocess whose stderr is a pty (a terminal): after WAIT_NOTICE_SECONDS without an
    answer it prints one 'waiting for the hub' line naming the endpoint and the time limit, then the error."""
    import pty
    import subprocess

    from aezoo.hub import WAIT_NOTICE_SECONDS
    from tests.conftest import PYTHON, python_env

    with SilentHub() as silent:
        endpoint = silent.endpoint
        hub_env(monkeypatch, tmp_path / "hf", endpoint=endpoint, offline=False)
        env = python_env(AEZOO_HUB_TIMEOUT="4", AEZOO_HOME=str(tmp_path / "home"))
        primary, secondary = pty.openpty()
        started = time.monotonic()
        process = subprocess.Popen([PYTHON, "-c", "from aezoo.cli import main; main()", "evaluate",
                                    f"hf://{REPO_ID}"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=secondary, env=env, cwd=tmp_path)
        os.close(secondary)
        try:
            terminal = _read_all(primary).decode(errors="replace")
            process.wait(timeout=60)
        finally:
            os.close(primary)
        elapsed = time.monotonic() - started
    lines = [line for line in terminal.splitlines() if line.strip()]
    assert process.returncode == 1, terminal
    # (huggingface_hub's own retry warnings may come between the two)
    assert lines[0].startswith("aezoo: waiting for the hub at " + endpoint)
    assert "giving up after 4 s (AEZOO_HUB_TIMEOUT)" in lines[0]
    assert sum("waiting for the hub" in line for line in lines) == 1, terminal
    assert lines[-1].startswith("Error: ") and "AEZOO_HUB_TIMEOUT" in lines[-1]
    assert WAIT_NOTICE_SECONDS < elapsed < 4 + 12, f"took {elapsed:.1f} s"


def test_the_wait_notice_is_only_for_terminals(tmp_path):
    import io
    import pty

    from aezoo.hub import wants_wait_notice

    primary, secondary = pty.openpty()
    try:
        with os.fdopen(os.dup(secondary), "w") as terminal:
            assert wants_wait_notice(terminal)
    finally:
        os.close(primary)
        os.close(secondary)
    assert not wants_wait_notice(io.StringIO())
    with open(tmp_path / "log", "w") as log:
        assert not wants_wait_notice(log)
    closed = io.StringIO()
    closed.close()
    assert not wants_wait_notice(closed)
    assert not wants_wait_notice(object())
