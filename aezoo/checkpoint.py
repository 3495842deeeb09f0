"""Hub-shaped checkpoint folders: ``config.json`` + ``model.safetensors`` + ``README.md``.

Nothing here unpickles. Loading is strict: the safetensors header is compared with the model's
names, shapes and dtypes before any tensor is read. torch is imported inside the functions that
need it, so reading a config stays cheap.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data.columns import shorten
from .errors import CheckpointError, IncompatibleWeightsError
from .safetensors_header import read_header

if TYPE_CHECKING:
    import torch

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class CheckpointConfig:
    """What ``config.json`` holds: which architecture, built with which config, fed how."""

    architecture: str  # the registered model name whose builder makes the module
    config: dict[str, Any] = field(hash=False)
    preprocessing: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_json(self) -> str:
        doc = {
            "aezoo_format": FORMAT_VERSION,
            "architecture": self.architecture,
            "config": self.config,
            "preprocessing": self.preprocessing,
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def read_config(folder: Path) -> CheckpointConfig:
    path = Path(folder) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(
            f"{folder} has no {CONFIG_FILE}, so it is not an aezoo checkpoint.",
            "Point at a folder written by aezoo (aezoo.save, aezoo train) or at a model name.",
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, and integers of more than 4,300 digits
        raise CheckpointError(f"{path} is not valid JSON ({str(exc)[:200]}).",
                              "Restore or re-download the checkpoint.") from exc
    except RecursionError as exc:
        raise CheckpointError(f"{path} is JSON nested too deeply.", "Restore or re-download the checkpoint.") from exc
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc.strerror or exc}.",
                              "Check the file and its permissions.") from exc
    if not (isinstance(doc, dict) and isinstance(doc.get("architecture"), str) and isinstance(doc.get("config"), dict)):
        raise CheckpointError(
            f"{path} lacks 'architecture' (a model name) and 'config' (an object).",
            "Restore or re-download the checkpoint.",
        )
    version, preprocessing = doc.get("aezoo_format", FORMAT_VERSION), doc.get("preprocessing") or {}
    if not isinstance(version, int) or isinstance(version, bool) or not isinstance(preprocessing, dict):
        raise CheckpointError(
            f"{path} has an 'aezoo_format' that is not an integer or a 'preprocessing' that is not an object.",
            "Restore or re-download the checkpoint.",
        )
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} uses checkpoint format {version}, newer than this aezoo understands.",
            "Upgrade aezoo: pip install -U aezoo.",
        )
    return CheckpointConfig(doc["architecture"], doc["config"], preprocessing)


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write to a unique temporary file beside ``path`` and rename it into place. ``durable``
    also flushes it to the disk first (fsync): skipped only for state a later write supersedes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp's 0600 would hide shared files from other users
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_tensors(
    tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None, *, durable: bool = True
) -> None:
    from safetensors.torch import save

    seen: set[int] = set()
    contiguous = {}
    for key, tensor in tensors.items():
        tensor = tensor.detach().cpu().contiguous()
        if tensor.numel() and tensor.untyped_storage().data_ptr() in seen:  # tied weights: store each name
            tensor = tensor.clone()
        seen.add(tensor.untyped_storage().data_ptr())
        contiguous[key] = tensor
    atomic_write(Path(path), save(contiguous, metadata=metadata), durable=durable)


def save_checkpoint(
    folder: Path, model: torch.nn.Module, config: CheckpointConfig, card_markdown: str | None = None
) -> Path:
    """Write a loadable checkpoint folder; each file lands atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_tensors(model.state_dict(), folder / WEIGHTS_FILE, metadata={"format": "pt"})
    atomic_write(folder / CONFIG_FILE, config.to_json().encode())
    if card_markdown is not None:
        atomic_write(folder / CARD_FILE, card_markdown.encode())
    return folder


_DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
    "U16": "uint16", "U32": "uint32", "U64": "uint64", "F8_E5M2": "float8_e5m2", "F8_E4M3": "float8_e4m3fn",
}


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Validate the file, then read every tensor (safetensors only)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    read_header(path)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path} could not be read: {exc}.", "Download it again or re-save it.") from exc


def expected_layout(model: torch.nn.Module) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name -> (shape, dtype) of a module's state dict; works on a module built on the meta device."""
    return {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in model.state_dict().items()}


def check_layout(expected: dict[str, tuple[tuple[int, ...], str]], header: dict[str, Any], path: Path) -> None:
    """Raise ``IncompatibleWeightsError`` listing every name, shape or dtype the header does not share
    with ``expected`` (from ``expected_layout``); nothing is read or allocated."""
    found = {k: (info.shape, _DTYPES.get(info.dtype, info.dtype)) for k, info in header.items()}
    missing = sorted(expected.keys() - found.keys())
    unexpected = sorted(found.keys() - expected.keys())
    mismatched = [
        f"{k}: checkpoint {found[k][1]}{list(found[k][0])} vs model {expected[k][1]}{list(expected[k][0])}"
        for k in sorted(expected.keys() & found.keys())
        if found[k] != expected[k]
    ]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"missing {shorten(missing, limit=20)}")
        if unexpected:
            parts.append(f"unexpected {shorten(unexpected, limit=20)}")
        if mismatched:
            parts.append(f"mismatched {shorten(mismatched, limit=20)}")
        raise IncompatibleWeightsError(
            f"{path} does not fit the model: " + "; ".join(parts) + ".",
            "Load it with the config.json it was saved with, or pick the model it was trained for.",
        )


def load_weights(model: torch.nn.Module, path: Path) -> None:
    """Load ``path`` into ``model`` strictly; mismatches are listed before any tensor is read."""
    path = Path(path)
    check_layout(expected_layout(model), read_header(path), path)
    model.load_state_dict(load_tensors(path), strict=True)
