"""The credit-card fraud data: the real ULB file (``creditcard.csv``) on a time split, and aezoo's seeded
synthetic stand-in.

The real data (284,807 card transactions made by European cardholders over two days in
September 2013, 492 frauds; Worldline and the ULB Machine Learning Group) has 31 columns:
``Time`` (seconds since the first transaction), ``V1`` .. ``V28`` (the principal components of
confidential features), ``Amount`` (euros) and ``Class`` (1 = fraud). Its Kaggle copy is listed under
the Database Contents License (DbCL) v1.0. :func:`creditcard` reads it from a path (schema checked
by column name; a file of the known size must have the known sha256) or fetches the OpenML copy
(data set "creditcard") through scikit-learn when online.

Protocol (:func:`time_split`): rows sorted by Time (stable, so rows with equal times keep their file
order); the first 80 % are the training split, the last 20 % the test split. Every training row
is no later than every test row, so nothing from the future leaks into training. The training
split keeps its frauds with their labels; anomaly models fit its normal rows only.

:func:`generate_creditcard` makes SYNTHETIC transactions with exactly that schema, seeded and
deterministic, so models can be trained and tested anywhere. What it imitates from the real
file: the column names and order, rows sorted by ``Time`` over two days with fewer
transactions at night, ``V1`` .. ``V28`` uncorrelated with the real per-component standard
deviations (1.96 down to 0.33), heavy-tailed amounts, and a fraud rate of 0.1727 % (492 / 284,807).
Normal transactions lie near a nonlinear low-dimensional manifold (a few latent "customer"
factors mapped through a fixed random network, plus noise). Frauds start from the same latent
factors and leave that manifold in one of two ways: "mixed" frauds (60 %) take a random share of
their features from another transaction, so every single feature looks typical and only the
joint structure breaks; "pattern" frauds (40 %) are pushed along one of three fixed directions by
a heavy-tailed, often small, amount. None of it is real data.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aezoo.data import Splits, require
from aezoo.data.columns import check_columns
from aezoo.errors import DatasetUnavailableError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

FEATURES: tuple[str, ...] = ("Time", *(f"V{i}" for i in range(1, 29)), "Amount")
LABEL = "Class"
COLUMNS: tuple[str, ...] = (*FEATURES, LABEL)
REAL_ROWS, REAL_FRAUDS = 284_807, 492
FRAUD_RATE = REAL_FRAUDS / REAL_ROWS  # 0.1727 %
DOWNLOAD = "https://www.kaggle.com/datasets/mlg-ulb/creditcardfraud"
LICENSE = "Database Contents License (DbCL) v1.0"
# The known creditcard.csv (the Kaggle file): its size and sha256.
KNOWN_SIZE = 150_828_752
KNOWN_SHA256 = "76274b691b16a6c49d3f159c883398e03ccd6d1ee12d9d8ee38f4b4b98551a89"
OPENML_NAME, OPENML_VERSION = "creditcard", 1
TRAIN_SHARE = 0.8
SYNTHETIC_ROWS = 200_000
TWO_DAYS = 172_800.0

# Standard deviations of V1..V28 in the real file (they are PCA components, so they decrease).
REAL_V_STD = (1.959, 1.651, 1.516, 1.416, 1.380, 1.332, 1.237, 1.194, 1.099, 1.089, 1.021, 0.999, 0.995, 0.959,
              0.915, 0.876, 0.849, 0.838, 0.814, 0.771, 0.735, 0.726, 0.624, 0.606, 0.521, 0.482, 0.404, 0.330)
_WORLD_SEED = 20_130_901  # fixes the synthetic "world" (its manifold, fraud patterns, rotation) for every seed
_LATENT, _HIDDEN = 6, 24


class CreditCardSchemaError(DatasetUnavailableError, ValueError):
    """A CSV that should hold credit-card transactions lacks columns of the creditcard.csv schema,
    or has columns the schema does not know."""


class CreditCardChecksumError(DatasetUnavailableError):
    """A file the size of the known creditcard.csv whose sha256 differs: a damaged or altered copy."""


def default_path() -> Path:
    """Where ``creditcard()`` looks first when no path is given: ``$AEZOO_HOME/datasets/creditcard/creditcard.csv``."""
    from aezoo.settings import aezoo_home

    return aezoo_home() / "datasets" / "creditcard" / "creditcard.csv"


def _missing_file(path: Path) -> DatasetUnavailableError:
    return DatasetUnavailableError(
        f"The credit-card fraud data is not at {path}.",
        f"Get creditcard.csv (284,807 rows, 150 MB) from {DOWNLOAD} and pass its path "
        "(aezoo train fc-ae-fraud --data path/to/creditcard.csv, or load_dataset('creditcard', path=...)); "
        "without a path aezoo fetches the OpenML copy when online.",
    )


def check_schema(columns: Sequence[Any], *, source: str, require_label: bool = True) -> None:
    """Raise ``CreditCardSchemaError`` naming every missing and unexpected column."""
    check_columns(
        columns, COLUMNS if require_label else FEATURES, source=source, optional=(LABEL,),
        schema="the creditcard.csv schema", error=CreditCardSchemaError,
        hint=f"The schema is Time, V1..V28, Amount, Class (the file from {DOWNLOAD}); for another table use the "
             "'csv' data set with a model configured for its columns.",
    )


def has_schema(columns: Sequence[Any]) -> bool:
    """Whether a table's columns are exactly the creditcard.csv schema (any order)."""
    return sorted(str(c) for c in columns) == sorted(COLUMNS)


def _check_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    pandas = require("pandas", "pandas", "creditcard")
    check_schema(list(frame.columns), source=source)
    bad = [c for c in COLUMNS if not pandas.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise CreditCardSchemaError(f"{source}: columns {bad} are not numeric.", "Check the file for stray text.")
    if frame[list(COLUMNS)].isna().to_numpy().any():
        raise CreditCardSchemaError(f"{source} has empty or NaN cells.", "Drop or fill those rows first.")
    labels = set(frame[LABEL].unique().tolist())
    if not labels <= {0, 1}:
        raise CreditCardSchemaError(f"{source}: column Class holds {sorted(labels)[:5]}, not only 0 and 1.",
                                    "Fix the labels.")
    return frame[list(COLUMNS)]


def verify_file(path: Path) -> bool:
    """True when ``path`` is the known creditcard.csv. A file of the known size is hashed, and a
    different sha256 is a ``CreditCardChecksumError``; a file of another size is just not the known file."""
    if path.stat().st_size != KNOWN_SIZE:
        return False
    from aezoo.integrity import sha256_of

    digest = sha256_of(path)
    if digest != KNOWN_SHA256:
        raise CreditCardChecksumError(
            f"{path} has the size of the known creditcard.csv but sha256 {digest}, not {KNOWN_SHA256}.",
            f"The copy is damaged or altered: download creditcard.csv again from {DOWNLOAD}.",
        )
    return True


def read_creditcard(path: str | Path) -> pd.DataFrame:
    """Read a creditcard.csv (plain or .gz) and check its schema; columns in schema order."""
    path = Path(path)
    if not path.is_file():
        raise _missing_file(path)
    from aezoo.data.csvfile import read_csv

    frame = read_csv(path)
    return _check_frame(frame, str(path))


def fetch_openml_frame(timeout: float = 10.0) -> pd.DataFrame:
    """The OpenML copy of the data (data set "creditcard", version 1) through scikit-learn's
    ``fetch_openml`` (cached under scikit-learn's data home). Offline it fails within seconds."""
    import socket

    datasets = require("sklearn.datasets", "scikit-learn", "creditcard")
    require("pandas", "pandas", "creditcard")
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        bunch = datasets.fetch_openml(OPENML_NAME, version=OPENML_VERSION, as_frame=True, n_retries=1, delay=0.1)
    except Exception as exc:
        raise DatasetUnavailableError(
            f"Could not fetch the credit-card fraud data from OpenML ({type(exc).__name__}: {exc}).",
            f"Offline? Pass the file instead: path=path/to/creditcard.csv (from {DOWNLOAD}).",
        ) from exc
    finally:
        socket.setdefaulttimeout(previous)
    frame = bunch.frame.copy()
    if LABEL in frame.columns:
        frame[LABEL] = frame[LABEL].astype(str).str.strip("'\"").astype("int64")
    for column in FEATURES:
        if column in frame.columns:
            frame[column] = frame[column].astype("float64")
    frame = _check_frame(frame, "The OpenML copy of creditcard")
    if len(frame) != REAL_ROWS or int(frame[LABEL].sum()) != REAL_FRAUDS:
        raise CreditCardSchemaError(
            f"The OpenML copy of creditcard has {len(frame):,} rows and {int(frame[LABEL].sum())} frauds, "
            f"not {REAL_ROWS:,} and {REAL_FRAUDS}.", "Pass the Kaggle file instead: path=path/to/creditcard.csv.")
    return frame


def time_split(time: Any, train_share: float = TRAIN_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test) of the time split: stable sort by ``time``, the first
    ``train_share`` of the rows train, the rest test."""
    import numpy as np

    order = np.argsort(np.asarray(time), kind="stable")
    cut = int(len(order) * train_share)
    return order[:cut], order[cut:]


def creditcard(path: str | Path | None = None, features: Sequence[str] | None = None,
               label: str | None = LABEL, frame: pd.DataFrame | None = None) -> Splits:
    """The real ULB credit-card fraud data on the time split (first 80 % by Time train, last 20 % test).

    ``path``: a creditcard.csv (schema checked; checksum checked when its size is the known file's);
    without it ``$AEZOO_HOME/datasets/creditcard/creditcard.csv`` if present, else the OpenML copy.
    ``frame``: a DataFrame with the schema instead (aezoo passes any CSV or DataFrame with exactly
    these columns here, so it gets this protocol). ``features``: the columns a model reads (a subset
    of Time, V1..V28, Amount, in its order).
    """
    del label  # the label column is always Class
    if frame is not None:
        return creditcard_splits(frame, features=features)
    if path is None and default_path().is_file():
        path = default_path()
    known = False
    if path is not None:
        path = Path(path)
        frame = read_creditcard(path)
        known = verify_file(path)
        source = (f"{path.name}, the known creditcard.csv (sha256 {KNOWN_SHA256[:12]}...)" if known else
                  f"{path.name}, a file with the creditcard.csv schema that is NOT the known file "
                  f"({path.stat().st_size:,} bytes, not {KNOWN_SIZE:,})")
    else:
        frame = fetch_openml_frame()
        source = f"the OpenML copy (data set '{OPENML_NAME}', version {OPENML_VERSION})"
    frauds = int(frame[LABEL].sum())
    description = (f"the ULB credit-card fraud data ({source}: {len(frame):,} transactions, {frauds:,} frauds; "
                   f"data licence: {LICENSE})")
    return creditcard_splits(frame, features=features, source=source, known=known, description=description)


def creditcard_splits(frame: pd.DataFrame, *, features: Sequence[str] | None = None, source: str = "a DataFrame",
                      known: bool = False, description: str | None = None) -> Splits:
    """A table with the creditcard.csv schema on the time split, with the model's ``features`` (default:
    Time, V1..V28, Amount). The test split carries the training split as ``reference`` (the rows that
    baselines are fitted on)."""
    from aezoo.data.tabular import TableDataset

    frame = _check_frame(frame, source)
    columns = _model_columns(features)
    import numpy as np
    import torch

    x = torch.from_numpy(np.array(frame[columns].to_numpy("float32")))
    y = torch.from_numpy(np.array(frame[LABEL].to_numpy("int64")))
    train, test = time_split(frame["Time"].to_numpy())
    train_t, test_t = torch.from_numpy(train), torch.from_numpy(test)
    times = frame["Time"].to_numpy()
    train_set = TableDataset(x[train_t], y[train_t], columns, LABEL, True)
    test_set = TableDataset(x[test_t], y[test_t], columns, LABEL, True)
    test_set.reference = train_set  # the rows baselines are fitted on (aezoo evaluate re-measures them)

    def count(rows: np.ndarray) -> str:
        frauds = int(y[torch.from_numpy(rows)].sum())
        return f"{len(rows):,} rows, {frauds:,} frauds"

    split = (f"time split: rows sorted by Time (stable); train = the first {100 * TRAIN_SHARE:g} % ({count(train)}; "
             f"Time {times[train].min():g} to {times[train].max():g} s; "
             f"only its {len(train) - int(y[train_t].sum()):,} "
             f"normal rows are fitted), test = the last {100 - 100 * TRAIN_SHARE:g} % ({count(test)}; Time "
             f"{times[test].min():g} to {times[test].max():g} s); no test row is earlier than any training row")
    return Splits(
        train=train_set, test=test_set, name="creditcard",
        description=description or (f"{source}: {len(frame):,} rows with the creditcard.csv schema, "
                                    f"{int(frame[LABEL].sum()):,} frauds"),
        split=split,
        meta={"features": columns, "label": LABEL, "known_file": known},
    )


def _model_columns(features: Sequence[str] | None) -> list[str]:
    """The columns a model reads (default: all of Time, V1..V28, Amount), refused by name when the
    creditcard.csv schema lacks one: the columns it does not read (such as Time) are dropped."""
    if features is not None and not features:
        raise CreditCardSchemaError("The model reads no columns.", "Configure the model's features.")
    return check_columns(
        FEATURES, FEATURES if features is None else features, source="creditcard.csv", optional=FEATURES,
        schema="the columns the model reads", error=CreditCardSchemaError,
        hint="Use a model configured for Time, V1..V28, Amount (or a subset).",
    )


creditcard_csv = creditcard  # the name this loader had before the time split


# ----------------------------------------------------------------------------------------------------------------
# The synthetic stand-in


@functools.lru_cache(maxsize=1)
def _world() -> dict[str, Any]:
    """The fixed parameters of the synthetic world, the same for every seed."""
    import numpy as np

    rng = np.random.default_rng(_WORLD_SEED)
    world: dict[str, Any] = {
        "centers": rng.normal(0.0, 1.2, (3, _LATENT)),
        "weights": np.array([0.6, 0.3, 0.1]),
        "a": rng.normal(0.0, 1.0, (_LATENT, _HIDDEN)) / np.sqrt(_LATENT) * 1.5,
        "b": rng.normal(0.0, 0.5, _HIDDEN),
        "w": rng.normal(0.0, 1.0, (_HIDDEN, 28)) / np.sqrt(_HIDDEN),
        "c": rng.normal(0.0, 1.0, (_LATENT, 28)) / np.sqrt(_LATENT) * 0.7,
    }
    # Fraud patterns: sparse directions in the raw feature space (before the rotation).
    patterns = np.zeros((3, 28))
    for p in range(3):
        idx = rng.choice(28, size=6, replace=False)
        patterns[p, idx] = rng.normal(0.0, 1.0, 6)
        patterns[p] /= np.linalg.norm(patterns[p])
    world["patterns"] = patterns
    # Decorrelate like the real PCA features: rotate with the principal axes of a large normal sample.
    sample = _manifold(world, _latent(world, 20_000, rng), rng)
    sample -= sample.mean(0)
    _, singular, axes = np.linalg.svd(sample, full_matrices=False)
    world["rotation"] = axes.T
    world["scale"] = np.asarray(REAL_V_STD) / (singular / np.sqrt(len(sample)))
    return world


def _latent(world: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    cluster = rng.choice(3, size=n, p=world["weights"])
    return world["centers"][cluster] + rng.normal(0.0, 1.0, (n, _LATENT))


def _manifold(world: dict[str, Any], z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import numpy as np

    hidden = np.tanh(z @ world["a"] + world["b"])
    return hidden @ world["w"] * 2.0 + z @ world["c"] + rng.normal(0.0, 0.25, (len(z), 28))


def _times(n: int, rng: np.random.Generator, night_share: float) -> np.ndarray:
    """Seconds over two days, with fewer transactions at night (about 01:00 to 07:00)."""
    import numpy as np

    grid = np.arange(0, int(TWO_DAYS), 60)
    hour = (grid / 3600.0) % 24
    density = np.where((hour >= 1) & (hour < 7), night_share, 1.0)
    cdf = np.cumsum(density) / density.sum()
    minute = grid[np.searchsorted(cdf, rng.random(n))]
    return (minute + rng.integers(0, 60, n)).astype(np.float64)


def generate_creditcard(n_rows: int = SYNTHETIC_ROWS, *, seed: int = 0, fraud_rate: float = FRAUD_RATE) -> tuple[
        np.ndarray, np.ndarray]:
    """SYNTHETIC transactions with the creditcard.csv schema: ``(X, y)``, X (n_rows, 30) float64 in the
    column order Time, V1..V28, Amount, y (n_rows,) int64 (1 = fraud). Deterministic for a seed; rows
    sorted by Time. Exactly ``round(n_rows * fraud_rate)`` frauds (at least one)."""
    import numpy as np

    if n_rows < 2 or not 0 < fraud_rate < 0.5:
        raise ValueError("n_rows must be at least 2 and fraud_rate in (0, 0.5).")
    world = _world()
    rng = np.random.default_rng(seed)
    frauds = max(1, round(n_rows * fraud_rate))
    normals = n_rows - frauds

    z = _latent(world, n_rows, rng)
    raw = _manifold(world, z, rng)
    # Frauds start from real-looking latent factors and leave the manifold in one of two ways:
    # "mixed" frauds take a random share of their features from another transaction (every single
    # feature stays typical; only the joint structure breaks), "pattern" frauds are pushed along
    # one of three fixed directions by a heavy-tailed, often small, amount.
    kind = rng.random(frauds) < 0.6
    donor = _manifold(world, _latent(world, frauds, rng), rng)
    take = rng.random((frauds, 28)) < rng.uniform(0.25, 0.6, (frauds, 1))
    mixed = np.where(take, donor, raw[normals:])
    pattern = rng.choice(3, size=frauds, p=[0.5, 0.3, 0.2])
    magnitude = rng.lognormal(mean=0.6, sigma=0.6, size=frauds)
    pushed = raw[normals:] + magnitude[:, None] * world["patterns"][pattern]
    raw[normals:] = np.where(kind[:, None], mixed, pushed)
    v = raw @ world["rotation"] * world["scale"]

    log_amount = 3.1 + 0.55 * z[:, 0] - 0.35 * z[:, 1] + rng.normal(0.0, 1.2, n_rows)
    log_amount[normals:] = rng.normal(1.6, 1.6, frauds)  # frauds: many small test charges, some large
    amount = np.round(np.clip(np.exp(log_amount), 0.0, 25_691.16), 2)
    time = np.concatenate([_times(normals, rng, night_share=0.2), _times(frauds, rng, night_share=0.8)])

    x = np.column_stack([time, v, amount])
    y = np.zeros(n_rows, dtype=np.int64)
    y[normals:] = 1
    order = np.lexsort((rng.random(n_rows), time))  # sorted by Time, ties broken at random
    return x[order], y[order]


def synthetic_creditcard_frame(n_rows: int = SYNTHETIC_ROWS, *, seed: int = 0,
                               fraud_rate: float = FRAUD_RATE) -> pd.DataFrame:
    """The synthetic transactions as a DataFrame with the exact columns of creditcard.csv."""
    pandas = require("pandas", "pandas", "synthetic-creditcard")
    x, y = generate_creditcard(n_rows, seed=seed, fraud_rate=fraud_rate)
    frame = pandas.DataFrame(x, columns=list(FEATURES))
    frame[LABEL] = y
    return frame


def synthetic_creditcard(n_rows: int = SYNTHETIC_ROWS, seed: int = 0, fraud_rate: float = FRAUD_RATE,
                         features: Sequence[str] | None = None) -> Splits:
    """SYNTHETIC transactions (not real data) with the creditcard.csv schema, seeded; index % 5 == 4 held
    out. ``features``: the columns a model reads, as for ``creditcard`` (the others, such as Time, are dropped)."""
    from aezoo.data.tabular import table_splits

    columns = _model_columns(features)
    x, y = generate_creditcard(n_rows, seed=seed, fraud_rate=fraud_rate)
    x = x[:, [FEATURES.index(c) for c in columns]]
    return table_splits(
        x.astype("float32"), y, features=columns, label=LABEL, name="synthetic-creditcard",
        description=(f"SYNTHETIC credit-card transactions generated by aezoo (NOT real data; seed {seed}): "
                     f"{n_rows:,} rows with the creditcard.csv schema, {int(y.sum()):,} frauds "
                     f"({100 * y.mean():.3f} %)"),
    )
