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

from collectors.secrets import is_secret_header, redact_url, secret_in_url
from monitor import models
from monitor.errors import ConfigError

SOURCES_FILE = "sources.toml"
COLLECTORS = ("file", "json_api", "html_table")
RECORDS = ("observations", "recognitions", "rankings")
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
    "max_columns",
    "max_cells",
    "ranking",
    "document",
    "published",
    "citation_column",
    "deadline_s",
    "run_deadline_s",
}
_SUBJECT_KEYS = {"column", "match", "type"}
_SCHEDULE_KEYS = {"cron", "interval_minutes", "interval_hours", "timezone"}
_PAGINATION_KEYS = {"style", "param", "size_param", "size", "total", "next", "start", "max_pages"}
_COLUMN_KEYS = {"indicator", "unit"}
_FIELD_KEYS = {"name", "level", "year", "issuer", "subject", "position", "out_of", "ranking"}

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_COLUMNS = 1_000
DEFAULT_MAX_CELLS = 1_000_000
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
    aliases: Mapping[str, str] = field(default_factory=dict)
    precedence: int = models.DEFAULT_PRECEDENCE
    schedule: ScheduleSpec | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    max_rows: int = DEFAULT_MAX_ROWS
    max_columns: int = DEFAULT_MAX_COLUMNS
    max_cells: int = DEFAULT_MAX_CELLS
    allowed_hosts: tuple[str, ...] = ()
    token_env: str | None = None
    auth: str = "bearer"
    headers: Mapping[str, str] = field(default_factory=dict)
    header_env: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 30.0
    deadline_s: float = 120.0
    run_deadline_s: float = 900.0
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
    where: str = ""
    ranking: str = ""
    document: str = ""
    published: str = ""
    citation_column: str = ""

    @property
    def subject_table(self) -> str:
        """Where its subjects are looked up: published recognition lists name carriers."""
        return "park" if self.records == "recognitions" else self.subject_type

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

    def request_headers(self) -> dict[str, str]:
        """The configured headers, with those given by reference read from the environment."""
        headers = dict(self.headers)
        for name, variable in self.header_env.items():
            value = os.environ.get(variable)
            if not value:
                raise ConfigError(
                    f"source '{self.id}': environment variable {variable} (named by "
                    f'headers.{name} = {{"$env" = …}}) is not set'
                )
            headers[name] = value
        return headers


def _typed(item: Mapping[str, Any], key: str, default: Any, kind: type, where: str) -> Any:
    """``item[key]`` of the expected TOML type, or one line naming the key, value and type."""
    value = item.get(key, default)
    if value is None:
        return default
    names = {int: "a whole number", float: "a number", str: "a text in quotes", bool: "true/false"}
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok, value = True, float(value)
    if not ok:
        raise ConfigError(
            f"{where}: {key} = {value!r}; expected {names.get(kind, kind.__name__)}"
            + (" (bytes, e.g. 52428800 for 50 MB)" if key == "max_bytes" else "")
        )
    return value


def _positive(item: Mapping[str, Any], key: str, default: Any, kind: type, where: str) -> Any:
    value = _typed(item, key, default, kind, where)
    if value is not None and value <= 0:
        raise ConfigError(f"{where}: {key} = {value!r}; expected a number above 0")
    return value


def _table(item: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = item.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} = {value!r}; expected a table {{ … }}")
    return value


def _str_list(item: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f'{where}: {key} = {value!r}; expected a list of texts, e.g. ["127.0.0.1"]'
        )
    return tuple(value)


def _headers(item: Mapping[str, Any], where: str) -> tuple[dict[str, str], dict[str, str]]:
    """(literal headers, headers read from the environment); secrets only by reference."""
    literal: dict[str, str] = {}
    from_env: dict[str, str] = {}
    for name, value in _table(item, "headers", where).items():
        if isinstance(value, dict):
            ref = _env_ref(value, where, f"headers.{name}")
            assert ref is not None
            from_env[str(name)] = ref
        elif isinstance(value, str):
            if is_secret_header(str(name)):
                raise ConfigError(
                    f"{where}: headers.{name} is written inline; a credential comes only by "
                    f'reference: headers.{name} = {{"$env" = "NAME"}}'
                )
            literal[str(name)] = value
        else:
            raise ConfigError(f"{where}: headers.{name} = {value!r}; expected a text")
    return literal, from_env


def _file_location(location: str, where: str) -> None:
    """A file source's location stays inside its folder: relative, and no '..'."""
    path = Path(location)
    if (
        path.is_absolute()
        or location.startswith(("~", "\\"))
        or (len(location) > 1 and location[1] == ":")
    ):
        raise ConfigError(
            f"{where}: location {location!r} is absolute; a file location is relative to the "
            "config folder (or to data_root set at the top of sources.toml)"
        )
    if ".." in path.parts or ".." in location.replace("\\", "/").split("/"):
        raise ConfigError(
            f"{where}: location {location!r} climbs out with '..'; a file location must stay "
            "inside the config folder (or data_root)"
        )


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
    here = f"{where}, schedule"
    minutes = _typed(value, "interval_minutes", None, float, here)
    _typed(value, "cron", None, str, here)
    _typed(value, "timezone", None, str, here)
    hours = _typed(value, "interval_hours", None, float, here)
    if hours is not None:
        minutes = hours * 60
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


def parse_source(
    item: Mapping[str, Any], index: int, path: Path, data_root: Path | None = None
) -> SourceSpec:
    if not isinstance(item, dict):
        raise ConfigError(f"{path.name}, source #{index}: expected a [[source]] table")
    where = _where(path, index, item.get("id") if isinstance(item.get("id"), str) else None)
    _check_scalars(item, where)
    collector = _choice(item["collector"], COLLECTORS, where, "collector")
    records = _choice(item.get("records", "observations"), RECORDS, where, "records")
    subject = _subject_of(item, where)
    columns = _columns_of(item, where)
    pagination = _table(item, "pagination", where)
    _check_keys(pagination, _PAGINATION_KEYS, f"{where}, pagination")
    pwhere = f"{where}, pagination"
    for key in ("param", "size_param", "total", "next", "style"):
        _typed(pagination, key, None, str, pwhere)
    fields = _table(item, "fields", where)
    for key in fields:
        _typed(fields, key, None, str, f"{where}, fields")
    aliases = _table(item, "aliases", where)
    for key in aliases:
        _typed(aliases, key, None, str, f"{where}, aliases")
    layout = _choice(item.get("layout", "wide"), LAYOUTS, where, "layout")
    _check_records(item, records, layout, columns, fields, where)
    location = str(item["location"])
    hosts = _hosts_of(item, location, where)
    literal_headers, header_env = _headers(item, where)
    max_bytes = _positive(item, "max_bytes", DEFAULT_MAX_BYTES, int, where)
    return SourceSpec(
        id=str(item["id"]),
        collector=collector,
        records=records,
        location=location,
        base_dir=data_root or path.parent,
        description=str(item.get("description", "")),
        format=_choice(item.get("format", "auto"), FORMATS, where, "format"),
        encoding=str(item.get("encoding", "auto")),
        sheet=item.get("sheet"),
        header_rows=_positive(item, "header_rows", 1, int, where),
        skip_first_rows=_typed(item, "skip_first_rows", 0, int, where),
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
        aliases={str(k): str(v) for k, v in aliases.items()},
        precedence=_typed(item, "precedence", models.DEFAULT_PRECEDENCE, int, where),
        schedule=_schedule(item.get("schedule"), where),
        max_bytes=max_bytes,
        max_rows=_positive(item, "max_rows", DEFAULT_MAX_ROWS, int, where),
        max_columns=_positive(item, "max_columns", DEFAULT_MAX_COLUMNS, int, where),
        max_cells=_positive(item, "max_cells", DEFAULT_MAX_CELLS, int, where),
        allowed_hosts=hosts,
        token_env=_env_ref(item.get("token"), where, "token"),
        auth=str(item.get("auth", "bearer")),
        headers=literal_headers,
        header_env=header_env,
        timeout_s=_positive(item, "timeout_s", 30.0, float, where),
        deadline_s=_positive(item, "deadline_s", 120.0, float, where),
        run_deadline_s=_positive(item, "run_deadline_s", 900.0, float, where),
        retries=_typed(item, "retries", 4, int, where),
        backoff_s=_typed(item, "backoff_s", 0.5, float, where),
        items=str(item.get("items", "")),
        pagination=PaginationSpec(
            style=_choice(pagination.get("style", "none"), PAGINATION, where, "pagination.style"),
            param=str(pagination.get("param", "page")),
            size_param=pagination.get("size_param"),
            size=_positive(pagination, "size", None, int, pwhere),
            total=pagination.get("total"),
            next=pagination.get("next"),
            start=_typed(pagination, "start", 1, int, pwhere),
            max_pages=_positive(pagination, "max_pages", 1000, int, pwhere),
        ),
        table=item.get("table", 0),
        fields={str(k): str(v) for k, v in fields.items()},
        level=item.get("level"),
        year=_typed(item, "year", None, int, where),
        issuer=str(item.get("issuer", "")),
        demo=_typed(item, "demo", False, bool, where),
        where=str(path) + where.removeprefix(path.name),
        ranking=_typed(item, "ranking", "", str, where),
        document=_typed(item, "document", "", str, where),
        published=str(_typed(item, "published", "", str, where)),
        citation_column=_typed(item, "citation_column", "", str, where),
    )


def _check_scalars(item: Mapping[str, Any], where: str) -> None:
    """Known keys only; required keys present; every plain value of the right type."""
    _check_keys(item, _SOURCE_KEYS, where)
    for key in ("id", "collector", "location"):
        if not item.get(key):
            raise ConfigError(f"{where}: '{key}' is required")
        _typed(item, key, None, str, where)
    for key in ("description", "encoding", "period_column", "indicator_column", "value_column"):
        _typed(item, key, None, str, where)
    for key in ("unit_column", "unit", "items", "auth", "issuer", "level"):
        _typed(item, key, None, str, where)
    if item.get("sheet") is not None and not isinstance(item["sheet"], str | int):
        raise ConfigError(f"{where}: sheet = {item['sheet']!r}; expected a sheet name or number")
    if item.get("table") is not None and not isinstance(item["table"], str | int):
        raise ConfigError(f"{where}: table = {item['table']!r}; expected a number or a text")
    if isinstance(item.get("period"), bool) or not isinstance(item.get("period", ""), str | int):
        raise ConfigError(f'{where}: period = {item["period"]!r}; expected e.g. "2024"')
    if len(str(item["id"])) > 64:
        raise ConfigError(f"{where}: id is {len(str(item['id']))} characters; at most 64")


def _subject_of(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    subject = item.get("subject", {})
    if isinstance(subject, str):
        subject = {"column": subject}
    if not isinstance(subject, dict):
        raise ConfigError(f'{where}: subject = {subject!r}; expected {{ column = "…" }}')
    _check_keys(subject, _SUBJECT_KEYS, f"{where}, subject")
    for key in ("column", "match", "type"):
        _typed(subject, key, None, str, f"{where}, subject")
    return subject


def _columns_of(item: Mapping[str, Any], where: str) -> dict[str, ColumnSpec]:
    columns: dict[str, ColumnSpec] = {}
    for header, target in _table(item, "columns", where).items():
        if isinstance(target, str):
            columns[header] = ColumnSpec(target)
        elif isinstance(target, dict):
            _check_keys(target, _COLUMN_KEYS, f"{where}, columns.{header}")
            if not isinstance(target.get("indicator"), str):
                raise ConfigError(f'{where}: columns.{header} needs indicator = "code"')
            columns[header] = ColumnSpec(
                target["indicator"], _typed(target, "unit", None, str, f"{where}, columns")
            )
        else:
            raise ConfigError(f"{where}: columns.{header} must be an indicator code or a table")
    return columns


def _check_records(
    item: Mapping[str, Any],
    records: str,
    layout: str,
    columns: Mapping[str, ColumnSpec],
    fields: Mapping[str, Any],
    where: str,
) -> None:
    """What each kind of record needs: lists their fields, rankings a series, observations a
    layout they can be read with and a period."""
    if records in ("recognitions", "rankings"):
        _check_keys(fields, _FIELD_KEYS, f"{where}, fields")
    if records == "rankings" and not (item.get("ranking") or fields.get("ranking")):
        raise ConfigError(
            f'{where}: records = "rankings" needs ranking = "series-id" (e.g. '
            '"national-hightech-zone") or fields.ranking'
        )
    if records != "observations":
        return
    if layout == "long" and not (item.get("indicator_column") and item.get("value_column")):
        raise ConfigError(f'{where}: layout = "long" needs indicator_column and value_column')
    if layout == "wide" and not columns:
        raise ConfigError(
            f'{where}: layout = "wide" needs a [source.columns] mapping '
            "from column headers to indicator codes"
        )
    if not item.get("period") and not item.get("period_column"):
        raise ConfigError(
            f'{where}: say which period the data report: period = "2024" or period_column = "年份"'
        )


def _hosts_of(item: Mapping[str, Any], location: str, where: str) -> tuple[str, ...]:
    """The hosts a URL source may reach (its own by default); a file location stays inside."""
    hosts = _str_list(item, "allowed_hosts", where)
    if location.startswith(("http://", "https://")):
        secret = secret_in_url(location)
        if secret:
            raise ConfigError(
                f"{where}: location {redact_url(location)} carries {secret}; credentials come "
                'only by reference: token = {"$env" = "NAME"} (with auth = "bearer" or a '
                "header name)"
            )
        host = urlsplit(location).hostname or ""
        hosts = hosts or (host,)
        if host not in hosts:
            raise ConfigError(
                f"{where}: the host of {redact_url(location)} is not in allowed_hosts {hosts}"
            )
    elif "://" in location:
        raise ConfigError(f"{where}: location {location!r}: only http, https or a file path")
    else:
        _file_location(location, where)
    return hosts


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
    unknown = sorted(set(data) - {"source", "data_root"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)}; expected [[source]] tables "
            '(and optionally data_root = "folder")'
        )
    data_root = None
    if "data_root" in data:
        value = _typed(data, "data_root", None, str, path.name)
        data_root = Path(value).expanduser()
        if not data_root.is_absolute():
            data_root = path.parent / data_root
    sources = data.get("source", [])
    if not isinstance(sources, list):
        raise ConfigError(f"{path}: 'source' must be [[source]] tables")
    specs = [parse_source(item, i, path, data_root) for i, item in enumerate(sources, 1)]
    ids = [s.id for s in specs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{path}: source id(s) used twice: {', '.join(duplicates)}")
    return specs
