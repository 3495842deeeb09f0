"""The declarative records behind every model: plain frozen dataclasses, importable without torch.

A plugin returns ``ModelSpec`` objects from its ``aezoo_register_models`` hook. Everything that
``aezoo list`` and ``aezoo info`` show is data here, never computed from a module, so listing
models never imports torch or a plugin's architecture.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypedDict

from .errors import InvalidSpecError

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
TASKS = ("denoise", "anomaly", "reconstruct", "generate")
DATASET_KINDS = ("images", "tabular")


def _field_error(owner: str, field_name: str, value: Any, wanted: str) -> InvalidSpecError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return InvalidSpecError(f"{owner}: field {field_name!r} is {shown}, not {wanted}.", "Fix the spec in the plugin.")


def _check_str(owner: str, field_name: str, value: Any, *, empty: bool = True) -> None:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise _field_error(owner, field_name, value, "a string" if empty else "a non-empty string")


def _check_int(owner: str, field_name: str, value: Any, *, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _field_error(owner, field_name, value, f"an integer >= {minimum}")


def _check_number(owner: str, field_name: str, value: Any) -> None:
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _field_error(owner, field_name, value, "a finite number")


def _check_json_dict(owner: str, field_name: str, value: Any) -> None:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise _field_error(owner, field_name, value, "a dict with string keys")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidSpecError(
            f"{owner}: field {field_name!r} is not plain JSON ({exc}).", "Use plain JSON values in the spec."
        ) from exc


def check_relative_path(path: str) -> str:
    """Refuse file names that could escape a repo folder (``../``, absolute, backslashes)."""
    pure = PurePosixPath(path)
    if (
        not path
        or "\\" in path
        or pure.is_absolute()
        or any(part in ("..", ".", "") for part in path.split("/"))
    ):
        raise InvalidSpecError(
            f"Unsafe file name {path!r} in a weights manifest.",
            "File names must be plain relative paths inside the repo; fix the manifest.",
        )
    return path


@dataclass(frozen=True)
class WeightsFile:
    """One file of a published checkpoint, pinned by size and full sha256.

    Fields: ``path`` (relative to the repo root, e.g. ``"model.safetensors"``), ``sha256`` (64 hex
    digits of the file's content), ``size`` (bytes)."""

    path: str
    sha256: str
    size: int

    def __post_init__(self) -> None:
        check_relative_path(self.path)
        if not _SHA256.match(self.sha256):
            raise InvalidSpecError(f"{self.path}: sha256 {self.sha256!r} is not 64 hex digits.", "Fix the manifest.")
        if self.size < 0:
            raise InvalidSpecError(f"{self.path}: negative size {self.size}.", "Fix the manifest.")


@dataclass(frozen=True)
class WeightsManifest:
    """Where a model's checkpoint lives on the hub, pinned to one commit, and what it must contain.

    Fields: ``repo_id`` (``"org/name"`` on the Hub), ``revision`` (the full 40-hex commit id the Hub
    returned for the upload), ``files`` (a ``WeightsFile`` per file; ``config.json`` and
    ``model.safetensors`` must be among them). A plugin usually reads it from its release file with
    ``aezoo.Release.from_json``; ``aezoo push --write-release`` writes that file."""

    repo_id: str
    revision: str
    files: tuple[WeightsFile, ...]

    def __post_init__(self) -> None:
        if self.repo_id.count("/") != 1 or not all(self.repo_id.split("/")):
            raise InvalidSpecError(f"Hub repo id {self.repo_id!r} is not 'org/name'.", "Fix the manifest.")
        if not _COMMIT.match(self.revision):
            raise InvalidSpecError(
                f"{self.repo_id}: revision {self.revision!r} is not a full 40-digit commit id.",
                "Pin weights to a commit, not a branch or tag, so they cannot change under users.",
            )
        names = [f.path for f in self.files]
        if "config.json" not in names or "model.safetensors" not in names:
            raise InvalidSpecError(
                f"{self.repo_id}: a manifest must list config.json and model.safetensors.", "Fix the manifest."
            )

    @property
    def repo_name(self) -> str:
        return self.repo_id.split("/")[1]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WeightsManifest:
        try:
            files = tuple(WeightsFile(**f) for f in data["files"])
            return cls(repo_id=data["repo_id"], revision=data["revision"], files=files)
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidSpecError(f"Malformed weights manifest: {exc}.",
                                   "Regenerate it from the weights folder.") from exc

    @classmethod
    def from_json(cls, path: Path | Any) -> WeightsManifest:
        """Read a manifest file, or the manifest of a release file (a path or an ``importlib.resources``
        traversable)."""
        doc = json.loads(path.read_text(encoding="utf-8"))
        try:
            return cls.from_dict(doc["weights"] if isinstance(doc, dict) and "weights" in doc else doc)
        except InvalidSpecError as exc:
            raise InvalidSpecError(
                f"{path} is neither a weights manifest nor a release file ({exc.what})",
                "Read a release file (release.json) with aezoo.Release.from_json; write it with "
                "'aezoo push FOLDER --repo ORG/NAME --write-release PATH'.",
            ) from exc

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Metric:
    """One measured number and exactly how it was measured.

    Fields: ``name`` (``"psnr"``), ``value``, ``dataset`` (the registered data set it was measured
    on), ``split`` (which part, how many items), ``protocol`` (noise, pooling, threshold...), ``unit``
    (``"dB"``, or empty)."""

    name: str  # e.g. "psnr"
    value: float
    dataset: str  # registered data set the number was measured on
    split: str  # e.g. "test (index % 5 == 4, 1,000 digits)"
    protocol: str  # the noise model, the pooling, the threshold ...
    unit: str = ""


@dataclass(frozen=True)
class CardData:
    """What stands behind a checkpoint: licence, data, training and measured metrics.

    Fields: ``license`` (a Hub licence id, ``"mit"``), ``datasets`` (Hub data set ids, for the card's
    metadata), ``training_data`` (what data, how many steps, whether synthetic: from the release),
    ``full_data_training`` (how to train on the full data set), ``metrics`` (``Metric`` records: from
    the release), ``notes``. The prose fields usually come from the plugin's ``card.md``
    (``aezoo.card.read_prose``), the measured ones from ``Release.card``."""

    license: str
    datasets: tuple[str, ...] = ()
    training_data: str = ""  # what data, how many steps, and whether it is synthetic
    full_data_training: str = ""  # how to train on the full data set
    metrics: tuple[Metric, ...] = ()
    notes: str = ""

    def validate(self, owner: str) -> None:
        for name in ("license", "training_data", "full_data_training", "notes"):
            _check_str(owner, f"card.{name}", getattr(self, name))
        if not isinstance(self.datasets, (tuple, list)) or not all(isinstance(d, str) for d in self.datasets):
            raise _field_error(owner, "card.datasets", self.datasets, "a tuple of strings")
        if not isinstance(self.metrics, (tuple, list)):
            raise _field_error(owner, "card.metrics", self.metrics, "a tuple of aezoo.Metric")
        for metric in self.metrics:
            if not isinstance(metric, Metric):
                raise _field_error(owner, "card.metrics", metric, "an aezoo.Metric")
            for name in ("name", "dataset", "split", "protocol", "unit"):
                _check_str(owner, f"card.metrics.{name}", getattr(metric, name))
            _check_number(owner, f"card.metrics.{metric.name}.value", metric.value)


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: the family step of the engine and its hyperparameters.

    Fields: ``step`` (``"package.module:StepClass"``, e.g. ``"aezoo.training.steps:DenoisingStep"``),
    ``dataset`` (a registered data set name, ``aezoo datasets``), ``epochs``, ``batch_size``, ``lr``,
    ``seed``, ``options`` (the step's own settings, plain JSON)."""

    step: str  # "package.module:StepClass", a training step of aezoo.training.steps or the plugin's own
    dataset: str  # registered data set name
    epochs: int
    batch_size: int
    lr: float
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict, hash=False)  # step-specific settings

    def validate(self, owner: str) -> None:
        if not isinstance(self.step, str) or ":" not in self.step:
            raise _field_error(owner, "recipe.step", self.step, "'package.module:StepClass'")
        _check_str(owner, "recipe.dataset", self.dataset, empty=False)
        _check_int(owner, "recipe.epochs", self.epochs, minimum=1)
        _check_int(owner, "recipe.batch_size", self.batch_size, minimum=1)
        _check_number(owner, "recipe.lr", self.lr)
        if self.lr <= 0:
            raise _field_error(owner, "recipe.lr", self.lr, "a positive number")
        _check_int(owner, "recipe.seed", self.seed)
        _check_json_dict(owner, "recipe.options", self.options)


class Preprocessing(TypedDict, total=False):
    """What inputs a model takes: the keys aezoo's code reads, typed, plus ``notes`` for people. Every
    key is optional; ``ModelSpec.validate`` refuses other keys and wrong types. It is written into
    every checkpoint's config.json; a checkpoint read back keeps what it holds (older ones carry prose
    keys such as ``noise`` or ``scaling``, which nothing reads).

    Keys: ``image_size`` (images: the side in pixels), ``channels`` (images: 1 gray, 3 RGB), ``range``
    (images: ``[low, high]`` of the pixel values), ``features`` (tables: the column names in the
    model's order, or None for unnamed columns), ``label`` (tables: the 0/1 label column a table may
    carry, or None), ``ignore`` (tables: columns a table may carry that the model does not read, such
    as an id or a timestamp), ``notes`` (prose: the noise, the scaling, the score... no code reads it)."""

    image_size: int
    channels: int
    range: list[float]
    features: list[str] | None
    label: str | None
    ignore: list[str]
    notes: str


def check_preprocessing(owner: str, value: Any) -> None:
    """Refuse a ``preprocessing`` with a key aezoo does not know or a value of the wrong type, by name."""
    _check_json_dict(owner, "preprocessing", value)
    unknown = sorted(set(value) - set(Preprocessing.__annotations__))
    if unknown:
        raise InvalidSpecError(
            f"{owner}: field 'preprocessing' has keys {unknown} that aezoo does not read.",
            f"Use only {', '.join(Preprocessing.__annotations__)} (aezoo.spec.Preprocessing); put prose in 'notes'.",
        )
    for key in ("image_size", "channels"):
        if key in value:
            _check_int(owner, f"preprocessing.{key}", value[key], minimum=1)
    bounds = value.get("range", [0.0, 1.0])
    numbers = isinstance(bounds, (list, tuple)) and len(bounds) == 2 and all(
        isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
    if not numbers or not bounds[0] < bounds[1]:
        raise _field_error(owner, "preprocessing.range", bounds, "[low, high] with low < high")
    features = value.get("features")
    names = isinstance(features, (list, tuple)) and all(isinstance(f, str) for f in features)
    if features is not None and (not names or len(set(features)) != len(features)):
        raise _field_error(owner, "preprocessing.features", features, "a list of distinct column names or None")
    if value.get("label") is not None:
        _check_str(owner, "preprocessing.label", value["label"], empty=False)
    ignore = value.get("ignore", [])
    if not isinstance(ignore, (list, tuple)) or not all(isinstance(c, str) and c for c in ignore):
        raise _field_error(owner, "preprocessing.ignore", ignore, "a list of column names")
    _check_str(owner, "preprocessing.notes", value.get("notes", ""))


@dataclass(frozen=True)
class ModelSpec:
    """A model in the zoo: architecture by reference, config, recipe, weights and card.

    Fields: ``name`` (lowercase, unique across installed plugins), ``summary`` (one line),
    ``task`` (one of ``TASKS``: it decides the task API the conformance kit checks), ``family``,
    ``builder`` (``"package.module:function"``, called as ``builder(**config)``), ``config`` (plain
    JSON), ``card`` (``CardData``), ``params`` (the exact parameter count), ``recipe`` (``Recipe`` or
    None), ``weights`` (``WeightsManifest`` or None: not published yet), ``preprocessing`` (what
    inputs the model takes: a ``Preprocessing``, e.g. ``image_size``, ``channels``, ``features``),
    ``distribution`` (set by the registry: the distribution that registered it)."""

    name: str
    summary: str
    task: str
    family: str
    builder: str  # "package.module:function", called as builder(**config) -> torch.nn.Module
    config: dict[str, Any] = field(hash=False)
    card: CardData
    params: int  # parameter count, checked against the built module by the conformance tests
    recipe: Recipe | None = None
    weights: WeightsManifest | None = None
    preprocessing: Preprocessing = field(default_factory=Preprocessing, hash=False)
    distribution: str = ""  # filled in by the registry: who registered this spec

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise InvalidSpecError(
                f"Model name {self.name!r} is not lowercase letters, digits, '.', '_' and '-'.", "Rename it."
            )
        if not isinstance(self.builder, str) or ":" not in self.builder:
            raise InvalidSpecError(
                f"{self.name}: builder {self.builder!r} is not 'package.module:function'.",
                "Refer to the architecture by import string so listing models does not import torch.",
            )
        try:
            json.dumps(self.config)
            json.dumps(self.preprocessing)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidSpecError(f"{self.name}: config is not JSON-serialisable ({exc}).",
                                   "Use plain JSON values.") from exc

    def validate(self) -> ModelSpec:
        """Check every field's type and allowed values; the registry calls this at registration,
        so one faulty spec is skipped (named) instead of breaking ``list`` and ``info`` for all."""
        owner = f"Model spec {self.name!r}"
        _check_str(owner, "summary", self.summary)
        if self.task not in TASKS:
            raise _field_error(owner, "task", self.task, "one of " + ", ".join(TASKS))
        _check_str(owner, "family", self.family, empty=False)
        _check_json_dict(owner, "config", self.config)
        check_preprocessing(owner, self.preprocessing)
        _check_int(owner, "params", self.params)
        if not isinstance(self.card, CardData):
            raise _field_error(owner, "card", self.card, "an aezoo.CardData")
        self.card.validate(owner)
        if self.recipe is not None:
            if not isinstance(self.recipe, Recipe):
                raise _field_error(owner, "recipe", self.recipe, "an aezoo.Recipe or None")
            self.recipe.validate(owner)
        if self.weights is not None and not isinstance(self.weights, WeightsManifest):
            raise _field_error(owner, "weights", self.weights, "an aezoo.WeightsManifest or None")
        _check_str(owner, "distribution", self.distribution)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DatasetSpec:
    """A data set by name: where it comes from and the import string of its loader.

    Fields: ``name``, ``summary``, ``kind`` (``"images"`` or ``"tabular"``), ``loader``
    (``"package.module:function"``), ``source`` (where the data comes from), ``offline`` (True when
    it ships inside a package), ``license``, ``distribution`` (set by the registry), ``columns`` (a
    table data set with a fixed schema: its columns, any order).

    The loader is called as ``loader(**options)`` and returns an ``aezoo.data.Splits``; it is
    imported only when the data is needed. A CSV file or DataFrame given as ``data=`` with exactly a
    data set's ``columns`` is read by that loader (``path=`` the file, or ``frame=`` the DataFrame,
    with ``features=`` the model's columns), so it gets the data set's split and checks.
    """

    name: str
    summary: str
    kind: str  # "images" or "tabular"
    loader: str  # "package.module:function"
    source: str  # where the data comes from (a package, a URL, a file the user supplies)
    offline: bool  # True when it can be had with no network (it ships inside a package)
    license: str = ""
    distribution: str = ""
    columns: tuple[str, ...] = ()  # a table's fixed schema: tables with exactly these columns are read by the loader

    def __post_init__(self) -> None:
        if (
            not isinstance(self.name, str) or not _NAME.match(self.name)
            or not isinstance(self.loader, str) or ":" not in self.loader
        ):
            raise InvalidSpecError(
                f"Data set {self.name!r}: name must be lowercase and loader 'package.module:function'.", "Fix the spec."
            )

    def validate(self) -> DatasetSpec:
        """Check every field's type and allowed values (called by the registry at registration)."""
        owner = f"Data set spec {self.name!r}"
        for name in ("summary", "source", "license", "distribution"):
            _check_str(owner, name, getattr(self, name))
        if self.kind not in DATASET_KINDS:
            raise _field_error(owner, "kind", self.kind, "one of " + ", ".join(DATASET_KINDS))
        if not isinstance(self.offline, bool):
            raise _field_error(owner, "offline", self.offline, "True or False")
        if not isinstance(self.columns, (tuple, list)) or not all(isinstance(c, str) for c in self.columns):
            raise _field_error(owner, "columns", self.columns, "a tuple of column names")
        if self.columns and self.kind != "tabular":
            raise _field_error(owner, "columns", self.columns, "empty for a data set of images")
        return self


@dataclass(frozen=True)
class Release:
    """What a published checkpoint adds to a plugin's spec, read from its ``release.json``:
    the pinned weights manifest and the measured card facts (metrics, training data).

    Fields: ``weights`` (the ``WeightsManifest``, or None), ``metrics``, ``training_data``. The file
    is what ``aezoo push --write-release`` writes: ``{"weights": {...}, "metrics": [...],
    "training_data": "..."}``.

    A plugin whose model has not been trained and published yet has no release file: it then
    gets no weights (``aezoo.load`` says so) and no metrics, rather than failing to register.
    """

    weights: WeightsManifest | None
    metrics: tuple[Metric, ...]
    training_data: str

    @classmethod
    def from_json(cls, path: Path | Any) -> Release:
        """Read a release file (a path or an ``importlib.resources`` traversable)."""
        if not path.is_file():
            return cls(weights=None, metrics=(), training_data="Not trained yet: no weights are published.")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                weights=WeightsManifest.from_dict(doc["weights"]),
                metrics=tuple(Metric(**m) for m in doc["metrics"]),
                training_data=doc["training_data"],
            )
        except (OSError, KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            raise InvalidSpecError(
                f"Malformed release file {path}: {type(exc).__name__}: {str(exc)[:200]}.",
                "Write it again with 'aezoo push FOLDER --repo ORG/NAME --write-release PATH'.",
            ) from exc

    def card(self, **static: Any) -> CardData:
        """The full card: the plugin's static facts (license, datasets, ...) plus this release's numbers."""
        return CardData(**static, metrics=self.metrics, training_data=self.training_data)
