"""Weights resolution through the real huggingface_hub client against a real server on 127.0.0.1.

Nothing here reaches a network: the server is olah, offline, serving git repos built in the test,
and every other endpoint is one where nothing listens.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

import aezoo
from aezoo.errors import (
    CheckpointError,
    ChecksumMismatchError,
    HubUnreachableError,
    InvalidReferenceError,
    InvalidSpecError,
    WeightsUnavailableError,
)
from aezoo.integrity import git_blob_sha1, sha256_of
from aezoo.publish import release_data
from aezoo.spec import Release, WeightsManifest
from tests.conftest import UNREACHABLE, hub_env
from tests.hub.conftest import assert_weights_equal, flip_last_byte, release_manifest


def verification_records() -> dict[str, dict]:
    """The remembered verifications, by digest."""
    folder = Path(os.environ["AEZOO_HOME"]) / "verified"
    records = [json.loads(p.read_text()) for p in folder.glob("*.json")] if folder.is_dir() else []
    return {r["digest"]: r for r in records}


def cached_blob_sha256s(hf_cache: Path) -> set[str]:
    return {sha256_of(p) for p in hf_cache.glob("models--*/blobs/*") if p.is_file()}


# -- 1. a published model, by registry name, at its pinned commit ---------------------------------


def test_download_by_name_gets_the_pinned_commit_and_load_gives_the_saved_weights(
    hub, repo_id, pin, make_checkpoint, hf_cache, tmp_path
):
    first, later = make_checkpoint(0), make_checkpoint(1)
    manifest = release_manifest(first, repo_id, hub.repo_path(repo_id))  # the release's snapshot is what is served
    name = pin(manifest)
    # The repo moves on after the release: main now holds other weights.
    head = hub.push(repo_id, {"model.safetensors": (later / "model.safetensors").read_bytes()}, "Retrain")
    assert head != manifest.revision

    folder = aezoo.download(name)

    owner, repo = repo_id.split("/")
    assert folder == hf_cache / f"models--{owner}--{repo}" / "snapshots" / manifest.revision
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.path for f in manifest.files)
    for entry in manifest.files:
        assert sha256_of(folder / entry.path) == entry.sha256
    model = aezoo.load(name)
    assert not model.training
    assert model.aezoo.path == folder and model.aezoo.name == "tiny-ae"
    assert_weights_equal(model, first / "model.safetensors")
    # ... while the branch itself serves the newer weights.
    assert_weights_equal(aezoo.load(f"hf://{repo_id}"), later / "model.safetensors")


# -- 3. offline: the cache after a download, a clear error before -----------------------------------


def test_offline_load_uses_the_cache_after_a_download(hub, repo_id, pin, tiny_checkpoint, monkeypatch, tmp_path):
    name = pin(release_manifest(tiny_checkpoint, repo_id, hub.repo_path(repo_id)))
    online = aezoo.download(name)

    hub_env(monkeypatch, tmp_path / "hf", endpoint=UNREACHABLE, offline=True)
    model = aezoo.load(name)

    assert model.aezoo.path == online
    assert_weights_equal(model, tiny_checkpoint / "model.safetensors")


def test_offline_before_any_download_says_how_to_get_the_weights(
    hub, repo_id, pin, tiny_checkpoint, monkeypatch, tmp_path
):
    name = pin(release_manifest(tiny_checkpoint, repo_id, hub.repo_path(repo_id)))
    hub_env(monkeypatch, tmp_path / "hf", endpoint=hub.endpoint, offline=True)  # served, but offline

    with pytest.raises(WeightsUnavailableError) as caught:
        aezoo.load(name)

    message = str(caught.value)
    assert repo_id in message and "not in the local cache" in message
    assert "HF_HUB_OFFLINE" in message and "aezoo download" in message


# -- 3b. Hub-native loading (issue 7): org/name, revision=, cache_dir=, local_files_only= ----------------


def test_org_name_is_the_hub_repo_at_main_or_at_the_revision_asked(hub, repo_id, make_checkpoint):
    first, later = make_checkpoint(0), make_checkpoint(1)
    commit = hub.publish(first, repo_id)
    head = hub.push(repo_id, {"model.safetensors": (later / "model.safetensors").read_bytes()}, "Retrain")

    assert_weights_equal(aezoo.load(repo_id), later / "model.safetensors")
    for ref in (repo_id, f"hf://{repo_id}", f"hf://{repo_id}@{commit}"):
        model = aezoo.load(ref, revision=commit)
        assert model.aezoo.path.name == commit
        assert_weights_equal(model, first / "model.safetensors")
    with pytest.raises(InvalidReferenceError, match="was also given"):
        aezoo.load(f"hf://{repo_id}@{head}", revision=commit)


def test_a_name_at_another_revision_is_that_revision_of_its_repo_checked_against_the_hub(
    hub, repo_id, pin, make_checkpoint, hf_cache
):
    """The pinned sha256 describe the pinned commit only: another revision is what the user asked for,
    checked against the hub's content ids (git blob ids here), and must still hold the named model."""
    first, later = make_checkpoint(0), make_checkpoint(1)
    manifest = release_manifest(first, repo_id, hub.repo_path(repo_id))
    name = pin(manifest)
    head = hub.push(repo_id, {"model.safetensors": (later / "model.safetensors").read_bytes()}, "Retrain")

    newer = aezoo.load(name, revision=head)
    assert newer.aezoo.path.name == head and newer.aezoo.name == name
    assert_weights_equal(newer, later / "model.safetensors")
    blob = Path(os.path.realpath(newer.aezoo.path / "model.safetensors"))
    assert blob.name == git_blob_sha1(later / "model.safetensors")
    pinned = aezoo.load(name, revision=manifest.revision)  # the pin itself: sha256-checked as without revision
    assert pinned.aezoo.path == aezoo.download(name)
    assert_weights_equal(pinned, first / "model.safetensors")

    config = json.loads((first / "config.json").read_text())
    other = hub.push(repo_id, {"config.json": json.dumps({**config, "architecture": "other-ae"}).encode()}, "Other")
    with pytest.raises(CheckpointError, match="holds a 'other-ae' checkpoint, not 'tiny-ae'"):
        aezoo.load(name, revision=other)


def test_cache_dir_holds_every_file_and_local_files_only_reads_it_back_offline(
    hub, repo_id, pin, tiny_checkpoint, hf_cache, monkeypatch, tmp_path
):
    manifest = release_manifest(tiny_checkpoint, repo_id, hub.repo_path(repo_id))
    name = pin(manifest)
    custom = tmp_path / "custom-cache"
    folder = aezoo.download(name, cache_dir=custom)
    by_ref = aezoo.resolve(f"hf://{repo_id}@{manifest.revision}", cache_dir=custom)
    assert folder == by_ref and folder.is_relative_to(custom)
    assert not hf_cache.exists()  # nothing went to the default cache

    hub_env(monkeypatch, tmp_path / "hf", endpoint=UNREACHABLE, offline=False)  # online, but nothing answers
    for ref in (name, f"hf://{repo_id}@{manifest.revision}"):
        model = aezoo.load(ref, cache_dir=custom, local_files_only=True)
        assert model.aezoo.path == folder
        assert_weights_equal(model, tiny_checkpoint / "model.safetensors")

    # The checks follow the cache in use: a bad file in it is found and removed from it.
    blob = Path(os.path.realpath(folder / "model.safetensors"))
    flip_last_byte(blob, keep_mtime=False)
    with pytest.raises(ChecksumMismatchError, match="removed from the cache"):
        aezoo.load(name, cache_dir=custom, local_files_only=True)
    assert not blob.exists()


@pytest.mark.parametrize("how", ["name", "hf"])
def test_local_files_only_without_a_cache_says_so_and_names_mirrors_only_for_pinned_models(
    hub, repo_id, pin, tiny_checkpoint, how
):
    manifest = release_manifest(tiny_checkpoint, repo_id, hub.repo_path(repo_id))
    ref = pin(manifest) if how == "name" else f"hf://{repo_id}@{manifest.revision}"

    with pytest.raises(WeightsUnavailableError) as caught:
        aezoo.load(ref, local_files_only=True)

    message = str(caught.value)
    assert "not in the local cache" in message and "local_files_only" in message
    assert ("AEZOO_MIRRORS" in message) == (how == "name")  # hf:// never consults mirrors


def test_the_cli_takes_the_hub_options(hub, repo_id, tiny_checkpoint, tmp_path, monkeypatch):
    import numpy as np
    from click.testing import CliRunner

    from aezoo.cli import main

    commit = hub.publish(tiny_checkpoint, repo_id)
    custom = tmp_path / "cli-cache"
    table = tmp_path / "table.csv"
    rows = np.random.default_rng(0).normal(size=(40, 16))
    np.savetxt(table, rows, delimiter=",", header=",".join(f"f{i}" for i in range(16)), comments="")
    evaluate = ["evaluate", repo_id, "--data", str(table), "--json", "--device", "cpu", "--cache-dir", str(custom)]

    online = CliRunner().invoke(main, [*evaluate, "--revision", commit])
    assert online.exit_code == 0, online.output
    hub_env(monkeypatch, tmp_path / "hf", endpoint=UNREACHABLE, offline=False)
    offline = CliRunner().invoke(main, [*evaluate, "--revision", commit, "--offline"])
    assert offline.exit_code == 0, offline.output
    assert json.loads(offline.stdout) == json.loads(online.stdout)
    missing = CliRunner().invoke(main, [*evaluate, "--local-files-only"])  # main was never cached
    assert missing.exit_code == 1 and "local_files_only" in missing.output


# -- 4. a served file that is not the pinned one ------------------------------------------------------


def test_sha256_mismatch_at_the_pinned_revision_is_refused_and_purged_from_the_cache(
    hub, repo_id, pin, make_checkpoint, hf_cache, tmp_path
):
    pinned, other = make_checkpoint(0), make_checkpoint(1)
    manifest = release_manifest(pinned, repo_id, tmp_path / "release-scratch")
    # The hub serves other weights at the commit the manifest names: same files, same sizes.
    served = hub.publish(other, repo_id)
    name = pin(replace(manifest, revision=served))
    bad_sha = sha256_of(other / "model.safetensors")
    assert (other / "model.safetensors").stat().st_size == (pinned / "model.safetensors").stat().st_size

    for _ in range(2):  # a second try downloads again and is refused again: nothing bad was kept
        with pytest.raises(ChecksumMismatchError) as caught:
            aezoo.download(name)
        assert bad_sha in str(caught.value) and "removed from the cache" in str(caught.value)
        snapshot = next(hf_cache.glob("models--*/snapshots")) / served
        assert not (snapshot / "model.safetensors").is_symlink()
        assert not (snapshot / "model.safetensors").exists()
        assert bad_sha not in cached_blob_sha256s(hf_cache)
        assert bad_sha not in verification_records()

    with pytest.raises(ChecksumMismatchError):
        aezoo.load(name)


# -- 5. verification is remembered, until the file changes --------------------------------------------


def test_a_warm_load_trusts_its_verification_record_until_the_file_changes(
    hub, repo_id, pin, tiny_checkpoint, hf_cache
):
    manifest = release_manifest(tiny_checkpoint, repo_id, hub.repo_path(repo_id))
    name = pin(manifest)
    folder = aezoo.download(name)

    records = verification_records()
    assert records.keys() == {f.sha256 for f in manifest.files}
    weights = manifest.files[[f.path for f in manifest.files].index("model.safetensors")]
    blob = Path(os.path.realpath(folder / "model.safetensors"))
    assert records[weights.sha256]["path"] == str(blob)
    assert records[weights.sha256]["size"] == weights.size

    # Proof that a warm load does not hash: a changed byte that keeps size, inode and mtime goes unseen.
    flip_last_byte(blob, keep_mtime=True)
    assert sha256_of(blob) != weights.sha256
    assert aezoo.download(name) == folder

    # Once the mtime differs the record no longer matches: the file is hashed again, caught and dropped.
    os.utime(blob, ns=(time.time_ns(), blob.stat().st_mtime_ns + 1_000_000_000))
    with pytest.raises(ChecksumMismatchError, match=weights.sha256):
        aezoo.download(name)
    assert not blob.exists() and not (folder / "model.safetensors").exists()

    # The next load downloads it again, verified, and works.
    model = aezoo.load(name)
    assert_weights_equal(model, tiny_checkpoint / "model.safetensors")
    assert verification_records()[weights.sha256]["ino"] == blob.stat().st_ino


# -- 7. hf://org/name@revision references -------------------------------------------------------------


def test_hub_reference_at_a_commit_loads_checked_against_the_hubs_content_ids(hub, repo_id, tiny_checkpoint):
    commit = hub.publish(tiny_checkpoint, repo_id)

    model = aezoo.load(f"hf://{repo_id}@{commit}")

    assert model.aezoo.path.name == commit
    assert_weights_equal(model, tiny_checkpoint / "model.safetensors")
    # No manifest: each file was checked against the id the hub gave it (git blob ids, as nothing is in LFS).
    for name in ("config.json", "model.safetensors", "README.md"):
        link = model.aezoo.path / name
        assert Path(os.path.realpath(link)).name == git_blob_sha1(tiny_checkpoint / name)
    assert {
        git_blob_sha1(tiny_checkpoint / n) for n in ("config.json", "model.safetensors")
    } <= verification_records().keys()

    # A cached file that changes afterwards is caught against that id.
    blob = Path(os.path.realpath(model.aezoo.path / "model.safetensors"))
    flip_last_byte(blob, keep_mtime=False)
    with pytest.raises(ChecksumMismatchError, match="sha1"):
        aezoo.load(f"hf://{repo_id}@{commit}")
    assert not blob.exists()


def test_cli_evaluate_of_a_hub_reference_prints_what_it_measured(hub, repo_id, tiny_checkpoint, tmp_path):
    """Issue 10: ``aezoo evaluate hf://...`` used to measure, then fail with "No model named" looking up a
    card by the reference; now the reference is checked first and a hub model has no registered card."""
    import numpy as np
    from click.testing import CliRunner

    from aezoo.cli import main

    commit = hub.publish(tiny_checkpoint, repo_id)
    table = tmp_path / "table.csv"
    rows = np.random.default_rng(0).normal(size=(40, 16))
    np.savetxt(table, rows, delimiter=",", header=",".join(f"f{i}" for i in range(16)), comments="")
    result = CliRunner().invoke(main, ["evaluate", f"hf://{repo_id}@{commit}", "--data", str(table), "--json",
                                       "--device", "cpu"])
    assert result.exit_code == 0, result.output
    measured = json.loads(result.stdout)
    assert measured and all(v["card"] is None for v in measured.values())


def test_hub_reference_to_a_repo_without_safetensors_is_unavailable(hub, repo_id, tiny_checkpoint, tmp_path):
    folder = tmp_path / "no-weights"
    folder.mkdir()
    (folder / "config.json").write_bytes((tiny_checkpoint / "config.json").read_bytes())
    commit = hub.publish(folder, repo_id)

    with pytest.raises(WeightsUnavailableError, match="has no model.safetensors"):
        aezoo.load(f"hf://{repo_id}@{commit}")


@pytest.mark.parametrize(
    "ref",
    ["hf://", "hf://fc-dae-mnist", "hf://org/name/extra", "hf://org/name@", "hf://org/na me", "hf://org/name@a b"],
)
def test_invalid_hub_reference_is_named(tiny_registry, ref):
    with pytest.raises(InvalidReferenceError, match="hf://org/name@revision"):
        aezoo.load(ref)


@pytest.mark.parametrize("ref", ["hf://org/a--b", "hf://org/a..b", "hf://-org/name"])
def test_a_reference_the_hub_client_refuses_is_an_invalid_reference(tiny_registry, ref, tmp_path):
    """Refused by aezoo under the hub's own rules, before huggingface_hub is asked (more cases in
    test_hostile_hub.py)."""
    with pytest.raises(InvalidReferenceError, match="is not a hub repo id"):
        aezoo.load(ref)
    assert not (tmp_path / "hf" / "hub").exists()


# -- 8. the hub cannot be reached ----------------------------------------------------------------------


def test_unreachable_hub_is_unavailable_with_a_way_out(pin, tiny_checkpoint, tmp_path, monkeypatch):
    """Slow by nature (~25 s): with the default AEZOO_HUB_TIMEOUT, huggingface_hub retries a refused
    connection with backoff; the error is named, and comes well within a minute."""
    from huggingface_hub import constants

    assert constants.ENDPOINT == UNREACHABLE and not constants.HF_HUB_OFFLINE
    monkeypatch.delenv("AEZOO_HUB_TIMEOUT", raising=False)
    name = pin(release_manifest(tiny_checkpoint, "aezoo-test/unreachable", tmp_path / "release-scratch"))

    started = time.monotonic()
    with pytest.raises(HubUnreachableError) as caught:
        aezoo.download(name)

    assert time.monotonic() - started < 60
    assert type(caught.value) is HubUnreachableError and isinstance(caught.value, WeightsUnavailableError)
    assert "aezoo-test/unreachable" in str(caught.value)
    assert "HF_ENDPOINT" in str(caught.value)


# -- 9. file names that could escape the repo folder ----------------------------------------------------


@pytest.mark.parametrize(
    "unsafe", ["../model.safetensors", "/etc/passwd", "sub/../../x", "..", "a\\b", "./config.json", ""]
)
def test_unsafe_file_names_in_a_manifest_are_refused_before_any_download(tiny_checkpoint, unsafe, hf_cache, tmp_path):
    release = json.loads(json.dumps(release_data(tiny_checkpoint, "aezoo-test/unsafe", "0" * 40)))
    manifest = WeightsManifest.from_dict(release["weights"])
    release["weights"]["files"].append({"path": unsafe, "sha256": "0" * 64, "size": 1})
    path = tmp_path / "release.json"
    path.write_text(json.dumps(release))

    # A plugin's release.json, or a manifest built in code, cannot even be read.
    with pytest.raises(InvalidSpecError, match="Unsafe file name"):
        Release.from_json(path)
    with pytest.raises(InvalidSpecError, match="Unsafe file name"):
        WeightsManifest.from_dict(release["weights"])
    with pytest.raises(InvalidSpecError, match="Unsafe file name"):
        replace(manifest, files=(*manifest.files, replace(manifest.files[0], path=unsafe)))
    assert not hf_cache.exists()  # nothing was downloaded
