"""Tables as clerks make them: multi-row merged headers, totals rows, blank and note rows.

Every source kind ends up here as a grid of cells; this module turns the grid into named rows with
exact locations, skipping rows by rule (blank, totals 合计/总计/小计, notes) and saying how many.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.errors import ParseError
from monitor.messages import msg, quoted

TOTAL_MARKERS = ("合计", "总计", "小计", "全市合计", "总合计", "合 计", "总 计", "total", "sum")
_TOTALS = frozenset(m.replace(" ", "").lower() for m in TOTAL_MARKERS)
NOTE_PREFIXES = (
    "注",
    "说明",
    "备注",
    "填报",
    "填表",
    "单位：",
    "单位:",
    "数据来源",
    "来源：",
    "制表",
    "审核",
    "负责人",
    "note",
)


class RawRow:
    """One data row: where it is and its cells by header (``raw`` is the quarantine copy).

    Once its table is mapped, a row is ``pack``-ed: its cells kept as one JSON text beside the
    table's shared header names, no longer as a dict of objects. A run keeps every row until it
    commits (a row found later to clash with another is quarantined whole), and packed rows take
    about a tenth of the memory. ``values`` of a packed row are its quarantine copy.
    """

    __slots__ = ("_keys", "_packed", "_values", "location")

    def __init__(self, location: str, values: dict[str, Any]) -> None:
        self.location = location
        self._values: dict[str, Any] | None = values
        self._keys: tuple[str, ...] = ()
        self._packed = ""

    @property
    def values(self) -> dict[str, Any]:
        if self._values is not None:
            return self._values
        return dict(zip(self._keys, json.loads(self._packed), strict=True))

    @property
    def raw(self) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in self.values.items()}

    def pack(self, keys: tuple[str, ...] = ()) -> None:
        """Keep the cells as JSON; ``keys``: the table's header names, shared by its rows."""
        if self._values is None:
            return
        own = tuple(self._values)
        self._keys = keys if own == keys else own
        self._packed = json.dumps([_jsonable(v) for v in self._values.values()], ensure_ascii=False)
        self._values = None

    def __repr__(self) -> str:
        return f"RawRow({self.location!r}, {self.values!r})"


@dataclass
class TableRows:
    headers: list[str]
    rows: list[RawRow] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=lambda: {"blank": 0, "total": 0, "note": 0})

    def pack(self) -> None:
        """Pack every row (after mapping: see ``RawRow``)."""
        keys = tuple(self.rows[0].values) if self.rows else ()
        for row in self.rows:
            row.pack(keys)


def _text(cell: object) -> str:
    if cell is None:
        return ""
    return unicodedata.normalize("NFKC", str(cell)).strip()


def flatten_headers(rows: Sequence[Sequence[object]]) -> list[str]:
    """Join a multi-row header into one name per column ('孵化绩效/在孵企业数').

    Merged cells come out of spreadsheets as a value in the first cell and blanks in the others.
    A blank in an upper header row takes the value on its left only when that value heads a
    group (its own column has a lower-level name); a blank below a value is a vertical merge.
    """
    if not rows:
        return []
    width = max(len(r) for r in rows)
    grid = [[_text(r[i]) if i < len(r) else "" for i in range(width)] for r in rows]
    depth = len(grid)
    for level in range(depth - 1):
        current = ""
        for col in range(width):
            cell = grid[level][col]
            below = any(grid[k][col] for k in range(level + 1, depth))
            if cell:
                current = cell if below else ""
            elif current and below:
                grid[level][col] = current
            else:
                current = ""
    names = []
    for col in range(width):
        parts: list[str] = []
        for level in range(depth):
            part = grid[level][col]
            if part and (not parts or parts[-1] != part):
                parts.append(part)
        names.append("/".join(parts))
    return names


def classify_row(cells: Sequence[object], subject_index: int | None) -> str | None:
    """'blank', 'total', 'note' or None (a data row)."""
    filled = [c for c in cells if c is not None and (not isinstance(c, str) or c.strip())]
    if not filled:
        return "blank"
    probe = (
        _text(cells[subject_index])
        if subject_index is not None and subject_index < len(cells)
        else ""
    )
    first = _text(filled[0])
    for text in (probe, first):
        if re.sub(r"\s+", "", text).lower() in _TOTALS:
            return "total"
    if first.lower().startswith(NOTE_PREFIXES) and (len(filled) == 1 or not probe):
        return "note"
    if len(filled) == 1 and len(cells) > 2 and not probe:
        return "note"
    return None


def find_column(headers: Sequence[str], wanted: str, where: str) -> int:
    """Index of a header: exact, or its last level, or without a bracketed unit."""
    wanted_n = _text(wanted)

    def variants(h: str) -> set[str]:
        leaf = h.rsplit("/", maxsplit=1)[-1]
        stripped = {re.sub(r"[（(][^（）()]*[)）]\s*$", "", x).strip() for x in (h, leaf)}
        return {h, leaf, *stripped}

    exact = [i for i, h in enumerate(headers) if h == wanted_n]
    if len(exact) == 1:
        return exact[0]
    loose = [i for i, h in enumerate(headers) if wanted_n in variants(h)]
    if len(loose) == 1:
        return loose[0]
    if not loose:
        shown = [h for h in headers if h]
        raise ParseError(msg("table.no_column", column=wanted, headers=quoted(shown)), where)
    raise ParseError(
        msg("table.ambiguous_column", column=wanted, headers=quoted([headers[i] for i in loose])),
        where,
    )


def rows_from_grid(
    grid: Sequence[Sequence[object]],
    *,
    header_rows: int,
    where: str,
    subject_column: str | None,
    first_row_number: int = 1,
    skip_first_rows: int = 0,
    max_rows: int,
) -> TableRows:
    """Split a grid into a flattened header and data rows located as 'where, row N'."""
    body_start = skip_first_rows + header_rows
    if len(grid) < body_start:
        raise ParseError(
            msg(
                "table.short_header",
                header_rows=header_rows,
                title_rows=skip_first_rows,
                rows=len(grid),
            ),
            where,
        )
    headers = flatten_headers(grid[skip_first_rows:body_start])
    subject_index = find_column(headers, subject_column, where) if subject_column else None
    table = TableRows(headers)
    # Unnamed columns keep a name ('#7') so their cells still reach the quarantine copy.
    names = [h or f"#{i + 1}" for i, h in enumerate(headers)]
    width = len(names)
    data = grid[body_start:]
    if len(data) > max_rows:
        raise ParseError(
            msg("table.too_many_rows", rows=f"{len(data):,}", limit=f"{max_rows:,}"), where
        )
    for offset, cells in enumerate(data):
        number = first_row_number + body_start + offset
        kind = classify_row(cells, subject_index)
        if kind is not None:
            table.skipped[kind] += 1
            continue
        padded = list(cells) + [None] * (width - len(cells)) if len(cells) < width else cells
        values = dict(zip(names, padded, strict=False))
        table.rows.append(RawRow(f"{where}, row {number}", values))
    return table


def _jsonable(value: object) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
