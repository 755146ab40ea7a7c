"""What each config file may contain, declared once as typed pydantic models and checked at the
edge, before any loader reads a value.

A clerk who writes ``baseline_year = "2020"``, ``min = "0"``, a misspelt key in any table or a
table ``[setting]`` gets one line naming the file, the key, the value and what was expected —
never a Python traceback. Every key a loader reads is declared here with its type; a key not
declared is refused wherever it appears, listing the keys allowed there. Which keys are
*required*, and what values mean, the loaders say (with their own one-line messages).

Each ``[[source]]`` of ``sources.toml`` is checked on its own, so that an error names the source
("sources.toml, source #3 'haimen-xlsx': header_rows = 'two'; expected a whole number").
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.errors import ConfigError

__all__ = ["SCHEMAS", "Table", "check", "load", "read_toml"]

Text = str | None
Whole = int | None
Number = float | None


class Table(BaseModel):
    """A TOML table: every value typed, nothing undeclared."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- city.toml ---------------------------------------------------------------------------------


class CityTable(Table):
    """[city]: adcode, name and bbox are required (the loader says so); the plan's years default
    to the 14th Five-Year Plan with 2020 as its baseline."""

    adcode: Text = None
    name: Text = None
    name_en: str = ""
    bbox: list[float] | None = None
    plan_start: int = 2021
    plan_end: int = 2025
    baseline_year: int = 2020


class DistrictTable(Table):
    adcode: Text = None
    name: Text = None
    name_en: str = ""
    seat: list[float] | None = None


class GeoTable(Table):
    boundaries: str = ""
    simplify_tolerance_m: float = 100.0


class ShorelineExclusion(Table):
    name: Text = None
    bbox: list[float] = []


class BeltTable(Table):
    width_km: float = Field(default=10.0, ge=0)
    river_neighbours: list[str] = []
    zone_radius_km: float = 3.0
    shoreline_exclude: list[ShorelineExclusion] = []


class CityFile(Table):
    city: CityTable | None = None
    districts: list[DistrictTable] = []
    geo: GeoTable = GeoTable()
    belt: BeltTable = BeltTable()


# --- goals.toml --------------------------------------------------------------------------------


GoalKind = Literal["level", "growth", "cumulative", "count", "ranking"]
GOAL_KINDS: tuple[str, ...] = get_args(GoalKind)


class GoalDefaults(Table):
    """[defaults] of goals.toml: the plan's baseline and target years."""

    baseline_year: int = 2020
    target_year: int = 2025


class SplitTable(Table):
    district: str
    target: float


class GoalTable(Table):
    """One [[goal]]: id, kind and target are required; the years default to [defaults]."""

    id: str
    name_zh: Text = None
    name_en: str = ""
    kind: GoalKind
    indicator: str = ""
    baseline: Number = None
    baseline_year: Whole = None
    target: float
    target_year: Whole = None
    tolerance: float = 0.0
    unit: str = ""
    kinds: list[str] = []
    levels: list[str] = []
    ranking: str = ""
    subject: str = ""
    split: list[SplitTable] = []
    split_source: str = ""
    basis: str = ""
    stock: dict[str, int] = {}


class GoalsFile(Table):
    defaults: GoalDefaults = GoalDefaults()
    goal: list[GoalTable] = []


# --- indicators.toml ---------------------------------------------------------------------------


class IndicatorTable(Table):
    """One [[indicator]]: code, both names, unit and direction are required (the loader says
    so); a park indicator lists the kinds it applies to."""

    code: Text = None
    name_zh: Text = None
    name_en: Text = None
    unit: Text = None
    direction: Literal["higher", "lower"] | None = None
    kinds: list[str] = []
    group: str = ""
    min: Number = None
    max: Number = None
    scope: Literal["park", "region"] = "park"
    description: str = ""
    aliases: list[str] = []


class IndicatorsFile(Table):
    indicator: list[IndicatorTable] = []


# --- schedule.toml -----------------------------------------------------------------------------


class SchedulerTable(Table):
    """[scheduler] of schedule.toml, with its defaults (stated here only)."""

    timezone: str = "Asia/Shanghai"
    missed_runs: Literal["run_once", "skip"] = "run_once"
    misfire_grace_hours: float = 24.0
    max_workers: int = 2
    heartbeat_s: float = 10.0
    lock_expiry_s: float = 60.0


class _Job(Table):
    id: Text = None
    description: Text = None
    func: Text = None
    cron: Text = None
    trigger: Text = None
    interval_hours: Number = None
    interval_minutes: Number = None


class ScheduleFile(Table):
    scheduler: SchedulerTable = SchedulerTable()
    job: list[_Job] | None = None


# --- parkmon.toml ------------------------------------------------------------------------------


# parkmon.toml's model is built in monitor.settings from its table of settings (stated once).


# --- ratings/*.toml ----------------------------------------------------------------------------


Rule = Literal["linear", "tiers", "peer_ratio", "yes_no", "normalised"]
Direction = Literal["higher", "lower"]


class MethodologyGroup(Table):
    """One [[group]]: its id and points are required; the Chinese name defaults to the id."""

    id: str
    name_zh: Text = None
    name_en: str = ""
    points: float


class MethodologyItem(Table):
    """One [[item]] (or [[bonus.item]]). The rule defaults by the methodology's type; which of
    indicator / numerator+denominator, floor/cap or tiers a rule needs, the loader says."""

    id: str
    group: str = ""
    name_zh: Text = None
    name_en: str = ""
    indicator: Text = None
    numerator: Text = None
    denominator: Text = None
    rule: Rule | None = None
    points: Number = None
    weight: float = 1.0
    floor: Number = None
    cap: Number = None
    threshold: float = 1.0
    tiers: list[list[float]] = []
    direction: Direction = "higher"
    goalposts: list[float] | None = None


class MethodologyBonus(Table):
    cap: float = 0.0
    item: list[MethodologyItem] = []


class MethodologyVeto(Table):
    id: str
    name_zh: Text = None
    indicator: str
    threshold: float = 1.0


class MethodologyBand(Table):
    stars: int
    min_score: float = 0.0
    top_share: Number = None


class MethodologyFile(Table):
    """A ratings/*.toml file: name and version are required; everything else has its default
    here (the minimum completeness, the treatment of missing values, normalisation and
    aggregation of a composite)."""

    name: str
    version: str
    type: Literal["stars", "composite"] = "stars"
    title_zh: Text = None
    title_en: str = ""
    subject: str = "park"
    level: Text = None
    normalisation: Literal["minmax_all_years", "zscore", "goalpost"] = "minmax_all_years"
    aggregation: Literal["arithmetic", "geometric"] = "arithmetic"
    min_completeness: float = 0.0
    missing: Literal["zero", "peer_median"] = "zero"
    kinds: list[str] = []
    peer_by: list[str] = []
    sources: list[str] = []
    group: list[MethodologyGroup] = []
    item: list[MethodologyItem] = []
    bonus: MethodologyBonus = MethodologyBonus()
    veto: list[MethodologyVeto] = []
    stars: list[MethodologyBand] = []


# --- sources.toml ------------------------------------------------------------------------------

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_COLUMNS = 1_000
DEFAULT_MAX_CELLS = 1_000_000


def _expect(text: str, **kwargs: Any) -> Any:
    """A field whose wrong value is explained by ``text`` (what a clerk should write)."""
    return Field(json_schema_extra={"expected": text}, **kwargs)


class SubjectTable(Table):
    column: str = ""
    match: Literal["auto", "id", "name"] = "auto"
    type: Literal["park", "region"] = "park"


class ColumnTable(Table):
    indicator: str
    unit: Text = None


class SourceSchedule(Table):
    """A source's own schedule: exactly one of cron, interval_minutes, interval_hours (the
    loader says so)."""

    cron: Text = None
    interval_minutes: Number = None
    interval_hours: Number = None
    timezone: Text = None  # the [scheduler]'s time zone


class PaginationTable(Table):
    style: Literal["none", "page", "offset", "cursor"] = "none"
    param: str = "page"
    size_param: Text = None
    size: Whole = Field(default=None, gt=0)
    total: Text = None
    next: Text = None
    start: int = 1
    max_pages: int = Field(default=1000, gt=0)


class SourceTable(Table):
    """One [[source]] of sources.toml. What each collector and kind of record needs beyond its
    type (a layout's columns, a period, a ranking series, allowed hosts, secrets only by
    reference), the loader says."""

    id: str = Field(min_length=1, max_length=64)
    collector: Literal["file", "json_api", "html_table"]
    location: str = Field(min_length=1)
    records: Literal["observations", "recognitions", "rankings"] = "observations"
    description: str = ""
    format: Literal["auto", "csv", "xlsx", "xls", "json", "html"] = "auto"
    encoding: str = "auto"
    sheet: str | int | None = _expect("a sheet name or number", default=None)
    header_rows: int = Field(default=1, gt=0)
    skip_first_rows: int = 0
    layout: Literal["wide", "long"] = "wide"
    subject: str | SubjectTable = _expect('a column name or { column = "…" }', default="")
    period: str | int | None = _expect('a year, e.g. "2024"', default=None)
    period_column: Text = None
    indicator_column: Text = None
    value_column: Text = None
    unit_column: Text = None
    columns: dict[str, str | ColumnTable] = {}
    unit: Text = None
    aliases: dict[str, str] = {}
    precedence: Whole = None
    schedule: SourceSchedule | None = None
    max_bytes: int = _expect(
        "a whole number (bytes, e.g. 52428800 for 50 MB)", default=DEFAULT_MAX_BYTES, gt=0
    )
    max_rows: int = Field(default=DEFAULT_MAX_ROWS, gt=0)
    max_columns: int = Field(default=DEFAULT_MAX_COLUMNS, gt=0)
    max_cells: int = Field(default=DEFAULT_MAX_CELLS, gt=0)
    allowed_hosts: list[str] = _expect('a list of texts, e.g. ["127.0.0.1"]', default=[])
    token: str | dict[str, str] | None = _expect('a reference {"$env" = "NAME"}', default=None)
    auth: str = "bearer"
    headers: dict[str, str | dict[str, str]] = {}
    timeout_s: float = Field(default=30.0, gt=0)
    deadline_s: float = Field(default=120.0, gt=0)
    run_deadline_s: float = Field(default=900.0, gt=0)
    retries: int = 4
    backoff_s: float = 0.5
    items: str = ""
    pagination: PaginationTable = PaginationTable()
    table: int | str = _expect("a number or a text", default=0)
    fields: dict[str, str] = {}
    level: Text = None
    year: Whole = None
    issuer: str = ""
    demo: bool = False
    ranking: str = ""
    document: str = ""
    published: str = ""
    citation_column: str = ""


class SourcesFile(Table):
    """sources.toml: [[source]] tables (each checked on its own, so that an error names its
    source) and optionally data_root."""

    data_root: Text = None
    source: list[dict[str, Any]] = []


SCHEMAS: dict[str, type[Table]] = {
    "city": CityFile,
    "goals": GoalsFile,
    "indicators": IndicatorsFile,
    "schedule": ScheduleFile,
    "methodology": MethodologyFile,
    "sources": SourcesFile,
    "source": SourceTable,
}
_TABLE_NAMES = {cls.__name__ for cls in Table.__subclasses__()}

_EXPECTED = {
    "string_type": "a text in quotes",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "model_type": "a table",
    "dict_type": "a table",
    "model_attributes_type": "a table",
}


def read_toml(
    path: Path, *, missing_ok: bool = False, text: str | None = None
) -> dict[str, Any] | None:
    """The one reader of parkmon's TOML files (``text``: its content, already read). None when
    the file is absent and ``missing_ok``; else one line for a missing, unreadable or invalid
    file."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if missing_ok:
                return None
            raise ConfigError(f"{path}: file not found") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def load(
    path: Path, kind: str | type[Table], *, missing_ok: bool = False, text: str | None = None
) -> Any:
    """A config file read once and checked once: its typed model (None when absent and
    ``missing_ok``)."""
    data = read_toml(path, missing_ok=missing_ok, text=text)
    return None if data is None else check(path, data, kind)


def check(path: Path | str, data: Mapping[str, Any], kind: str | type[Table]) -> Any:
    """Refuse undeclared keys and wrong-typed values of a config file, in one line; returns the
    typed model (with the defaults of what the file leaves out). ``kind`` names a file kind of
    ``SCHEMAS`` or is a model of its own."""
    model = SCHEMAS[kind] if isinstance(kind, str) else kind
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_one_line(path, exc, model)) from None


def _one_line(path: Path | str, exc: ValidationError, model: type[Table]) -> str:
    # An unknown key first: a misspelt key also makes the key it meant "missing".
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    loc = _clean(error["loc"])
    if isinstance(error.get("input"), dict) and str(error["type"]).endswith("_type"):
        # a table where a union also allows a text: what is wrong inside the table says more
        inside = [e for e in errors if _within(e, loc)]
        if inside:
            error, loc = inside[0], _clean(inside[0]["loc"])
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(sorted(_model_at(model, loc[:-1]).model_fields))
        if len(loc) == 1:
            return f"{path}: unknown key or table {loc[0]!r}; expected: {allowed}"
        return f"{path}: unknown key(s) {loc[-1]} in [{_shown(loc[:-1])}]; allowed: {allowed}"
    expected = _EXPECTED.get(str(error["type"]), str(error["msg"]).lower())
    if error["type"] == "literal_error":
        expected = f"one of {error.get('ctx', {}).get('expected', '')}"
    if error["type"] == "missing":
        return f"{path}: {_shown(loc)} is required"
    ctx = error.get("ctx", {})
    if error["type"] == "greater_than_equal":
        expected = f"a number ≥ {ctx.get('ge')}"
    if error["type"] == "greater_than":
        expected = f"a number above {ctx.get('gt')}"
    if error["type"] == "string_too_short":
        expected = "a text that is not empty"
    if error["type"] == "string_too_long":
        expected = f"a text of at most {ctx.get('max_length')} characters"
    hint = _hint(model, loc)
    if hint and error["type"].endswith("_type"):
        expected = hint
    value = error.get("input")
    if isinstance(value, dict):
        return f"{path}: {_shown(loc)} is a table; expected {expected}"
    return f"{path}: {_shown(loc)} = {value!r}; expected {expected}"


def _within(error: Any, loc: tuple[Any, ...]) -> bool:
    """Whether ``error`` lies strictly inside the table at ``loc``."""
    inner = _clean(error["loc"])
    return len(inner) > len(loc) and inner[: len(loc)] == loc


def _clean(loc: Any) -> tuple[Any, ...]:
    return tuple(step for step in loc if not _is_union_tag(step))


def _is_union_tag(step: Any) -> bool:
    """pydantic names the member of a union a value failed as a step of the error's location
    ('str', 'list[float]', 'ColumnTable'); the clerk's file has no such key."""
    if not isinstance(step, str):
        return False
    return step in {"str", "int", "float", "bool"} or "[" in step or step in _TABLE_NAMES


def _hint(model: type[Table], loc: tuple[Any, ...]) -> str | None:
    """The 'expected' text a field declares for a wrong value, if any."""
    if not loc or not isinstance(loc[-1], str):
        return None
    try:
        owner = _model_at(model, loc[:-1])
    except (KeyError, AttributeError):
        return None
    field = getattr(owner, "model_fields", {}).get(loc[-1])
    extra = getattr(field, "json_schema_extra", None)
    return extra.get("expected") if isinstance(extra, dict) else None


def _shown(loc: tuple[Any, ...]) -> str:
    """('districts', 0, 'seat', 1) → 'districts[0].seat[1]' (positions as in the file)."""
    text = ""
    for step in loc:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else str(step)
    return text


def _model_at(model: type[Table], loc: tuple[Any, ...]) -> type[Table]:
    """The table model that ``loc`` (keys and list positions) leads to."""
    current: Any = model
    for step in loc:
        if isinstance(step, int) or step not in current.model_fields:
            continue  # a list position, or a key of a table of free keys (columns."销售收入")
        annotation = current.model_fields[step].annotation
        current = _table_in(annotation)
    return current  # type: ignore[no-any-return]


def _table_in(annotation: Any) -> Any:
    """The Table class inside ``X | None`` or ``list[X] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, Table):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _table_in(arg)
        if found is not None:
            return found
    return None
