"""The expected types of the config files' values, checked before any loader reads them.

A clerk who writes ``baseline_year = "2020"`` or ``min = "0"`` or adds a table ``[setting]`` gets
one line naming the file, the key, the value and what was expected — never a Python traceback.
Each file kind lists its top-level keys and, by path, the type of every value the loaders read
(``*`` stands for any position in an array of tables, ``[]`` for the items of a plain array).
Keys a loader does not know are reported by that loader, listing what it allows.

(``sources.toml`` is checked key by key in ``collectors.sources``, where each key is parsed.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

STR, INT, NUMBER, BOOL = "text", "int", "number", "bool"
_EXPECTED = {
    STR: "a text in quotes",
    INT: "a whole number",
    NUMBER: "a number",
    BOOL: "true or false",
}

_STARS = {"stars.*.stars": INT, "stars.*.min_score": NUMBER, "stars.*.top_share": NUMBER}
_METHOD_COMMON = {
    "name": STR,
    "version": STR,
    "type": STR,
    "title_zh": STR,
    "title_en": STR,
    "subject": STR,
    "level": STR,
    "normalisation": STR,
    "aggregation": STR,
    "min_completeness": NUMBER,
    "missing": STR,
    "kinds.[]": STR,
    "peer_by.[]": STR,
    "group.*.id": STR,
    "group.*.name_zh": STR,
    "group.*.name_en": STR,
    "group.*.points": NUMBER,
    "item.*.id": STR,
    "item.*.group": STR,
    "item.*.name_zh": STR,
    "item.*.name_en": STR,
    "item.*.indicator": STR,
    "item.*.rule": STR,
    "item.*.points": NUMBER,
    "item.*.weight": NUMBER,
    "item.*.floor": NUMBER,
    "item.*.cap": NUMBER,
    "item.*.threshold": NUMBER,
    "item.*.tiers.*.[]": NUMBER,
    "item.*.numerator": STR,
    "item.*.denominator": STR,
    "bonus.cap": NUMBER,
    "bonus.item.*.id": STR,
    "bonus.item.*.name_zh": STR,
    "bonus.item.*.indicator": STR,
    "bonus.item.*.rule": STR,
    "bonus.item.*.points": NUMBER,
    "bonus.item.*.threshold": NUMBER,
    "bonus.item.*.tiers.*.[]": NUMBER,
    "veto.*.id": STR,
    "veto.*.name_zh": STR,
    "veto.*.indicator": STR,
    **_STARS,
}

# file kind → (allowed top-level keys, types by path)
SCHEMAS: dict[str, tuple[frozenset[str], Mapping[str, str]]] = {
    "city": (
        frozenset({"city", "districts", "geo", "belt"}),
        {
            "city.adcode": STR,
            "city.name": STR,
            "city.name_en": STR,
            "city.bbox.[]": NUMBER,
            "city.plan_start": INT,
            "city.plan_end": INT,
            "city.baseline_year": INT,
            "districts.*.adcode": STR,
            "districts.*.name": STR,
            "districts.*.name_en": STR,
            "districts.*.seat.[]": NUMBER,
            "geo.boundaries": STR,
            "geo.simplify_tolerance_m": NUMBER,
            "belt.width_km": NUMBER,
            "belt.river_neighbours.[]": STR,
            "belt.zone_radius_km": NUMBER,
            "belt.shoreline_exclude.*.name": STR,
            "belt.shoreline_exclude.*.bbox.[]": NUMBER,
        },
    ),
    "goals": (
        frozenset({"defaults", "goal"}),
        {
            "defaults.baseline_year": INT,
            "defaults.target_year": INT,
            "goal.*.id": STR,
            "goal.*.name_zh": STR,
            "goal.*.name_en": STR,
            "goal.*.kind": STR,
            "goal.*.indicator": STR,
            "goal.*.baseline": NUMBER,
            "goal.*.target": NUMBER,
            "goal.*.tolerance": NUMBER,
            "goal.*.unit": STR,
            "goal.*.kinds.[]": STR,
            "goal.*.levels.[]": STR,
            "goal.*.split.*.district": STR,
            "goal.*.split.*.target": NUMBER,
            "goal.*.split_source": STR,
            "goal.*.basis": STR,
            "goal.*.ranking": STR,
            "goal.*.subject": STR,
            "goal.*.baseline_year": INT,
            "goal.*.target_year": INT,
        },
    ),
    "indicators": (
        frozenset({"indicator"}),
        {
            "indicator.*.code": STR,
            "indicator.*.name_zh": STR,
            "indicator.*.name_en": STR,
            "indicator.*.unit": STR,
            "indicator.*.direction": STR,
            "indicator.*.kinds.[]": STR,
            "indicator.*.group": STR,
            "indicator.*.min": NUMBER,
            "indicator.*.max": NUMBER,
            "indicator.*.scope": STR,
            "indicator.*.description": STR,
            "indicator.*.aliases.[]": STR,
        },
    ),
    "schedule": (
        frozenset({"scheduler", "job"}),
        {
            "scheduler.timezone": STR,
            "scheduler.missed_runs": STR,
            "scheduler.misfire_grace_hours": NUMBER,
            "scheduler.max_workers": INT,
            "scheduler.heartbeat_s": NUMBER,
            "scheduler.lock_expiry_s": NUMBER,
            "job.*.id": STR,
            "job.*.description": STR,
            "job.*.func": STR,
            "job.*.cron": STR,
            "job.*.trigger": STR,
            "job.*.interval_hours": NUMBER,
            "job.*.interval_minutes": NUMBER,
            "job.*.timezone": STR,
        },
    ),
    "settings": (frozenset({"settings"}), {}),
    "methodology": (
        frozenset({k.split(".", 1)[0] for k in _METHOD_COMMON} | {"stars", "bonus", "veto"}),
        _METHOD_COMMON,
    ),
}


def _kind_ok(value: object, kind: str) -> bool:
    if kind == STR:
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _walk(node: Any, pattern: tuple[str, ...], shown: str):  # type: ignore[no-untyped-def]
    """(pattern, shown key, value) of every leaf; arrays of tables become '*'."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*pattern, str(key)), f"{shown}.{key}" if shown else str(key))
    elif isinstance(node, list):
        tables = any(isinstance(v, dict | list) for v in node)
        for i, value in enumerate(node):
            step = "*" if tables else "[]"
            yield from _walk(value, (*pattern, step), f"{shown}[{i}]")
    else:
        yield ".".join(pattern), shown, node


def check(path: Path, data: Mapping[str, Any], kind: str) -> None:
    """Refuse unknown top-level tables and wrong-typed values, in one line each."""
    allowed, types = SCHEMAS[kind]
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key or table {', '.join(repr(u) for u in unknown)}; "
            f"expected: {', '.join(sorted(allowed))}"
        )
    for pattern, shown, value in _walk(data, (), ""):
        kind_of = types.get(pattern)
        if kind_of is None:
            parent = pattern.rsplit(".", 1)[0] + ".[]" if pattern.endswith(".*") else None
            kind_of = types.get(parent) if parent else None
            if kind_of is not None:  # a table where a plain value belongs
                raise ConfigError(f"{path}: {shown} is a table; expected {_EXPECTED[kind_of]}")
            continue
        if not _kind_ok(value, kind_of):
            raise ConfigError(f"{path}: {shown} = {value!r}; expected {_EXPECTED[kind_of]}")
    for pattern in types:  # a plain value where a table or list belongs
        head = pattern.split(".", 1)[0]
        if head in data and not isinstance(data[head], dict | list) and "." in pattern:
            raise ConfigError(
                f"{path}: {head} = {data[head]!r}; expected a table [{head}] or a list"
            )
