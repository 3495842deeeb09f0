"""Checkpoint folders: exact save/load round trips, strict loading that compares the header with the
model before any tensor is read, config.json errors, atomic writes, and never unpickling.

Everything runs on real files written by safetensors, torch and pickle; nothing is mocked.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import struct
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as st_load
from safetensors.torch import load_file
from safetensors.torch import save as st_save
from torch import nn

import aezoo
from aezoo.checkpoint import (
    CONFIG_FILE,
    FORMAT_VERSION,
    WEIGHTS_FILE,
    CheckpointConfig,
    atomic_write,
    load_tensors,
    load_weights,
    read_config,
    save_checkpoint,
)
from aezoo.errors import CheckpointError, IncompatibleWeightsError
from aezoo.safetensors_header import read_header

TINY_CONFIG = {"features": 16, "latent": 4}


# --- helpers -------------------------------------------------------------------------------------


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal dtype, shape and bytes (so NaN == NaN and -0.0 != 0.0)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return torch.equal(a.contiguous().flatten().view(torch.uint8), b.contiguous().flatten().view(torch.uint8))


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_state(model: nn.Module, expected: dict[str, torch.Tensor]) -> None:
    state = model.state_dict()
    assert state.keys() == expected.keys()
    for key, value in expected.items():
        assert same_bits(state[key], value), key


def tiny_model(seed: int = 0) -> nn.Module:
    """The tiny test plugin's model, with all its parameters drawn from ``seed``."""
    model = aezoo.build(aezoo.info("tiny-ae"))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return model


def sevens(model: nn.Module) -> dict[str, torch.Tensor]:
    """Tensors that fit ``model`` exactly, all 7: loading any of them would show."""
    return {k: torch.full_like(v, 7) for k, v in model.state_dict().items()}


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


class Mixed(nn.Module):
    """Every kind of state a checkpoint must carry bit for bit."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.linear = nn.Linear(5, 3)
        self.norm = nn.BatchNorm1d(3)  # running stats and an int64 num_batches_tracked
        self.f16 = nn.Parameter(torch.randn(2, 2, generator=g).half())
        self.bf16 = nn.Parameter(torch.randn(3, generator=g).bfloat16())
        self.register_buffer("f64", torch.randn(2, generator=g, dtype=torch.float64))
        self.register_buffer("mask", torch.rand(4, generator=g) > 0.5)
        self.register_buffer("counts", torch.randint(-9, 9, (3,), generator=g, dtype=torch.int16))
        self.register_buffer("empty", torch.zeros(0, 4))
        self.register_buffer("scalar", torch.tensor(float(seed) + 0.5))
        self.register_buffer("transposed", torch.randn(2, 3, generator=g).t())  # not contiguous
        self.register_buffer("special", torch.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 1e-45]))
        with torch.no_grad():
            for parameter in (self.linear.weight, self.linear.bias, self.norm.weight, self.norm.bias):
                parameter.copy_(torch.randn(parameter.shape, generator=g))
            self.norm.running_mean.copy_(torch.randn(3, generator=g))
            self.norm.num_batches_tracked.fill_(seed + 11)


# --- round trips ---------------------------------------------------------------------------------


def test_save_then_load_weights_is_bit_exact(tmp_path):
    original = Mixed(seed=1)
    config = CheckpointConfig("mixed", {"width": 5, "nested": {"a": [1, 2]}}, {"scale": 255})
    folder = save_checkpoint(tmp_path / "ckpt", original, config, "# Mixed\n")
    assert listing(folder) == {"config.json", "model.safetensors", "README.md"}  # and no temp files

    fresh = Mixed(seed=2)
    assert not same_bits(fresh.f16, original.f16)
    load_weights(fresh, folder / WEIGHTS_FILE)
    assert_state(fresh, snapshot(original))

    on_disk = load_file(folder / WEIGHTS_FILE)
    assert on_disk.keys() == original.state_dict().keys()
    with safe_open(folder / WEIGHTS_FILE, framework="pt") as f:
        assert f.metadata() == {"format": "pt"}
    assert read_config(folder) == config
    assert json.loads((folder / CONFIG_FILE).read_text())["aezoo_format"] == FORMAT_VERSION
    assert (folder / "README.md").read_text() == "# Mixed\n"


def test_saving_again_replaces_the_checkpoint(tmp_path):
    folder = tmp_path / "ckpt"
    save_checkpoint(folder, Mixed(seed=1), CheckpointConfig("mixed", {}))
    second = Mixed(seed=3)
    save_checkpoint(folder, second, CheckpointConfig("mixed", {"v": 2}))
    assert listing(folder) == {"config.json", "model.safetensors"}
    fresh = Mixed(seed=4)
    load_weights(fresh, folder / WEIGHTS_FILE)
    assert_state(fresh, snapshot(second))
    assert read_config(folder).config == {"v": 2}


@pytest.mark.parametrize("as_str", [False, True], ids=["path", "str"])
def test_aezoo_load_of_a_saved_folder_is_bit_exact(as_str, tiny_registry, tmp_path):
    original = tiny_model(seed=5).eval()
    config = CheckpointConfig("tiny-ae", dict(TINY_CONFIG), {"mean": 0.5})
    folder = save_checkpoint(tmp_path / "ckpt", original, config)
    loaded = aezoo.load(str(folder) if as_str else folder, device="cpu")
    assert_state(loaded, snapshot(original))
    assert loaded.aezoo.name == "tiny-ae"
    assert loaded.aezoo.config == TINY_CONFIG and loaded.aezoo.preprocessing == {"mean": 0.5}
    x = torch.randn(3, 16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(loaded(x), original(x))


# --- strict loading ------------------------------------------------------------------------------


def _all_at_once(tensors: dict[str, torch.Tensor]) -> None:
    del tensors["decoder.bias"], tensors["encoder.bias"]
    tensors["extra.b"] = torch.ones(1)
    tensors["extra.a"] = torch.ones(1)
    tensors["encoder.weight"] = torch.full((4, 15), 7.0)
    tensors["decoder.weight"] = torch.full((16, 4), 7.0, dtype=torch.bfloat16)


STRICT = {
    "missing": (lambda t: t.pop("decoder.bias"), ["missing ['decoder.bias']"]),
    "unexpected": (lambda t: t.update({"extra.weight": torch.ones(2)}), ["unexpected ['extra.weight']"]),
    "wrong-shape": (
        lambda t: t.update({"encoder.weight": torch.full((4, 15), 7.0)}),
        ["encoder.weight: checkpoint float32[4, 15] vs model float32[4, 16]"],
    ),
    "transposed-shape": (
        lambda t: t.update({"encoder.weight": t["encoder.weight"].t().contiguous()}),
        ["encoder.weight: checkpoint float32[16, 4] vs model float32[4, 16]"],
    ),
    "wrong-dtype": (
        lambda t: t.update({"encoder.weight": t["encoder.weight"].double()}),
        ["encoder.weight: checkpoint float64[4, 16] vs model float32[4, 16]"],
    ),
    "all-at-once": (
        _all_at_once,
        [
            "missing ['decoder.bias', 'encoder.bias']",
            "unexpected ['extra.a', 'extra.b']",
            "decoder.weight: checkpoint bfloat16[16, 4] vs model float32[16, 4]",
            "encoder.weight: checkpoint float32[4, 15] vs model float32[4, 16]",
        ],
    ),
}


def _mismatched_file(case: str, model: nn.Module, path: Path) -> Path:
    tensors = sevens(model)
    STRICT[case][0](tensors)
    path.write_bytes(st_save(tensors))
    return path


@pytest.mark.parametrize("case", list(STRICT))
def test_strict_loading_lists_every_mismatch_and_leaves_the_model_untouched(case, tiny_registry, tmp_path):
    model = tiny_model()
    before = snapshot(model)
    path = _mismatched_file(case, model, tmp_path / WEIGHTS_FILE)
    with pytest.raises(IncompatibleWeightsError) as caught:
        load_weights(model, path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in STRICT[case][1]:
        assert fragment in message
    assert caught.value.hint and message.endswith(caught.value.hint)
    assert_state(model, before)


@pytest.mark.parametrize("case", list(STRICT))
def test_torch_own_strict_loading_would_have_changed_the_model(case, tiny_registry, tmp_path):
    """The control for the test above: the same file through ``load_state_dict(strict=True)``
    writes the matching 7s into the model before it complains (or, for a dtype, casts silently)."""
    model = tiny_model()
    before = snapshot(model)
    path = _mismatched_file(case, model, tmp_path / WEIGHTS_FILE)
    try:
        model.load_state_dict(load_file(path), strict=True)
    except RuntimeError:
        pass
    assert any(not same_bits(model.state_dict()[k], v) for k, v in before.items())


def _unloadable(model: nn.Module, path: Path, rename: dict[str, str]) -> Path:
    """A file whose data section safetensors refuses to load while aezoo's header check passes it:
    a non-standard NaN in an extra field of one entry (Python's JSON reads NaN, serde does not).
    ``rename`` renames tensors in the header only, which keeps the layout valid."""
    data = st_save(sevens(model))
    (header_len,) = struct.unpack("<Q", data[:8])
    header, body = json.loads(data[8 : 8 + header_len]), data[8 + header_len :]
    header["encoder.weight"]["note"] = float("nan")
    header = {rename.get(k, k): v for k, v in header.items()}
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
    read_header(path)  # if aezoo ever rejects this header, build another unloadable-but-valid file
    with pytest.raises(SafetensorError):
        st_load(path.read_bytes())
    return path


def test_mismatch_is_raised_before_any_tensor_is_read(tiny_registry, tmp_path):
    model = tiny_model()
    before = snapshot(model)
    # Control: with a header that fits the model, loading reaches the data and fails there.
    fits = _unloadable(model, tmp_path / "fits.safetensors", rename={})
    with pytest.raises(CheckpointError) as caught:
        load_weights(model, fits)
    assert not isinstance(caught.value, IncompatibleWeightsError)
    assert "could not be read" in str(caught.value)
    # The same file with one tensor renamed in the header: the mismatch is reported, so the data
    # section was never touched.
    renamed = _unloadable(model, tmp_path / "renamed.safetensors", rename={"decoder.bias": "decoder.b"})
    with pytest.raises(IncompatibleWeightsError, match=r"missing \['decoder.bias'\]; unexpected \['decoder.b'\]"):
        load_weights(model, renamed)
    assert_state(model, before)


def test_truncated_checkpoint_is_a_checkpoint_error_and_leaves_the_model_untouched(tiny_registry, tmp_path):
    model = tiny_model()
    before = snapshot(model)
    path = tmp_path / WEIGHTS_FILE
    path.write_bytes(st_save(sevens(model))[:-10])
    with pytest.raises(CheckpointError, match="truncated") as caught:
        load_weights(model, path)
    assert type(caught.value) is CheckpointError and str(path) in str(caught.value)
    assert_state(model, before)


def test_aezoo_load_reports_incompatible_weights(tiny_checkpoint):
    config = json.loads((tiny_checkpoint / CONFIG_FILE).read_text())
    config["config"]["latent"] = 5
    (tiny_checkpoint / CONFIG_FILE).write_text(json.dumps(config))
    mismatch = r"encoder.weight: checkpoint float32\[4, 16\] vs model float32\[5, 16\]"
    with pytest.raises(IncompatibleWeightsError, match=mismatch):
        aezoo.load(tiny_checkpoint, device="cpu")


# --- config.json ---------------------------------------------------------------------------------

_GOOD = {"architecture": "tiny-ae", "config": TINY_CONFIG}

BAD_CONFIGS = {
    # (config.json bytes, or None for no file, or "dir" for a folder in its place; message; hint)
    "absent": (None, "has no config.json, so it is not an aezoo checkpoint", "Point at a folder"),
    "a-directory": ("dir", "has no config.json, so it is not an aezoo checkpoint", "Point at a folder"),
    "invalid-json": (b"{architecture: tiny-ae}", "is not valid JSON", "re-download"),
    "empty": (b"", "is not valid JSON", "re-download"),
    "not-utf8": (b'{"architecture": "tiny-\xff"}', "is not valid JSON", "re-download"),
    "a-list": (b"[]", "lacks 'architecture'", "re-download"),
    "missing-architecture": ({"config": TINY_CONFIG}, "lacks 'architecture'", "re-download"),
    "architecture-not-a-string": ({**_GOOD, "architecture": 3}, "lacks 'architecture'", "re-download"),
    "missing-config": ({"architecture": "tiny-ae"}, "and 'config' (an object)", "re-download"),
    "config-not-an-object": ({**_GOOD, "config": [16, 4]}, "and 'config' (an object)", "re-download"),
    "newer-format": (
        {**_GOOD, "aezoo_format": FORMAT_VERSION + 1},
        f"uses checkpoint format {FORMAT_VERSION + 1}, newer than this aezoo understands",
        "Upgrade aezoo: pip install -U aezoo.",
    ),
    "format-a-string": ({**_GOOD, "aezoo_format": "1"}, "'aezoo_format' that is not an integer", "re-download"),
    "format-null": ({**_GOOD, "aezoo_format": None}, "'aezoo_format' that is not an integer", "re-download"),
    "format-a-float": ({**_GOOD, "aezoo_format": 1.5}, "'aezoo_format' that is not an integer", "re-download"),
    "preprocessing-a-list": ({**_GOOD, "preprocessing": ["x"]}, "'preprocessing' that is not an object", "re-download"),
}


def _write_config(folder: Path, content) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if content == "dir":
        (folder / CONFIG_FILE).mkdir()
    elif isinstance(content, bytes):
        (folder / CONFIG_FILE).write_bytes(content)
    elif content is not None:
        (folder / CONFIG_FILE).write_text(json.dumps(content))


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_config_is_a_checkpoint_error_that_says_what_to_do(case, tmp_path):
    content, what, hint = BAD_CONFIGS[case]
    folder = tmp_path / "ckpt"
    _write_config(folder, content)
    with pytest.raises(Exception) as caught:
        read_config(folder)
    error = caught.value
    assert type(error) is CheckpointError, f"{type(error).__name__}: {error}"
    assert str(folder) in str(error) and what in str(error)
    assert hint in error.hint


@pytest.mark.parametrize("case", ["absent", "invalid-json", "newer-format"])
def test_aezoo_load_surfaces_config_errors(case, tiny_checkpoint):
    content, what, _ = BAD_CONFIGS[case]
    (tiny_checkpoint / CONFIG_FILE).unlink()
    _write_config(tiny_checkpoint, content)
    with pytest.raises(CheckpointError, match=what):
        aezoo.load(tiny_checkpoint, device="cpu")


@pytest.mark.parametrize(
    "doc, preprocessing",
    [
        (_GOOD, {}),
        ({**_GOOD, "aezoo_format": FORMAT_VERSION, "preprocessing": None}, {}),
        ({**_GOOD, "aezoo_format": 0, "preprocessing": {"mean": 0.5}}, {"mean": 0.5}),
    ],
    ids=["minimal", "null-preprocessing", "older-format"],
)
def test_config_defaults(doc, preprocessing, tmp_path):
    _write_config(tmp_path, doc)
    assert read_config(tmp_path) == CheckpointConfig("tiny-ae", TINY_CONFIG, preprocessing)


def test_config_round_trips_through_json(tmp_path):
    config = CheckpointConfig("tiny-ae", {"features": 16, "latent": 4, "name": "ü"}, {"size": [28, 28]})
    _write_config(tmp_path, json.loads(config.to_json()))
    assert read_config(tmp_path) == config


# --- the weights file ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["absent", "a-directory"])
def test_folder_without_weights_is_a_checkpoint_error(kind, tiny_checkpoint):
    (tiny_checkpoint / WEIGHTS_FILE).unlink()
    if kind == "a-directory":
        (tiny_checkpoint / WEIGHTS_FILE).mkdir()
    with pytest.raises(Exception) as caught:
        aezoo.load(tiny_checkpoint, device="cpu")
    assert type(caught.value) is CheckpointError
    assert f"{tiny_checkpoint} has no {WEIGHTS_FILE}" in str(caught.value) and caught.value.hint


# --- atomic writes -------------------------------------------------------------------------------


def test_atomic_write_creates_folders_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "a" / "b" / "file.bin"
    atomic_write(path, b"\x00payload")
    assert path.read_bytes() == b"\x00payload"
    assert listing(path.parent) == {"file.bin"}


def test_atomic_write_replaces_by_rename_not_in_place(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"old contents")
    inode = path.stat().st_ino
    with path.open("rb") as reader:  # a reader that opened the old file keeps reading the old file
        atomic_write(path, b"new")
        assert reader.read() == b"old contents"
    assert path.read_bytes() == b"new"
    assert path.stat().st_ino != inode
    assert listing(tmp_path) == {"file.bin"}


def test_atomic_write_failing_while_writing_keeps_the_old_file(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"old contents")
    with pytest.raises(TypeError):
        atomic_write(path, "not bytes")  # type: ignore[arg-type]  # fails inside f.write
    assert path.read_bytes() == b"old contents"
    assert listing(tmp_path) == {"file.bin"}


def test_atomic_write_failing_to_rename_removes_its_temp_file(tmp_path):
    target = tmp_path / "model.safetensors"
    target.mkdir()
    (target / "keep").write_text("kept")
    with pytest.raises(OSError):
        atomic_write(target, b"data")  # a file cannot replace a non-empty folder
    assert listing(tmp_path) == {"model.safetensors"}
    assert (target / "keep").read_text() == "kept"


# --- never unpickle ------------------------------------------------------------------------------


class Trap:
    """Unpickling this creates ``marker``: proof that something unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickled(protocol: int):
    def make(marker: Path) -> bytes:
        return pickle.dumps({"encoder.weight": Trap(marker)}, protocol=protocol)

    return make


def _torch_saved(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"encoder.weight": Trap(marker)}, buffer)
    return buffer.getvalue()


def _unpickle_raw(path: Path) -> None:
    pickle.loads(path.read_bytes())["encoder.weight"].close()


def _unpickle_torch(path: Path) -> None:
    # From the bytes: torch.load hands a path ending in .safetensors to safetensors.
    torch.load(io.BytesIO(path.read_bytes()), weights_only=False)["encoder.weight"].close()


PAYLOADS = {
    **{f"pickle-protocol-{p}": (_pickled(p), _unpickle_raw) for p in range(pickle.HIGHEST_PROTOCOL + 1)},
    "torch-save": (_torch_saved, _unpickle_torch),
}


@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_load_never_unpickles(payload, tiny_checkpoint, tmp_path):
    make, unpickle = PAYLOADS[payload]
    marker = tmp_path / "unpickled"
    folder = tmp_path / "evil"
    folder.mkdir()
    shutil.copy(tiny_checkpoint / CONFIG_FILE, folder / CONFIG_FILE)
    weights = folder / WEIGHTS_FILE
    weights.write_bytes(make(marker))

    with pytest.raises(CheckpointError) as caught:
        aezoo.load(folder, device="cpu")
    assert not isinstance(caught.value, IncompatibleWeightsError)
    assert str(weights) in str(caught.value)
    for direct in (load_tensors, lambda p: load_weights(tiny_model(), p)):
        with pytest.raises(CheckpointError):
            direct(weights)
    assert not marker.exists()

    # Control: the trap is armed. Unpickling the very same file creates the marker.
    unpickle(weights)
    assert marker.exists()
    os.remove(marker)


def test_tied_weights_save_and_load_strictly(tmp_path):
    """safetensors refuses tensors that share memory; a model with tied weights still saves."""
    import torch
    from torch import nn

    from aezoo.checkpoint import load_weights, save_tensors

    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Linear(4, 4, bias=False)
            self.decoder = nn.Linear(4, 4, bias=False)
            self.decoder.weight = self.encoder.weight

    model = Tied()
    save_tensors(model.state_dict(), tmp_path / "model.safetensors")
    fresh = Tied()
    load_weights(fresh, tmp_path / "model.safetensors")
    assert torch.equal(fresh.encoder.weight, model.encoder.weight)
    assert fresh.decoder.weight is fresh.encoder.weight


# --- the config is checked against the header before any module is built (issue 10, item 6) ------

HUGE = """
import json, resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import torch
from aezoo import registry
from aezoo_test_tiny import plugin
reg = registry.Registry(autoload=False)
reg.register(plugin, "tiny", distribution="aezoo-test-tiny")
registry.set_registry(reg)
import aezoo
from aezoo.errors import IncompatibleWeightsError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    aezoo.load(Path(sys.argv[1]), device="cpu")
    outcome = "loaded"
except IncompatibleWeightsError as exc:
    outcome = str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "grew_kib": after - before}))
"""


def _set_config(folder: Path, **values) -> None:
    doc = json.loads((folder / CONFIG_FILE).read_text())
    doc["config"].update(values)
    (folder / CONFIG_FILE).write_text(json.dumps(doc))


def test_a_huge_config_is_refused_before_anything_is_allocated(tiny_checkpoint):
    """latent=10**7 would need 1.28 GB of parameters; the load is refused with the process having
    grown by far less, because the model is built on the meta device and compared with the header."""
    import subprocess
    import sys

    from tests.conftest import DISTRIBUTIONS, python_env

    _set_config(tiny_checkpoint, latent=10**7)
    result = subprocess.run(
        [sys.executable, "-c", HUGE, str(tiny_checkpoint), str(DISTRIBUTIONS / "aezoo-test-tiny" / "src")],
        env=python_env(OMP_NUM_THREADS="1"), capture_output=True, text=True, timeout=300, check=True,
    )
    report = json.loads(result.stdout)
    assert "mismatched" in report["outcome"] and "vs model float32[10000000, 16]" in report["outcome"]
    assert report["grew_kib"] < 200 * 1024, report


def test_meta_build_needs_no_memory_for_a_huge_model(tiny_registry, tmp_path):
    from aezoo.api import expected_layout_of

    layout = expected_layout_of(aezoo.info("tiny-ae"), {"features": 16, "latent": 10**12}, tmp_path / CONFIG_FILE)
    assert layout["encoder.weight"] == ((10**12, 16), "float32")


WRONG_TYPES = [
    pytest.param({"latent": "4"}, "config value 'latent' is '4' (a string), but tiny-ae expects an integer", id="str"),
    pytest.param({"latent": 4.5}, "config value 'latent' is 4.5 (a number), but tiny-ae expects an integer",
                 id="float"),
    pytest.param({"features": True}, "'features' is True (true or false), but tiny-ae expects an integer", id="bool"),
    pytest.param({"features": [16]}, "'features' is [16] (a list), but tiny-ae expects an integer", id="list"),
    pytest.param({"latent": None}, "'latent' is None (NoneType)", id="null"),
]


@pytest.mark.parametrize(("values", "message"), WRONG_TYPES)
def test_config_values_of_the_wrong_type_are_named(values, message, tiny_checkpoint):
    _set_config(tiny_checkpoint, **values)
    with pytest.raises(CheckpointError) as caught:
        aezoo.load(tiny_checkpoint, device="cpu")
    assert type(caught.value) is CheckpointError
    assert message in str(caught.value) and str(tiny_checkpoint / CONFIG_FILE) in str(caught.value)
    assert "Fix config.json" in caught.value.hint


@pytest.mark.parametrize(("values", "what"), [({"latent": -1}, "RuntimeError"), ({"surprise": 1}, "does not fit")])
def test_a_config_the_builder_refuses_is_a_checkpoint_error(values, what, tiny_checkpoint):
    _set_config(tiny_checkpoint, **values)
    with pytest.raises(CheckpointError, match=what):
        aezoo.load(tiny_checkpoint, device="cpu")
