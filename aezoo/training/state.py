"""Training state without pickle: tensors in safetensors, everything else in JSON.

A state is saved into its own folder, then a ``latest`` pointer file is replaced atomically, so
a run killed at any moment leaves the previous state intact and resumable.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checkpoint import atomic_write, load_tensors, save_tensors
from ..errors import CheckpointError, TrainingError

if TYPE_CHECKING:
    import torch

LATEST = "latest"
STATE_FILES = frozenset({"state.json", "state.safetensors"})
_STATE_NAME = re.compile(r"epoch-\d{4,}")


def is_state_folder(path: Path) -> bool:
    """A folder aezoo wrote as one training state: named ``epoch-NNNN``, holding its two files and
    nothing else. Only such folders are ever replaced or removed."""
    if not _STATE_NAME.fullmatch(path.name) or path.is_symlink() or not path.is_dir():
        return False
    names = {p.name for p in path.iterdir()}
    return bool(names) and names <= STATE_FILES


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
    ``folder/latest`` at it and remove older states (only folders aezoo wrote as states: anything
    else in ``folder`` is left as it is). ``durable=False`` skips the fsyncs: for the
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
    if target.exists() or target.is_symlink():
        if not is_state_folder(target):
            shutil.rmtree(tmp, ignore_errors=True)
            raise TrainingError(
                f"{target} is in the way of the training state and was not written by aezoo.",
                "Move it out of the training-state folder, or use another output folder.",
            )
        shutil.rmtree(target)
    tmp.rename(target)
    atomic_write(folder / LATEST, name.encode(), durable=durable)
    for old in folder.iterdir():
        if old.name != name and is_state_folder(old):
            shutil.rmtree(old, ignore_errors=True)
    return target


def _unreadable(folder: Path, exc: BaseException) -> TrainingError:
    detail = " ".join(str(exc).split())[:200]
    return TrainingError(
        f"Training state in {folder} is unreadable ({type(exc).__name__}{': ' + detail if detail else ''}).",
        f"Delete {folder} to start over (--no-resume), or restore it.",
    )


# What malformed JSON of the wrong structure can raise while it is read and unflattened: missing or
# unhashable keys, pairs that are not pairs, deep nesting, integers json refuses (4,300+ digits).
_MALFORMED = (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)


def _skeleton(folder: Path) -> tuple[Path, Any] | None:
    """The state folder ``folder/latest`` names (an ``epoch-NNNN`` inside ``folder``) and its parsed
    state.json; None when there is no pointer. Anything malformed is a ``TrainingError``."""
    pointer = folder / LATEST
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_bytes()[:64].decode("ascii").strip()
        if not _STATE_NAME.fullmatch(name):
            raise ValueError(f"the {LATEST} file names {name!r}, not a state folder epoch-NNNN")
        target = folder / name
        return target, json.loads((target / "state.json").read_text(encoding="utf-8"))
    except _MALFORMED as exc:
        raise _unreadable(folder, exc) from exc


def read_settings(folder: Path) -> dict[str, Any] | None:
    """The ``run`` entry (settings of the run, no tensors) of the state ``folder/latest`` points at,
    read from its JSON alone; None when there is no state or it predates recorded settings."""
    found = _skeleton(folder)
    if found is None:
        return None
    try:
        for key, value in found[1]["__dict__"]:
            if key == "run":
                run = unflatten(value, {})
                if not isinstance(run, dict):
                    raise TypeError(f"its run settings are a {type(run).__name__}, not a mapping")
                return run
    except _MALFORMED as exc:
        raise _unreadable(folder, exc) from exc
    return None


def load_state(folder: Path) -> dict[str, Any] | None:
    """The state ``folder/latest`` points at, or None when there is none. Whatever the files hold,
    the only error is a ``TrainingError`` (or the ``CheckpointError`` of an unreadable tensors file)."""
    found = _skeleton(folder)
    if found is None:
        return None
    target, skeleton = found
    try:
        tensors = load_tensors(target / "state.safetensors")
    except CheckpointError as exc:
        raise _unreadable(folder, exc) from exc
    try:
        state = unflatten(skeleton, tensors)
        if not isinstance(state, dict):
            raise TypeError(f"it holds a {type(state).__name__}, not a mapping")
        if not isinstance(state.get("run", {}), dict):
            raise TypeError(f"its run settings are a {type(state['run']).__name__}, not a mapping")
    except _MALFORMED as exc:
        raise _unreadable(folder, exc) from exc
    return state
