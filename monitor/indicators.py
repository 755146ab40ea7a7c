"""The indicator catalogue (``config/indicators.toml``): codes, names, units, direction."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from monitor import config_schema, models
from monitor.errors import ConfigError
from monitor.units import check_unit

CATALOGUE_FILE = "indicators.toml"
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def load_indicators(config_dir: Path) -> list[dict[str, Any]]:
    """Read and check the catalogue; returns rows for the Indicator table."""
    path = config_dir / CATALOGUE_FILE
    model: config_schema.IndicatorsFile = config_schema.load(path, "indicators")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    names: dict[str, str] = {}
    kinds = {k.value for k in models.ParkKind}
    for i, item in enumerate(model.indicator, start=1):
        where = f"{path}, indicator #{i} ({item.code or '?'})"
        for key in ("code", "name_zh", "name_en", "unit", "direction"):
            if not getattr(item, key):
                raise ConfigError(f"{where}: '{key}' is required")
        code = str(item.code)
        if not _CODE.match(code):
            raise ConfigError(f"{where}: code {code!r} must be lowercase letters, digits and _")
        if code in seen:
            raise ConfigError(f"{where}: code {code!r} is listed twice")
        seen.add(code)
        check_unit(str(item.unit), where)
        bad_kinds = [k for k in item.kinds if k not in kinds]
        if bad_kinds:
            raise ConfigError(
                f"{where}: unknown kind(s) {', '.join(bad_kinds)}; expected any of "
                f"{', '.join(sorted(kinds))}"
            )
        if item.scope == "park" and not item.kinds:
            raise ConfigError(f"{where}: a park indicator must list the kinds it applies to")
        for name in (str(item.name_zh), *item.aliases):
            if name in names:
                raise ConfigError(
                    f"{where}: the name {name!r} is already used by {names[name]!r}; each "
                    "indicator needs its own display name and aliases (say whose figure it "
                    "is, e.g. 园区… for a zone's)"
                )
            names[name] = code
        rows.append(
            {
                "code": code,
                "name_zh": str(item.name_zh),
                "name_en": str(item.name_en),
                "unit": str(item.unit),
                "direction": str(item.direction),
                "kinds": "|".join(item.kinds),
                "scope": item.scope,
                "group": item.group,
                "minimum": item.min,
                "maximum": item.max,
                "description": item.description,
                "aliases": "|".join(item.aliases),
            }
        )
    if not rows:
        raise ConfigError(f"{path}: no [[indicator]] entries")
    return rows
