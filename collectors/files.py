"""The file collector: CSV (UTF-8, UTF-8-BOM, GBK/GB18030), XLSX and XLS reports.

Files are untrusted, and each is judged on its own: a file that is too large, leads outside the
source's folder, cannot be decoded or would not fit in memory is refused with a rejection naming
it, and the source's other files still land. Every limit is checked before or while reading,
never after: the size with ``stat`` before a byte is read, rows, columns and cells while streaming
(a declared sheet dimension is never trusted), and an XLSX must not be a zip bomb. XLSX is opened
read-only; openpyxl parses its XML through defusedxml, which is a dependency.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from charset_normalizer import from_bytes
from openpyxl.xml import DEFUSEDXML

from collectors.sources import SourceSpec
from collectors.tables import TableRows, rows_from_grid
from monitor.errors import FetchError, ParseError
from monitor.messages import Msg, msg, quoted

# An XLSX is a zip: refuse archives that expand beyond this, or by more than this ratio, and
# parts other than worksheets (shared strings, styles: read whole by openpyxl) beyond PART_LIMIT.
MAX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_RATIO = 200
PART_LIMIT = 64 * 1024 * 1024
# xlrd reads a legacy .xls whole, at several times its size.
XLS_MAX_BYTES = 16 * 1024 * 1024
# One physical CSV line longer than this is refused before it is split into cells.
MAX_LINE_CHARS = 1024 * 1024
# Enough of a file to guess an encoding other than UTF-8 and GB18030.
SNIFF_BYTES = 256 * 1024
# Extra grid rows allowed beyond max_rows for titles, headers, notes and totals.
ROW_SLACK = 50


@dataclass
class FileRefusal:
    """A file of the source that was not read, and why (it becomes a rejection)."""

    name: str
    reason: Msg


@dataclass
class ResolvedFiles:
    files: list[Path] = field(default_factory=list)
    refused: list[FileRefusal] = field(default_factory=list)


def source_folder(spec: SourceSpec) -> tuple[Path, Path, str]:
    """(confinement root, folder, file-name pattern) of a file source."""
    location = Path(spec.location)
    root = spec.base_dir.resolve()
    return root, root / location.parent, location.name


def resolve_files(spec: SourceSpec) -> ResolvedFiles:
    """The files a source names, each checked to stay inside the source's folder.

    The location was checked at config load (relative, no ``..``); here every match is resolved
    with its symlinks, and one that leads outside the folder (a symlinked file, or a symlinked
    directory on its way) is refused on its own. A folder that itself leads outside the root, or
    that does not exist, fails the whole source.
    """
    root, folder, pattern = source_folder(spec)
    if any(ch in str(Path(spec.location).parent) for ch in "*?["):
        raise FetchError(
            f"source '{spec.id}': a glob may only be in the file name, not in the "
            f"folder ({spec.location})"
        )
    real_folder = folder.resolve()
    if not real_folder.is_relative_to(root):
        raise FetchError(
            f"source '{spec.id}': folder {folder.relative_to(root)} leads outside {root} "
            "(a symlinked directory?); refused"
        )
    if not real_folder.is_dir():
        raise FetchError(f"source '{spec.id}': folder {folder} does not exist")
    found = ResolvedFiles()
    for path in sorted(real_folder.glob(pattern)):
        real = path.resolve()
        if not real.is_relative_to(real_folder):
            found.refused.append(
                FileRefusal(path.name, msg("file.symlink_outside", name=path.name))
            )
        elif real.is_file():
            found.files.append(path)
        elif path.is_symlink() and not real.exists():
            found.refused.append(FileRefusal(path.name, msg("file.broken_symlink", name=path.name)))
    if not found.files and not found.refused:
        raise FetchError(f"source '{spec.id}': no file matches {spec.location} in {real_folder}")
    return found


def check_size(path: Path, max_bytes: int) -> int:
    """The file's size from ``stat``, refused before reading when over the limit."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ParseError(msg("file.too_large", size=f"{size:,}", limit=f"{max_bytes:,}"), path.name)
    return size


def read_limited(path: Path, max_bytes: int) -> bytes:
    check_size(path, max_bytes)
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # the file grew after stat
        raise ParseError(msg("file.grew", limit=f"{max_bytes:,}"), path.name)
    return data


def file_hash(path: Path) -> str:
    """SHA-256 of a file, read in chunks (never the whole file in memory)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def decode_csv(data: bytes, encoding: str, where: str) -> str:
    """Decode with the declared encoding, or detect UTF-8 (BOM or not) and GBK/GB18030."""
    if encoding != "auto":
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(msg("file.decode", encoding=encoding, detail=str(exc)), where) from exc
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data[:SNIFF_BYTES]).best()
    if best is None:
        raise ParseError(msg("file.not_text", tried="", detail=""), where)
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(msg("file.not_text", tried="", detail=f": {exc}"), where) from exc


class _Limits:
    """Counts rows and cells while a grid streams in and stops at the source's limits."""

    def __init__(self, spec: SourceSpec, where: str) -> None:
        self.max_rows = spec.max_rows
        self.max_grid_rows = spec.skip_first_rows + spec.header_rows + spec.max_rows + ROW_SLACK
        self.max_columns = spec.max_columns
        self.max_cells = spec.max_cells
        self.where = where
        self.cells = 0

    def take(self, number: int, row: list[Any]) -> list[Any]:
        while row and (row[-1] is None or row[-1] == ""):
            row.pop()
        if number > self.max_grid_rows:
            raise ParseError(
                msg("file.too_many_rows", limit=f"{self.max_rows:,}"),
                self.where,
            )
        if len(row) > self.max_columns:
            raise ParseError(
                msg(
                    "file.too_many_columns",
                    row=number,
                    columns=f"{len(row):,}",
                    limit=f"{self.max_columns:,}",
                ),
                self.where,
            )
        self.cells += len(row)
        if self.cells > self.max_cells:
            raise ParseError(
                msg("file.too_many_cells", limit=f"{self.max_cells:,}", row=number),
                self.where,
            )
        return row


def _lines(handle: io.TextIOBase, where: str) -> Iterator[str]:
    number = 0
    while True:
        line = handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise ParseError(
                msg("file.long_line", line=number, limit=f"{MAX_LINE_CHARS:,}"),
                where,
            )
        yield line


def _csv_grid_as(path: Path, encoding: str, spec: SourceSpec, where: str) -> list[list[Any]]:
    limits = _Limits(spec, where)
    grid: list[list[Any]] = []
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        first = text.readline(MAX_LINE_CHARS + 1)
        # Excel writes commas; some systems export tabs. Sniffing guesses wrong on Chinese text.
        delimiter = "\t" if "\t" in first and "," not in first else ","
        text.seek(0)
        try:
            reader = csv.reader(_lines(text, where), delimiter=delimiter)
            for number, row in enumerate(reader, 1):
                grid.append(limits.take(number, list(row)))
        except csv.Error as exc:
            raise ParseError(msg("file.bad_csv", detail=str(exc)), where) from exc
    return grid


def csv_grid(path: Path, spec: SourceSpec, where: str) -> list[list[Any]]:
    """The cells of a CSV file, decoded and split while streaming (bounded memory)."""
    candidates = [spec.encoding] if spec.encoding != "auto" else ["utf-8-sig", "gb18030"]
    for candidate in candidates:
        try:
            codecs.lookup(candidate)
        except LookupError as exc:
            raise ParseError(msg("file.encoding_unknown", encoding=candidate), where) from exc
        try:
            return _csv_grid_as(path, candidate, spec, where)
        except UnicodeDecodeError as exc:
            if spec.encoding != "auto":
                raise ParseError(
                    msg("file.decode", encoding=candidate, detail=str(exc)), where
                ) from exc
    with path.open("rb") as handle:
        best = from_bytes(handle.read(SNIFF_BYTES)).best()
    if best is None:
        raise ParseError(msg("file.not_text", tried="", detail=""), where)
    try:
        return _csv_grid_as(path, best.encoding, spec, where)
    except UnicodeDecodeError as exc:
        raise ParseError(
            msg("file.not_text", tried=f", {best.encoding}", detail=f": {exc}"), where
        ) from exc


def check_zip(source: Path | bytes, where: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ParseError(msg("file.not_zip"), where) from exc
    with archive:
        infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    packed = max(1, sum(info.compress_size for info in infos))
    if total > MAX_UNCOMPRESSED or total / packed > MAX_RATIO:
        raise ParseError(
            msg("file.zip_bomb", size=f"{total:,}", ratio=f"{total / packed:.0f}"),
            where,
        )
    for info in infos:
        if not info.filename.startswith("xl/worksheets/") and info.file_size > PART_LIMIT:
            raise ParseError(
                msg(
                    "file.zip_part",
                    part=info.filename,
                    size=f"{info.file_size:,}",
                    limit=f"{PART_LIMIT:,}",
                ),
                where,
            )


def xlsx_grid(path: Path, spec: SourceSpec, where: str) -> tuple[list[list[Any]], str]:
    if not DEFUSEDXML:
        raise ParseError(
            msg("file.no_defusedxml"),
            where,
        )
    check_zip(path, where)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        raise ParseError(msg("file.xlsx_open", detail=str(exc)), where) from exc
    try:
        sheet = _pick_sheet(book.sheetnames, spec.sheet, where)
        ws = book[sheet]
        # The <dimension> a file declares may say A1:XFD1048576; never pad rows to it.
        ws.reset_dimensions()
        limits = _Limits(spec, f"{where}, sheet '{sheet}'")
        grid: list[list[Any]] = []
        try:
            for number, row in enumerate(ws.iter_rows(values_only=True), 1):
                grid.append(limits.take(number, list(row)))
        except ParseError:
            raise
        except Exception as exc:  # corrupt sheet XML
            raise ParseError(msg("file.sheet_read", sheet=sheet, detail=str(exc)), where) from exc
    finally:
        book.close()
    return grid, sheet


def xls_grid(path: Path, spec: SourceSpec, where: str) -> tuple[list[list[Any]], str]:
    import xlrd  # noqa: PLC0415  (only for the legacy .xls format)

    size = path.stat().st_size
    if size > XLS_MAX_BYTES:
        raise ParseError(
            msg("file.xls_large", size=f"{size:,}", limit=f"{XLS_MAX_BYTES:,}"),
            where,
        )
    try:
        book = xlrd.open_workbook(file_contents=path.read_bytes(), on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError and others for a corrupt file
        raise ParseError(msg("file.xls_open", detail=str(exc)), where) from exc
    try:
        sheet = _pick_sheet(book.sheet_names(), spec.sheet, where)
        ws = book.sheet_by_name(sheet)
        limits = _Limits(spec, f"{where}, sheet '{sheet}'")
        grid = [
            limits.take(i + 1, [None if v == "" else v for v in ws.row_values(i)])
            for i in range(ws.nrows)
        ]
    finally:
        book.release_resources()
    return grid, sheet


def _pick_sheet(names: list[str], wanted: str | int | None, where: str) -> str:
    if wanted is None:
        return names[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
    elif wanted in names:
        return wanted
    raise ParseError(msg("file.no_sheet", sheet=wanted, names=quoted(names)), where)


def file_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "txt", "tsv"):
        return "csv"
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix == "xls":
        return "xls"
    raise ParseError(
        msg("file.format_unknown", suffix=path.suffix),
        path.name,
    )


def read_table(path: Path, spec: SourceSpec) -> TableRows:
    """Read one file into named rows (see ``collectors.tables``); any problem is a ParseError
    naming the file, so the caller can quarantine it and go on with the others."""
    check_size(path, spec.max_bytes)
    fmt = file_format(path, spec.format)
    where = path.name
    if fmt == "csv":
        grid = csv_grid(path, spec, where)
    elif fmt == "xlsx":
        grid, sheet = xlsx_grid(path, spec, where)
        where = f"{path.name}, sheet '{sheet}'"
    elif fmt == "xls":
        grid, sheet = xls_grid(path, spec, where)
        where = f"{path.name}, sheet '{sheet}'"
    else:
        raise ParseError(msg("file.format_not_file", format=fmt), where)
    return rows_from_grid(
        grid,
        header_rows=spec.header_rows,
        where=where,
        subject_column=spec.subject_column or None,
        skip_first_rows=spec.skip_first_rows,
        max_rows=spec.max_rows,
    )
