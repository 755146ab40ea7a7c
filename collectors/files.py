"""The file collector: CSV (UTF-8, UTF-8-BOM, GBK/GB18030), XLSX and XLS reports.

Files are untrusted: each must lie inside the source's declared folder (globs cannot escape it,
nor can symlinks), stay under the size and row limits, and an XLSX must not be a zip bomb. XLSX
is opened read-only; openpyxl parses its XML through defusedxml, which is a dependency.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from charset_normalizer import from_bytes
from openpyxl.xml import DEFUSEDXML

from collectors.sources import SourceSpec
from collectors.tables import TableRows, rows_from_grid
from monitor.errors import FetchError, ParseError

# An XLSX is a zip: refuse archives that expand beyond this, or by more than this ratio.
MAX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_RATIO = 200


def resolve_files(spec: SourceSpec) -> list[Path]:
    """The files a source names, confined to its declared folder (the location's parent)."""
    location = Path(spec.location)
    folder_part, pattern = location.parent, location.name
    if any(ch in str(folder_part) for ch in "*?["):
        raise FetchError(
            f"source '{spec.id}': a glob may only be in the file name, not in the "
            f"folder ({spec.location})"
        )
    folder = folder_part if folder_part.is_absolute() else spec.base_dir / folder_part
    folder = folder.resolve()
    if not folder.is_dir():
        raise FetchError(f"source '{spec.id}': folder {folder} does not exist")
    matches = sorted(folder.glob(pattern))
    files = []
    for path in matches:
        real = path.resolve()
        if not real.is_relative_to(folder):
            raise FetchError(
                f"source '{spec.id}': {path.name} leads outside the declared folder "
                f"{folder} (symlink?); refused"
            )
        if real.is_file():
            files.append(real)
    if not files:
        raise FetchError(f"source '{spec.id}': no file matches {spec.location} in {folder}")
    return files


def read_limited(path: Path, max_bytes: int) -> bytes:
    size = path.stat().st_size
    if size > max_bytes:
        raise FetchError(
            f"{path.name}: {size:,} bytes exceed the limit of {max_bytes:,} (max_bytes)"
        )
    return path.read_bytes()


def decode_csv(data: bytes, encoding: str, where: str) -> str:
    """Decode with the declared encoding, or detect UTF-8 (BOM or not) and GBK/GB18030."""
    if encoding != "auto":
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"cannot decode as {encoding}: {exc}", where) from exc
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise ParseError("not text in a known encoding (tried UTF-8, GB18030)", where)
    return str(best)


def csv_grid(data: bytes, spec: SourceSpec, where: str) -> list[list[Any]]:
    text = decode_csv(data, spec.encoding, where)
    # Excel writes commas; some systems export tabs. Sniffing guesses wrong on Chinese text.
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def check_zip(data: bytes, where: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ParseError("not an XLSX file (not a zip archive)", where) from exc
    with archive:
        total = sum(info.file_size for info in archive.infolist())
        packed = max(1, sum(info.compress_size for info in archive.infolist()))
    if total > MAX_UNCOMPRESSED or total / packed > MAX_RATIO:
        raise ParseError(
            f"refused: expands to {total:,} bytes ({total / packed:.0f}× its size), "
            "like a zip bomb",
            where,
        )


def xlsx_grid(data: bytes, spec: SourceSpec, where: str) -> tuple[list[list[Any]], str]:
    if not DEFUSEDXML:
        raise ParseError(
            "refusing XLSX: defusedxml is not installed, so openpyxl would parse "
            "untrusted XML unprotected",
            where,
        )
    check_zip(data, where)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        raise ParseError(f"cannot open as XLSX: {exc}", where) from exc
    try:
        sheet = _pick_sheet(book.sheetnames, spec.sheet, where)
        ws = book[sheet]
        grid: list[list[Any]] = []
        for row in ws.iter_rows(values_only=True):
            grid.append(list(row))
            if len(grid) > spec.max_rows + 50:
                raise ParseError(f"more than {spec.max_rows} rows (max_rows)", where)
    finally:
        book.close()
    return grid, sheet


def xls_grid(data: bytes, spec: SourceSpec, where: str) -> tuple[list[list[Any]], str]:
    import xlrd  # noqa: PLC0415  (only for the legacy .xls format)

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError and others for a corrupt file
        raise ParseError(f"cannot open as XLS: {exc}", where) from exc
    try:
        sheet = _pick_sheet(book.sheet_names(), spec.sheet, where)
        ws = book.sheet_by_name(sheet)
        if ws.nrows > spec.max_rows + 50:
            raise ParseError(f"{ws.nrows} rows exceed max_rows {spec.max_rows}", where)
        grid = [ws.row_values(i) for i in range(ws.nrows)]
    finally:
        book.release_resources()
    return [[None if v == "" else v for v in row] for row in grid], sheet


def _pick_sheet(names: list[str], wanted: str | int | None, where: str) -> str:
    if wanted is None:
        return names[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(names):
            return names[wanted]
    elif wanted in names:
        return wanted
    raise ParseError(f"no sheet {wanted!r}; the workbook has {names}", where)


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
        f"cannot tell the format from the suffix {path.suffix!r}; set format = "
        '"csv", "xlsx" or "xls"',
        path.name,
    )


def read_table(path: Path, spec: SourceSpec) -> TableRows:
    """Read one file into named rows (see ``collectors.tables``)."""
    data = read_limited(path, spec.max_bytes)
    fmt = file_format(path, spec.format)
    where = path.name
    if fmt == "csv":
        grid = csv_grid(data, spec, where)
    elif fmt == "xlsx":
        grid, sheet = xlsx_grid(data, spec, where)
        where = f"{path.name}, sheet '{sheet}'"
    elif fmt == "xls":
        grid, sheet = xls_grid(data, spec, where)
        where = f"{path.name}, sheet '{sheet}'"
    else:
        raise ParseError(f"format {fmt!r} is not a file format", where)
    return rows_from_grid(
        grid,
        header_rows=spec.header_rows,
        where=where,
        subject_column=spec.subject_column or None,
        skip_first_rows=spec.skip_first_rows,
        max_rows=spec.max_rows,
    )
