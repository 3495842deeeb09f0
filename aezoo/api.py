"""The public functions: find, inspect, download and load models by name, hub repo or folder.

Only ``load`` imports torch, and only when called.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

from . import hub, publish
from .card import read_card
from .checkpoint import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, CheckpointConfig, read_config
from .errors import AezooError, CheckpointError, InvalidReferenceError, InvalidSpecError, WeightsUnavailableError
from .registry import get_registry
from .spec import CardData, ModelSpec

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class ModelInfo:
    """Attached to every loaded model as ``model.aezoo``: what it is and where it came from."""

    name: str  # the registered architecture
    config: dict[str, Any] = field(hash=False)
    preprocessing: dict[str, Any] = field(hash=False)
    card: CardData | None
    path: Path | None  # the checkpoint folder; None for a model built without weights
    spec: ModelSpec


def list_models(pattern: str | None = None) -> list[ModelSpec]:
    """Installed models, sorted by name; ``pattern`` is a shell wildcard such as ``"*-faces"``."""
    return get_registry().models(pattern)


def info(name: str) -> ModelSpec:
    """The spec of one model: summary, config, recipe, weights manifest and card."""
    return get_registry().get(name)


class HubOptions(TypedDict, total=False):
    """Where a load takes weights from, as ``aezoo.load`` takes them; for the calls that load a model
    on the way (``evaluate``, ``finetune``)."""

    revision: str | None
    cache_dir: str | os.PathLike[str] | None
    local_files_only: bool
    token: str | bool | None


HUB_OPTIONS = tuple(HubOptions.__annotations__)


class _Access(TypedDict):
    """How ``hub.fetch`` and ``hub.fetch_ref`` reach the hub, passed on as keywords."""

    cache_dir: str | os.PathLike[str] | None
    local_files_only: bool
    token: str | bool | None
    force: bool


def pop_hub_options(kwargs: dict[str, Any]) -> HubOptions:
    """Take the ``HubOptions`` out of a call's other keyword arguments."""
    return cast(HubOptions, {key: kwargs.pop(key) for key in HUB_OPTIONS if key in kwargs})


def download(
    name: str,
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    force: bool = False,
    to: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Make a registered model's checkpoint local and verified; returns its folder.

    The pinned checkpoint comes from a mirror, the cache or the hub, each file checked by sha256.
    ``revision`` (another revision of the model's hub repo) is taken as asked, checked against the
    hub's own content ids: the pinned sha256 describe only the pinned commit. ``to``: also write the
    checkpoint as the mirror folder ``to/<repo name>/`` that ``AEZOO_MIRRORS`` reads, and return that
    (``overwrite`` replaces a folder there that does not hold it)."""
    spec = info(name)
    if spec.weights is None:
        raise WeightsUnavailableError(
            f"{name} has no published weights.", f"Train it instead: aezoo train {name}."
        )
    manifest = spec.weights
    access: _Access = {"cache_dir": cache_dir, "local_files_only": local_files_only, "token": token, "force": force}
    if revision is not None and revision != manifest.revision:
        if to is not None:
            raise InvalidReferenceError(
                f"A mirror folder holds the pinned {manifest.repo_id}@{manifest.revision[:12]}, "
                f"not revision {revision!r}.",
                "Drop the revision to write the mirror (AEZOO_MIRRORS checks files against the pinned sha256).",
            )
        folder = hub.fetch_ref(manifest.repo_id, hub.check_revision(revision), **access)
        return _same_model(spec.name, folder, f"hf://{manifest.repo_id}@{revision}")
    if to is None:
        return hub.fetch(manifest, **access)
    from .mirror import holds, write_mirror

    to = Path(to).expanduser()
    if holds(to / manifest.repo_name, manifest):
        return to / manifest.repo_name
    # The mirror being written is never its own source (it may be an outdated one in AEZOO_MIRRORS).
    return write_mirror(manifest, hub.fetch(manifest, skip_mirror=to, **access), to, overwrite=overwrite)


def _same_model(name: str, folder: Path, ref: str) -> Path:
    """A name asked at another revision must still be that model: its config names the architecture."""
    architecture = read_config(folder).architecture
    if architecture != name:
        raise CheckpointError(
            f"{ref} (asked for as {name!r}) holds a {architecture!r} checkpoint, not {name!r}.",
            f"Check the revision, or load it as {ref}.",
        )
    return folder


def looks_like_path(ref: str | os.PathLike[str]) -> bool:
    """Whether the user clearly wrote a path: a ``pathlib.Path``, or a string that starts with ``.``
    or ``~`` (``./x``, ``../x``, ``~/x``) or is absolute. Anything else is a model name or, with one
    ``/``, a hub repo ``org/name``, even when a folder of that name exists in the working directory."""
    if isinstance(ref, os.PathLike):
        return True
    return ref.startswith((".", "~")) or os.path.isabs(ref)


def ref_kind(ref: str | os.PathLike[str]) -> str:
    """How ``aezoo.load`` reads a reference: ``"hf"`` (``hf://org/name@rev``), ``"folder"`` (an explicit
    path), ``"repo"`` (``org/name`` on the hub) or ``"name"`` (a registered model)."""
    if isinstance(ref, str) and ref.startswith(hub.HUB_PREFIX):
        return "hf"
    if looks_like_path(ref):
        return "folder"
    separators = {sep for sep in ("/", os.sep, os.altsep) if sep is not None}
    return "repo" if any(sep in str(ref) for sep in separators) else "name"


def resolve(
    ref: str | os.PathLike[str],
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    force: bool = False,
) -> Path:
    """A model name, ``org/name`` (a hub repo), ``hf://org/name@rev`` or a folder -> a local, verified folder.

    A bare name always means the registered model and its pinned, sha256-checked weights, and
    ``org/name`` always the hub repo: a folder ``./fc-dae-mnist/`` never stands in for
    ``fc-dae-mnist``; write ``./fc-dae-mnist`` to load it. ``revision`` applies to the hub repo
    (for a name: its repo, see ``download``); ``cache_dir``, ``local_files_only`` and ``token`` go to
    huggingface_hub on every request."""
    access: _Access = {"cache_dir": cache_dir, "local_files_only": local_files_only, "token": token, "force": force}
    kind = ref_kind(ref)
    if kind == "hf":
        return hub.fetch_ref(*hub.parse_hub_ref(str(ref), revision=revision), **access)
    if kind == "folder":
        if revision is not None:
            raise InvalidReferenceError(
                f"revision={revision!r} applies to hub repos, and {str(ref)!r} is a folder.",
                "Drop the revision, or name the hub repo (org/name or hf://org/name@revision).",
            )
        folder = Path(ref).expanduser()
        if not folder.is_dir():
            raise CheckpointError(
                f"No checkpoint folder at {str(ref)!r}.", "Check the path, or pass a model name from 'aezoo list'."
            )
        return folder
    ref = str(ref)
    repo_id = _repo_id(ref) if kind == "repo" else None  # refused before any request, saying how to write a folder
    try:
        if repo_id is not None:
            return hub.fetch_ref(repo_id, hub.check_revision(revision or "main", ref=ref), **access)
        return download(ref, revision=revision, **access)
    except AezooError as exc:
        if Path(ref).is_dir():
            hint = f"{exc.hint} To load the folder {ref!r} here instead, write it as a path: ./{ref}".strip()
            raise type(exc)(exc.what, hint) from exc
        raise


def _repo_id(ref: str) -> str:
    try:
        return hub.check_repo_id(ref)
    except InvalidReferenceError as exc:
        raise InvalidReferenceError(
            f"{ref!r} is neither a model name, a hub repo (org/name) nor an explicit path.",
            f"Write a folder as ./{ref}, a hub repo as org/name or hf://org/name@revision.",
        ) from exc


def import_object(reference: str) -> Any:
    """Import ``"package.module:attribute"``."""
    module_name, _, attribute = reference.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidSpecError(
            f"Cannot import {reference!r}: {exc}.", "Reinstall the plugin that provides it."
        ) from exc
    return obj


def build(spec: ModelSpec, config: dict[str, Any] | None = None) -> torch.nn.Module:
    """Make the (untrained) module of ``spec`` from a JSON config (the spec's own by default)."""
    builder: Callable[..., torch.nn.Module] = import_object(spec.builder)
    config = dict(spec.config if config is None else config)
    try:
        inspect.signature(builder).bind(**config)
    except TypeError as exc:
        raise CheckpointError(
            f"The config does not fit {spec.name}'s builder {spec.builder}: {exc}.",
            "Use a config.json written for this model, or update the plugin.",
        ) from exc
    return builder(**config)


def model_info(model: torch.nn.Module) -> ModelInfo:
    """``model.aezoo``, typed: torch types every attribute set on a module at run time as
    ``Tensor | Module``, so code that type-checks reads it through this."""
    return cast(ModelInfo, model.aezoo)


def pick_device(device: str = "auto") -> torch.device:
    import torch

    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def load(
    ref: str | os.PathLike[str],
    *,
    revision: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    token: str | bool | None = None,
    device: str = "auto",
    pretrained: bool = True,
    force_download: bool = False,
) -> torch.nn.Module:
    """A ready model in eval mode, from a name (``"fc-dae-mnist"``), a hub repo holding an aezoo
    checkpoint (``"org/name"``, ``"hf://org/name@revision"``) or a folder written as a path
    (``"./runs/x"``, an absolute path, ``Path("x")``). ``model.aezoo`` holds its config, card and source.

    ``revision`` picks the hub repo's branch, tag or commit (for a name: its repo's, checked against
    the hub's content ids instead of the pinned sha256); ``cache_dir``, ``local_files_only`` and
    ``token`` go to huggingface_hub as in ``hf_hub_download``. ``pretrained=False`` builds the
    architecture with fresh weights, and says so by having no path; with ``pretrained=True`` (the
    default) missing weights are an error, never a silent fallback.
    """
    registry = get_registry()
    if not pretrained:
        if revision is not None:
            raise InvalidReferenceError(
                f"revision={revision!r} picks weights, and pretrained=False loads none.", "Drop one of them."
            )
        spec = registry.get(str(ref))
        model = build(spec)
        # torch types Module.__setattr__'s value as Tensor | Module; any value is set as a plain attribute
        model.aezoo = ModelInfo(  # type: ignore[assignment]
            spec.name, dict(spec.config), dict(spec.preprocessing), spec.card, None, spec)
        return publish.attach(model.to(pick_device(device)).eval())

    from .checkpoint import check_layout, load_tensors, load_weights
    from .safetensors_header import read_header

    folder = resolve(ref, revision=revision, cache_dir=cache_dir, local_files_only=local_files_only, token=token,
                     force=force_download)
    checkpoint: CheckpointConfig = read_config(folder)
    spec = registry.get(checkpoint.architecture)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise CheckpointError(f"{folder} has no {WEIGHTS_FILE}.", "Restore or re-download the checkpoint.")
    # Nothing is allocated until the config is known to fit the weights: the header (read without
    # any tensor) is compared with the module built on the meta device, which holds no storage.
    check_config_types(spec, checkpoint.config, folder / CONFIG_FILE)
    expected = expected_layout_of(spec, checkpoint.config, folder / CONFIG_FILE)
    if expected is not None:
        check_layout(expected, read_header(weights), weights)
    model = _call_builder(spec, checkpoint.config, folder / CONFIG_FILE)
    if expected is not None:  # the header was compared above: read the tensors, once
        model.load_state_dict(load_tensors(weights), strict=True)
    else:  # a builder the meta device cannot run: compare with the real module first
        load_weights(model, weights)
    try:
        card = read_card(folder / CARD_FILE)
    except CheckpointError as exc:  # the card is informative: a malformed one never blocks the weights
        import warnings

        warnings.warn(f"aezoo: {exc}", UserWarning, stacklevel=2)
        card = None
    # torch types Module.__setattr__'s value as Tensor | Module; any value is set as a plain attribute
    model.aezoo = ModelInfo(  # type: ignore[assignment]
        spec.name, checkpoint.config, checkpoint.preprocessing, card, folder, spec)
    return publish.attach(model.to(pick_device(device)).eval())


_JSON_KINDS: list[tuple[type | tuple[type, ...], str]] = [
    (bool, "true or false"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    ((list, tuple), "a list"),
    (dict, "an object"),
]


def _kind(value: Any) -> str | None:
    for types, name in _JSON_KINDS:
        if isinstance(value, types):
            return name
    return None


def check_config_types(spec: ModelSpec, config: dict[str, Any], path: Path) -> None:
    """Every value in a checkpoint's config must have the JSON type of the spec's own value for
    that key (an integer may stand for a number); a key the spec does not set is left to the builder."""
    for key, value in config.items():
        if key not in spec.config or spec.config[key] is None:
            continue
        wanted = _kind(spec.config[key])
        got = _kind(value)
        if wanted is None or got == wanted or (wanted == "a number" and got == "an integer"):
            continue
        shown = repr(value)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        raise CheckpointError(
            f"{path}: config value {key!r} is {shown} ({got or type(value).__name__}), "
            f"but {spec.name} expects {wanted} (like {spec.config[key]!r}).",
            "Fix config.json, or load the checkpoint with the config.json it was saved with.",
        )


def _call_builder(spec: ModelSpec, config: dict[str, Any], path: Path) -> torch.nn.Module:
    try:
        return build(spec, config)
    except (CheckpointError, InvalidSpecError):
        raise
    except (TypeError, ValueError, RuntimeError, OverflowError, MemoryError, IndexError, KeyError) as exc:
        raise CheckpointError(
            f"{path}: {spec.name} cannot be built with this config ({type(exc).__name__}: {exc}).",
            "Fix config.json, or load the checkpoint with the config.json it was saved with.",
        ) from exc


def expected_layout_of(
    spec: ModelSpec, config: dict[str, Any], path: Path
) -> dict[str, tuple[tuple[int, ...], str]] | None:
    """The state-dict names, shapes and dtypes ``config`` would give, learnt by building the module
    on the meta device (no memory is allocated, however large the config asks it to be). None
    when the builder cannot run on the meta device (it then is checked after the real build)."""
    import torch

    from .checkpoint import expected_layout

    try:
        with torch.device("meta"):
            module = _call_builder(spec, config, path)
    except CheckpointError as exc:
        if _meta_unsupported(exc.__cause__):
            return None
        raise
    except NotImplementedError:
        return None
    return expected_layout(module)


def _meta_unsupported(exc: BaseException | None) -> bool:
    return isinstance(exc, (NotImplementedError, RuntimeError)) and "meta" in str(exc).lower()
