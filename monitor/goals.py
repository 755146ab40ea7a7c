"""Progress toward the plan's goals: level, growth, cumulative, count and ranking goals.

Pure functions over small frames; every status comes with the numbers that produced it.

Method (docs/methodology.md): the Open SDG / Statistics Canada approach — the ratio of the
observed compound annual growth since the baseline to the growth required to reach the target by
the deadline; bands ≥ 0.95 *on track*, ≥ 0.60 *moderate*, > 0 *limited*, ≤ 0 *moving away*;
*achieved* overrides; fewer than two data points is *not enough data*, never a guess. Cumulative
and count goals compare the pace so far with the pace required; ranking goals compare positions
(lower is better) and treat "outside the top N" as a censored position (> N).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from monitor import config_schema
from monitor.errors import ConfigError
from monitor.indicators import load_indicators

GOALS_FILE = "goals.toml"
RANKINGS_FILE = "rankings.csv"
KINDS = config_schema.GOAL_KINDS
ACHIEVED, ON_TRACK, MODERATE, LIMITED, AWAY, NO_DATA, NO_TARGET = (
    "achieved",
    "on_track",
    "moderate",
    "limited",
    "moving_away",
    "not_enough_data",
    "no_own_target",
)
STATUS_ZH = {
    ACHIEVED: "已实现",
    ON_TRACK: "进展顺利",
    MODERATE: "进展一般",
    LIMITED: "进展有限",
    AWAY: "背离目标",
    NO_DATA: "数据不足",
    NO_TARGET: "无分解目标",
}


@dataclass(frozen=True)
class GoalSpec:
    id: str
    name_zh: str
    name_en: str
    kind: str
    target: float
    baseline_year: int
    target_year: int
    indicator: str = ""
    baseline: float | None = None
    tolerance: float = 0.0
    unit: str = ""
    kinds: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    ranking: str = ""
    subject: str = ""
    splits: tuple[tuple[str, float], ...] = ()
    # Where the district split comes from; empty = an illustrative allocation, labelled as such.
    split_source: str = ""
    # The plan's line the goal comes from, and for count goals the plan's 2020 stock by kind.
    basis: str = ""
    stock: tuple[tuple[str, int], ...] = ()

    @property
    def split_illustrative(self) -> bool:
        return bool(self.splits) and not self.split_source


@dataclass(frozen=True)
class Progress:
    goal: str
    name_zh: str
    kind: str
    scope: str
    status: str
    target: float
    target_year: int
    baseline: float | None
    baseline_year: int
    latest: float | None
    latest_year: int | None
    ratio: float | None
    progress: float | None
    elapsed: float | None
    projection: float | None
    best: float | None = None
    numbers: dict[str, Any] = field(default_factory=dict)
    # measured against an illustrative district split (not a published allocation)
    illustrative: bool = False
    basis: str = ""  # the plan's line
    name_en: str = ""

    @property
    def status_zh(self) -> str:
        return STATUS_ZH[self.status]

    def target_text(self, lang: str = "zh") -> str:
        """The target as people read it: a rank, a growth rate, or a value; none for a district
        that has no share of the goal."""
        if self.status == NO_TARGET:
            return "—"
        if self.kind == "ranking":
            return f"前{int(self.target)}名" if lang == "zh" else f"top {int(self.target)}"
        if self.kind == "growth":
            rate = reported_number(self.target)
            return f"年均增长 ≥ {rate}%" if lang == "zh" else f"≥ {rate}% a year"
        return reported_number(self.target)

    def latest_text(self, lang: str = "zh") -> str:
        """The latest figure as people read it: a censored rank is "前N名以外" / "> N", never a
        number; a value keeps the precision it was reported with."""
        if self.kind == "ranking":
            if self.numbers.get("censored_latest"):
                bound = str(self.numbers.get("latest_reading", "")).lstrip("> ")
                return f"前{bound}名以外" if lang == "zh" else f"> {bound}"
            if self.latest is None:
                return "—"
            return f"第{int(self.latest)}名" if lang == "zh" else f"{int(self.latest)}"
        if self.kind == "growth" and self.latest is not None:
            rate = self.numbers.get("observed_rate_pct")
            if rate is not None:
                shown = f"{rate:.1f}%"
                return (
                    f"{reported_number(self.latest)}（年均增长 {shown}）"
                    if lang == "zh"
                    else f"{reported_number(self.latest)} ({shown} a year)"
                )
        return reported_number(self.latest)


def reported_number(value: float | None) -> str:
    """A number as exactly as it was reported: 2.55 stays 2.55, 2178 stays 2,178; only the
    binary noise of unit conversions (34567.799999999996) is removed."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    number = round(float(value), 9)
    text = repr(number)
    if "e" in text or "inf" in text:
        return f"{number:,.6g}"
    whole, _, fraction = text.partition(".")
    fraction = "" if fraction == "0" else fraction
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}"
    return f"{sign}{grouped}.{fraction}" if fraction else f"{sign}{grouped}"


def load_goals(config_dir: Path) -> list[GoalSpec]:
    path = config_dir / GOALS_FILE
    model: config_schema.GoalsFile | None = config_schema.load(path, "goals", missing_ok=True)
    if model is None:
        return []
    defaults = model.defaults
    goals = []
    names = _indicator_names(config_dir)
    for i, g in enumerate(model.goal, 1):
        where = f"{path}, goal #{i} ({g.id})"
        if g.kind in ("level", "growth", "cumulative") and not g.indicator:
            raise ConfigError(f"{where}: a {g.kind} goal needs an indicator")
        indicator = _indicator_code(g.indicator, names, where) if g.indicator else ""
        if g.kind == "ranking" and not (g.ranking and g.subject):
            raise ConfigError(f"{where}: a ranking goal needs ranking and subject")
        goals.append(
            GoalSpec(
                id=g.id,
                name_zh=g.name_zh or g.id,
                name_en=g.name_en,
                kind=g.kind,
                target=g.target,
                baseline_year=defaults.baseline_year
                if g.baseline_year is None
                else g.baseline_year,
                target_year=defaults.target_year if g.target_year is None else g.target_year,
                indicator=indicator,
                baseline=g.baseline,
                tolerance=g.tolerance,
                unit=g.unit,
                kinds=tuple(g.kinds),
                levels=tuple(g.levels),
                ranking=g.ranking,
                subject=g.subject,
                splits=tuple((s.district, s.target) for s in g.split),
                split_source=g.split_source,
                basis=g.basis,
                stock=_stock(g.stock, where),
            )
        )
    return goals


def _stock(value: object, where: str) -> tuple[tuple[str, int], ...]:
    """A count goal's starting stock by kind, e.g. {incubator = 67, maker_space = 70}."""
    if not isinstance(value, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values()
    ):
        raise ConfigError(f"{where}: stock = {value!r}; expected e.g. {{incubator = 67}}")
    return tuple((str(k), int(v)) for k, v in value.items())


def _indicator_names(config_dir: Path) -> dict[str, str]:
    """code, name and every alias of each indicator → its code."""
    names: dict[str, str] = {}
    for row in load_indicators(config_dir):
        for name in (row["code"], row["name_zh"], *filter(None, row["aliases"].split("|"))):
            names[name] = row["code"]
    return names


def _indicator_code(wanted: str, names: dict[str, str], where: str) -> str:
    """A goal may name its indicator by code, by name or by an alias (the plan's wording)."""
    if wanted in names:
        return names[wanted]
    near = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise ConfigError(f"{where}: indicator {wanted!r} is not in indicators.toml{hint}")


def load_rankings(config_dir: Path) -> pd.DataFrame:
    path = config_dir / RANKINGS_FILE
    if not path.exists():
        return pd.DataFrame(
            columns=[
                "ranking",
                "year",
                "subject_type",
                "subject_id",
                "position",
                "relation",
                "out_of",
                "source_url",
                "note",
            ]
        )
    frame = pd.read_csv(
        path,
        encoding="utf-8-sig",
        dtype={"subject_id": str, "published": str, "publisher": str, "document": str},
    )
    bad = frame[~frame["relation"].isin(["eq", "gt"])]
    if len(bad):
        raise ConfigError(
            f"{path}, line {int(bad.index[0]) + 2}, field 'relation': got "
            f"{bad['relation'].iloc[0]!r}, expected eq (exactly) or gt (outside the "
            "top N)"
        )
    return frame


def without_own_target(progress: Progress) -> Progress:
    """A district's figures and trend for a goal that has no district share: no status, no
    target — a district is never measured against the whole city's target."""
    return dataclasses.replace(
        progress,
        status=NO_TARGET,
        ratio=None,
        progress=None,
        projection=progress.projection if progress.kind == "growth" else None,
    )


def ranking_citation(row: Mapping[Any, Any]) -> str:
    """Who published a ranking figure, in which document and when, then the row's remark:
    '工业和信息化部，国家高新区评价结果，2024-12-23。178家国家高新区中第47位'."""

    def text(key: str) -> str:
        value = row.get(key)
        return (
            "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
        )

    citation = "，".join(x for x in (text("publisher"), text("document"), text("published")) if x)
    note = text("note")
    return f"{citation}。{note}" if citation and note else citation or note


def _no_data(common: dict[str, Any], reason: str, **known: Any) -> Progress:
    """A 'not enough data' status with the reason, and whatever is known."""
    fields: dict[str, Any] = {
        "baseline": None,
        "latest": None,
        "latest_year": None,
        "ratio": None,
        "progress": None,
        "elapsed": None,
        "projection": None,
        **common,
        **known,
    }
    return Progress(**fields, status=NO_DATA, numbers={"reason": reason})


def band(ratio: float) -> str:
    if ratio >= 0.95:
        return ON_TRACK
    if ratio >= 0.60:
        return MODERATE
    if ratio > 0:
        return LIMITED
    return AWAY


def _cagr(start: float, end: float, years: float) -> float | None:
    if years <= 0 or start <= 0 or end <= 0:
        return None
    return float((end / start) ** (1 / years) - 1)


def level_progress(goal: GoalSpec, series: pd.Series, scope: str = "city") -> Progress:
    """``series``: values indexed by year. Baseline from the goal, else the series' first year."""
    series = series.dropna().sort_index()
    base_year = goal.baseline_year
    baseline = (
        goal.baseline
        if goal.baseline is not None
        else (float(series[base_year]) if base_year in series.index else None)
    )
    later = series[series.index > base_year]
    common: dict[str, Any] = dict(
        goal=goal.id,
        name_zh=goal.name_zh,
        kind=goal.kind,
        scope=scope,
        target=goal.target,
        target_year=goal.target_year,
        baseline=baseline,
        baseline_year=base_year,
    )
    if baseline is None or later.empty:
        return _no_data(
            common,
            "no baseline" if baseline is None else "no year after the baseline",
            latest=None if later.empty else float(later.iloc[-1]),
            latest_year=None if later.empty else int(later.index[-1]),
        )
    year, latest = int(later.index[-1]), float(later.iloc[-1])
    span = goal.target_year - base_year
    elapsed = (year - base_year) / span
    progress = (latest - baseline) / (goal.target - baseline) if goal.target != baseline else 1.0
    observed = _cagr(baseline, latest, year - base_year)
    required = _cagr(baseline, goal.target, span)
    projection = None if observed is None else baseline * (1 + observed) ** span
    if latest >= goal.target - goal.tolerance:
        status, ratio = ACHIEVED, None if not required else (observed or 0) / required
    elif observed is None or not required:
        ratio = progress / elapsed if elapsed > 0 else None
        status = NO_DATA if ratio is None else band(ratio)
    else:
        ratio = observed / required
        status = band(ratio)
    return Progress(
        **common,
        status=status,
        latest=latest,
        latest_year=year,
        ratio=ratio,
        progress=progress,
        elapsed=elapsed,
        projection=projection,
        numbers={"observed_cagr": observed, "required_cagr": required, "tolerance": goal.tolerance},
    )


def growth_progress(goal: GoalSpec, series: pd.Series, scope: str = "city") -> Progress:
    """Average compound growth of the indicator since the baseline year against the target rate."""
    series = series.dropna().sort_index()
    common: dict[str, Any] = dict(
        goal=goal.id,
        name_zh=goal.name_zh,
        kind=goal.kind,
        scope=scope,
        target=goal.target,
        target_year=goal.target_year,
        baseline_year=goal.baseline_year,
    )
    if (
        goal.baseline_year not in series.index
        or len(series[series.index > goal.baseline_year]) == 0
    ):
        return _no_data(common, "needs the baseline year and a later year")
    base = float(series[goal.baseline_year])
    year = int(series.index[-1])
    latest = float(series.iloc[-1])
    observed = _cagr(base, latest, year - goal.baseline_year)
    rate = None if observed is None else observed * 100
    ratio = None if rate is None else rate / goal.target
    complete = year >= goal.target_year
    if rate is None:
        status = NO_DATA
    elif complete and rate >= goal.target:
        status = ACHIEVED
    else:
        status = band(ratio or 0.0)
    span = goal.target_year - goal.baseline_year
    return Progress(
        **common,
        status=status,
        baseline=base,
        latest=latest,
        latest_year=year,
        ratio=ratio,
        progress=None,
        elapsed=(year - goal.baseline_year) / span,
        projection=rate,
        numbers={"observed_rate_pct": rate, "level_baseline": base, "level_latest": latest},
    )


def running_total(flows: Mapping[int, float], baseline_year: int) -> dict[int, float]:
    """Yearly flows as what the years after the baseline added up to (0 in the baseline year):
    how a cumulative goal is drawn."""
    total, out = 0.0, {baseline_year: 0.0}
    for year in sorted(y for y in flows if y > baseline_year):
        total += float(flows[year])
        out[year] = total
    return out


def cumulative_progress(
    goal: GoalSpec, flows: pd.Series, scope: str = "city", target: float | None = None
) -> Progress:
    """Flows per year after the baseline year add up toward the target."""
    target = goal.target if target is None else target
    flows = flows.dropna().sort_index()
    flows = flows[(flows.index > goal.baseline_year) & (flows.index <= goal.target_year)]
    span = goal.target_year - goal.baseline_year
    common: dict[str, Any] = dict(
        goal=goal.id,
        name_zh=goal.name_zh,
        kind=goal.kind,
        scope=scope,
        target=target,
        target_year=goal.target_year,
        baseline=0.0,
        baseline_year=goal.baseline_year,
    )
    if flows.empty:
        return _no_data(common, "no year after the baseline")
    year = int(flows.index[-1])
    total = float(flows.sum())
    years = year - goal.baseline_year
    pace, required = total / years, target / span
    ratio = pace / required if required else None
    status = ACHIEVED if total >= target else (NO_DATA if ratio is None else band(ratio))
    return Progress(
        **common,
        status=status,
        latest=total,
        latest_year=year,
        ratio=ratio,
        progress=total / target if target else None,
        elapsed=years / span,
        projection=pace * span,
        numbers={"per_year": pace, "required_per_year": required},
    )


def has_count_records(recognitions: pd.DataFrame, parks: pd.DataFrame, goal: GoalSpec) -> bool:
    rec = recognitions.merge(parks[["id", "kind"]], left_on="park_id", right_on="id")
    return bool((rec["level"].isin(goal.levels) & rec["kind"].isin(goal.kinds)).any())


def count_new(recognitions: pd.DataFrame, parks: pd.DataFrame, goal: GoalSpec) -> pd.DataFrame:
    """Carriers whose first recognition at one of the goal's levels falls in the plan period:
    columns park_id, year, district_id."""
    rec = recognitions.merge(parks[["id", "kind", "district_id"]], left_on="park_id", right_on="id")
    rec = rec[rec["level"].isin(goal.levels) & rec["kind"].isin(goal.kinds)]
    first = rec.sort_values("year").drop_duplicates("park_id")
    return first[(first["year"] > goal.baseline_year) & (first["year"] <= goal.target_year)][
        ["park_id", "year", "district_id"]
    ]


def count_progress(
    goal: GoalSpec,
    new: pd.DataFrame,
    now_year: int,
    scope: str = "city",
    target: float | None = None,
    *,
    has_records: bool = True,
) -> Progress:
    """Newly recognised carriers against the target. Without any record of the goal's kinds at
    the goal's levels (in any year), zero is not evidence: the status is 'not enough data'."""
    if not has_records:
        return _no_data(
            {
                "goal": goal.id,
                "name_zh": goal.name_zh,
                "kind": goal.kind,
                "scope": scope,
                "target": goal.target if target is None else target,
                "target_year": goal.target_year,
                "baseline": 0.0,
                "baseline_year": goal.baseline_year,
            },
            "no recognitions of these carriers are recorded",
        )
    flows = new.groupby("year").size().astype(float)
    years = range(goal.baseline_year + 1, min(now_year, goal.target_year) + 1)
    return cumulative_progress(goal, flows.reindex(list(years), fill_value=0.0), scope, target)


def ranking_progress(goal: GoalSpec, entries: pd.DataFrame) -> Progress:
    """Positions by year (columns year, position, relation eq|gt); lower is better."""
    rows = entries.sort_values("year")
    common: dict[str, Any] = dict(
        goal=goal.id,
        name_zh=goal.name_zh,
        kind=goal.kind,
        scope=goal.subject,
        target=goal.target,
        target_year=goal.target_year,
        baseline_year=goal.baseline_year,
    )
    if len(rows) < 2:
        return _no_data(common, "fewer than two ranked years")
    exact = rows[rows["relation"] == "eq"]
    best = float(exact["position"].min()) if len(exact) else None
    base_row = rows[rows["year"] <= goal.baseline_year].tail(1)
    base_row = base_row if len(base_row) else rows.head(1)
    baseline = float(base_row["position"].iloc[0])
    base_year = int(base_row["year"].iloc[0])
    last = rows.iloc[-1]
    censored = last["relation"] == "gt"
    # "outside the top N" means position ≥ N + 1: the most favourable reading of it
    latest = float(last["position"]) + (1 if censored else 0)
    year = int(last["year"])
    span = goal.target_year - base_year
    required = (baseline - goal.target) / span if span > 0 else 0.0
    observed = (baseline - latest) / (year - base_year) if year > base_year else 0.0
    if not censored and latest <= goal.target:
        status, ratio = ACHIEVED, None
    elif censored and latest <= goal.target:
        # "outside the top N" with N below the target: met or not, the reading does not say
        status, ratio = NO_DATA, None
    elif censored:
        # "outside the top N" (N ≥ target): not achieved; how far off is unknown, so no trend
        status, ratio = LIMITED, None
    else:
        ratio = (1.0 if observed >= 0 else -1.0) if required <= 0 else observed / required
        status = band(ratio)
    return Progress(
        **common,
        status=status,
        baseline=baseline,
        # a censored reading has no position to show: "outside the top N" is not N + 1
        latest=None if censored else latest,
        latest_year=year,
        ratio=ratio,
        progress=None,
        elapsed=None,
        projection=None,
        best=best,
        numbers={
            "censored_latest": bool(censored),
            "latest_reading": f"> {int(last['position'])}" if censored else str(int(latest)),
            "best_position": best,
            "baseline_year": base_year,
        },
    )
