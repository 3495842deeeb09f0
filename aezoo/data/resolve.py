"""Turn what a user passes as ``data=`` into train and test splits."""

from __future__ import annotations

from typing import Any

from ..errors import DatasetUnavailableError
from ..spec import ModelSpec
from . import Splits, load_dataset


def resolve_data(data: Any, spec: ModelSpec) -> Splits:
    """``data`` is a registered data set name or a ``Splits``."""
    if isinstance(data, Splits):
        return data
    if isinstance(data, str):
        return load_dataset(data)
    raise DatasetUnavailableError(
        f"Cannot train {spec.name} on a {type(data).__name__}.",
        "Pass a registered data set name (see 'aezoo datasets') or an aezoo.data.Splits.",
    )
