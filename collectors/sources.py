"""Sources in ``config/sources.toml``: what to collect, from where, how to read it, when.

Each ``[[source]]`` names its collector (``file``, ``json_api``, ``html_table``), the kind of
records it yields (``observations`` or ``recognitions``), where it lives, how to read it and how
its columns or fields map to indicators. Unknown keys and names are errors that list what is
allowed; secrets come only by reference (``token = {"$env" = "NAME"}``).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import ConfigError

SOURCES_FILE = "sources.toml"
COLLECTORS = ("file", "json_api", "html_table")
RECORDS = ("observations", "recognitions")
LAYOUTS = ("wide", "long")
FORMATS = ("auto", "csv", "xlsx", "xls", "json", "html")
SUBJECT_MATCH = ("auto", "id", "name")
PAGINATION = ("none", "page", "offset", "cursor")

_SOURCE_KEYS = {
    "id",
    "collector",
    "records",
    "location",
    "description",
    "format",
    "encoding",
    "sheet",
    "header_rows",
    "layout",
    "subject",
    "period",
    "period_column",
    "indicator_column",
    "value_column",
    "unit_column",
    "columns",
    "unit",
    "crs",
    "aliases",
    "precedence",
    "schedule",
    "max_bytes",
    "max_rows",
    "allowed_hosts",
    "token",
    "auth",
    "headers",
    "timeout_s",
    "retries",
    "backoff_s",
    "items",
    "pagination",
    "table",
    "fields",
    "level",
    "year",
    "issuer",
    "skip_first_rows",
    "demo",
}
_SUBJECT_KEYS = {"column", "match", "type"}
_SCHEDULE_KEYS = {"cron", "interval_minutes", "interval_hours", "timezone"}
_PAGINATION_KEYS = {"style", "param", "size_param", "size", "total", "next", "start", "max_pages"}
_COLUMN_KEYS = {"indicator", "unit"}
_FIELD_KEYS = {"name", "level", "year", "issuer", "subject"}

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class ColumnSpec:
    indicator: str
    unit: str | None = None


@dataclass(frozen=True)
class ScheduleSpec:
    cron: str | None = None
    interval_minutes: float | None = None
    timezone: str = DEFAULT_TIMEZONE


@dataclass(frozen=True)
class PaginationSpec:
    style: str = "none"
    param: str = "page"
    size_param: str | None = None
    size: int | None = None
    total: str | None = None
    next: str | None = None
    start: int = 1
    max_pages: int = 1000


@dataclass(frozen=True)
class SourceSpec:
    """One configured source, validated."""

    id: str
    collector: str
    records: str
    location: str
    base_dir: Path
    description: str = ""
    format: str = "auto"
    encoding: str = "auto"
    sheet: str | int | None = None
    header_rows: int = 1
    skip_first_rows: int = 0
    layout: str = "wide"
    subject_column: str = ""
    subject_match: str = "auto"
    subject_type: str = "park"
    period: str | None = None
    period_column: str | None = None
    indicator_column: str | None = None
    value_column: str | None = None
    unit_column: str | None = None
    columns: Mapping[str, ColumnSpec] = field(default_factory=dict)
    unit: str | None = None
    crs: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    precedence: int = 100
    schedule: ScheduleSpec | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    allowed_hosts: tuple[str, ...] = ()
    token_env: str | None = None
    auth: str = "bearer"
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 30.0
    retries: int = 4
    backoff_s: float = 0.5
    items: str = ""
    pagination: PaginationSpec = PaginationSpec()
    table: int | str = 0
    fields: Mapping[str, str] = field(default_factory=dict)
    level: str | None = None
    year: int | None = None
    issuer: str = ""
    demo: bool = False

    @property
    def is_http(self) -> bool:
        return self.collector in ("json_api", "html_table") and self.location.startswith(
            ("http://", "https://")
        )

    def token(self) -> str | None:
        """The credential, read from the environment variable the config names."""
        if not self.token_env:
            return None
        value = os.environ.get(self.token_env)
        if not value:
            raise ConfigError(
                f"source '{self.id}': environment variable {self.token_env} "
                '(named by token = {"$env" = …}) is not set'
            )
        return value


def _where(path: Path, index: int, source_id: str | None) -> str:
    return f"{path.name}, source #{index}" + (f" '{source_id}'" if source_id else "")


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _choice(value: object, allowed: tuple[str, ...], where: str, key: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{where}: {key} = {value!r}; expected one of {', '.join(allowed)}")
    return str(value)


def _env_ref(value: object, where: str, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"$env"}:
        return str(value["$env"])
    raise ConfigError(
        f'{where}: {key} must be a reference {{"$env" = "NAME"}}; secrets are '
        "never written in config files"
    )


def _schedule(value: object, where: str) -> ScheduleSpec | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f'{where}: schedule must be a table, e.g. {{cron = "0 3 * * *"}}')
    _check_keys(value, _SCHEDULE_KEYS, f"{where}, schedule")
    minutes = value.get("interval_minutes")
    if value.get("interval_hours") is not None:
        minutes = float(value["interval_hours"]) * 60
    if (value.get("cron") is None) == (minutes is None):
        raise ConfigError(
            f"{where}: schedule needs exactly one of cron, interval_minutes, interval_hours"
        )
    if minutes is not None and float(minutes) <= 0:
        raise ConfigError(f"{where}: schedule interval must be positive, got {minutes}")
    return ScheduleSpec(
        cron=value.get("cron"),
        interval_minutes=None if minutes is None else float(minutes),
        timezone=str(value.get("timezone", DEFAULT_TIMEZONE)),
    )


def parse_source(item: Mapping[str, Any], index: int, path: Path) -> SourceSpec:
    where = _where(path, index, item.get("id"))
    _check_keys(item, _SOURCE_KEYS, where)
    for key in ("id", "collector", "location"):
        if not item.get(key):
            raise ConfigError(f"{where}: '{key}' is required")
    if len(str(item["id"])) > 64:
        raise ConfigError(f"{where}: id is {len(str(item['id']))} characters; at most 64")
    collector = _choice(item["collector"], COLLECTORS, where, "collector")
    records = _choice(item.get("records", "observations"), RECORDS, where, "records")
    subject = item.get("subject", {})
    if isinstance(subject, str):
        subject = {"column": subject}
    _check_keys(subject, _SUBJECT_KEYS, f"{where}, subject")
    columns: dict[str, ColumnSpec] = {}
    for header, target in item.get("columns", {}).items():
        if isinstance(target, str):
            columns[header] = ColumnSpec(target)
        elif isinstance(target, dict):
            _check_keys(target, _COLUMN_KEYS, f"{where}, columns.{header}")
            columns[header] = ColumnSpec(str(target["indicator"]), target.get("unit"))
        else:
            raise ConfigError(f"{where}: columns.{header} must be an indicator code or a table")
    pagination = item.get("pagination", {})
    _check_keys(pagination, _PAGINATION_KEYS, f"{where}, pagination")
    fields = item.get("fields", {})
    if records == "recognitions":
        _check_keys(fields, _FIELD_KEYS, f"{where}, fields")
    layout = _choice(item.get("layout", "wide"), LAYOUTS, where, "layout")
    if records == "observations":
        if layout == "long" and not (item.get("indicator_column") and item.get("value_column")):
            raise ConfigError(f'{where}: layout = "long" needs indicator_column and value_column')
        if layout == "wide" and not columns:
            raise ConfigError(
                f'{where}: layout = "wide" needs a [source.columns] mapping '
                "from column headers to indicator codes"
            )
        if not item.get("period") and not item.get("period_column"):
            raise ConfigError(
                f'{where}: say which period the data report: period = "2024" or '
                'period_column = "年份"'
            )
    location = str(item["location"])
    hosts = tuple(item.get("allowed_hosts", ()))
    if location.startswith(("http://", "https://")):
        host = urlsplit(location).hostname or ""
        hosts = hosts or (host,)
        if host not in hosts:
            raise ConfigError(f"{where}: the host of {location} is not in allowed_hosts {hosts}")
    elif "://" in location:
        raise ConfigError(f"{where}: location {location!r}: only http, https or a file path")
    max_bytes = int(item.get("max_bytes", DEFAULT_MAX_BYTES))
    return SourceSpec(
        id=str(item["id"]),
        collector=collector,
        records=records,
        location=location,
        base_dir=path.parent,
        description=str(item.get("description", "")),
        format=_choice(item.get("format", "auto"), FORMATS, where, "format"),
        encoding=str(item.get("encoding", "auto")),
        sheet=item.get("sheet"),
        header_rows=int(item.get("header_rows", 1)),
        skip_first_rows=int(item.get("skip_first_rows", 0)),
        layout=layout,
        subject_column=str(subject.get("column", "")),
        subject_match=_choice(subject.get("match", "auto"), SUBJECT_MATCH, where, "subject.match"),
        subject_type=_choice(
            subject.get("type", "park"), ("park", "region"), where, "subject.type"
        ),
        period=None if item.get("period") is None else str(item["period"]),
        period_column=item.get("period_column"),
        indicator_column=item.get("indicator_column"),
        value_column=item.get("value_column"),
        unit_column=item.get("unit_column"),
        columns=columns,
        unit=item.get("unit"),
        crs=item.get("crs"),
        aliases={str(k): str(v) for k, v in item.get("aliases", {}).items()},
        precedence=int(item.get("precedence", 100)),
        schedule=_schedule(item.get("schedule"), where),
        max_bytes=max_bytes,
        max_rows=int(item.get("max_rows", DEFAULT_MAX_ROWS)),
        allowed_hosts=hosts,
        token_env=_env_ref(item.get("token"), where, "token"),
        auth=str(item.get("auth", "bearer")),
        headers={str(k): str(v) for k, v in item.get("headers", {}).items()},
        timeout_s=float(item.get("timeout_s", 30.0)),
        retries=int(item.get("retries", 4)),
        backoff_s=float(item.get("backoff_s", 0.5)),
        items=str(item.get("items", "")),
        pagination=PaginationSpec(
            style=_choice(pagination.get("style", "none"), PAGINATION, where, "pagination.style"),
            param=str(pagination.get("param", "page")),
            size_param=pagination.get("size_param"),
            size=pagination.get("size"),
            total=pagination.get("total"),
            next=pagination.get("next"),
            start=int(pagination.get("start", 1)),
            max_pages=int(pagination.get("max_pages", 1000)),
        ),
        table=item.get("table", 0),
        fields={str(k): str(v) for k, v in fields.items()},
        level=item.get("level"),
        year=None if item.get("year") is None else int(item["year"]),
        issuer=str(item.get("issuer", "")),
        demo=bool(item.get("demo", False)),
    )


def load_sources(
    config_dir: Path, path: Path | None = None, substitutions: Mapping[str, str] | None = None
) -> list[SourceSpec]:
    """All sources of ``sources.toml`` (an absent file means no sources).

    ``substitutions`` fill ``{name}`` placeholders in locations (the demo's server address).
    """
    path = path or config_dir / SOURCES_FILE
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
        for key, value in (substitutions or {}).items():
            text = text.replace("{" + key + "}", value)
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"source"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)}; expected [[source]] tables"
        )
    specs = [parse_source(item, i, path) for i, item in enumerate(data.get("source", []), 1)]
    ids = [s.id for s in specs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{path}: source id(s) used twice: {', '.join(duplicates)}")
    return specs
