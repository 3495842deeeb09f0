"""Turn whatever a user passes as ``data=`` into train and test splits shaped for the model.

Accepted: a registered data set name, or ``NAME:PATH`` for a data set read from a file or folder
(``celeba:~/data/img_align_celeba``, ``creditcard:creditcard.csv``); a path (a folder of images, or a
.csv file); a numpy array, torch tensor or pandas DataFrame; a torch Dataset; or ready ``Splits``. In-memory data
without its own split is split as every aezoo data set is: index % 5 == 4 is held out.
Image loaders receive the model's ``image_size`` and ``channels`` from its preprocessing, so
the data follows the checkpoint's config.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any

from ..errors import DataMismatchError, DatasetUnavailableError, NotEnoughDataError
from ..registry import get_registry
from ..spec import ModelSpec
from . import Splits, dataset_spec
from .columns import differences, shorten
from .split import TEST_EVERY, held_out_mask, split_indices, split_text


def resolve_data(data: Any, spec: ModelSpec, preprocessing: dict[str, Any] | None = None) -> Splits:
    """``data`` as ``Splits`` for ``spec``'s model, checked before any step runs: both splits hold
    items (``NotEnoughDataError``) and the items fit the model (``DataMismatchError``: a table for an
    image model, images for a table model, or a table with another number of columns)."""
    preprocessing = dict(spec.preprocessing if preprocessing is None else preprocessing)
    splits = _resolve(data, spec, preprocessing)
    check_fits(splits, spec.name, preprocessing)
    return splits


def check_fits(splits: Splits, model: str, preprocessing: dict[str, Any]) -> None:
    """Refuse, by name, data whose splits are empty or whose items cannot be the model's input."""
    try:
        sizes = len(splits.train), len(splits.test)  # type: ignore[arg-type]
    except TypeError:  # an iterable Dataset: no length to check
        return
    shape = _item_shape(splits.train) if sizes[0] else None
    if shape is not None:
        _check_shape(shape, splits.name, model, preprocessing, getattr(splits.train, "features", None))
    if not all(sizes):
        raise NotEnoughDataError(
            f"{splits.name} gives {sizes[0]} training and {sizes[1]} held-out items; {model} needs both to train "
            "and to be measured.",
            f"Pass at least {TEST_EVERY} items (every {TEST_EVERY}th is held out), or ready aezoo.data.Splits.",
        )


def _check_shape(shape: tuple[int, ...], name: str, model: str, preprocessing: dict[str, Any],
                 columns: Any = None) -> None:
    features = preprocessing.get("features")
    size, channels = preprocessing.get("image_size"), preprocessing.get("channels")
    if isinstance(features, list | tuple):
        if len(shape) != 1 or shape[0] != len(features):
            given = f"rows of {shape[0]} columns" if len(shape) == 1 else f"items shaped {tuple(shape)}, not table rows"
            if columns:  # named columns: say which differ
                missing, unexpected = differences(columns, features)
                given += f" (missing {shorten(missing)}, unexpected {shorten(unexpected)})"
            raise DataMismatchError(
                f"{name} gives {given}; {model} reads tables of {len(features)} columns.",
                "Pass a CSV or data set with the model's columns ('aezoo info " + model + "').",
            )
    elif isinstance(size, int) and isinstance(channels, int):
        pixels = channels * size * size
        if math.prod(shape) != pixels:
            given = f"rows of {shape[0]} columns (a table)" if len(shape) == 1 else f"items shaped {tuple(shape)}"
            raise DataMismatchError(
                f"{name} gives {given}; {model} takes {channels}x{size}x{size} images.",
                "Pass a folder of images or an image data set ('aezoo datasets').",
            )


def _item_shape(dataset: Any) -> tuple[int, ...] | None:
    try:
        item = dataset[0]
    except Exception:
        return None
    x = item[0] if isinstance(item, tuple | list) else item
    shape = getattr(x, "shape", None)
    return tuple(int(n) for n in shape) if shape is not None else None


def _resolve(data: Any, spec: ModelSpec, preprocessing: dict[str, Any]) -> Splits:
    if isinstance(data, Splits):
        return data
    if isinstance(data, str) and not Path(data).exists():
        name, colon, path = data.partition(":")
        if colon and name in get_registry().datasets():  # NAME:PATH, e.g. celeba:~/data/img_align_celeba
            return _registered(name, preprocessing, path=path)
        return _registered(data, preprocessing)
    if isinstance(data, str | Path):
        given = Path(data)
        if given.is_dir():
            return _registered("image-folder", preprocessing, path=str(given))
        if given.suffix.lower() in (".csv", ".gz"):
            return _registered("csv", preprocessing, path=str(given))
        raise DatasetUnavailableError(f"Cannot read training data from {given}.",
                                      "Pass a folder of images or a .csv file.")
    if "features" in preprocessing and hasattr(data, "columns"):  # a DataFrame for a tabular model: by column name
        from .tabular import frame_splits

        return frame_splits(data, features=preprocessing["features"], label=preprocessing.get("label"),
                            ignore=preprocessing.get("ignore", ()))
    return split_in_memory(data, name=f"in-memory {type(data).__name__}")


def _registered(name: str, preprocessing: dict[str, Any], **options: Any) -> Splits:
    from ..api import import_object

    loader = import_object(dataset_spec(name).loader)
    accepted = inspect.signature(loader).parameters
    options.update({k: v for k, v in preprocessing.items() if k in accepted and k not in options})
    return loader(**options)


def split_in_memory(data: Any, *, name: str) -> Splits:
    """Arrays, tensors, DataFrames and Datasets: hold out index % 5 == 4."""
    import torch
    from torch.utils.data import Dataset, Subset, TensorDataset

    if isinstance(data, Dataset):
        n = len(data)  # type: ignore[arg-type]
        train_index, test_index = split_indices(n)
        return Splits(Subset(data, train_index), Subset(data, test_index), name,
                      f"a {type(data).__name__} of {n} items", _split_text(len(train_index), len(test_index)))
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):  # pandas DataFrame
        data = data.to_numpy(dtype="float32", copy=True)
    try:
        tensor = data.float().clone() if torch.is_tensor(data) else torch.tensor(data, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DatasetUnavailableError(
            f"Cannot use a {type(data).__name__} as training data.",
            "Pass a data set name, a path, an array / tensor / DataFrame, a torch Dataset or aezoo.data.Splits.",
        ) from exc
    if tensor.dim() == 3:  # (N, H, W) grayscale images
        tensor = tensor.unsqueeze(1)
    labels = torch.zeros(len(tensor), dtype=torch.long)
    test = held_out_mask(len(tensor))
    return Splits(
        TensorDataset(tensor[~test], labels[~test]), TensorDataset(tensor[test], labels[test]), name,
        f"{len(tensor)} items shaped {tuple(tensor.shape[1:])}", _split_text(int((~test).sum()), int(test.sum())),
    )


def _split_text(train: int, test: int) -> str:
    return split_text(f"{train} items", f"{test} items")
