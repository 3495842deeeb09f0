"""Local mirrors (AEZOO_MIRRORS): folders holding one Hub-shaped folder per repo, tried before the hub.

These run offline with an empty cache: any attempt to reach the hub would fail at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import aezoo
from aezoo.errors import ChecksumMismatchError, WeightsUnavailableError
from aezoo.integrity import sha256_of
from tests.conftest import UNREACHABLE, hub_env
from tests.hub.conftest import assert_weights_equal, flip_last_byte, release_manifest
from tests.hubserver import copy_published

REPO_ID = "aezoo-test/tiny-ae"


@pytest.fixture
def mirrored(pin, tiny_checkpoint, monkeypatch, tmp_path) -> tuple[str, Path]:
    """tiny-ae pinned to a release of ``tiny_checkpoint``, whose files lie in a local mirror;
    huggingface_hub offline with an empty cache. Returns (model name, the mirror's repo folder)."""
    name = pin(release_manifest(tiny_checkpoint, REPO_ID, tmp_path / "release-scratch"))
    empty, mirror = tmp_path / "empty-mirror", tmp_path / "mirror"
    empty.mkdir()
    repo = copy_published(tiny_checkpoint, mirror / "tiny-ae")
    monkeypatch.setenv("AEZOO_MIRRORS", os.pathsep.join([str(empty), str(tmp_path / "absent"), str(mirror)]))
    hub_env(monkeypatch, tmp_path / "hf", endpoint=UNREACHABLE, offline=True)
    return name, repo


def test_a_complete_mirror_loads_without_the_hub(mirrored, tiny_checkpoint, tmp_path):
    name, repo = mirrored

    assert aezoo.download(name) == repo
    model = aezoo.load(name)

    assert model.aezoo.path == repo
    assert_weights_equal(model, tiny_checkpoint / "model.safetensors")
    assert not (tmp_path / "hf" / "hub").exists()  # the hub cache was never touched


def test_a_mirror_file_that_fails_sha256_is_refused_naming_the_mirror(mirrored):
    name, repo = mirrored
    weights = repo / "model.safetensors"
    flip_last_byte(weights, keep_mtime=False)

    with pytest.raises(ChecksumMismatchError) as caught:
        aezoo.load(name)

    message = str(caught.value)
    assert message.startswith("Mirror file") and str(weights) in message
    assert REPO_ID in message and "AEZOO_MIRRORS" in message
    assert weights.exists()  # a mirror is the user's folder: reported, never deleted


def test_a_mirror_that_was_verified_is_hashed_again_once_a_file_changes(mirrored, tiny_checkpoint):
    name, repo = mirrored
    aezoo.load(name)
    weights = repo / "model.safetensors"
    weights.write_bytes(b"\0" * weights.stat().st_size)  # same size, new content and mtime

    with pytest.raises(ChecksumMismatchError, match=sha256_of(tiny_checkpoint / "model.safetensors")):
        aezoo.load(name)


def test_a_mirror_folder_missing_a_file_is_unavailable(mirrored):
    name, repo = mirrored
    (repo / "README.md").unlink()

    with pytest.raises(WeightsUnavailableError) as caught:
        aezoo.load(name)

    assert f"Mirror {repo} lacks README.md" in str(caught.value) and "AEZOO_MIRRORS" in str(caught.value)


def test_a_folder_named_like_the_model_does_not_replace_the_pinned_weights(
    mirrored, make_checkpoint, tiny_checkpoint, monkeypatch, tmp_path
):
    """Issue 10, item 5: ./tiny-ae/ in the working directory, with other weights, is loaded only
    when written as a path; the bare name gets the pinned, sha256-checked checkpoint."""
    import shutil

    name, repo = mirrored
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    shutil.copytree(make_checkpoint(1), workdir / name)
    monkeypatch.chdir(workdir)

    pinned = aezoo.load(name, device="cpu")
    assert pinned.aezoo.path == repo
    assert_weights_equal(pinned, tiny_checkpoint / "model.safetensors")

    folder = aezoo.load(f"./{name}", device="cpu")
    assert folder.aezoo.path.resolve() == (workdir / name).resolve()
    assert_weights_equal(folder, workdir / name / "model.safetensors")
