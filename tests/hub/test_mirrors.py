"""Local mirrors (AEZOO_MIRRORS): folders holding one Hub-shaped folder per repo, tried before the hub,
and ``aezoo download NAME --to DIR``, which writes them.

These run offline with an empty cache: any attempt to reach the hub would fail at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import aezoo
from aezoo.errors import ChecksumMismatchError, OutputExistsError, WeightsUnavailableError
from aezoo.integrity import sha256_of
from aezoo.settings import default_mirrors, mirrors
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


# -- which folders are searched (issue 7: setting AEZOO_MIRRORS adds, 'none' drops the default) ----------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ["DEFAULT"]),
        ("", ["DEFAULT"]),
        ("A", ["A", "DEFAULT"]),
        ("A:B:A", ["A", "B", "DEFAULT"]),
        ("none", []),
        ("A:none", ["A"]),
        (" NONE ", []),
    ],
)
def test_aezoo_mirrors_adds_to_the_default_mirror_unless_an_entry_is_none(monkeypatch, tmp_path, value, expected):
    folders = {"A": tmp_path / "a", "B": tmp_path / "b"}
    if value is None:
        monkeypatch.delenv("AEZOO_MIRRORS")
    else:
        monkeypatch.setenv("AEZOO_MIRRORS", os.pathsep.join(str(folders.get(e, e)) for e in value.split(":")))
    wanted = [p for e in expected for p in (default_mirrors() if e == "DEFAULT" else [folders[e]])]
    assert mirrors() == wanted


def test_a_mirror_set_beside_the_default_leaves_the_default_searched(mirrored, monkeypatch, tmp_path):
    """The default mirror is the source checkout's weights/, whose models change with the project;
    here it is pointed at a folder holding the tiny model, so the test does not depend on them."""
    import aezoo.settings

    name, repo = mirrored
    monkeypatch.setattr(aezoo.settings, "SOURCE_WEIGHTS", repo.parent)
    monkeypatch.setenv("AEZOO_MIRRORS", str(tmp_path / "empty-mirror"))
    assert aezoo.download(name) == repo
    monkeypatch.setenv("AEZOO_MIRRORS", os.pathsep.join([str(tmp_path / "empty-mirror"), "none"]))
    with pytest.raises(WeightsUnavailableError, match="not in the local cache"):
        aezoo.download(name)


# -- aezoo download NAME --to DIR: verified mirror folders for machines without a hub --------------------------


def invoke(*args: str):
    from click.testing import CliRunner

    from aezoo.cli import main

    return CliRunner().invoke(main, list(args), prog_name="aezoo")


def test_download_to_writes_a_mirror_folder_that_an_offline_machine_loads(
    hub, repo_id, pin, make_checkpoint, tiny_checkpoint, monkeypatch, tmp_path
):
    name = pin(release_manifest(tiny_checkpoint, repo_id, hub.repo_path(repo_id)))
    to = tmp_path / "usb-stick"

    result = invoke("download", name, "--to", str(to))

    assert result.exit_code == 0, result.output
    target = to / repo_id.split("/")[1]
    assert result.stdout.splitlines() == [str(target)]
    assert sorted(os.listdir(to)) == [target.name]  # no staging folder left behind
    assert {p.name for p in target.iterdir()} == {"config.json", "model.safetensors", "README.md"}
    assert not any(p.is_symlink() for p in target.iterdir())  # real files, not links into this machine's cache

    # Another machine: no hub, an empty cache, only the mirror.
    hub_env(monkeypatch, tmp_path / "other-hf", endpoint=UNREACHABLE, offline=True)
    monkeypatch.setenv("AEZOO_MIRRORS", os.pathsep.join([str(to), "none"]))
    model = aezoo.load(name)
    assert model.aezoo.path == target
    assert_weights_equal(model, tiny_checkpoint / "model.safetensors")

    # Again: the folder holds the pinned files and is kept. A folder of other weights is replaced only on
    # request, from the cache or the hub, never from itself, though AEZOO_MIRRORS still names it.
    assert invoke("download", name, "--to", str(to)).exit_code == 0
    hub_env(monkeypatch, tmp_path / "hf", endpoint=hub.endpoint, offline=False)
    other = make_checkpoint(1) / "model.safetensors"
    (target / "model.safetensors").write_bytes(other.read_bytes())
    refused = invoke("download", name, "--to", str(to))
    assert refused.exit_code == 1 and "--overwrite" in refused.output
    assert sha256_of(target / "model.safetensors") == sha256_of(other)
    replaced = invoke("download", name, "--to", str(to), "--overwrite")
    assert replaced.exit_code == 0, replaced.output
    assert sha256_of(target / "model.safetensors") == sha256_of(tiny_checkpoint / "model.safetensors")
    assert sorted(os.listdir(to)) == [target.name]


def test_download_to_refuses_a_revision_other_than_the_pin(mirrored, tmp_path):
    name, _ = mirrored
    result = invoke("download", name, "--to", str(tmp_path / "out"), "--revision", "main")
    assert result.exit_code == 1 and "pinned" in result.output
    assert not (tmp_path / "out").exists()


def test_a_copy_that_does_not_match_the_pin_is_never_moved_into_place(tiny_checkpoint, make_checkpoint, tmp_path):
    """The staged copy is checked before the rename: a source of other bytes leaves the target folder
    untouched (absent here) and no staging folder behind."""
    from aezoo.mirror import write_mirror

    manifest = release_manifest(tiny_checkpoint, REPO_ID, tmp_path / "release-scratch")
    to = tmp_path / "mirror-out"
    with pytest.raises(ChecksumMismatchError, match="was not written"):
        write_mirror(manifest, make_checkpoint(1), to)
    assert os.listdir(to) == []
    with pytest.raises(OutputExistsError):
        (to / "tiny-ae").mkdir()
        write_mirror(manifest, tiny_checkpoint, to)
