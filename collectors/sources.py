"""Sources in ``config/sources.toml``: what to collect, from where, how to read it, when.

Each ``[[source]]`` names its collector (``file``, ``json_api``, ``html_table``), the kind of
records it yields (``observations`` or ``recognitions``), where it lives, how to read it and how
its columns or fields map to indicators. Unknown keys and names are errors that list what is
allowed; secrets come only by reference (``token = {"$env" = "NAME"}``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlsplit

from collectors.secrets import is_secret_header, redact_url, secret_in_url
from monitor import config_schema, models
from monitor.config_schema import (
    SourceSchedule,
    SourcesFile,
    SourceTable,
    SubjectTable,
)
from monitor.errors import ConfigError

SOURCES_FILE = "sources.toml"
COLLECTORS: tuple[str, ...] = get_args(SourceTable.model_fields["collector"].annotation)
_FIELD_KEYS = {"name", "level", "year", "issuer", "subject", "position", "out_of", "ranking"}


@dataclass(frozen=True)
class ColumnSpec:
    indicator: str
    unit: str | None = None


@dataclass(frozen=True)
class ScheduleSpec:
    cron: str | None
    interval_minutes: float | None
    timezone: str | None


@dataclass(frozen=True)
class PaginationSpec:
    style: str
    param: str
    size_param: str | None
    size: int | None
    total: str | None
    next: str | None
    start: int
    max_pages: int


@dataclass(frozen=True)
class SourceSpec:
    """One configured source, validated (its defaults are those of its model,
    ``config_schema.SourceTable``)."""

    id: str
    collector: str
    records: str
    location: str
    base_dir: Path
    description: str
    format: str
    encoding: str
    sheet: str | int | None
    header_rows: int
    skip_first_rows: int
    layout: str
    subject_column: str
    subject_match: str
    subject_type: str
    period: str | None
    period_column: str | None
    indicator_column: str | None
    value_column: str | None
    unit_column: str | None
    columns: Mapping[str, ColumnSpec]
    unit: str | None
    aliases: Mapping[str, str]
    precedence: int
    schedule: ScheduleSpec | None
    max_bytes: int
    max_rows: int
    max_columns: int
    max_cells: int
    allowed_hosts: tuple[str, ...]
    token_env: str | None
    auth: str
    headers: Mapping[str, str]
    header_env: Mapping[str, str]
    timeout_s: float
    deadline_s: float
    run_deadline_s: float
    retries: int
    backoff_s: float
    items: str
    pagination: PaginationSpec
    table: int | str
    fields: Mapping[str, str]
    level: str | None
    year: int | None
    issuer: str
    demo: bool
    where: str
    ranking: str
    document: str
    published: str
    citation_column: str

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


def _headers(
    headers: Mapping[str, str | dict[str, str]], where: str
) -> tuple[dict[str, str], dict[str, str]]:
    """(literal headers, headers read from the environment); secrets only by reference."""
    literal: dict[str, str] = {}
    from_env: dict[str, str] = {}
    for name, value in headers.items():
        if isinstance(value, dict):
            ref = _env_ref(value, where, f"headers.{name}")
            assert ref is not None
            from_env[name] = ref
        else:
            if is_secret_header(name):
                raise ConfigError(
                    f"{where}: headers.{name} is written inline; a credential comes only by "
                    f'reference: headers.{name} = {{"$env" = "NAME"}}'
                )
            literal[name] = value
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


def _env_ref(value: object, where: str, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"$env"}:
        return str(value["$env"])
    raise ConfigError(
        f'{where}: {key} must be a reference {{"$env" = "NAME"}}; secrets are '
        "never written in config files"
    )


def _schedule(value: SourceSchedule | None, where: str) -> ScheduleSpec | None:
    if value is None:
        return None
    minutes = value.interval_minutes
    if value.interval_hours is not None:
        minutes = value.interval_hours * 60
    if (value.cron is None) == (minutes is None):
        raise ConfigError(
            f"{where}: schedule needs exactly one of cron, interval_minutes, interval_hours"
        )
    if minutes is not None and minutes <= 0:
        raise ConfigError(f"{where}: schedule interval must be positive, got {minutes}")
    return ScheduleSpec(cron=value.cron, interval_minutes=minutes, timezone=value.timezone)


def parse_source(
    item: Mapping[str, Any], index: int, path: Path, data_root: Path | None = None
) -> SourceSpec:
    """One [[source]]: its typed model checked, then what its collector and records need."""
    if not isinstance(item, dict):
        raise ConfigError(f"{path.name}, source #{index}: expected a [[source]] table")
    where = _where(path, index, item.get("id") if isinstance(item.get("id"), str) else None)
    raw: SourceTable = config_schema.check(where, item, SourceTable)
    subject = SubjectTable(column=raw.subject) if isinstance(raw.subject, str) else raw.subject
    columns = {
        header: ColumnSpec(target)
        if isinstance(target, str)
        else ColumnSpec(target.indicator, target.unit)
        for header, target in raw.columns.items()
    }
    _check_records(raw, where)
    literal_headers, header_env = _headers(raw.headers, where)
    page = raw.pagination
    return SourceSpec(
        id=raw.id,
        collector=raw.collector,
        records=raw.records,
        location=raw.location,
        base_dir=data_root or path.parent,
        description=raw.description,
        format=raw.format,
        encoding=raw.encoding,
        sheet=raw.sheet,
        header_rows=raw.header_rows,
        skip_first_rows=raw.skip_first_rows,
        layout=raw.layout,
        subject_column=subject.column,
        subject_match=subject.match,
        subject_type=subject.type,
        period=None if raw.period is None else str(raw.period),
        period_column=raw.period_column,
        indicator_column=raw.indicator_column,
        value_column=raw.value_column,
        unit_column=raw.unit_column,
        columns=columns,
        unit=raw.unit,
        aliases=raw.aliases,
        precedence=models.DEFAULT_PRECEDENCE if raw.precedence is None else raw.precedence,
        schedule=_schedule(raw.schedule, where),
        max_bytes=raw.max_bytes,
        max_rows=raw.max_rows,
        max_columns=raw.max_columns,
        max_cells=raw.max_cells,
        allowed_hosts=_hosts_of(tuple(raw.allowed_hosts), raw.location, where),
        token_env=_env_ref(raw.token, where, "token"),
        auth=raw.auth,
        headers=literal_headers,
        header_env=header_env,
        timeout_s=raw.timeout_s,
        deadline_s=raw.deadline_s,
        run_deadline_s=raw.run_deadline_s,
        retries=raw.retries,
        backoff_s=raw.backoff_s,
        items=raw.items,
        pagination=PaginationSpec(
            style=page.style,
            param=page.param,
            size_param=page.size_param,
            size=page.size,
            total=page.total,
            next=page.next,
            start=page.start,
            max_pages=page.max_pages,
        ),
        table=raw.table,
        fields=raw.fields,
        level=raw.level,
        year=raw.year,
        issuer=raw.issuer,
        demo=raw.demo,
        where=str(path) + where.removeprefix(path.name),
        ranking=raw.ranking,
        document=raw.document,
        published=raw.published,
        citation_column=raw.citation_column,
    )


def _check_records(raw: SourceTable, where: str) -> None:
    """What each kind of record needs: lists their fields, rankings a series, observations a
    layout they can be read with and a period."""
    if raw.records in ("recognitions", "rankings"):
        _check_keys(raw.fields, _FIELD_KEYS, f"{where}, fields")
    if raw.records == "rankings" and not (raw.ranking or raw.fields.get("ranking")):
        raise ConfigError(
            f'{where}: records = "rankings" needs ranking = "series-id" (e.g. '
            '"national-hightech-zone") or fields.ranking'
        )
    if raw.records != "observations":
        return
    if raw.layout == "long" and not (raw.indicator_column and raw.value_column):
        raise ConfigError(f'{where}: layout = "long" needs indicator_column and value_column')
    if raw.layout == "wide" and not raw.columns:
        raise ConfigError(
            f'{where}: layout = "wide" needs a [source.columns] mapping '
            "from column headers to indicator codes"
        )
    if not raw.period and not raw.period_column:
        raise ConfigError(
            f'{where}: say which period the data report: period = "2024" or period_column = "年份"'
        )


def _hosts_of(hosts: tuple[str, ...], location: str, where: str) -> tuple[str, ...]:
    """The hosts a URL source may reach (its own by default); a file location stays inside."""
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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read as UTF-8 text: {exc}") from exc
    for key, value in (substitutions or {}).items():
        text = text.replace("{" + key + "}", value)
    spec: SourcesFile = config_schema.load(path, SourcesFile, text=text)
    data_root = None
    if spec.data_root is not None:
        data_root = Path(spec.data_root).expanduser()
        if not data_root.is_absolute():
            data_root = path.parent / data_root
    specs = [parse_source(item, i, path, data_root) for i, item in enumerate(spec.source, 1)]
    ids = [s.id for s in specs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"{path}: source id(s) used twice: {', '.join(duplicates)}")
    return specs
