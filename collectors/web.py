"""The HTTP collectors: a paginated JSON statistics API, and HTML tables of published lists.

Both turn what they fetch into named rows (``collectors.tables``), the same shape the file
collector produces, so one mapping step serves every kind of source.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from collectors.files import decode_csv, read_limited, resolve_files
from collectors.http import HttpFetcher, Response, conditional_headers, validators
from collectors.secrets import redact_url
from collectors.sources import SourceSpec
from collectors.tables import RawRow, TableRows, rows_from_grid
from monitor.errors import FetchError, ParseError
from monitor.messages import msg


def dig(document: Any, path: str) -> Any:
    """Follow a dotted path ('data.items', 'result.0.rows') into parsed JSON; '' is the root."""
    node = document
    for part in [p for p in path.split(".") if p]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def flatten_item(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_item(value, f"{name}."))
        else:
            out[name] = value
    return out


# A page of JSON is parsed whole; refuse pages whose values would take far more memory than
# their bytes (millions of tiny objects or numbers) before parsing them.
MAX_JSON_CONTAINERS = 200_000
MAX_JSON_VALUES = 2_000_000
MAX_HTML_CELLS = 1_000_000


def _json(response: Response, where: str) -> Any:
    content = response.content
    containers = content.count(b"{") + content.count(b"[")
    if containers > MAX_JSON_CONTAINERS:
        raise ParseError(
            msg(
                "web.json_containers",
                limit=f"{MAX_JSON_CONTAINERS:,}",
                count=f"{containers:,}",
            ),
            where,
        )
    if content.count(b",") > MAX_JSON_VALUES:
        raise ParseError(
            msg("web.json_values", limit=f"{MAX_JSON_VALUES:,}"),
            where,
        )
    try:
        return json.loads(response.content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(msg("web.not_json", detail=str(exc)), where) from exc


def fetch_json_api(
    spec: SourceSpec, fetcher: HttpFetcher, state: Mapping[str, str]
) -> tuple[TableRows | None, dict[str, str]]:
    """All pages of the API as rows; (None, state) when the first page says 304 Not Modified."""
    p = spec.pagination
    rows: list[RawRow] = []
    headers: list[str] = []
    new_state: dict[str, str] = {}
    page, offset, cursor = p.start, p.start if p.style == "offset" else 0, None
    seen_pages: dict[str, int] = {}
    seen_cursors: set[str] = set()
    for number in range(1, p.max_pages + 1):
        params: dict[str, object] = {}
        if p.style == "page":
            params[p.param] = page
        elif p.style == "offset":
            params[p.param] = offset
        elif p.style == "cursor" and cursor is not None:
            params[p.param] = cursor
        if p.size_param and p.size:
            params[p.size_param] = p.size
        response = fetcher.get(
            spec.location, params, conditional_headers(state) if number == 1 else None
        )
        if response.not_modified:
            return None, dict(state)
        if number == 1:
            new_state = validators(response)
        where = redact_url(response.url)
        digest = hashlib.sha256(response.content).hexdigest()
        if digest in seen_pages and p.style != "none":
            raise ParseError(
                msg(
                    "web.page_repeats",
                    page=number,
                    earlier=seen_pages[digest],
                    param=p.param,
                    style=p.style,
                ),
                where,
            )
        seen_pages[digest] = number
        document = _json(response, where)
        items = dig(document, spec.items)
        if items is None:
            raise ParseError(msg("web.no_list", items=spec.items), where)
        if not isinstance(items, list):
            raise ParseError(
                msg("web.not_list", items=spec.items, type=type(items).__name__), where
            )
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise ParseError(
                    msg("web.item_not_object", index=index, type=type(item).__name__), where
                )
            flat = flatten_item(item)
            for key in flat:
                if key not in headers:
                    headers.append(key)
            rows.append(RawRow(f"{where}, item {index}", flat))
            if len(rows) > spec.max_rows:
                raise ParseError(msg("web.too_many_items", limit=spec.max_rows), where)
        if p.style == "none" or not items:
            break
        if p.style == "page":
            total = dig(document, p.total) if p.total else None
            if (p.size and len(items) < p.size) or (
                isinstance(total, int) and p.size and page * p.size >= total
            ):
                break
            page += 1
        elif p.style == "offset":
            offset += len(items)
            total = dig(document, p.total) if p.total else None
            if (isinstance(total, int) and offset >= total) or (p.size and len(items) < p.size):
                break
        elif p.style == "cursor":
            cursor = dig(document, p.next or "next")
            if not cursor:
                break
            if str(cursor) in seen_cursors:
                raise ParseError(
                    msg("web.cursor_again", cursor=str(cursor)[:40], page=number),
                    where,
                )
            seen_cursors.add(str(cursor))
    else:
        raise FetchError(msg("web.max_pages", limit=p.max_pages), redact_url(spec.location))
    return TableRows(headers, rows), new_state


class _TableParser(HTMLParser):
    """Collects every <table> as a grid of cell texts (colspan repeated)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._span = 1
        self.cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._stack.append([])
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack:
            if not self._stack[-1]:
                self._stack[-1].append([])
            self._cell = []
            span = dict(attrs).get("colspan") or "1"
            self._span = min(int(span), 1000) if span.isdigit() else 1
            self.cells += self._span
            if self.cells > MAX_HTML_CELLS:
                raise ParseError(msg("web.too_many_cells", limit=f"{MAX_HTML_CELLS:,}"))
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._stack:
            text = re.sub(r"\s+", " ", "".join(self._cell)).strip()
            self._stack[-1][-1].extend([text] * max(1, self._span))
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_tables(text: str) -> list[list[list[str]]]:
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    return [[row for row in table if row] for table in parser.tables]


def _decode_html(content: bytes, content_type: str, where: str) -> str:
    match = re.search(r"charset=([\w-]+)", content_type or "", re.I) or re.search(
        rb"<meta[^>]+charset=[\"']?([\w-]+)", content[:2048], re.I
    )
    if match:
        charset = match.group(1)
        name = charset.decode() if isinstance(charset, bytes) else charset
        try:
            return content.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_csv(content, "auto", where)


def fetch_html_table(
    spec: SourceSpec, fetcher: HttpFetcher | None, state: Mapping[str, str]
) -> tuple[TableRows | None, dict[str, str]]:
    """The chosen table of a page (by index, or the first whose text contains ``table``)."""
    if spec.is_http:
        assert fetcher is not None
        response = fetcher.get(spec.location, None, conditional_headers(state))
        if response.not_modified:
            return None, dict(state)
        new_state = validators(response)
        where = redact_url(response.url)
        text = _decode_html(
            response.content,
            {k.lower(): v for k, v in response.headers.items()}.get("content-type", ""),
            where,
        )
    else:
        found = resolve_files(spec)
        if not found.files:
            raise FetchError(found.refused[0].reason, found.refused[0].name)
        path = found.files[0]
        where = path.name
        text = _decode_html(read_limited(path, spec.max_bytes), "", where)
        new_state = {}
    tables = html_tables(text)
    if not tables:
        raise ParseError(msg("web.no_table"), where)
    if isinstance(spec.table, int):
        if spec.table >= len(tables):
            raise ParseError(msg("web.table_index", table=spec.table, count=len(tables)), where)
        index = spec.table
    else:
        mentions = [i for i, t in enumerate(tables) if any(spec.table in c for r in t for c in r)]
        if not mentions:
            raise ParseError(msg("web.table_text", table=spec.table), where)
        index = mentions[0]
    grid: list[list[Any]] = [list(r) for r in tables[index]]
    table = rows_from_grid(
        grid,
        header_rows=spec.header_rows,
        where=f"{where}, table {index}",
        subject_column=None,
        skip_first_rows=spec.skip_first_rows,
        max_rows=spec.max_rows,
    )
    return table, new_state
