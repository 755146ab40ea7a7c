"""When will a goal be met at the current pace, and how sure is that?

Two documented models, chosen by the goal's kind:

- **level** goals (a value to reach, e.g. R&D intensity 3.2 %): the compound yearly growth
  observed from the first to the latest year (CAGR) carried forward; the band comes from a
  bootstrap of the observed year-on-year growth rates (each draw a path whose every year's
  growth is one of the observed ones, drawn with replacement).
- **count** goals (so many new recognitions, e.g. +30 provincial carriers): the average number
  per year so far carried forward; the band comes from a bootstrap of the yearly counts.

Both give the value at the deadline with its 10th–90th percentile band, the year the goal is
met at the current pace (within ``HORIZON`` years of the deadline), and what it would take:
the yearly growth, or the yearly count, needed from now to meet it on time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Engine

from monitor import goals, store
from monitor.registry import load_city

HORIZON = 10  # years past the deadline a projection looks for the year a goal is met
DRAWS = 1000
SEED = 7


@dataclass(frozen=True)
class Projection:
    model: str  # "cagr" or "pace"
    latest_year: int
    latest: float
    target: float
    target_year: int
    pace: float  # observed yearly growth (cagr) or new ones per year (pace)
    needed: float | None  # the same, needed from now to meet the target on time
    at_deadline: float
    low: float  # 10th percentile at the deadline
    high: float  # 90th percentile at the deadline
    met_year: int | None  # at the current pace; None: not within HORIZON years of the deadline
    path: list[tuple[int, float, float, float]] = field(default_factory=list)  # year, mid, lo, hi

    @property
    def on_time(self) -> bool:
        return self.met_year is not None and self.met_year <= self.target_year


def project_level(
    series: Mapping[int, float],
    target: float,
    target_year: int,
    *,
    draws: int = DRAWS,
    seed: int = SEED,
) -> Projection | None:
    """A level goal from its yearly values (at least two positive ones); None otherwise."""
    years = sorted(y for y, v in series.items() if v is not None and v > 0 and math.isfinite(v))
    if len(years) < 2:
        return None
    first, last = years[0], years[-1]
    latest = float(series[last])
    pace = (latest / float(series[first])) ** (1 / (last - first)) - 1
    rates = np.array(
        [
            float(series[b]) / float(series[a]) - 1
            for a, b in itertools.pairwise(years)
            if b == a + 1
        ]
        or [pace]
    )
    end = max(target_year, last) + HORIZON
    span = np.arange(1, end - last + 1)
    rng = np.random.default_rng(seed)
    paths = latest * np.cumprod(1 + rng.choice(rates, size=(draws, len(span))), axis=1)
    middle = latest * (1 + pace) ** span
    low, high = np.percentile(paths, 10, axis=0), np.percentile(paths, 90, axis=0)
    met = _first_reached(last, latest, middle, target)
    needed = (target / latest) ** (1 / (target_year - last)) - 1 if target_year > last else None
    at = _at(target_year, last, latest, middle, low, high)
    return Projection(
        "cagr",
        last,
        latest,
        target,
        target_year,
        pace,
        needed,
        *at,
        met,
        [
            (last + int(s), float(m), float(lo), float(hi))
            for s, m, lo, hi in zip(span, middle, low, high, strict=True)
        ],
    )


def project_count(
    per_year: Mapping[int, float],
    target: float,
    baseline_year: int,
    target_year: int,
    now_year: int,
    *,
    draws: int = DRAWS,
    seed: int = SEED,
) -> Projection | None:
    """A count goal from the new ones of each year after the baseline up to ``now_year``
    (years without any count as zero); None before the first year after the baseline."""
    years = list(range(baseline_year + 1, now_year + 1))
    if not years:
        return None
    counts = np.array([float(per_year.get(y, 0.0)) for y in years])
    total = float(counts.sum())
    pace = total / len(years)
    end = max(target_year, now_year) + HORIZON
    span = np.arange(1, end - now_year + 1)
    rng = np.random.default_rng(seed)
    paths = total + np.cumsum(rng.choice(counts, size=(draws, len(span))), axis=1)
    middle = total + pace * span
    low, high = np.percentile(paths, 10, axis=0), np.percentile(paths, 90, axis=0)
    met = _first_reached(now_year, total, middle, target)
    left = target_year - now_year
    needed = max(0.0, target - total) / left if left > 0 else None
    at = _at(target_year, now_year, total, middle, low, high)
    return Projection(
        "pace",
        now_year,
        total,
        target,
        target_year,
        pace,
        needed,
        *at,
        met,
        [
            (now_year + int(s), float(m), float(lo), float(hi))
            for s, m, lo, hi in zip(span, middle, low, high, strict=True)
        ],
    )


def _first_reached(last: int, latest: float, middle: np.ndarray, target: float) -> int | None:
    if latest >= target:
        return last
    reached = np.flatnonzero(middle >= target)
    return None if len(reached) == 0 else last + int(reached[0]) + 1


def _at(
    target_year: int,
    last: int,
    latest: float,
    middle: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> tuple[float, float, float]:
    """The value at the deadline with its band (the latest itself when the deadline passed)."""
    if target_year <= last:
        return latest, latest, latest
    i = target_year - last - 1
    return float(middle[i]), float(low[i]), float(high[i])


def goal_projections(
    engine: Engine, config_dir: Path, year: int | None = None
) -> dict[str, Projection]:
    """Each city goal's projection to its deadline and beyond (``monitor.projection``): level
    goals from the city's yearly values, count and cumulative goals from what each year added.
    Goals of other kinds (growth rates, rankings) and goals without enough years are left out."""
    now = year or datetime.now(UTC).year
    city = load_city(config_dir).adcode
    specs = goals.load_goals(config_dir)
    codes = sorted(
        {g.indicator for g in specs if g.indicator and g.kind in ("level", "cumulative")}
    )
    obs = store.observations_frame(engine, subject_type="region", indicators=codes, columns=())
    obs = obs[(obs["subject_id"] == city) & obs["period"].str.fullmatch(r"\d{4}")]
    recognitions = store.recognitions_frame(engine)
    parks = store.park_table(engine, columns=["kind", "district_id"])
    out: dict[str, Projection] = {}
    for goal in specs:
        if goal.subject:
            continue
        mine = obs[obs["indicator"] == goal.indicator]
        values = {int(p): float(v) for p, v in zip(mine["period"], mine["value"], strict=True)}
        values = {y: v for y, v in values.items() if goal.baseline_year <= y <= now}
        found = None
        if goal.kind == "level":
            # "about 3 %": met within its tolerance, as its status counts it
            found = project_level(values, goal.target - goal.tolerance, goal.target_year)
        elif goal.kind == "cumulative":
            flows = {y: v for y, v in values.items() if y > goal.baseline_year}
            last = max(flows, default=goal.baseline_year)
            found = project_count(flows, goal.target, goal.baseline_year, goal.target_year, last)
        elif goal.kind == "count" and goals.has_count_records(recognitions, parks, goal):
            new = goals.count_new(recognitions, parks, goal)
            sizes = new.groupby("year").size()
            per_year = {int(str(y)): float(n) for y, n in zip(sizes.index, sizes, strict=True)}
            last = max(min(now, goal.target_year), max(per_year, default=goal.baseline_year))
            found = project_count(per_year, goal.target, goal.baseline_year, goal.target_year, last)
        if found is not None:
            out[goal.id] = found
    return out
