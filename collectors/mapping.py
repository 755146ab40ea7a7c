"""From named rows to records: match subjects, read and convert values, apply the logic checks.

Every problem becomes a rejection carrying the row's raw content, its exact location, the field,
the value and what was expected; the good values of the same source go on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from collectors.catalogue import (
    IndicatorInfo,
    find_indicator,
    indicator_by_name,
    indicator_hint,
    near_indicators,
)
from collectors.names import SubjectResolver, name_key
from collectors.normalize import (
    MISSING,
    MISSING_MARKERS,
    ValueProblem,
    check_bounds,
    normalise_unit,
    parse_value,
    to_canonical,
    unit_in_header,
)
from collectors.sources import SourceSpec
from collectors.tables import RawRow, find_column
from monitor import messages
from monitor.errors import ConfigError
from monitor.logic_checks import RULES, Rule, violated
from monitor.messages import Msg, did_you_mean, msg
from monitor.units import UNITS

OBSERVATION_COLUMNS = [
    "subject_type",
    "subject_id",
    "indicator",
    "period",
    "value",
    "raw_value",
    "raw_unit",
    "citation",
]
FACT_COLUMNS = ["subject_type", "subject_id", "indicator", "period"]
# Each mapped observation keeps a reference to the row it came from until conflicts are checked.
ROW = "_row"


@dataclass
class Mapped:
    observations: list[dict[str, Any]] = field(default_factory=list)
    frames: list[pd.DataFrame] = field(default_factory=list)
    recognitions: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    rankings: list[dict[str, Any]] = field(default_factory=list)

    def extend(self, other: Mapped) -> None:
        self.observations += other.observations
        self.frames += other.frames
        self.recognitions += other.recognitions
        self.rejections += other.rejections
        self.rankings += other.rankings

    def observations_frame(self, *, with_rows: bool = False) -> pd.DataFrame:
        columns = [*OBSERVATION_COLUMNS, ROW] if with_rows else OBSERVATION_COLUMNS
        parts = self._parts()
        if not parts:
            return pd.DataFrame(columns=columns)
        return pd.concat(parts, ignore_index=True)[columns]

    def observation_parts(self) -> list[pd.DataFrame]:
        """The observations as they were mapped, part by part (a file, a page): a run writes
        them one part at a time, so that no copy of the whole batch is ever made."""
        return [part[OBSERVATION_COLUMNS] for part in self._parts() if len(part)]

    def _parts(self) -> list[pd.DataFrame]:
        if self.observations:  # rows mapped one by one join the frames once
            self.frames.append(pd.DataFrame(self.observations))
            self.observations = []
        return self.frames

    def _observation_clashes(self) -> pd.DataFrame:
        """The rows (with their raw row) whose fact another row of the batch also reports. Found
        on 64-bit hashes of the fact's key, part by part (a few bytes a row), then confirmed on
        the keys themselves: the batch is never copied whole."""
        parts = [p for p in self._parts() if len(p)]
        if not parts:
            return pd.DataFrame(columns=[*OBSERVATION_COLUMNS, ROW])
        hashes = [
            pd.util.hash_pandas_object(p[FACT_COLUMNS], index=False).to_numpy() for p in parts
        ]
        # repeated hashes by sorting (8 bytes a row), not through a hash table of them all
        ordered = np.sort(np.concatenate(hashes))
        suspects = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        del ordered
        if not len(suspects):
            return pd.DataFrame(columns=[*OBSERVATION_COLUMNS, ROW])
        candidates = pd.concat(
            [p.loc[np.isin(h, suspects)] for p, h in zip(parts, hashes, strict=True)],
            ignore_index=True,
        )
        return candidates.loc[candidates.duplicated(FACT_COLUMNS, keep=False)]

    def hold_conflicts(self, names: Mapping[str, tuple[str, str]] | None = None) -> int:
        """Rows of one batch that report the same fact (subject, indicator, period — directly, or
        through an alias or a full name) never overwrite each other: every such row is held
        whole and quarantined, naming the other rows and both values. ``names`` gives each
        indicator's (Chinese, English) name. Returns rows held."""
        names = names or {}
        clashes = self._observation_clashes()
        notes: dict[int, tuple[RawRow, list[Msg]]] = {}
        if len(clashes):
            for key, group in clashes.groupby(FACT_COLUMNS, sort=False):
                _, subject, indicator, period = key
                rows = list(group[ROW])
                values = list(group["raw_value"])
                for i, row in enumerate(rows):
                    others = [
                        msg("conflict.at", location=o.location, value=repr(v))
                        for j, (o, v) in enumerate(zip(rows, values, strict=True))
                        if j != i
                    ]
                    what = names.get(str(indicator), (str(indicator), str(indicator)))
                    notes.setdefault(id(row), (row, []))[1].append(
                        msg(
                            "conflict.value",
                            subject=subject,
                            indicator=what[0],
                            indicator_en=what[1],
                            period=period,
                            value=repr(values[i]),
                            others=others,
                        )
                    )
        notes.update(self._recognition_conflicts())
        if not notes:
            return 0
        held = set(notes)
        for row, problems in notes.values():
            subject = ", ".join(sorted({str(p.params["subject"]) for p in problems}))  # the ids
            self.rejections.append(
                {
                    "location": row.location,
                    "field_name": "",
                    "value": subject,
                    "reason": msg("conflict.rows", problems=problems),
                    "raw": row.raw,
                }
            )
        if len(clashes):
            self.frames = [
                part.loc[~part[ROW].map(id).isin(held).to_numpy()] if len(part) else part
                for part in self._parts()
            ]
        self.recognitions = [r for r in self.recognitions if id(r[ROW]) not in held]
        self.rankings = [r for r in self.rankings if id(r[ROW]) not in held]
        return len(held)

    def _recognition_conflicts(self) -> dict[int, tuple[RawRow, list[Msg]]]:
        by_key: dict[tuple[Any, ...], list[RawRow]] = {}
        for rec in self.recognitions:
            by_key.setdefault((rec["park_id"], rec["level"], rec["year"]), []).append(rec[ROW])
        for entry in self.rankings:
            key = (entry["subject_id"], entry["ranking"], entry["year"])
            by_key.setdefault(key, []).append(entry[ROW])
        notes: dict[int, tuple[RawRow, list[Msg]]] = {}
        for (park, level, year), rows in by_key.items():
            if len(rows) < 2:
                continue
            for row in rows:
                others = [o.location for o in rows if o is not row]
                notes.setdefault(id(row), (row, []))[1].append(
                    msg("conflict.recognition", subject=park, what=level, year=year, others=others)
                )
        return notes

    def recognition_records(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != ROW} for r in self.recognitions]

    def ranking_records(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != ROW} for r in self.rankings]

    def reject(self, row: RawRow, field_name: str, value: object, reason: object) -> None:
        """Quarantine ``row``: ``reason`` is a message (or an exception carrying one)."""
        self.rejections.append(
            {
                "location": row.location,
                "field_name": field_name,
                "value": "" if value is None else str(value),
                "reason": messages.of(reason),
                "raw": row.raw,
            }
        )


def normalise_period(value: object) -> str:
    """'2024', '2024年', 2024.0, '2024年度' → '2024'; quarters and months → '2024Q1', '2024-05'."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    match = re.fullmatch(r"(\d{4})(?:年度?)?", text)
    if match:
        return match.group(1)
    match = re.fullmatch(r"(\d{4})(?:年)?(?:第)?(?:Q|q|季度)?([1-4])(?:季度)?", text)
    if match and ("Q" in text.upper() or "季" in text):
        return f"{match.group(1)}Q{match.group(2)}"
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?", text)
    if match and 1 <= int(match.group(2)) <= 12:
        return f"{match.group(1)}-{int(match.group(2)):02d}"
    raise ValueProblem(msg("value.period", value=text))


def _subject(row: RawRow, spec: SourceSpec, resolver: SubjectResolver, out: Mapped) -> str | None:
    value = row.values.get(spec.subject_column)
    if value is None or not str(value).strip():
        out.reject(
            row,
            spec.subject_column,
            value,
            msg("subject.empty"),
        )
        return None
    code = "subject.unknown_region" if spec.subject_type == "region" else "subject.unknown_carrier"
    return resolve_or_reject(row, spec.subject_column, resolver, spec.subject_match, code, out)


def resolve_or_reject(
    row: RawRow, column: str, resolver: SubjectResolver, match: str, code: str, out: Mapped
) -> str | None:
    """The id the row's ``column`` names, or None with the row rejected under message ``code``
    (which says what to do) and the likely carriers the sender meant."""
    value = row.values.get(column)
    sid = resolver.resolve(value, match) if value else None
    if sid is None:
        hint = did_you_mean(resolver.near(value))
        out.reject(row, column, value, msg(code, value=str(value).strip(), hint=hint))
    return sid


def _citation(row: RawRow, spec: SourceSpec) -> str:
    """The row's own citation (a 数据来源 column), kept as provenance of its figures."""
    if not spec.citation_column:
        return ""
    value = row.values.get(spec.citation_column)
    return "" if value is None else unicodedata.normalize("NFKC", str(value)).strip()[:500]


def _period(row: RawRow, spec: SourceSpec, out: Mapped) -> str | None:
    if spec.period_column is None:
        return spec.period
    value = row.values.get(spec.period_column)
    try:
        return normalise_period(value)
    except ValueProblem as exc:
        out.reject(row, spec.period_column, value, exc)
        return None


def _value(
    row: RawRow,
    header: str,
    cell: object,
    info: IndicatorInfo,
    declared_unit: str | None,
    out: Mapped,
) -> tuple[float, str, str] | None:
    """(canonical value, raw value text, raw unit) or None (missing or rejected)."""
    try:
        parsed = parse_value(cell)
    except ValueProblem as exc:
        out.reject(row, header, cell, info.problem(exc))
        return None
    if parsed is MISSING:
        return None
    assert isinstance(parsed, tuple)
    number, cell_unit = parsed
    unit = cell_unit or declared_unit or info.unit
    if cell_unit == "是否" and info.unit != "是否":
        out.reject(row, header, cell, info.problem(msg("value.yes_no_for_number", unit=info.unit)))
        return None
    try:
        value = to_canonical(number, unit, info.unit)
        check_bounds(value, info.unit, info.minimum, info.maximum)
    except ConfigError:
        out.reject(
            row,
            header,
            cell,
            info.problem(msg("value.unit_mismatch", from_unit=unit, to_unit=info.unit)),
        )
        return None
    except ValueProblem as exc:
        out.reject(row, header, cell, info.problem(exc))
        return None
    return value, "" if cell is None else str(cell), unit


def rule_failed(rule: Rule) -> Msg:
    return msg(
        "logic.failed",
        rule=rule.message_zh,
        rule_en=rule.message,
        source="火炬统计逻辑校验",
        source_en=rule.source,
    )


def _apply_rules(
    row: RawRow, values: dict[str, float], catalogue: Mapping[str, IndicatorInfo], out: Mapped
) -> bool:
    for rule in RULES:
        if violated(rule, values):
            names = {c: catalogue[c].name_zh for c in (rule.left, rule.right) if c in catalogue}
            out.reject(
                row,
                f"{names.get(rule.left, rule.left)} / {names.get(rule.right, rule.right)}",
                f"{values[rule.left]:g} / {values[rule.right]:g}",
                rule_failed(rule),
            )
            return False
    return True


def map_observations(
    rows: Iterable[RawRow],
    headers: Sequence[str],
    spec: SourceSpec,
    catalogue: Mapping[str, IndicatorInfo],
    resolver: SubjectResolver,
    where: str,
) -> Mapped:
    out = Mapped()
    if spec.subject_column:
        find_column(headers, spec.subject_column, where)
    if spec.layout == "wide":
        columns: list[tuple[str, IndicatorInfo, str | None]] = []
        for wanted, col in spec.columns.items():
            found = find_indicator(catalogue, col.indicator)
            if found is None:
                raise ConfigError(
                    f"source '{spec.id}': columns.{wanted} maps to unknown "
                    f"indicator {col.indicator!r}{indicator_hint(catalogue, col.indicator)}"
                )
            header = headers[find_column(headers, wanted, where)]
            declared = (
                (normalise_unit(col.unit) if col.unit else None)
                or unit_in_header(header)
                or (normalise_unit(spec.unit) if spec.unit else None)
            )
            if col.unit and normalise_unit(col.unit) is None:
                raise ConfigError(
                    f"source '{spec.id}': columns.{wanted}: unknown unit {col.unit!r}"
                )
            columns.append((header, found, declared))
        _map_wide(list(rows), columns, spec, catalogue, resolver, out)
        return out
    return _map_long(rows, headers, spec, catalogue, resolver, where, out)


def _map_wide(
    rows: list[RawRow],
    columns: Sequence[tuple[str, IndicatorInfo, str | None]],
    spec: SourceSpec,
    catalogue: Mapping[str, IndicatorInfo],
    resolver: SubjectResolver,
    out: Mapped,
) -> None:
    """Column by column, vectorised: plain numbers are converted in bulk, and only the odd cells
    (full-width digits, units in the cell, out of bounds, not numbers) take the careful path."""
    subjects: list[str] = []
    periods: list[str] = []
    kept: list[RawRow] = []
    for row in rows:
        sid = _subject(row, spec, resolver, out)
        period = _period(row, spec, out)
        if sid is not None and period is not None:
            subjects.append(sid)
            periods.append(period)
            kept.append(row)
    n, m = len(kept), len(columns)
    if n == 0 or m == 0:
        return
    values = np.full((n, m), np.nan)
    raw_values: list[np.ndarray] = []
    raw_units: list[np.ndarray] = []
    for c, (header, info, declared) in enumerate(columns):
        cells = pd.Series([row.values.get(header) for row in kept], dtype=object)
        column, texts, units = _column(cells, kept, header, info, declared, out)
        values[:, c] = column
        raw_values.append(texts)
        raw_units.append(units)
    codes = [info.code for _, info, _ in columns]
    held = np.zeros(n, dtype=bool)
    for rule in RULES:
        if rule.left not in codes or rule.right not in codes:
            continue
        left, right = values[:, codes.index(rule.left)], values[:, codes.index(rule.right)]
        with np.errstate(invalid="ignore"):
            broken = (left > right) & ~held
        for i in np.flatnonzero(broken):
            names = (catalogue[rule.left].name_zh, catalogue[rule.right].name_zh)
            out.reject(
                kept[i],
                f"{names[0]} / {names[1]}",
                f"{left[i]:g} / {right[i]:g}",
                rule_failed(rule),
            )
        held |= broken
    citations = np.array([_citation(row, spec) for row in kept], dtype=object)
    subjects_a = np.array(subjects, dtype=object)
    periods_a = np.array(periods, dtype=object)
    rows_a = np.empty(n, dtype=object)
    rows_a[:] = kept
    for c, code in enumerate(codes):
        ok = ~np.isnan(values[:, c]) & ~held
        if not ok.any():
            continue
        k = int(ok.sum())
        out.frames.append(
            pd.DataFrame(
                {
                    # columns that repeat a few texts are categorical: a byte a row, not a
                    # pointer (a run keeps every mapped figure until it commits)
                    "subject_type": pd.Categorical([spec.subject_type] * k),
                    "subject_id": subjects_a[ok],
                    "indicator": pd.Categorical([code] * k),
                    "period": pd.Categorical(periods_a[ok]),
                    "value": values[ok, c],
                    "raw_value": raw_values[c][ok],
                    "raw_unit": pd.Categorical(raw_units[c][ok]),
                    "citation": pd.Categorical(citations[ok]),
                    ROW: rows_a[ok],
                }
            )
        )


def _column(
    cells: pd.Series,
    rows: Sequence[RawRow],
    header: str,
    info: IndicatorInfo,
    declared: str | None,
    out: Mapped,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canonical values (NaN = missing or rejected), raw texts and raw units of one column."""
    text = cells.map(lambda v: "" if v is None else str(v)).str.strip()
    missing = cells.isna().to_numpy() | text.str.lower().isin(MISSING_MARKERS).to_numpy()
    number = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").to_numpy(
        dtype=float
    )
    unit = declared or info.unit
    canonical = number * to_canonical(1.0, unit, info.unit)
    with np.errstate(invalid="ignore"):
        fine = bounds_ok(canonical, info)
    fast = ~missing & ~np.isnan(number) & fine
    result = np.where(fast, canonical, np.nan)
    raw_text = text.str.slice(0, 64).to_numpy(dtype=object)
    raw_unit = np.full(len(cells), declared or "", dtype=object)
    for i in np.flatnonzero(~missing & ~fast):
        got = _value(rows[int(i)], header, cells.iloc[i], info, declared, out)
        if got is not None:
            result[i], raw_text[i], raw_unit[i] = got[0], got[1][:64], got[2]
    return result, raw_text, raw_unit


def bounds_ok(values: np.ndarray, info: IndicatorInfo) -> np.ndarray:
    """Vectorised twin of ``check_bounds``: True where a value is possible."""
    dimension = UNITS[info.unit][0]
    ok = np.isfinite(values)
    if dimension in ("count", "people", "area"):
        ok &= values >= 0
    elif dimension == "share":
        ok &= (values >= 0) & (values <= 100)
    elif dimension == "flag":
        ok &= (values == 0) | (values == 1)
    if info.minimum is not None:
        ok &= values >= info.minimum
    if info.maximum is not None:
        ok &= values <= info.maximum
    result: np.ndarray = ok
    return result


def _map_long(
    rows: Iterable[RawRow],
    headers: Sequence[str],
    spec: SourceSpec,
    catalogue: Mapping[str, IndicatorInfo],
    resolver: SubjectResolver,
    where: str,
    out: Mapped,
) -> Mapped:
    assert spec.indicator_column
    assert spec.value_column
    ind_header = headers[find_column(headers, spec.indicator_column, where)]
    val_header = headers[find_column(headers, spec.value_column, where)]
    unit_header = (
        headers[find_column(headers, spec.unit_column, where)] if spec.unit_column else None
    )
    by_name = indicator_by_name(catalogue)
    groups: dict[tuple[str, str], list[tuple[RawRow, str, tuple[float, str, str]]]] = {}
    for row in rows:
        name = row.values.get(ind_header)
        info = catalogue.get(str(name).strip()) or by_name.get(name_key(str(name)))
        if info is None:
            hint = did_you_mean(near_indicators(catalogue, name))
            out.reject(row, ind_header, name, msg("indicator.unknown", value=str(name), hint=hint))
            continue
        sid = _subject(row, spec, resolver, out)
        period = _period(row, spec, out)
        if sid is None or period is None:
            continue
        declared = None
        if unit_header and row.values.get(unit_header):
            declared = normalise_unit(str(row.values[unit_header]))
            if declared is None:
                unit = row.values[unit_header]
                out.reject(row, unit_header, unit, msg("value.unknown_unit", value=str(unit)))
                continue
        declared = declared or (normalise_unit(spec.unit) if spec.unit else None)
        got = _value(row, val_header, row.values.get(val_header), info, declared, out)
        if got is not None:
            groups.setdefault((sid, period), []).append((row, info.code, got))
    for (sid, period), items in groups.items():
        values = {code: got[0] for _, code, got in items}
        if not _apply_rules(items[0][0], values, catalogue, out):
            continue
        for row, code, (value, raw_value, raw_unit) in items:
            out.observations.append(
                {
                    "subject_type": spec.subject_type,
                    "subject_id": sid,
                    "indicator": code,
                    "period": period,
                    "value": value,
                    "raw_value": raw_value[:64],
                    "raw_unit": raw_unit,
                    "citation": _citation(row, spec),
                    ROW: row,
                }
            )
    return out
