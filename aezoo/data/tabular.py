"""Tabular data sets. Every loader returns ``Splits`` of ``TableDataset``: rows of float32 features
with a 0/1 label (1 = anomaly), and the feature names, so a model can check columns by name.

Split as every aezoo data set without an official split: rows with index % 5 == 4 are held out.
Anomaly models train on the label-0 rows of the training split only; the held-out split keeps
both classes for ROC AUC and average precision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch.utils.data import Dataset

from ..errors import DatasetUnavailableError
from . import Splits, list_datasets, load_dataset, require
from .columns import ColumnsError, check_columns, shorten
from .split import held_out_mask, split_text

if TYPE_CHECKING:
    import numpy as np

class TableDataset(Dataset):
    """A map-style torch Dataset of table rows: yields ``(features float32 (F,), label int64)``.

    ``features`` names the columns, ``label`` names the label column (None when the data had none);
    ``labelled`` says whether the labels are real (False: every row is treated as normal).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, features: Sequence[str], label: str | None,
                 labelled: bool) -> None:
        self.x, self.y = x, y
        self.features = tuple(features)
        self.label = label
        self.labelled = labelled

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[index], self.y[index]

    @property
    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(rows, labels): the training engine slices batches from them."""
        return self.x, self.y

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return list(zip(self.x[indices], self.y[indices], strict=True))  # one gather per batch, not per row


@dataclass
class Table:
    """A whole table before splitting: features, 0/1 labels (1 = anomaly) and what it is."""

    x: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    name: str
    description: str


def table_splits(x: Any, y: Any | None, *, features: Sequence[str], name: str, description: str,
                 label: str | None = "label") -> Splits:
    """Hold out index % 5 == 4. ``y`` None means unlabelled: every row is treated as normal."""
    import numpy as np

    def tensor(values: Any, dtype: torch.dtype) -> torch.Tensor:
        return values.to(dtype) if torch.is_tensor(values) else torch.from_numpy(np.array(values)).to(dtype)

    x = tensor(x, torch.float32)
    labelled = y is not None
    y = torch.zeros(len(x), dtype=torch.long) if y is None else tensor(y, torch.long)
    if x.dim() != 2 or len(features) != x.shape[1] or len(y) != len(x):
        raise ValueError(f"{name}: {tuple(x.shape)} features, {len(features)} names and {len(y)} labels do not agree.")
    test = held_out_mask(len(x))
    train_set = TableDataset(x[~test], y[~test], features, label if labelled else None, labelled)
    test_set = TableDataset(x[test], y[test], features, label if labelled else None, labelled)

    def count(part: torch.Tensor) -> str:
        return f"{len(part):,} rows" + (f", {int(part.sum()):,} anomalies" if labelled else ", unlabelled")

    return Splits(
        train=train_set, test=test_set, name=name, description=description,
        split=split_text(count(y[~test]), count(y[test])),
        meta={"features": list(features), "label": label if labelled else None},
    )


def breast_cancer_table() -> Table:
    """Wisconsin diagnostic breast cancer (569 x 30, real): benign = normal (0), malignant = anomaly (1)."""
    datasets = require("sklearn.datasets", "scikit-learn", "breast-cancer")
    bunch = datasets.load_breast_cancer()
    y = (bunch.target == 0).astype("int64")  # scikit-learn codes malignant as 0, benign as 1
    return Table(bunch.data.astype("float64"), y, tuple(str(f) for f in bunch.feature_names), "breast-cancer",
                 "the Wisconsin diagnostic breast cancer data shipped with scikit-learn (569 real cases, 30 "
                 "features; 357 benign = normal, 212 malignant = anomaly)")


def digits_table(normal_digit: int = 0) -> Table:
    """scikit-learn's 1,797 8x8 digits as 64 features (0-16): ``normal_digit`` is normal, every other
    digit an anomaly."""
    if normal_digit not in range(10):
        raise ValueError(f"normal_digit must be 0..9, got {normal_digit!r}.")
    datasets = require("sklearn.datasets", "scikit-learn", "digits")
    bunch = datasets.load_digits()
    y = (bunch.target != normal_digit).astype("int64")
    features = tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8))
    return Table(bunch.data.astype("float64"), y, features, "digits",
                 f"scikit-learn's 1,797 real 8x8 digits as 64 features (0-16); digit {normal_digit} = normal "
                 f"({int((y == 0).sum())} rows), the other nine digits = anomaly ({int(y.sum())} rows)")


def _splits(table: Table) -> Splits:
    return table_splits(table.x, table.y, features=table.features, name=table.name, description=table.description)


def breast_cancer() -> Splits:
    """Breast cancer as an anomaly data set: malignant = anomaly; index % 5 == 4 held out."""
    return _splits(breast_cancer_table())


def digits(normal_digit: int = 0) -> Splits:
    """Digits one-class versus rest: ``normal_digit`` is normal; index % 5 == 4 held out."""
    return _splits(digits_table(normal_digit))


def frame_splits(frame: Any, *, features: Sequence[str] | None = None, label: str | None = None,
                 ignore: Sequence[str] = (), name: str = "in-memory DataFrame",
                 description: str | None = None) -> Splits:
    """A pandas DataFrame as ``Splits``: columns checked by name, ``label`` (if present) kept as labels,
    ``ignore``'d columns (a model's, e.g. a timestamp) dropped where present.
    A frame with exactly the columns of a registered table data set (``DatasetSpec.columns``: e.g. the
    creditcard.csv schema) gets that data set's protocol (for creditcard.csv, the time split)."""
    schema = schema_dataset(frame.columns, label)
    if schema is not None:
        return load_dataset(schema, frame=frame, features=features)
    present = [str(c) for c in frame.columns]
    found_label = label if label is not None and label in present else None
    if features is None:  # every column but the label and the ignored ones is a feature
        columns = [c for c in present if c != found_label and c not in ignore]
    else:
        columns = check_columns(present, features, optional=[label, *ignore], source=name)
    pandas = require("pandas", "pandas", name)
    bad = [c for c in columns if not pandas.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ColumnsError(f"{name}: columns {shorten(bad)} are not numeric.", "Encode or drop them first.")
    import numpy as np

    x = frame[columns].to_numpy("float32")
    if not x.size or not np.isfinite(x).all():
        raise ColumnsError(f"{name} is empty or has empty / NaN cells.", "Drop or fill those rows first.")
    y = None
    if found_label is not None:
        y = frame[found_label].to_numpy()
        if not set(y.tolist()) <= {0, 1}:
            raise ColumnsError(f"{name}: label column {found_label!r} holds values other than 0 and 1.",
                               "Labels must be 0 (normal) or 1 (anomaly).")
    labels = f", label column {found_label!r}" if found_label else ", no labels (all treated as normal)"
    text = description or f"{len(frame):,} rows x {len(columns)} features{labels}"
    return table_splits(x, y, features=columns, label=found_label, name=name, description=text)


def csv_table(path: str | Path, label: str | None = None, features: Sequence[str] | None = None,
              ignore: Sequence[str] = ()) -> Splits:
    """Any CSV table (plain or .gz). ``label`` names an optional 0/1 label column (1 = anomaly); with
    ``features`` the columns are checked by name (a model passes the names it was built for);
    ``ignore`` names columns the model does not read, dropped where present.

    A file with exactly the columns of a registered table data set gets that data set's protocol: a
    creditcard.csv (Time, V1..V28, Amount, Class) the time split of the fc-ae-fraud plugin's
    ``creditcard``, so ``aezoo evaluate fc-ae-fraud --data path/to/creditcard.csv`` measures what the
    card states."""
    path = Path(path)
    if not path.is_file():
        raise DatasetUnavailableError(f"No CSV file at {path}.", "Check the path.")
    from .csvfile import read_csv

    frame = read_csv(path)
    schema = schema_dataset(frame.columns, label)
    if schema is not None:
        return load_dataset(schema, path=path, features=features)
    return frame_splits(frame, features=features, label=label, ignore=ignore, name=path.name,
                        description=f"{path.name}: {len(frame):,} rows from a CSV file")


def schema_dataset(columns: Sequence[Any], label: str | None = None) -> str | None:
    """The registered table data set whose fixed schema (``DatasetSpec.columns``) is exactly ``columns``,
    in any order, and holds ``label`` when one is named; None when no data set claims the table."""
    present = sorted(str(c) for c in columns)
    for spec in list_datasets():
        if spec.columns and sorted(spec.columns) == present and (label is None or label in spec.columns):
            return spec.name
    return None
