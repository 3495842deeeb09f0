"""Publishing through the real huggingface_hub client to a write-capable hub on 127.0.0.1
(tests/hubwrite.py), then reading back what was pinned through the same client and aezoo.load."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import aezoo
from aezoo.card import read_card
from aezoo.cli import main
from aezoo.errors import CheckpointError, HubUnreachableError, InputIsOutputError, InvalidReferenceError
from aezoo.integrity import sha256_of
from aezoo.publish import NotACheckpointError, PublishAuthError, RepoRefusedError, push_folder
from aezoo.spec import Release, WeightsManifest
from tests.conftest import UNREACHABLE, hub_env
from tests.hub.conftest import assert_weights_equal
from tests.hubwrite import HubWriteServer
from tests.release_pins import ROOT, release_files

# huggingface_hub's own LFS upload passes a file as data=, which httpx deprecates; not aezoo's to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def download(repo_id: str, revision: str, name: str) -> Path:
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(repo_id, name, revision=revision))


def test_a_pushed_folder_downloads_back_at_the_pinned_commit_and_loads(write_hub, repo_id, make_checkpoint):
    folder = make_checkpoint(0)
    (folder / "training-state").mkdir()
    (folder / "training-state" / "latest.json").write_text("{}")
    (folder / ".aezoo.lock").write_text("")

    pin = push_folder(folder, repo_id)

    manifest = WeightsManifest.from_dict(pin["weights"])
    assert manifest.repo_id == repo_id
    assert [f.path for f in manifest.files] == ["README.md", "config.json", "model.safetensors"]
    assert manifest.revision == write_hub.repos[repo_id].branches["main"]
    from huggingface_hub import HfApi

    assert sorted(HfApi().list_repo_files(repo_id, revision=manifest.revision)) == [
        ".gitattributes", "README.md", "config.json", "model.safetensors"]  # the hub's own, and ours
    for entry in manifest.files:
        path = download(repo_id, manifest.revision, entry.path)
        assert sha256_of(path) == entry.sha256 == sha256_of(folder / entry.path)
        assert path.stat().st_size == entry.size
    card = read_card(folder / "README.md")
    assert pin["metrics"] == [m.__dict__ for m in card.metrics] and pin["training_data"] == card.training_data

    model = aezoo.load(f"hf://{repo_id}@{manifest.revision}", device="cpu")
    assert model.aezoo.path.name == manifest.revision
    assert_weights_equal(model, folder / "model.safetensors")


def test_a_second_push_leaves_the_first_pin_resolving_to_the_first_bytes(write_hub, repo_id, make_checkpoint, pin):
    first, second = make_checkpoint(0), make_checkpoint(1)
    one = WeightsManifest.from_dict(push_folder(first, repo_id)["weights"])
    two = WeightsManifest.from_dict(push_folder(second, repo_id)["weights"])
    assert one.revision != two.revision

    name = pin(one)  # a plugin pinning the first release loads it by name, every file checked by sha256
    assert_weights_equal(aezoo.load(name, device="cpu"), first / "model.safetensors")
    assert sha256_of(download(repo_id, one.revision, "model.safetensors")) == sha256_of(first / "model.safetensors")
    assert_weights_equal(aezoo.load(f"hf://{repo_id}", device="cpu"), second / "model.safetensors")

    # Pushing the same files again makes no commit: the pin names the branch as it is.
    assert push_folder(second, repo_id)["weights"]["revision"] == two.revision


def test_commit_ids_depend_on_the_files_alone(write_hub, repo_id, make_checkpoint, tmp_path, monkeypatch):
    folder = make_checkpoint(0)
    first = push_folder(folder, repo_id)
    renamed = shutil.copytree(folder, tmp_path / "runs" / "another-name")
    with HubWriteServer() as fresh:
        hub_env(monkeypatch, tmp_path / "hf-fresh", endpoint=fresh.endpoint, offline=False)
        again = push_folder(renamed, repo_id)
    assert again == first  # same repo id, same files: same commit on a fresh hub, whatever the folder's name


def test_cli_push_writes_a_release_file_that_plugins_read(write_hub, repo_id, tiny_checkpoint, tmp_path):
    release = tmp_path / "src" / "release.json"
    release.parent.mkdir()

    result = CliRunner().invoke(main, ["push", str(tiny_checkpoint), "--repo", repo_id, "--write-release",
                                       str(release)])

    assert result.exit_code == 0, result.output
    commit = write_hub.repos[repo_id].branches["main"]
    assert result.stdout.strip() == f"hf://{repo_id}@{commit}"
    assert Release.from_json(release).weights == WeightsManifest.from_json(release)
    assert WeightsManifest.from_json(release).revision == commit
    printed = CliRunner().invoke(main, ["push", str(tiny_checkpoint), "--repo", repo_id])
    assert printed.exit_code == 0 and json.loads(printed.stdout) == json.loads(release.read_text())


def test_push_to_a_branch_creates_it_and_leaves_main(write_hub, repo_id, make_checkpoint):
    main_pin = push_folder(make_checkpoint(0), repo_id)
    branch_pin = push_folder(make_checkpoint(1), repo_id, revision="v2", private=True)
    assert write_hub.repos[repo_id].branches == {"main": main_pin["weights"]["revision"],
                                                  "v2": branch_pin["weights"]["revision"]}
    assert not write_hub.repos[repo_id].private  # an existing repo keeps its visibility


def test_save_pretrained_and_push_to_hub_round_trip(write_hub, repo_id, tiny_checkpoint, tmp_path):
    model = aezoo.load(tiny_checkpoint, device="cpu")

    saved = model.save_pretrained(tmp_path / "saved")
    again = aezoo.load(saved, device="cpu")
    assert_weights_equal(again, tiny_checkpoint / "model.safetensors")
    assert again.aezoo.card == model.aezoo.card and again.aezoo.config == model.aezoo.config
    with pytest.raises(InputIsOutputError):
        model.save_pretrained(tiny_checkpoint)  # would replace the files it was loaded from

    pin = again.push_to_hub(repo_id)
    pushed = aezoo.load(f"hf://{repo_id}@{pin['weights']['revision']}", device="cpu")
    assert_weights_equal(pushed, tiny_checkpoint / "model.safetensors")
    assert callable(pushed.push_to_hub) and callable(aezoo.load("tiny-ae", pretrained=False).save_pretrained)


# -- named errors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("files", [(), ("config.json",), ("model.safetensors",)])
def test_a_folder_that_is_not_a_checkpoint_is_refused_before_any_request(write_hub, tiny_checkpoint, tmp_path, files):
    folder = tmp_path / "not-a-checkpoint"
    folder.mkdir()
    for name in files:
        (folder / name).write_bytes((tiny_checkpoint / name).read_bytes())
    before = len(write_hub.requests)

    result = CliRunner().invoke(main, ["push", str(folder), "--repo", "aezoo-test/nothing"])

    assert result.exit_code == 1 and "is not an aezoo checkpoint" in result.output and "Traceback" not in result.output
    with pytest.raises(NotACheckpointError):
        push_folder(folder, "aezoo-test/nothing")
    assert len(write_hub.requests) == before


def test_a_malformed_card_or_a_commit_as_branch_is_refused_before_any_request(write_hub, tiny_checkpoint, repo_id):
    before = len(write_hub.requests)
    with pytest.raises(InvalidReferenceError, match="not a branch"):
        push_folder(tiny_checkpoint, repo_id, revision="0" * 40)
    (tiny_checkpoint / "README.md").write_text("---\nlicense: [unclosed\n---\n")
    with pytest.raises(CheckpointError, match="malformed metadata"):
        push_folder(tiny_checkpoint, repo_id)
    assert len(write_hub.requests) == before


def test_a_card_the_hub_refuses_is_a_named_refusal(write_hub, tiny_checkpoint, repo_id):
    card = tiny_checkpoint / "README.md"
    card.write_text(card.read_text().replace("license: mit", "license: MIT License", 1))
    with pytest.raises(RepoRefusedError, match="license"):
        push_folder(tiny_checkpoint, repo_id)
    assert "commit" not in " ".join(path for _, path in write_hub.requests if repo_id in path)


def test_tokens_401_and_403_say_what_to_do(tiny_checkpoint, monkeypatch, tmp_path):
    with HubWriteServer(tokens={"hf_writer": {"aezoo-test"}}) as guarded:
        hub_env(monkeypatch, tmp_path / "hf", endpoint=guarded.endpoint, offline=False)
        with pytest.raises(PublishAuthError, match="HTTP 401") as caught:
            push_folder(tiny_checkpoint, "aezoo-test/guarded")
        assert "hf auth login" in caught.value.hint and "HF_TOKEN" in caught.value.hint
        with pytest.raises(PublishAuthError, match="HTTP 403") as caught:
            push_folder(tiny_checkpoint, "someone-else/guarded", token="hf_writer")
        assert "'someone-else'" in caught.value.hint
        pin = push_folder(tiny_checkpoint, "aezoo-test/guarded", token="hf_writer", private=True)
        assert guarded.repos["aezoo-test/guarded"].private
        assert guarded.repos["aezoo-test/guarded"].branches["main"] == pin["weights"]["revision"]


def test_an_unreachable_hub_is_named(tiny_checkpoint):
    from huggingface_hub import constants

    assert constants.ENDPOINT == UNREACHABLE
    result = CliRunner().invoke(main, ["push", str(tiny_checkpoint), "--repo", "aezoo-test/unreachable"])
    assert result.exit_code == 1 and "Cannot reach the hub" in result.output and "HF_ENDPOINT" in result.output
    with pytest.raises(HubUnreachableError):
        push_folder(tiny_checkpoint, "aezoo-test/unreachable")


# -- the first-party pins --------------------------------------------------------------------------------------------


def test_every_first_party_pin_is_what_pushing_its_weights_folder_gives(monkeypatch, tmp_path):
    """The release files are re-pinned by 'make release' (tests/release_pins.py) on a fresh loopback hub;
    pushing the same folders to a fresh hub here must give the same commits and files."""
    with HubWriteServer() as fresh:
        hub_env(monkeypatch, tmp_path / "hf", endpoint=fresh.endpoint, offline=False)
        for path, repo_id in release_files().items():
            pinned = json.loads(path.read_text(encoding="utf-8"))
            pushed = push_folder(ROOT / "weights" / repo_id.split("/")[1], repo_id)
            assert pushed == pinned, f"{path.relative_to(ROOT)} is stale: run 'make release'"

        model = aezoo.load("fc-dae-mnist", device="cpu")  # by name, from this hub, at the pinned commit

    revision = aezoo.info("fc-dae-mnist").weights.revision
    assert model.aezoo.path == tmp_path / "hf" / "hub" / "models--aezoo--fc-dae-mnist" / "snapshots" / revision
    assert_weights_equal(model, ROOT / "weights" / "fc-dae-mnist" / "model.safetensors")
