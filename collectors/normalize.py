"""Chinese number formats, units and missing-value markers, normalised to canonical values.

A cell is text as a clerk typed it: full-width digits and punctuation (１２，３４５．６), thousands
separators, ``43.5%``, a unit inside the cell (``12.5万元``), or a marker that means "not reported"
(—, /, -, empty). ``parse_value`` turns it into (number, unit found in the cell) or MISSING;
``to_canonical`` converts to the indicator's unit. Missing is never 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from monitor.messages import Msg, msg
from monitor.units import UNITS, conversion_factor

MISSING_MARKERS: Final = frozenset(
    {
        "",
        "-",
        "—",
        "——",
        "–",
        "/",
        "／",
        "\\",
        "nan",
        "none",
        "null",
        "n/a",
        "na",
        "无",
        "暂无",
        "空",
        "不详",
        "…",
        "...",
    }
)


class ValueProblem(ValueError):
    """A cell that cannot be read as the value expected; ``msg`` says what was expected, in
    either language (``str()`` is the English)."""

    def __init__(self, message: Msg) -> None:
        self.msg = message
        super().__init__(str(message))


@dataclass(frozen=True)
class Missing:
    """The cell says "not reported"."""


MISSING: Final = Missing()

_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*)$")
# Longest units first so 万平方米 wins over 平方米 and 万元 over 元.
_UNITS_BY_LENGTH: Final = sorted(UNITS, key=len, reverse=True)
_UNIT_ALIASES: Final = {
    "m²": "平方米",
    "m2": "平方米",
    "㎡": "平方米",
    "平米": "平方米",
    "万㎡": "万平方米",
    "km²": "平方公里",
    "户": "家",
    "名": "人",
    "场": "次",
    "场次": "次",
    "亿": "亿元",
    "万": None,
}


def clean_text(text: str) -> str:
    """NFKC (full-width → ASCII digits and punctuation), trimmed, inner spaces removed."""
    normalised = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", normalised.strip())


def parse_value(cell: object) -> tuple[float, str] | Missing:
    """Read a cell: (number, unit written in the cell or '') or MISSING. Raises ValueProblem."""
    if cell is None:
        return MISSING
    if isinstance(cell, bool):
        return (1.0 if cell else 0.0), ""
    if isinstance(cell, int | float):
        if isinstance(cell, float) and math.isnan(cell):
            return MISSING
        if not math.isfinite(cell):
            raise ValueProblem(msg("value.finite", value=repr(cell)))
        return float(cell), ""
    text = clean_text(str(cell))
    if text.lower() in MISSING_MARKERS:
        return MISSING
    if text in ("是", "有", "Y", "y", "yes", "Yes", "TRUE", "true"):
        return 1.0, "是否"
    if text in ("否", "没有", "N", "n", "no", "No", "FALSE", "false"):
        return 0.0, "是否"
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accounting negative, e.g. (1,234)
        negative, text = True, text[1:-1]
    text = text.replace(",", "").replace("，", "")
    match = _NUMBER.match(text)
    if not match or (match.group(2) and match.group(2)[0] in "0123456789.+-eE"):
        raise ValueProblem(msg("value.number", value=str(cell)))
    number = float(match.group(1))
    if negative:
        number = -number
    rest = match.group(2)
    if rest == "%":
        return number, "%"
    if rest == "":
        return number, ""
    unit = _unit_of(rest)
    if unit is None:
        raise ValueProblem(msg("value.unit", value=str(cell), unit=rest))
    return number, unit


def _unit_of(text: str) -> str | None:
    if text in UNITS:
        return text
    if text in _UNIT_ALIASES:
        return _UNIT_ALIASES[text]
    return None


def normalise_unit(text: str) -> str | None:
    """A unit as written in a header or config ('万元', '㎡', '(千元)') → a known unit or None."""
    cleaned = clean_text(text).strip("()（）[]【】")
    return _unit_of(cleaned)


def unit_in_header(header: str) -> str | None:
    """The unit a header declares in brackets, e.g. '在孵企业总收入（万元）' → '万元'."""
    match = re.search(
        r"[(（\[【]([^()（）\[\]【】]+)[)）\]】]\s*$", unicodedata.normalize("NFKC", header)
    )
    return normalise_unit(match.group(1)) if match else None


def to_canonical(number: float, unit: str, canonical: str) -> float:
    """Convert ``number`` in ``unit`` ('' = already canonical) to the canonical unit."""
    if not unit or unit == canonical:
        return number
    if canonical == "%" and unit == "%":
        return number
    return number * conversion_factor(unit, canonical)


def check_bounds(
    value: float, canonical: str, minimum: float | None, maximum: float | None
) -> None:
    """Reject impossible values: negative counts, shares outside 0–100, declared bounds."""
    dimension = UNITS[canonical][0]
    if dimension in ("count", "people", "area") and value < 0:
        raise ValueProblem(msg("value.count", value=value))
    if dimension == "share" and not 0 <= value <= 100:
        raise ValueProblem(msg("value.share", value=value))
    if dimension == "flag" and value not in (0.0, 1.0):
        raise ValueProblem(msg("value.flag", value=value))
    if minimum is not None and value < minimum:
        raise ValueProblem(msg("value.minimum", limit=minimum, unit=canonical, value=value))
    if maximum is not None and value > maximum:
        raise ValueProblem(msg("value.maximum", limit=maximum, unit=canonical, value=value))
