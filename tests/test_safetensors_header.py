"""read_header: the tensor table of a real safetensors file, and aezoo's own CheckpointError for
every malformed one.

Every malformed file starts as a real file written by safetensors and is then edited byte by byte
or by rewriting its header JSON and length prefix. Each case is also shown to safetensors itself,
which must refuse it too: the cases are genuinely malformed, not merely unusual.
"""

from __future__ import annotations

import io
import json
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from aezoo.errors import CheckpointError
from aezoo.safetensors_header import DTYPE_SIZES, MAX_HEADER_BYTES, TensorInfo, read_header

TORCH_DTYPES = {
    "BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "F8_E5M2": torch.float8_e5m2,
    "F8_E4M3": torch.float8_e4m3fn, "I16": torch.int16, "U16": torch.uint16, "F16": torch.float16,
    "BF16": torch.bfloat16, "I32": torch.int32, "U32": torch.uint32, "F32": torch.float32,
    "I64": torch.int64, "U64": torch.uint64, "F64": torch.float64,
}


# --- building files ------------------------------------------------------------------------------


def base_tensors() -> dict[str, torch.Tensor]:
    return {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.arange(4, dtype=torch.int64)}


def real_file(tensors: dict[str, torch.Tensor] | None = None, metadata: dict[str, str] | None = None) -> bytes:
    """Bytes exactly as safetensors writes them."""
    return st_save(base_tensors() if tensors is None else tensors, metadata=metadata)


def split(data: bytes) -> tuple[dict, bytes]:
    """(header JSON, data section) of a well-formed file."""
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def rebuild(header: dict | bytes, body: bytes) -> bytes:
    """A file with this header (a dict is dumped as JSON) and a length prefix that fits it."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def edit(data: bytes, change: Callable[[dict], object]) -> bytes:
    """Rewrite the header of ``data`` with ``change`` (which edits it in place), keeping the data."""
    header, body = split(data)
    change(header)
    return rebuild(header, body)


def ordered(header: dict) -> list[str]:
    """Tensor names in data-section order."""
    return sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"])


def write(tmp_path: Path, data: bytes, name: str = "model.safetensors") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def overwrite(path: Path, data: bytes) -> None:
    """Give ``path`` these bytes in place: for loops over thousands of files (ext4 flushes a file
    truncated to zero and rewritten when it is closed, which costs a millisecond each time)."""
    with path.open("r+b" if path.exists() else "wb") as f:
        f.write(data)
        f.truncate()


def assert_rejected(path: Path, *fragments: str) -> CheckpointError:
    """read_header raises aezoo's own CheckpointError that names the file, says what is wrong
    (``fragments``) and ends with what to do."""
    with pytest.raises(Exception) as caught:
        read_header(path)
    error = caught.value
    assert type(error) is CheckpointError, f"{type(error).__name__}: {error}"
    message = str(error)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    assert error.hint and message.endswith(error.hint)
    return error


def safetensors_refuses(data: bytes) -> bool:
    try:
        st_load(data)
    except SafetensorError:
        return True
    return False


# --- malformed files -----------------------------------------------------------------------------


def _truncate_in_header(data: bytes) -> bytes:
    (length,) = struct.unpack("<Q", data[:8])
    return data[: 8 + length // 2]


def _set(name: str, field: str, value: object) -> Callable[[bytes], bytes]:
    def change(header: dict) -> None:
        header[name][field] = value

    return lambda data: edit(data, change)


def _overlap(data: bytes) -> bytes:
    header, body = split(data)
    first, second = ordered(header)
    start, end = header[second]["data_offsets"]
    header[second]["data_offsets"] = [start - 4, end - 4]  # same span, now 4 bytes inside the first
    return rebuild(header, body[:-4])  # and the data section no longer has trailing bytes


def _hole(data: bytes) -> bytes:
    header, body = split(data)
    first, second = ordered(header)
    start, end = header[second]["data_offsets"]
    header[second]["data_offsets"] = [start + 8, end + 8]
    return rebuild(header, body + bytes(8))  # the data section is long enough for the shifted tensor


def _hole_before_first(data: bytes) -> bytes:
    header, body = split(data)
    for name in ordered(header):
        header[name]["data_offsets"] = [offset + 8 for offset in header[name]["data_offsets"]]
    return rebuild(header, bytes(8) + body)


def _torch_save(_: bytes) -> bytes:
    buffer = io.BytesIO()
    torch.save(base_tensors(), buffer)
    return buffer.getvalue()


def _pickle(protocol: int) -> Callable[[bytes], bytes]:
    return lambda _: pickle.dumps({"a": [1.0, 2.0, 3.0]}, protocol=protocol)


MALFORMED = {
    # (make the file from a real one, what the message must say)
    "truncated-in-data": (lambda d: d[:-5], ["tensors need", "(truncated)"]),
    "truncated-in-header": (_truncate_in_header, ["is longer than the file (truncated)"]),
    "shorter-than-8-bytes": (lambda d: d[:5], ["only 5 bytes", "(truncated)"]),
    "empty": (lambda d: b"", ["only 0 bytes", "(truncated)"]),
    "trailing-bytes": (lambda d: d + b"\0" * 3, ["3 trailing bytes after the last tensor"]),
    "header-not-json": (lambda d: rebuild(b"{'a': 1}", split(d)[1]), ["header is not valid JSON"]),
    "header-json-with-trailing-garbage": (lambda d: rebuild(b"{}\0", b""), ["header is not valid JSON"]),
    "header-not-utf8": (lambda d: rebuild(b'{"\xff\xfe": {}}', split(d)[1]), ["header is not valid JSON", "utf-8"]),
    "header-a-list": (lambda d: rebuild(b"[]", b""), ["header is not a JSON object"]),
    "header-a-string": (lambda d: rebuild(b'"{}"', b""), ["header is not a JSON object"]),
    "header-a-number": (lambda d: rebuild(b"7", b""), ["header is not a JSON object"]),
    "header-null": (lambda d: rebuild(b"null", b""), ["header is not a JSON object"]),
    "header-length-over-limit": (
        lambda d: struct.pack("<Q", MAX_HEADER_BYTES + 1) + d[8:],
        [f"declared header of {MAX_HEADER_BYTES + 1} bytes exceeds the {MAX_HEADER_BYTES}-byte limit"],
    ),
    "header-length-2**64-1": (lambda d: b"\xff" * 8 + d[8:], ["exceeds the", "-byte limit"]),
    "header-length-past-end-of-file": (
        lambda d: struct.pack("<Q", len(d)) + d[8:],
        ["bytes is longer than the file (truncated)"],
    ),
    "unknown-dtype": (_set("a", "dtype", "F33"), ["tensor 'a' has unknown dtype 'F33'"]),
    "dtype-lowercase": (_set("a", "dtype", "f32"), ["tensor 'a' has unknown dtype 'f32'"]),
    "dtype-missing": (lambda d: edit(d, lambda h: h["a"].pop("dtype")), ["tensor 'a' has unknown dtype None"]),
    "shape-negative": (_set("a", "shape", [-2, -3]), ["tensor 'a' has invalid shape [-2, -3]"]),
    "shape-float": (_set("a", "shape", [2.0, 3]), ["tensor 'a' has invalid shape [2.0, 3]"]),
    "shape-bool": (_set("a", "shape", [True, 6]), ["tensor 'a' has invalid shape [True, 6]"]),
    "shape-a-string": (_set("a", "shape", "2x3"), ["tensor 'a' has invalid shape '2x3'"]),
    "shape-missing": (lambda d: edit(d, lambda h: h["a"].pop("shape")), ["tensor 'a' has invalid shape None"]),
    "offsets-reversed": (
        lambda d: edit(d, lambda h: h["a"].update(data_offsets=h["a"]["data_offsets"][::-1])),
        ["tensor 'a' has invalid data_offsets"],
    ),
    "offsets-negative": (
        lambda d: edit(d, lambda h: h["a"].update(data_offsets=[o - 100 for o in h["a"]["data_offsets"]])),
        ["tensor 'a' has invalid data_offsets"],
    ),
    "offsets-one-number": (_set("a", "data_offsets", [24]), ["tensor 'a' has invalid data_offsets [24]"]),
    "offsets-floats": (_set("a", "data_offsets", [0.0, 24.0]), ["tensor 'a' has invalid data_offsets"]),
    "offsets-missing": (
        lambda d: edit(d, lambda h: h["a"].pop("data_offsets")), ["tensor 'a' has invalid data_offsets None"]
    ),
    "offsets-inconsistent-with-shape": (
        _set("a", "shape", [3, 3]), ["tensor 'a' spans 24 bytes but F32[3, 3] needs 36"]
    ),
    "offsets-inconsistent-with-dtype": (
        _set("a", "dtype", "F64"), ["tensor 'a' spans 24 bytes but F64[2, 3] needs 48"]
    ),
    "entry-not-an-object": (lambda d: edit(d, lambda h: h.update(a=[0, 24])), ["entry 'a' is not an object"]),
    "overlapping-offsets": (_overlap, ["overlaps the tensor before it"]),
    "hole-between-tensors": (_hole, ["8 unused bytes before tensor"]),
    "hole-before-first-tensor": (_hole_before_first, ["8 unused bytes before tensor"]),
    "metadata-not-strings": (
        lambda d: edit(d, lambda h: h.update(__metadata__={"epoch": 3})), ["__metadata__ is not an object of strings"]
    ),
    "metadata-a-list": (
        lambda d: edit(d, lambda h: h.update(__metadata__=["pt"])), ["__metadata__ is not an object of strings"]
    ),
    "torch-save-zip": (_torch_save, ["it is a pickle / torch.save archive", "aezoo never unpickles"]),
    **{
        f"pickle-protocol-{p}": (_pickle(p), ["it is a pickle / torch.save archive", "aezoo never unpickles"])
        for p in (2, 3, 4, 5)
    },
    # Protocols 0 and 1 have no magic number: their first 8 bytes read as an absurd header length.
    **{f"pickle-protocol-{p}": (_pickle(p), ["exceeds the", "-byte limit"]) for p in (0, 1)},
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_file_is_a_checkpoint_error_naming_file_and_remedy(case, tmp_path):
    make, fragments = MALFORMED[case]
    data = make(real_file())
    path = write(tmp_path, data)
    assert_rejected(path, *fragments)
    assert safetensors_refuses(data), "safetensors accepts this file, so it is not a malformed case"


def test_pickle_hint_says_aezoo_never_unpickles(tmp_path):
    path = write(tmp_path, _torch_save(b""))
    error = assert_rejected(path)
    assert "convert it to safetensors in a trusted environment" in error.hint


def test_generic_hint_says_download_again(tmp_path):
    error = assert_rejected(write(tmp_path, real_file()[:-1]))
    assert "aezoo download" in error.hint and "--force" in error.hint


@pytest.mark.parametrize("declared", [MAX_HEADER_BYTES, MAX_HEADER_BYTES + 1], ids=["at-limit", "over-limit"])
def test_header_limit_is_exactly_the_one_safetensors_enforces(declared, tmp_path):
    """Declared lengths up to the limit are judged against the file; beyond it, the limit is named.
    safetensors draws the same line ("header too large" only past it)."""
    data = struct.pack("<Q", declared) + b'{"a": 1}'
    path = write(tmp_path, data)
    over = declared > MAX_HEADER_BYTES
    assert_rejected(path, "exceeds the" if over else "is longer than the file")
    with pytest.raises(SafetensorError) as caught:
        st_load(data)
    assert ("header too large" in str(caught.value)) == over


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_path_is_a_checkpoint_error(kind, tmp_path):
    path = tmp_path / "model.safetensors"
    if kind == "directory":
        path.mkdir()
    with pytest.raises(Exception) as caught:
        read_header(path)
    assert type(caught.value) is CheckpointError
    assert str(path) in str(caught.value) and "Check the path" in str(caught.value)


def test_every_proper_prefix_of_a_valid_file_is_rejected(tmp_path):
    data = real_file(metadata={"format": "pt"})
    path = tmp_path / "model.safetensors"
    for cut in range(len(data)):
        overwrite(path, data[:cut])
        assert_rejected(path, "truncated")


# --- valid files ---------------------------------------------------------------------------------


def test_valid_file_gives_the_tensor_table(tmp_path):
    tensors = base_tensors()
    data = real_file(tensors)
    table = read_header(write(tmp_path, data))
    assert set(table) == {"a", "b"}
    assert table["a"].dtype == "F32" and table["a"].shape == (2, 3)
    assert table["b"].dtype == "I64" and table["b"].shape == (4,)
    # The offsets are proven by the bytes they point at, not by reading the same JSON again.
    _, body = split(data)
    for name, info in table.items():
        assert isinstance(info, TensorInfo)
        assert info.end - info.start == tensors[name].numel() * tensors[name].element_size()
        stored = torch.frombuffer(bytearray(body[info.start : info.end]), dtype=tensors[name].dtype)
        assert torch.equal(stored.reshape(tensors[name].shape), tensors[name])


def test_every_dtype_scalars_and_empty_tensors(tmp_path):
    tensors = {f"t_{code}": torch.ones(3, 2, dtype=dtype) for code, dtype in TORCH_DTYPES.items()}
    tensors["scalar"] = torch.tensor(2.5, dtype=torch.float64)
    tensors["empty"] = torch.zeros(0, 5, dtype=torch.float16)
    tensors["also_empty"] = torch.zeros(4, 0, dtype=torch.int32)
    assert set(TORCH_DTYPES) == set(DTYPE_SIZES)
    table = read_header(write(tmp_path, real_file(tensors)))
    assert table.keys() == tensors.keys()
    for code in TORCH_DTYPES:
        info = table[f"t_{code}"]
        assert (info.dtype, info.shape, info.end - info.start) == (code, (3, 2), 6 * DTYPE_SIZES[code])
    assert table["scalar"] == TensorInfo("F64", (), table["scalar"].start, table["scalar"].start + 8)
    assert table["empty"].shape == (0, 5) and table["empty"].start == table["empty"].end
    assert table["also_empty"].shape == (4, 0) and table["also_empty"].start == table["also_empty"].end


def test_file_without_tensors(tmp_path):
    assert read_header(write(tmp_path, real_file({}))) == {}
    assert read_header(write(tmp_path, real_file({}, metadata={"format": "pt"}))) == {}


def test_metadata_is_not_a_tensor(tmp_path):
    data = real_file(metadata={"format": "pt", "note": "trained 3 epochs"})
    assert "__metadata__" in split(data)[0]
    table = read_header(write(tmp_path, data))
    assert set(table) == {"a", "b"}
    assert table == read_header(write(tmp_path, real_file(), "plain.safetensors"))


def test_null_metadata_and_header_padding_are_accepted_as_safetensors_does(tmp_path):
    header, body = split(real_file())
    header["__metadata__"] = None
    data = rebuild(json.dumps(header).encode() + b" " * 13, body)
    assert set(st_load(data)) == {"a", "b"}
    assert set(read_header(write(tmp_path, data))) == {"a", "b"}


@pytest.mark.parametrize("header_length", [640, 896, 1152, 1408])
def test_header_lengths_whose_prefix_looks_like_a_pickle_are_valid(header_length, tmp_path):
    """Little-endian 640 is b"\\x80\\x02\\0..": the same two bytes as a protocol-2 pickle (and 896,
    1152, 1408 for protocols 3-5). Such a real file is a safetensors file, not a pickle."""
    for n in range(2000):
        data = real_file(metadata={"pad": "x" * n})
        if struct.unpack("<Q", data[:8])[0] == header_length:
            break
    else:
        pytest.fail(f"no metadata gives a {header_length}-byte header")
    assert data[:2] == bytes([0x80, header_length // 256])
    table = read_header(write(tmp_path, data))
    assert {k: (v.dtype, v.shape) for k, v in table.items()} == {"a": ("F32", (2, 3)), "b": ("I64", (4,))}


# --- corruption never escapes as anything but CheckpointError ------------------------------------


def _agrees_with_safetensors(path: Path, data: bytes) -> None:
    """read_header raises only CheckpointError, and accepts exactly what safetensors loads, with
    the same names, dtypes and shapes."""
    try:
        table = read_header(path)
    except CheckpointError as error:
        assert type(error) is CheckpointError and str(path) in str(error)
        assert safetensors_refuses(data), f"aezoo refused a file safetensors loads: {error}"
        return
    loaded = st_load(data)  # raises SafetensorError if aezoo accepted a file safetensors refuses
    assert {k: (TORCH_DTYPES[v.dtype], v.shape) for k, v in table.items()} == {
        k: (t.dtype, tuple(t.shape)) for k, t in loaded.items()
    }


_REPLACEMENTS = b'\x00\x01 "{}[],:-0129.eEaF\x7f\x80\xff'


def test_every_single_byte_change_in_the_header_is_caught_or_harmless(tmp_path):
    """Exhaustive: each header byte (and the length prefix) replaced by each of a set of bytes that
    matter to JSON, UTF-8 and the length, then read by aezoo and by safetensors."""
    data = real_file(metadata={"format": "pt"})
    (length,) = struct.unpack("<Q", data[:8])
    path = tmp_path / "model.safetensors"
    for index in range(8 + length):
        for value in _REPLACEMENTS:
            if data[index] == value:
                continue
            mutated = data[:index] + bytes([value]) + data[index + 1 :]
            overwrite(path, mutated)
            _agrees_with_safetensors(path, mutated)


_VALID = real_file({"enc.w": torch.ones(2, 3), "enc.b": torch.zeros(2, dtype=torch.float16)}, {"format": "pt"})
_edits = st.one_of(
    st.tuples(st.just("set"), st.integers(0, len(_VALID) - 1), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, len(_VALID)), st.integers(0, 16)),
    st.tuples(st.just("insert"), st.integers(0, len(_VALID)), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("truncate"), st.integers(0, len(_VALID)), st.just(0)),
)


def _apply(data: bytes, edit_: tuple) -> bytes:
    kind, index, arg = edit_
    index = min(index, len(data))
    if kind == "set":
        return data[:index] + bytes([arg]) + data[index + 1 :] if index < len(data) else data
    if kind == "cut":
        return data[:index] + data[index + arg :]
    if kind == "insert":
        return data[:index] + arg + data[index:]
    return data[:index]


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(_edits, min_size=1, max_size=4))
def test_random_corruption_raises_only_checkpoint_error(edits, tmp_path):
    data = _VALID
    for one in edits:
        data = _apply(data, one)
    path = tmp_path / "model.safetensors"
    overwrite(path, data)
    _agrees_with_safetensors(path, data)
