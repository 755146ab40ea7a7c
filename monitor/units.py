"""Units met in Chinese statistics, grouped by dimension with factors to the dimension's base.

The Torch statistics report money in 千元; local platforms and news use 万元 and 亿元
(1 万元 = 10 千元, 1 亿元 = 10,000 万元). Converting is always explicit: a value in a unit of
another dimension than the indicator's is an error, never a silent reinterpretation.
"""

from __future__ import annotations

from typing import Final

from monitor.errors import ConfigError

# unit -> (dimension, factor to the dimension's base unit)
UNITS: Final[dict[str, tuple[str, float]]] = {
    "元": ("money", 1.0),
    "千元": ("money", 1e3),
    "万元": ("money", 1e4),
    "百万元": ("money", 1e6),
    "亿元": ("money", 1e8),
    "平方米": ("area", 1.0),
    "万平方米": ("area", 1e4),
    "平方公里": ("area", 1e6),
    "人": ("people", 1.0),
    "万人": ("people", 1e4),
    "个": ("count", 1.0),
    "家": ("count", 1.0),
    "项": ("count", 1.0),
    "件": ("count", 1.0),
    "次": ("count", 1.0),
    "%": ("share", 1.0),
    "是否": ("flag", 1.0),
}

UNIT_EN: Final[dict[str, str]] = {
    "元": "yuan",
    "千元": "thousand yuan",
    "万元": "10k yuan",
    "百万元": "million yuan",
    "亿元": "100m yuan",
    "平方米": "m²",
    "万平方米": "10k m²",
    "平方公里": "km²",
    "人": "people",
    "万人": "10k people",
    "个": "",
    "家": "firms",
    "项": "items",
    "件": "items",
    "次": "times",
    "%": "%",
    "是否": "yes/no",
}


def check_unit(unit: str, where: str = "") -> str:
    if unit not in UNITS:
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}unknown unit {unit!r}; known units: {', '.join(UNITS)}")
    return unit


def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Multiply a value in ``from_unit`` by this to express it in ``to_unit``."""
    check_unit(from_unit)
    check_unit(to_unit)
    dim_from, f_from = UNITS[from_unit]
    dim_to, f_to = UNITS[to_unit]
    if dim_from != dim_to:
        raise ConfigError(
            f"cannot convert {from_unit} ({dim_from}) to {to_unit} ({dim_to}): different dimensions"
        )
    return f_from / f_to
