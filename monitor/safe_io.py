"""Output that is safe to open: no live formulas in CSV/XLSX, no half-written files.

Excel and WPS treat a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP, "CSV Injection"). Names and values in parkmon's outputs come from
outside (park offices' files, web pages, the registry), so every cell written for a spreadsheet
goes through this module:

* CSV: such a text gets a leading apostrophe (``'=HYPERLINK(…)``), which Excel shows and never
  evaluates; genuine numbers (``-12.5``, ``+3``, ``1,234``) stay as they are.
* XLSX: such a text is written as a string cell with Excel's "quote prefix" style, so it shows
  exactly as written and stays text even when someone edits the cell; numbers stay numbers.
  ``save_workbook`` does this for every cell of a workbook just before it is saved;
  ``safe_row`` does it row by row for a workbook written in openpyxl's write-only mode (each
  row written once, memory flat however many rows), saved by ``save_write_only``.

Files are written to a temporary file in the same folder and renamed into place, so a full disk
or a crash never leaves a half-written report; a full disk ends with one line (``OutputError``).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from openpyxl.cell import WriteOnlyCell

from monitor.errors import OutputError

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?%?")
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def is_plain_number(text: str) -> bool:
    """'-12.5', '+3', '1,234.5', '12%', '1e-3' — a number, not a formula."""
    stripped = text.strip()
    return (
        bool(stripped)
        and any(c.isdigit() for c in stripped)
        and bool(_PLAIN_NUMBER.fullmatch(stripped))
    )


def is_formula_like(value: object) -> bool:
    return (
        isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not is_plain_number(value)
    )


def csv_cell(value: object) -> object:
    """A value for a CSV cell: formula-like text gets a leading apostrophe."""
    if is_formula_like(value):
        return "'" + str(value)
    return value


def csv_rows(rows: Iterable[Sequence[object]]) -> Iterator[list[object]]:
    for row in rows:
        yield [csv_cell(v) for v in row]


def write_csv(stream: TextIO, header: Sequence[object], rows: Iterable[Sequence[object]]) -> None:
    writer = csv.writer(stream)
    writer.writerow([csv_cell(h) for h in header])
    writer.writerows(csv_rows(rows))


def frame_to_csv(frame: Any) -> str:
    """A pandas frame as CSV text with every cell neutralised (the index is not written)."""
    buffer = io.StringIO()
    write_csv(
        buffer,
        list(frame.columns),
        ([None if _is_na(v) else v for v in row] for row in frame.itertuples(index=False)),
    )
    return buffer.getvalue()


def _is_na(value: object) -> bool:
    import pandas as pd  # noqa: PLC0415  (pandas is loaded whenever a frame is written)

    if value is None or isinstance(value, str | bytes | list | dict | tuple):
        return value is None
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def neutralise_workbook(book: Any) -> int:
    """Make every formula-like text cell of an openpyxl workbook a quoted string; returns how many.

    parkmon never writes a deliberate formula, so every such cell is data that came from outside.
    """
    changed = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if is_formula_like(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed


def safe_row(ws: Any, values: Iterable[object]) -> list[object]:
    """A row for a write-only sheet: formula-like texts as quoted string cells."""
    row: list[object] = []
    for value in values:
        if is_formula_like(value):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"
            cell.quotePrefix = True
            row.append(cell)
        else:
            row.append(value)
    return row


def save_write_only(book: Any, path: Path) -> Path:
    """Save a write-only workbook (its rows already made safe by ``safe_row``) atomically."""
    with atomic_path(path) as temp:
        book.save(temp)
    return path


def save_workbook(book: Any, path: Path) -> Path:
    """Neutralise the workbook's cells, then save it atomically to ``path``."""
    neutralise_workbook(book)
    with atomic_path(path) as temp:
        book.save(temp)
    return path


def disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one rename.

    On any failure the temporary file is removed and ``path`` is left as it was; a full disk
    becomes one ``OutputError`` line naming the file.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=f".part{path.suffix}", dir=folder
        )
        os.close(fd)
    except OSError as exc:
        raise _output_error(path, exc) from exc
    temp = Path(temp_name)
    try:
        yield temp
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise _output_error(path, exc) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _output_error(path: Path, exc: OSError) -> OutputError:
    if disk_full(exc):
        return OutputError(
            f"cannot write {path}: the disk is full ({exc.strerror}); nothing written"
        )
    return OutputError(f"cannot write {path}: {exc.strerror or exc}; nothing written")


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    with atomic_path(path) as temp:
        temp.write_text(text, encoding=encoding)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as temp:
        temp.write_bytes(data)
