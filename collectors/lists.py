"""Published lists: recognitions (newly recognised carriers) and rankings (positions in a
ranking series), from any collector, into Recognition and RankingEntry records.

Like observations, every problem is a rejection with the raw row, and a subject listed twice in
one batch is held as a conflict (``Mapped.hold_conflicts``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

from collectors.mapping import ROW, Mapped, normalise_period, resolve_or_reject
from collectors.names import SubjectResolver
from collectors.normalize import ValueProblem
from collectors.sources import SourceSpec
from collectors.tables import RawRow, find_column
from monitor.errors import ConfigError, ParseError
from monitor.goals import ranking_citation
from monitor.messages import msg

LEVEL_WORDS = {
    "国家级": "national",
    "国家": "national",
    "national": "national",
    "省级": "provincial",
    "省": "provincial",
    "provincial": "provincial",
    "市级": "municipal",
    "市": "municipal",
    "municipal": "municipal",
}


def map_recognitions(
    rows: Iterable[RawRow],
    headers: Sequence[str],
    spec: SourceSpec,
    resolver: SubjectResolver,
    where: str,
) -> Mapped:
    """Rows of a published list → Recognition records (park, level, year, issuer)."""
    out = Mapped()
    name_col = spec.fields.get("name") or spec.subject_column
    if not name_col:
        raise ConfigError(
            f"source '{spec.id}': recognitions need fields.name (the column of carrier names)"
        )
    name_header = headers[find_column(headers, name_col, where)]
    level_header = (
        headers[find_column(headers, spec.fields["level"], where)]
        if "level" in spec.fields
        else None
    )
    year_header = (
        headers[find_column(headers, spec.fields["year"], where)] if "year" in spec.fields else None
    )
    for row in rows:
        sid = resolve_or_reject(row, name_header, resolver, "auto", "subject.unknown_listed", out)
        if sid is None:
            continue
        level_text = str(row.values.get(level_header, "")) if level_header else (spec.level or "")
        level = next((v for k, v in LEVEL_WORDS.items() if k in level_text), None)
        if level is None:
            out.reject(
                row, level_header or "level", level_text, msg("value.level", value=level_text)
            )
            continue
        try:
            year = _year(row.values.get(year_header)) if year_header else spec.year
        except ValueProblem as exc:
            out.reject(row, year_header or "year", row.values.get(year_header or ""), exc)
            continue
        if year is None:
            raise ParseError(f"source '{spec.id}': set year = … or fields.year", where)
        out.recognitions.append(
            {
                "park_id": sid,
                "level": level,
                "year": year,
                "issuer": spec.issuer,
                "source": f"{spec.id}: {row.location}",
                "is_demo": False,
                ROW: row,
            }
        )
    return out


def _year(value: object) -> int:
    period = normalise_period(value)
    if not period.isdigit():
        raise ValueProblem(msg("value.period", value=str(value)))
    return int(period)


def _whole(value: object) -> int:
    try:
        number = float(unicodedata.normalize("NFKC", str(value)).strip())
    except ValueError:
        number = math.nan
    if not number.is_integer() or number < 1:
        raise ValueProblem(msg("value.out_of", value=str(value)))
    return int(number)


_EXACT = re.compile(r"第?\s*(\d+)\s*(?:名|位)?")
_OUTSIDE = (
    re.compile(r"(?:[>＞]|大于)\s*(\d+)"),
    re.compile(r"(?:未进入?|未入围)?前\s*(\d+)\s*(?:名|位|强)?\s*(?:以外|之外|外)?"),
    re.compile(r"(\d+)\s*(?:名|位)\s*(?:以外|之外)"),
)


def parse_position(value: object) -> tuple[int, str]:
    """(position, relation): '47', '第47位' → (47, 'eq'); '> 25', '前25名以外', '未进入前25名',
    '25名以外' → (25, 'gt'): outside the top N is a bound, never a number to draw."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value or "")))
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    exact = _EXACT.fullmatch(text)
    if exact:
        return int(exact.group(1)), "eq"
    if any(word in text for word in ("以外", "之外", "未进", "未入", ">", "大于")):
        for pattern in _OUTSIDE:
            match = pattern.fullmatch(text)
            if match:
                return int(match.group(1)), "gt"
    raise ValueProblem(msg("value.position", value=text))


def map_rankings(
    rows: Iterable[RawRow],
    headers: Sequence[str],
    spec: SourceSpec,
    resolver: SubjectResolver,
    where: str,
) -> Mapped:
    """Rows of a published ranking → RankingEntry records (series, year, subject, position)."""
    out = Mapped()

    def column(key: str) -> str | None:
        wanted = spec.fields.get(key)
        return headers[find_column(headers, wanted, where)] if wanted else None

    name_col = column("name") or (
        headers[find_column(headers, spec.subject_column, where)] if spec.subject_column else None
    )
    position_col = column("position")
    if name_col is None or position_col is None:
        raise ConfigError(
            f"source '{spec.id}': rankings need fields.name and fields.position (the columns of "
            "the subject and its position)"
        )
    year_col, out_of_col, series_col = column("year"), column("out_of"), column("ranking")
    for row in rows:
        sid = resolve_or_reject(
            row, name_col, resolver, spec.subject_match, "subject.unknown_ranked", out
        )
        if sid is None:
            continue
        try:
            field_name = position_col
            position, relation = parse_position(row.values.get(position_col))
            field_name = year_col or "year"
            year = _year(row.values.get(year_col)) if year_col else spec.year
            field_name, out_of = out_of_col or "out_of", None
            if out_of_col and row.values.get(out_of_col) not in (None, ""):
                out_of = _whole(row.values[out_of_col])
        except ValueProblem as exc:
            out.reject(row, field_name, row.values.get(field_name), exc)
            continue
        if year is None:
            raise ParseError(f"source '{spec.id}': set year = … or fields.year", where)
        series = str(row.values.get(series_col) or "").strip() if series_col else spec.ranking
        out.rankings.append(
            {
                "ranking": series or spec.ranking,
                "year": year,
                "subject_type": spec.subject_type,
                "subject_id": sid,
                "position": position,
                "position_relation": relation,
                "out_of": out_of,
                "source_url": spec.location if spec.is_http else "",
                "note": ranking_citation(
                    {
                        "publisher": spec.issuer,
                        "document": spec.document,
                        "published": spec.published,
                        "note": f"{spec.id}: {row.location}",
                    }
                ),
                ROW: row,
            }
        )
    return out
