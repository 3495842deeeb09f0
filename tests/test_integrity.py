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
