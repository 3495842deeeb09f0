"""Reading a CSV file a user names (``aezoo score``, ``data=...csv``, ``creditcard:PATH``): one reader,
one set of named errors. UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order mark
are read; a binary file, other encodings, ragged rows and empty files are ``CSVReadError``."""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import CSVReadError
from . import require

SNIFF_BYTES = 1 << 16
HINT = "Pass a CSV file (plain or .gz) saved as UTF-8, with a header row and the same number of fields on every row."


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def read_csv(path: str | Path, *, nrows: int | None = None) -> Any:
    """The file (or its first ``nrows`` rows: a cheap check before a long job) as a pandas
    DataFrame, or a ``CSVReadError`` saying what is wrong with it."""
    path = Path(path)
    pandas = require("pandas", "pandas", "csv")
    encoding = _encoding(path)
    with _parse_errors(path):
        frame = pandas.read_csv(path, encoding=encoding, nrows=nrows)
    if len(frame) == 0:
        raise CSVReadError(f"{path} has a header but no rows.", HINT)
    return frame


def read_csv_chunks(path: str | Path, chunk_rows: int) -> Iterator[Any]:
    """The file as DataFrames of at most ``chunk_rows`` rows each, read as they are asked for, so a
    file of any size is read in memory of one chunk. The same checks and errors as ``read_csv``; a
    fault deep in the file is raised when its chunk is reached."""
    path = Path(path)
    pandas = require("pandas", "pandas", "csv")
    encoding = _encoding(path)
    rows = 0
    with _parse_errors(path):
        with pandas.read_csv(path, encoding=encoding, chunksize=chunk_rows) as reader:
            for frame in reader:
                rows += len(frame)
                yield frame
    if rows == 0:
        raise CSVReadError(f"{path} has a header but no rows.", HINT)


def _encoding(path: Path) -> str:
    """The text encoding from the first bytes; a binary, empty or unreadable file is refused."""
    opener: Any = gzip.open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as file:
            head = file.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise CSVReadError(f"{path} could not be read ({_one_line(exc)}).", HINT) from exc
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, text = "utf-16", head[2:].replace(b"\x00", b"")
    elif head.startswith(codecs.BOM_UTF8):
        encoding, text = "utf-8-sig", head[3:]
    elif b"\x00" in head:
        raise CSVReadError(f"{path} is not a text CSV: it holds NUL bytes (a binary file, or UTF-16 without a "
                           "byte-order mark).", HINT)
    else:
        encoding, text = "utf-8", head
    if not text.strip():
        raise CSVReadError(f"{path} is empty.", HINT)
    return encoding


@contextmanager
def _parse_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except UnicodeError as exc:
        raise CSVReadError(f"{path} is not UTF-8 text ({_one_line(exc)}).", HINT) from exc
    except (ValueError, OSError, EOFError, zlib.error) as exc:  # pandas' ParserError and EmptyDataError are ValueErrors
        raise CSVReadError(f"{path} could not be read as CSV: {_one_line(exc)}.", HINT) from exc
