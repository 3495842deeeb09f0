"""Property-based fuzzing of every file aezoo parses from a checkpoint or a plugin: safetensors
headers, config.json, the card's YAML front matter and release.json. Whatever the bytes, only
aezoo's named errors escape (never a RecursionError, a ValueError from a 5,000-digit integer, a
TypeError from a field of the wrong type), and nothing is allocated beyond what the file holds.

Thousands of cases in all, kept under about 30 s on one core (``deadline=None``: the machine may be
busy)."""

from __future__ import annotations

import json
import struct
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aezoo.card import read_card
from aezoo.checkpoint import read_config
from aezoo.errors import AezooError
from aezoo.safetensors_header import read_header
from aezoo.spec import Release

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))

huge_ints = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=10**300, max_value=10**301),  # (4,300+ digits come as text: see documents)
    st.just(2**64), st.just(-1), st.just(0),
)
scalars = st.one_of(
    st.none(), st.booleans(), huge_ints, st.floats(allow_nan=True), st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)
DTYPES = ["F32", "F16", "BF16", "I64", "U8", "BOOL", "F64", "X9", "", "f32"]


def _dump(value) -> str:
    """JSON text; integers beyond 4,300 digits are written by hand (json.dumps refuses them too)."""
    try:
        return json.dumps(value)
    except ValueError:
        return '{"a": ' + "9" * 5000 + "}"


def _nested(depth: int, opener: str) -> str:
    closer = {"[": "]", "{": "}"}[opener]
    inner = '"x": ' if opener == "{" else ""
    return (opener + inner) * depth + "1" + closer * depth if opener == "[" else ('{"x": ' * depth) + "1" + "}" * depth


documents = st.one_of(
    json_values.map(_dump),
    st.integers(min_value=1, max_value=3_000).map(lambda d: _nested(d, "[")),
    st.integers(min_value=1, max_value=3_000).map(lambda d: _nested(d, "{")),
    st.sampled_from([20_000, 100_000]).map(lambda d: _nested(d, "[")),
    st.just("[" * 100_000),
    st.just('{"x": ' + "1" * 10_000 + "}"),
    st.text(max_size=50),
)

tensor_entries = st.fixed_dictionaries(
    {},
    optional={
        "dtype": st.one_of(st.sampled_from(DTYPES), json_values),
        "shape": st.one_of(st.lists(st.one_of(st.integers(-2, 8), huge_ints, st.booleans()), max_size=4), json_values),
        "data_offsets": st.one_of(st.lists(st.one_of(st.integers(-2, 64), huge_ints), max_size=3), json_values),
    },
)
headers = st.one_of(
    st.dictionaries(st.text(max_size=6), st.one_of(tensor_entries, json_values), max_size=4).map(_dump),
    documents,
)


def _safetensors(header: str, data: bytes, declared: int | None) -> bytes:
    raw = header.encode("utf-8", "surrogatepass")
    length = len(raw) if declared is None else declared
    return struct.pack("<Q", length % 2**64) + raw + data


def _within_budget(call, *, budget: int, warm: bool = False) -> None:
    """Run ``call``; it must raise only AezooError and allocate at most ``budget`` bytes.
    ``warm`` runs it once unmeasured first, so lazy imports (yaml, huggingface_hub) do not count."""
    if warm:
        try:
            call()
        except AezooError:
            pass
    tracemalloc.start()
    try:
        try:
            call()
        except AezooError:
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= budget, f"peak {peak} bytes"


@FUZZ
@given(header=headers, data=st.binary(max_size=64), declared=st.one_of(st.none(), st.integers(0, 2**64 - 1)))
def test_safetensors_headers_raise_only_named_errors(tmp_path_factory, header, data, declared):
    path = tmp_path_factory.mktemp("st", numbered=True) / "model.safetensors"
    blob = _safetensors(header, data, declared)
    path.write_bytes(blob)
    # A header is read whole (it is at most the file's size); parsing it may take a few times that.
    _within_budget(lambda: read_header(path), budget=20 * len(blob) + 2_000_000)


@FUZZ
@given(doc=documents, extra=json_values)
def test_config_json_raises_only_named_errors(tmp_path_factory, doc, extra):
    folder = tmp_path_factory.mktemp("cfg", numbered=True)
    for text in (doc, _dump({"architecture": extra, "config": extra, "aezoo_format": extra, "preprocessing": extra})):
        (folder / "config.json").write_text(text, encoding="utf-8", errors="surrogatepass")
        _within_budget(lambda: read_config(folder), budget=20 * len(text) + 2_000_000)


yaml_text = st.one_of(
    st.text(max_size=80),
    json_values.map(_dump),  # JSON is YAML
    st.sampled_from(["a: [1, 2", "key: : value", "- - -", "\t- x", "{", "a: !!python/object:os.system x",
                     "aezoo: {metrics: [1, 2]}", "aezoo: {license: [1]}", "aezoo: 3", "datasets: 5",
                     "aezoo: {metrics: [{name: a, value: x, dataset: d, split: s, protocol: p}]}",
                     "&a [*a]", "a: " + "[" * 50]),
)


@FUZZ
@given(front=yaml_text)
def test_card_front_matter_raises_only_named_errors(tmp_path_factory, front):
    path = tmp_path_factory.mktemp("card", numbered=True) / "README.md"
    path.write_text(f"---\n{front}\n---\n# a model\n", encoding="utf-8", errors="surrogatepass")
    _within_budget(lambda: read_card(path), budget=50 * len(front) + 4_000_000, warm=True)


release_docs = st.one_of(
    documents,
    st.fixed_dictionaries(
        {"weights": st.one_of(json_values, st.fixed_dictionaries(
            {"repo_id": json_values, "revision": json_values, "files": st.one_of(json_values, st.lists(
                st.fixed_dictionaries({"path": json_values, "sha256": json_values, "size": json_values}),
                max_size=3))})),
         "metrics": st.one_of(json_values, st.lists(json_values, max_size=3)),
         "training_data": json_values},
    ).map(_dump),
)


@FUZZ
@given(doc=release_docs)
def test_release_json_raises_only_named_errors(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("release", numbered=True) / "release.json"
    path.write_text(doc, encoding="utf-8", errors="surrogatepass")
    _within_budget(lambda: Release.from_json(path), budget=20 * len(doc) + 2_000_000)


@pytest.mark.parametrize("depth", [10_000, 1_000_000])
def test_deeply_nested_json_is_a_named_error_everywhere(tmp_path, depth):
    text = "[" * depth + "]" * depth
    (tmp_path / "config.json").write_text(text)
    (tmp_path / "release.json").write_text(text)
    (tmp_path / "model.safetensors").write_bytes(_safetensors(text, b"", None))
    for call in (lambda: read_config(tmp_path), lambda: Release.from_json(tmp_path / "release.json"),
                 lambda: read_header(tmp_path / "model.safetensors")):
        with pytest.raises(AezooError):
            call()


def test_deeply_nested_card_yaml_is_a_named_error(tmp_path):
    from aezoo.errors import CheckpointError

    (tmp_path / "README.md").write_text("---\na: " + "[" * 5000 + "\n---\n# x\n")
    with pytest.raises(CheckpointError, match="malformed metadata"):
        read_card(tmp_path / "README.md")


def test_a_5000_digit_integer_is_a_named_error(tmp_path):
    text = '{"architecture": "x", "config": {"a": ' + "9" * 5000 + "}}"
    (tmp_path / "config.json").write_text(text)
    (tmp_path / "model.safetensors").write_bytes(_safetensors('{"a": ' + "9" * 5000 + "}", b"", None))
    with pytest.raises(AezooError, match="not valid JSON"):
        read_config(tmp_path)
    with pytest.raises(AezooError, match="not valid JSON"):
        read_header(tmp_path / "model.safetensors")


def test_a_card_with_bad_yaml_does_not_make_a_checkpoint_unloadable(tiny_checkpoint):
    import aezoo
    from aezoo.errors import CheckpointError

    (tiny_checkpoint / "README.md").write_text("---\nlicense: [mit\n---\n# tiny\n")
    with pytest.raises(CheckpointError, match="malformed metadata"):
        read_card(tiny_checkpoint / "README.md")
    with pytest.warns(UserWarning, match="malformed metadata"):
        model = aezoo.load(tiny_checkpoint, device="cpu")
    assert model.aezoo.card is None


def test_the_fuzzed_parsers_accept_what_aezoo_writes(tiny_checkpoint):
    assert read_config(tiny_checkpoint).architecture == "tiny-ae"
    assert read_card(tiny_checkpoint / "README.md") is not None
    assert read_header(tiny_checkpoint / "model.safetensors")
    release = Path(__file__).resolve().parents[1] / "plugins/aezoo-fc-dae-mnist/src/aezoo_fc_dae_mnist/release.json"
    assert Release.from_json(release).weights is not None


# -- training state (aezoo/training/state.py): state.json, the `latest` pointer and state.safetensors ------------

state_docs = st.one_of(
    documents,
    json_values.map(_dump),
    st.fixed_dictionaries({"__dict__": st.one_of(json_values, st.lists(st.one_of(
        st.lists(json_values, max_size=3), st.tuples(st.sampled_from(["run", "model", "progress"]), json_values)),
        max_size=3))}).map(_dump),
    st.dictionaries(st.sampled_from(["__tensor__", "__tuple__", "__dict__", "x"]), json_values, max_size=2).map(_dump),
)
pointers = st.one_of(st.just("epoch-0001"), st.text(max_size=12), st.sampled_from(["../../x", "..", "", "epoch-1"]))


@FUZZ
@given(doc=state_docs, pointer=pointers, tensors=st.sampled_from(["valid", "empty", "garbage"]))
def test_training_state_raises_only_named_errors(tmp_path_factory, doc, pointer, tensors):
    import torch

    from aezoo.checkpoint import save_tensors
    from aezoo.errors import TrainingError
    from aezoo.training.state import LATEST, load_state, read_settings

    folder = tmp_path_factory.mktemp("state", numbered=True)
    state = folder / "epoch-0001"
    state.mkdir()
    (state / "state.json").write_text(doc, encoding="utf-8", errors="surrogatepass")
    if tensors == "valid":
        save_tensors({"s.model.0": torch.zeros(2)}, state / "state.safetensors")
    elif tensors == "garbage":
        (state / "state.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{not js}")
    (folder / LATEST).write_text(pointer, encoding="utf-8", errors="surrogatepass")
    for call in (read_settings, load_state):
        try:
            result = call(folder)
        except TrainingError:
            continue
        assert result is None or isinstance(result, dict)
    _within_budget(lambda: load_state(folder), budget=20 * len(doc) + 2_000_000)


@pytest.mark.parametrize("doc", [
    "[" * 100_000 + "]" * 100_000,                          # deep nesting
    '{"__dict__": [["run", ' + "9" * 5000 + "]]}",          # a 5,000-digit integer
    '{"__dict__": [["run", [1, 2]]]}',                      # run settings that are not a mapping
    '{"__dict__": 5}', '{"__dict__": [[1]]}', '{"__dict__": [[[1], 2]]}',  # not pairs; an unhashable key
    '{"__tensor__": "missing"}', "[1, 2]", '"a string"',     # no such tensor; not a mapping
])
def test_a_training_state_of_the_wrong_structure_is_a_training_error(tmp_path, doc):
    import torch

    from aezoo.checkpoint import save_tensors
    from aezoo.errors import TrainingError
    from aezoo.training.state import LATEST, load_state, read_settings

    (tmp_path / "epoch-0001").mkdir()
    (tmp_path / "epoch-0001" / "state.json").write_text(doc)
    save_tensors({"s.x": torch.zeros(1)}, tmp_path / "epoch-0001" / "state.safetensors")
    (tmp_path / LATEST).write_text("epoch-0001")
    with pytest.raises(TrainingError, match="unreadable"):
        load_state(tmp_path)
    if doc.startswith(('{"__dict__": [["run"', "[[[", "[" * 10, '"a', "[1")):
        with pytest.raises(TrainingError, match="unreadable"):
            read_settings(tmp_path)


def test_a_latest_pointer_outside_the_state_folder_is_never_followed(tmp_path):
    from aezoo.errors import TrainingError
    from aezoo.training.state import LATEST, load_state, read_settings

    (tmp_path / "state").mkdir()
    (tmp_path / "state.json").write_text('{"__dict__": []}')  # what "../" would reach
    (tmp_path / "state" / LATEST).write_text("..")
    for call in (load_state, read_settings):
        with pytest.raises(TrainingError, match="not a state folder"):
            call(tmp_path / "state")
