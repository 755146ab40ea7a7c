"""The indicator catalogue as the collectors see it: each indicator's names, unit and bounds,
and finding the one a file means by a code, a name or an alias (with "did you mean" hints)."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from collectors.names import name_key
from monitor import messages
from monitor.messages import Msg, did_you_mean, msg


@dataclass(frozen=True)
class IndicatorInfo:
    code: str
    name_zh: str
    unit: str
    minimum: float | None
    maximum: float | None
    aliases: tuple[str, ...] = ()
    name_en: str = ""

    def problem(self, problem: object) -> Msg:
        """A problem with this indicator's cell, named in both languages."""
        return msg(
            "indicator.problem",
            name=self.name_zh,
            name_en=self.name_en or self.code,
            code=self.code,
            problem=messages.of(problem),
        )


def indicator_by_name(catalogue: Mapping[str, IndicatorInfo]) -> dict[str, IndicatorInfo]:
    """Every way a file may name an indicator: its code, its name and its aliases (the plan's
    own wording, e.g. 高新技术产业产值占工业产值比重), compared as ``name_key`` does."""
    found: dict[str, IndicatorInfo] = {}
    for info in catalogue.values():
        for name in (info.code, info.name_zh, *info.aliases):
            found.setdefault(name_key(name), info)
    return found


def find_indicator(catalogue: Mapping[str, IndicatorInfo], wanted: object) -> IndicatorInfo | None:
    text = unicodedata.normalize("NFKC", str(wanted)).strip()
    return catalogue.get(text) or indicator_by_name(catalogue).get(name_key(text))


def indicator_hint(catalogue: Mapping[str, IndicatorInfo], wanted: object) -> str:
    """'; did you mean …?' with each indicator once, named with its code."""
    return str(did_you_mean(near_indicators(catalogue, wanted)))


def near_indicators(catalogue: Mapping[str, IndicatorInfo], wanted: object) -> list[Msg]:
    """Up to three indicators a file may have meant, each once (named with its code in
    English, where a reader writes a source's configuration)."""
    names = {name_key(n): i for i in catalogue.values() for n in (i.name_zh, *i.aliases)}
    keys = difflib.get_close_matches(name_key(str(wanted)), list(names), n=6, cutoff=0.5)
    seen: list[Msg] = []
    for key in keys:
        info = names[key]
        label = msg("indicator.named", name=info.name_zh, code=info.code)
        if label not in seen:
            seen.append(label)
    return seen[:3]
