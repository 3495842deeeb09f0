"""Training state without pickle: tensors in safetensors, everything else in JSON.

A state is saved into its own folder, then a ``latest`` pointer file is replaced atomically, so
a run killed at any moment leaves the previous state intact and resumable.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checkpoint import atomic_write, load_tensors, save_tensors
from ..errors import TrainingError

if TYPE_CHECKING:
    import torch

LATEST = "latest"


def flatten(obj: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Replace every tensor in a nested structure by ``{"__tensor__": key}``, collecting tensors."""
    import torch

    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        return {"__dict__": [[flatten(k, f"{prefix}.k{i}", tensors), flatten(v, f"{prefix}.{i}", tensors)]
                             for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, list | tuple):
        items = [flatten(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TrainingError(f"Cannot save training state value of type {type(obj).__name__} at {prefix}.", "")


def unflatten(doc: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(doc, dict):
        if "__tensor__" in doc:
            return tensors[doc["__tensor__"]]
        if "__tuple__" in doc:
            return tuple(unflatten(v, tensors) for v in doc["__tuple__"])
        return {unflatten(k, tensors): unflatten(v, tensors) for k, v in doc["__dict__"]}
    if isinstance(doc, list):
        return [unflatten(v, tensors) for v in doc]
    return doc


def save_state(folder: Path, name: str, state: dict[str, Any], *, durable: bool = True) -> Path:
    """Write ``state`` (nested dicts of tensors and JSON values) as ``folder/name/``, then point
    ``folder/latest`` at it and remove older states. ``durable=False`` skips the fsyncs: for the
    states between epochs, which the next one replaces (a crash loses at most the epochs since the
    last durable state, never its consistency: ``latest`` moves only after the state is complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    tensors: dict[str, torch.Tensor] = {}
    skeleton = flatten(state, "s", tensors)
    save_tensors(tensors, tmp / "state.safetensors", durable=durable)
    atomic_write(tmp / "state.json", json.dumps(skeleton).encode(), durable=durable)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    atomic_write(folder / LATEST, name.encode(), durable=durable)
    for old in folder.iterdir():
        if old.is_dir() and old.name != name and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return target


def load_state(folder: Path) -> dict[str, Any] | None:
    """The state ``folder/latest`` points at, or None when there is none."""
    pointer = folder / LATEST
    if not pointer.is_file():
        return None
    target = folder / pointer.read_text().strip()
    try:
        skeleton = json.loads((target / "state.json").read_text())
    except (OSError, ValueError) as exc:
        raise TrainingError(
            f"Training state {target} is unreadable ({exc}).",
            f"Delete {folder} to start over, or restore it.",
        ) from exc
    return unflatten(skeleton, load_tensors(target / "state.safetensors"))
