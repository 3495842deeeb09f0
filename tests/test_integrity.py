"""Full sha256 verification of weights files and the records that spare a warm load from hashing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from aezoo.errors import ChecksumMismatchError
from aezoo.integrity import git_blob_sha1, is_verified, sha256_of, verify


def records() -> list[dict]:
    folder = Path(os.environ["AEZOO_HOME"]) / "verified"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def set_mtime(path: Path, mtime_ns: int) -> None:
    os.utime(path, ns=(path.stat().st_atime_ns, mtime_ns))


@pytest.fixture
def weights(tmp_path: Path) -> tuple[Path, str]:
    """A 2 MiB + 7 byte file (several read chunks) and its sha256."""
    data = os.urandom((2 << 20) + 7)
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_sha256_of_hashes_the_whole_file(weights):
    path, digest = weights
    assert sha256_of(path) == digest


@pytest.mark.parametrize("size", [0, 1, 1 << 20, (1 << 20) + 7])
def test_git_blob_sha1_is_the_id_git_gives_the_content(tmp_path, size):
    path = tmp_path / "file"
    path.write_bytes(os.urandom(size))
    expected = subprocess.run(
        ["git", "hash-object", str(path)], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert git_blob_sha1(path) == expected


def test_verify_accepts_the_expected_digest_and_remembers_it(weights):
    path, digest = weights
    assert not is_verified(path, digest)

    verify(path, digest, size=path.stat().st_size)

    assert is_verified(path, digest)
    st = path.stat()
    assert records() == [
        {
            "path": os.path.realpath(path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "ino": st.st_ino,
            "digest": digest,
        }
    ]


def test_verify_refuses_another_digest_and_remembers_nothing(weights):
    path, digest = weights
    other = hashlib.sha256(b"other").hexdigest()

    with pytest.raises(ChecksumMismatchError) as caught:
        verify(path, other)

    assert f"sha256 {digest}, but {other} was expected" in str(caught.value)
    assert "--force" in str(caught.value)
    assert records() == []


def test_verify_refuses_a_wrong_size(weights):
    path, digest = weights
    with pytest.raises(ChecksumMismatchError, match=f"{path.stat().st_size} bytes, but the pinned manifest says 5"):
        verify(path, digest, size=5)
    assert records() == []


def test_a_record_vouches_only_for_the_digest_it_was_made_for(weights):
    path, digest = weights
    verify(path, digest)
    other = hashlib.sha256(b"other").hexdigest()

    assert not is_verified(path, other)
    with pytest.raises(ChecksumMismatchError):
        verify(path, other)


def test_a_matching_record_is_trusted_without_hashing_unless_forced(weights):
    path, digest = weights
    verify(path, digest)
    st = path.stat()
    # Rewrite the content in place keeping size, inode and mtime: the record still matches.
    with path.open("r+b") as f:
        f.write(b"\0" * 16)
    set_mtime(path, st.st_mtime_ns)
    assert sha256_of(path) != digest

    verify(path, digest)  # trusted: no hash was computed, or it would have failed

    with pytest.raises(ChecksumMismatchError):
        verify(path, digest, force=True)


def test_a_file_with_a_new_mtime_is_hashed_again(weights):
    path, digest = weights
    verify(path, digest)
    st = path.stat()
    with path.open("r+b") as f:
        f.write(b"\0" * 16)
    set_mtime(path, st.st_mtime_ns + 1_000_000_000)

    assert not is_verified(path, digest)
    with pytest.raises(ChecksumMismatchError):
        verify(path, digest)


def test_a_touched_but_unchanged_file_is_hashed_again_and_remembered_anew(weights):
    path, digest = weights
    verify(path, digest)
    set_mtime(path, path.stat().st_mtime_ns + 1_000_000_000)
    assert not is_verified(path, digest)

    verify(path, digest)

    assert is_verified(path, digest)
    assert [r["mtime_ns"] for r in records()] == [path.stat().st_mtime_ns]


def test_a_file_of_another_size_is_caught(weights):
    path, digest = weights
    verify(path, digest, size=path.stat().st_size)
    st = path.stat()
    with path.open("ab") as f:
        f.write(b"x")
    set_mtime(path, st.st_mtime_ns)

    assert not is_verified(path, digest)
    with pytest.raises(ChecksumMismatchError, match="bytes"):
        verify(path, digest, size=st.st_size)


def test_a_replaced_file_is_a_new_inode_and_is_hashed_again(weights, tmp_path):
    path, digest = weights
    verify(path, digest)
    copy = tmp_path / "copy"
    shutil.copy2(path, copy)  # same content, same mtime
    os.replace(copy, path)

    assert not is_verified(path, digest)
    verify(path, digest)
    assert is_verified(path, digest)


def test_records_are_kept_by_real_path_so_links_share_them(weights, tmp_path):
    blob, digest = weights
    link = tmp_path / "snapshot-link"
    link.symlink_to(blob)

    verify(link, digest)

    assert is_verified(blob, digest)
    assert records()[0]["path"] == os.path.realpath(blob)


def test_an_unreadable_record_is_ignored_and_rewritten(weights):
    path, digest = weights
    verify(path, digest)
    record = next((Path(os.environ["AEZOO_HOME"]) / "verified").glob("*.json"))
    record.write_text("{not json")

    assert not is_verified(path, digest)
    verify(path, digest)
    assert is_verified(path, digest)


def test_records_live_under_aezoo_home(weights, tmp_path, monkeypatch):
    path, digest = weights
    verify(path, digest)
    monkeypatch.setenv("AEZOO_HOME", str(tmp_path / "another-home"))

    assert not is_verified(path, digest)


def test_verify_by_git_blob_id(weights):
    path, _ = weights
    blob_id = git_blob_sha1(path)
    verify(path, blob_id, algorithm="sha1")
    assert is_verified(path, blob_id)

    with pytest.raises(ChecksumMismatchError, match="has sha1"):
        verify(path, "0" * 40, algorithm="sha1")


# -- is_inside: what the hub code checks before it reads, verifies or removes a cached file ---------------------


def test_is_inside_judges_the_real_path(tmp_path):
    from aezoo.integrity import is_inside

    cache, outside = tmp_path / "cache", tmp_path / "outside"
    (cache / "blobs").mkdir(parents=True)
    outside.write_text("the user's")
    (cache / "blobs" / "abc").write_text("cached")
    (cache / "link-in").symlink_to(cache / "blobs" / "abc")
    (cache / "link-out").symlink_to(outside)
    (cache / "dir-out").symlink_to(tmp_path)

    assert is_inside(cache / "blobs" / "abc", cache)
    assert is_inside(cache / "link-in", cache)
    assert is_inside(cache, cache)
    assert not is_inside(cache / "link-out", cache)  # a link out of the cache is judged by its target
    assert not is_inside(cache / "dir-out" / "outside", cache)
    assert not is_inside(cache / "blobs" / ".." / ".." / "outside", cache)  # '..' is resolved
    assert not is_inside(tmp_path / "cache-sibling", cache)  # a shared prefix is not containment
    # A cache reached through a link is still that cache.
    (tmp_path / "cache-link").symlink_to(cache)
    assert is_inside(tmp_path / "cache-link" / "blobs" / "abc", cache)
    assert is_inside(cache / "blobs" / "abc", tmp_path / "cache-link")


# -- read-only homes and caches (issue 10, item 9) ---------------------------------------------------
import contextlib  # noqa: E402 - kept with the tests that need it
import warnings  # noqa: E402

import aezoo  # noqa: E402
from aezoo.errors import CacheNotWritableError  # noqa: E402
from aezoo.integrity import VerificationCacheWarning  # noqa: E402
from tests.hub.conftest import (  # noqa: E402,F401 - fixtures of the loopback hub, used here by name
    hf_cache,
    hub,
    hub_server,
    make_checkpoint,
    pin,
    release_manifest,
    repo_id,
)


@contextlib.contextmanager
def read_only(folder: Path):
    """Make ``folder`` unwritable for real: chmod for a normal user, ``chattr +i`` for root (which
    ignores permissions); skips the test where neither works on this file system."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot make a folder read-only as root here (no chattr +i)")
    try:
        probe = folder / ".probe"
        with contextlib.suppress(OSError):
            probe.write_text("x")
            probe.unlink()
            pytest.skip("chattr +i does not stop writes on this file system")
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.fixture
def fresh_warnings(monkeypatch):
    import aezoo.integrity

    monkeypatch.setattr(aezoo.integrity, "_warned_home", set())


def test_an_unwritable_aezoo_home_only_costs_a_rehash(weights, tmp_path, monkeypatch, fresh_warnings):
    """AEZOO_HOME under a regular file cannot be created, even by root: verification still passes,
    with one warning per process, and a wrong file is still a checksum error (never an OSError)."""
    path, digest = weights
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AEZOO_HOME", str(blocker / "home"))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        verify(path, digest)
        verify(path, digest)  # hashed again (no record), and no second warning
    (warning,) = [w for w in record if issubclass(w.category, VerificationCacheWarning)]
    assert "cannot remember verified files" in str(warning.message) and "AEZOO_HOME" in str(warning.message)
    with pytest.raises(ChecksumMismatchError):
        verify(path, "0" * 64)


def test_a_read_only_aezoo_home_still_loads_weights_from_a_mirror(tiny_checkpoint, pin, tmp_path, monkeypatch,
                                                                  fresh_warnings):
    home = tmp_path / "read-only-home"
    home.mkdir()
    monkeypatch.setenv("AEZOO_HOME", str(home))
    manifest = release_manifest(tiny_checkpoint, "aezoo-test/read-only-home", tmp_path / "release-scratch")
    mirror = tmp_path / "mirror"
    shutil.copytree(tiny_checkpoint, mirror / manifest.repo_name)
    monkeypatch.setenv("AEZOO_MIRRORS", str(mirror))
    name = pin(manifest)
    with read_only(home), warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for _ in range(2):
            model = aezoo.load(name, device="cpu")
            assert model.aezoo.path == mirror / manifest.repo_name
    assert len([w for w in record if issubclass(w.category, VerificationCacheWarning)]) == 1
    assert not (home / "verified").exists()


def test_verified_weights_load_with_a_read_only_home(tiny_checkpoint, pin, tmp_path, monkeypatch):
    """Records written while the home was writable still spare the hash once it is read-only."""
    home = Path(os.environ["AEZOO_HOME"])
    manifest = release_manifest(tiny_checkpoint, "aezoo-test/verified-then-read-only", tmp_path / "scratch")
    mirror = tmp_path / "mirror"
    shutil.copytree(tiny_checkpoint, mirror / manifest.repo_name)
    monkeypatch.setenv("AEZOO_MIRRORS", str(mirror))
    name = pin(manifest)
    aezoo.load(name, device="cpu")
    assert records()
    with read_only(home / "verified"), warnings.catch_warnings():
        warnings.simplefilter("error", VerificationCacheWarning)  # nothing to write: no warning
        aezoo.load(name, device="cpu")


def test_a_checksum_error_in_a_read_only_cache_is_still_a_checksum_error(
    hub, repo_id, pin, make_checkpoint, hf_cache, tmp_path
):
    from dataclasses import replace

    pinned, other = make_checkpoint(0), make_checkpoint(1)
    manifest = release_manifest(pinned, repo_id, tmp_path / "release-scratch")
    served = hub.publish(other, repo_id)
    name = pin(replace(manifest, revision=served))
    with pytest.raises(ChecksumMismatchError):
        aezoo.download(name)  # fills the cache with the config; the bad weights are removed
    repo = next(hf_cache.glob("models--*"))
    # Put the bad file back (as a previous aezoo without the check could have left it), then lock.
    from huggingface_hub import hf_hub_download

    hf_hub_download(repo_id, "model.safetensors", revision=served)
    snapshot = repo / "snapshots" / served
    with read_only(repo / "blobs"), read_only(snapshot):
        with pytest.raises(ChecksumMismatchError) as caught:
            aezoo.download(name)
    assert "could not be removed from the cache" in str(caught.value)
    assert "by hand" in caught.value.hint


def test_an_unwritable_cache_is_reported_as_such_not_as_a_connection_problem(
    hub, repo_id, pin, make_checkpoint, tmp_path, monkeypatch
):
    checkpoint = make_checkpoint(0)
    served = hub.publish(checkpoint, repo_id)
    from dataclasses import replace

    name = pin(replace(release_manifest(checkpoint, repo_id, tmp_path / "scratch"), revision=served))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HF_HUB_CACHE", str(blocker / "hub"))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(blocker / "hub"))
    with pytest.raises(CacheNotWritableError) as caught:
        aezoo.download(name)
    assert "Hugging Face cache" in str(caught.value) and "HF_HUB_CACHE" in caught.value.hint
    assert "Check the connection" not in str(caught.value)
