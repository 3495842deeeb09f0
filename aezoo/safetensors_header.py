"""Read and validate a safetensors header without torch and before any tensor is read.

safetensors itself rejects most malformed files, but with messages about byte offsets; this
module names the file, says what is wrong with it and what to do, and gives the tensor table
that strict loading compares with the model before allocating anything.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

from .errors import CheckpointError

DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}
MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself enforces (decimal, not MiB)
_PICKLE_OR_ZIP = (b"PK\x03\x04", b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


def _bad(path: Path, what: str, hint: str = "") -> CheckpointError:
    return CheckpointError(
        f"{path} is not a valid safetensors file: {what}.",
        hint or "Download it again (aezoo download NAME --force) or re-save it with aezoo.",
    )


def read_header(path: Path) -> dict[str, TensorInfo]:
    """Return the tensor table of ``path``, or raise ``CheckpointError`` naming what is wrong."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            prefix = f.read(8)
            # A real header of 640, 896, 1152 or 1408 bytes also starts with b"\x80\x02".."\x80\x05";
            # the JSON that follows it is what tells the two apart.
            if prefix.startswith(_PICKLE_OR_ZIP) and f.read(1) != b"{":
                raise _bad(
                    path,
                    "it is a pickle / torch.save archive",
                    "aezoo never unpickles; convert it to safetensors in a trusted environment.",
                )
            if len(prefix) < 8:
                raise _bad(path, f"only {size} bytes, too short for a header (truncated)")
            (header_len,) = struct.unpack("<Q", prefix)
            if header_len > MAX_HEADER_BYTES:
                raise _bad(path, f"declared header of {header_len} bytes exceeds the {MAX_HEADER_BYTES}-byte limit")
            if 8 + header_len > size:
                raise _bad(path, f"declared header of {header_len} bytes is longer than the file (truncated)")
            f.seek(8)
            raw = f.read(header_len)
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc.strerror or exc}.",
                              "Check the path and its permissions.") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, and integers of more than 4,300 digits
        raise _bad(path, f"header is not valid JSON ({str(exc)[:200]})") from exc
    except RecursionError as exc:
        raise _bad(path, "header JSON is nested too deeply") from exc
    if not isinstance(header, dict):
        raise _bad(path, "header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise _bad(path, "__metadata__ is not an object of strings")
    tensors = {name: _tensor_info(path, name, entry) for name, entry in header.items()}
    _check_layout(path, tensors, size - 8 - header_len)
    return tensors


def _tensor_info(path: Path, name: str, entry: object) -> TensorInfo:
    if not isinstance(entry, dict):
        raise _bad(path, f"entry {name!r} is not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_SIZES:
        raise _bad(path, f"tensor {name!r} has unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise _bad(path, f"tensor {name!r} has invalid shape {shape!r}")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise _bad(path, f"tensor {name!r} has invalid data_offsets {offsets!r}")
    expected = math.prod(shape) * DTYPE_SIZES[dtype]
    if offsets[1] - offsets[0] != expected:
        raise _bad(path, f"tensor {name!r} spans {offsets[1] - offsets[0]} bytes but {dtype}{shape} needs {expected}")
    return TensorInfo(dtype, tuple(shape), offsets[0], offsets[1])


def _check_layout(path: Path, tensors: dict[str, TensorInfo], data_bytes: int) -> None:
    """Tensors must tile the data section exactly: no overlaps, no holes, no trailing bytes."""
    position = 0
    for name, info in sorted(tensors.items(), key=lambda item: (item[1].start, item[1].end)):
        if info.start < position:
            raise _bad(path, f"tensor {name!r} overlaps the tensor before it")
        if info.start > position:
            raise _bad(path, f"{info.start - position} unused bytes before tensor {name!r}")
        position = info.end
    if position > data_bytes:
        raise _bad(path, f"tensors need {position} bytes of data but the file holds {data_bytes} (truncated)")
    if position < data_bytes:
        raise _bad(path, f"{data_bytes - position} trailing bytes after the last tensor")
