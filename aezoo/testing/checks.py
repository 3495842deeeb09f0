"""The conformance kit: checks every aezoo plugin should pass, for use in its own test suite.

    import pytest
    from aezoo import testing

    @pytest.mark.parametrize("name", ["my-model"])
    def test_conforms(name, tmp_path):
        testing.check_model(name, tmp_path)

aezoo runs the same checks over every installed model, first- and third-party.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .api import build, info, load
from .checkpoint import CheckpointConfig, save_checkpoint
from .integrity import sha256_of
from .release import git_snapshot, published_files
from .spec import ModelSpec


def check_no_torch_on_listing(spec: ModelSpec) -> None:
    """Listing and describing the model imports neither torch nor the model's module."""
    code = (
        "import sys, aezoo; spec = aezoo.info(%r); aezoo.list_models();"
        "print(json.dumps(['torch' in sys.modules, spec.builder.split(':')[0] in sys.modules]))"
    ) % spec.name
    out = subprocess.run([sys.executable, "-c", "import json;" + code], capture_output=True, text=True, check=True)
    torch_imported, builder_imported = json.loads(out.stdout.strip().splitlines()[-1])
    assert not torch_imported, f"listing {spec.name} imports torch: keep the entry-point module free of torch"
    assert not builder_imported, f"listing {spec.name} imports its builder module {spec.builder}"


def check_spec(spec: ModelSpec) -> None:
    """The spec's config builds its module, and the declared parameter count is exact."""
    json.dumps(spec.config)
    model = build(spec)
    actual = sum(p.numel() for p in model.parameters())
    assert actual == spec.params, f"{spec.name}: spec says {spec.params:,} parameters, the module has {actual:,}"


def check_round_trip(spec: ModelSpec, folder: Path) -> None:
    """Saving and loading a checkpoint reproduces every tensor exactly."""
    import torch

    torch.manual_seed(0)
    model = build(spec)
    save_checkpoint(folder, model, CheckpointConfig(spec.name, dict(spec.config), dict(spec.preprocessing)))
    loaded = load(folder, device="cpu")
    original = model.state_dict()
    for key, tensor in loaded.state_dict().items():
        assert torch.equal(tensor, original[key]), f"{spec.name}: {key} changed in a save/load round trip"


def check_release(spec: ModelSpec, folder: Path, scratch: Path) -> None:
    """A published checkpoint folder matches the spec's pinned manifest (files, sizes, sha256,
    the reproducible commit) and its card states the spec's metrics."""
    from .card import read_card

    assert spec.weights is not None, f"{spec.name} has no published weights"
    pinned = {f.path: (f.size, f.sha256) for f in spec.weights.files}
    present = {n: ((folder / n).stat().st_size, sha256_of(folder / n)) for n in published_files(folder)}
    assert present == pinned, f"{folder} differs from the manifest of {spec.name}: regenerate release.json"
    assert git_snapshot(folder, scratch) == spec.weights.revision, f"{spec.name}: pinned revision is stale"
    card = read_card(folder / "README.md")
    assert card is not None and card.metrics == spec.card.metrics, f"{spec.name}: card metrics differ from the spec"


def check_model(name: str, tmp_path: Path) -> None:
    """Every check that needs no published weights."""
    spec = info(name)
    check_spec(spec)
    check_round_trip(spec, tmp_path / "round-trip")
    check_no_torch_on_listing(spec)
