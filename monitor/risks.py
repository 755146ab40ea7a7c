"""Early warning: which incubators and maker spaces may drop a star or fail the next evaluation.

For each carrier rated in a year, three signals, each on a 0–1 scale (1 = worst):

- **margin** — the expected score's distance above its band's edge: ``expected`` is the mean of
  this year's score and the two before (a good or bad year is not carried forward: on the demo
  history a straight-line trend flagged worse than chance, see docs/methodology.md),
  ``slack = expected − edge``; the signal is ``clip(1 − slack / MARGIN_POINTS, 0, 1)``
  (``MARGIN_POINTS`` of slack or more: 0; at or under the edge: 1). The *edge* is the band's
  minimum score and, for a band with a top share, the score of the best peer outside that share
  (falling under it loses the place).
- **stability** — the chance of fewer stars under the weight uncertainty
  (``monitor.rating.stability``, 300 draws).
- **data** — the share of the item points resting on missing figures (1 − completeness), plus
  ``LATE_WEIGHT`` when its portal filing for the year came after the round's deadline.

With each carrier, the items that lost the most points since last year (*falling*: the trend of
the indicators that carry the points), so a reader sees where the score is going.

``risk = 100 × (0.5 margin + 0.3 stability + 0.2 data)``; *high* from ``HIGH``, *watch* from
``WATCH``; a carrier not rated (vetoed, too few figures, held for review) scores 1 on margin and
stability. A carrier *fails* with fewer than ``PASS_STARS`` stars (the 3★ band's 60 points: 阜阳's
"< 60 fails"), a veto, or too few figures to be rated. Two consecutive failing evaluations cost
the status (国科发区〔2018〕300号; the Jiangsu rules follow it): a carrier that failed this year
and whose expected score is still under the passing line (or that could not be rated) is
flagged *again* and listed first.

The levers are the explanation's own answer (``monitor.rating.explain.needed_value``): per item,
the value of the figure behind it that wins back the points between the expected score and the
edge (for a failing carrier, the passing line) plus a ``CUSHION``, everything else unchanged;
the two or three that need the smallest relative rise. A missing figure comes first: reporting
it is the cheapest lever.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from monitor import quality, store
from monitor.evaluation import score_year
from monitor.i18n import t
from monitor.rating import RatingRun
from monitor.rating.core import RATED
from monitor.rating.explain import group_room, needed_value
from monitor.rating.stability import stability

PASS_STARS = 3
MARGIN_POINTS = 10.0
YEARS = 3  # the years of scores the expected score is drawn from
CUSHION = 2.0
LATE_WEIGHT = 0.5
HIGH, WATCH = 50.0, 30.0
DRAWS = 300
LEVERS = 3

COLUMNS = [
    "id",
    "name",
    "kind",
    "stars",
    "score",
    "last_score",
    "expected",
    "falling",
    "edge",
    "slack",
    "p_fewer",
    "missing_share",
    "days_late",
    "risk",
    "level",
    "failing",
    "again",
    "levers",
]


@dataclass(frozen=True)
class Lever:
    """One way to lower the risk, in the words of "what lifts it a star"."""

    item: str
    name_zh: str
    indicator: str
    current: float | None
    needed: float | None  # None: the figure is missing — report it


def risk_frame(
    engine: Engine,
    config_dir: Path,
    year: int,
    *,
    draws: int = DRAWS,
    runs: Mapping[int, Sequence[RatingRun]] | None = None,
) -> pd.DataFrame:
    """One row per incubator and maker space rated (or held, vetoed, incomplete) in ``year``:
    the signals, the risk, its level and up to ``LEVERS`` levers. The carriers that failed this
    year and are at high risk again come first, then by risk, highest first. ``runs``: the
    ``score_year`` results by year, when the caller already has them (the back-test)."""
    runs = runs or {}
    this = runs.get(year) or score_year(engine, config_dir, year)
    earlier = []
    for y in range(year - 1, year - YEARS, -1):
        found = runs.get(y)
        earlier.append(found if found is not None else score_year(engine, config_dir, y))
    past = [_scores(r) for r in earlier]
    last_points = _points(earlier[0]) if earlier else pd.DataFrame()
    late = quality.days_late(engine, year)
    units = {str(r["code"]): str(r["unit"] or "") for r in store.indicator_rows(engine)}
    frames = [
        assess(run, past, last_points, late, units, draws)
        for run in this
        if run.methodology.type == "stars"
    ]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["again", "risk", "id"], ascending=[False, False, True])
    return out.reset_index(drop=True)[COLUMNS]


def _scores(runs: Sequence[RatingRun]) -> dict[str, float]:
    """Each rated carrier's score in those runs."""
    out: dict[str, float] = {}
    for run in runs:
        table = run.result.table
        rated = table[table["status"] == RATED]
        out.update({str(k): float(v) for k, v in rated["score"].items()})
    return out


def _points(runs: Sequence[RatingRun]) -> pd.DataFrame:
    """Each carrier's points per item in those runs (subject × item)."""
    frames = [r.result.points for r in runs if r.methodology.type == "stars"]
    return pd.concat(frames) if frames else pd.DataFrame()


def falling(run: RatingRun, subject: str, last_points: pd.DataFrame) -> list[tuple[str, float]]:
    """The items that lost the most points since last year (the trend of the indicators that
    carry the points): up to ``LEVERS``, each with its change in points."""
    now = run.result.points
    if subject not in now.index or subject not in last_points.index:
        return []
    names = {i.id: i.name_zh for i in (*run.methodology.items, *run.methodology.bonus_items)}
    before = last_points.reindex(columns=now.columns)
    change = (
        now.loc[[subject]].to_numpy(dtype=float)[0] - before.loc[[subject]].to_numpy(dtype=float)[0]
    )
    order = [i for i in np.argsort(change) if change[i] < -0.05][:LEVERS]
    items = [str(c) for c in now.columns]
    return [(names.get(items[i], items[i]), round(float(change[i]), 1)) for i in order]


def edges(run: RatingRun) -> dict[str, float]:
    """Per rated carrier, the score it must stay above to keep its stars: its band's minimum
    and, for a band with a top share, the best peer's score outside that share."""
    meth = run.methodology
    table = run.result.table
    bands = {b.stars: b for b in meth.bands}
    out: dict[str, float] = {}
    rated = table[table["status"] == RATED]
    for _peer, group in rated.groupby("peer"):
        ordered = np.sort(group["score"].to_numpy(dtype=float))[::-1]
        for subject, stars in group["stars"].items():
            band = bands.get(int(stars)) if not np.isnan(stars) else None
            if band is None:
                continue
            edge = band.min_score
            if band.top_share is not None:
                k = math.floor(band.top_share * len(ordered) + 1e-9)
                if k < len(ordered):
                    edge = max(edge, float(ordered[k]))  # the best one outside the share
            out[str(subject)] = edge
    return out


def pass_score(run: RatingRun) -> float:
    """The passing band's minimum score (``PASS_STARS``)."""
    found = [b.min_score for b in run.methodology.bands if b.stars == PASS_STARS]
    return found[0] if found else 0.0


def assess(
    run: RatingRun,
    past: Sequence[Mapping[str, float]],
    last_points: pd.DataFrame,
    late: Mapping[str, int],
    units: Mapping[str, str],
    draws: int,
) -> pd.DataFrame:
    table = run.result.table
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    steady = stability(run.values, run.methodology, peers=run.peers, draws=draws, held=run.held)
    edge = edges(run)
    passing_at = pass_score(run)
    rows = []
    for subject, row in table.iterrows():
        sid = str(subject)
        status = str(row["status"])
        stars = float(row["stars"]) if pd.notna(row["stars"]) else math.nan
        rated = status == RATED
        # held for review (contradicting figures) is not a verdict; a veto or too few figures is
        failing = (rated and stars < PASS_STARS) or status in ("vetoed", "incomplete")
        score = float(row["score"]) if rated else math.nan
        before = past[0].get(sid, math.nan) if past else math.nan
        expected = expected_score([score, *(p.get(sid, math.nan) for p in past)])
        slack = expected - edge.get(sid, math.nan) if rated else math.nan
        margin = 1.0 if not rated else float(np.clip(1 - slack / MARGIN_POINTS, 0, 1))
        p_fewer = _p_fewer(steady, subject, int(stars) if rated else 0, rated)
        completeness = float(row["completeness"]) if pd.notna(row["completeness"]) else 0.0
        days = late.get(sid)
        data = min(1.0, (1 - completeness) + (LATE_WEIGHT if days is not None and days > 0 else 0))
        risk = 100 * (0.5 * margin + 0.3 * p_fewer + 0.2 * data)
        level = "high" if risk >= HIGH else ("watch" if risk >= WATCH else "low")
        target = passing_at if failing and rated else edge.get(sid, math.nan)
        again = failing and (not rated or expected < passing_at)
        levers = _levers(run, sid, expected, target, units) if level != "low" or again else []
        rows.append(
            [
                sid,
                run.names.get(sid, sid),
                str(run.peers["kind"].get(sid, "")) if "kind" in run.peers else "",
                stars if rated else (0.0 if status == "vetoed" else math.nan),
                score,
                before,
                expected,
                falling(run, sid, last_points),
                edge.get(sid, math.nan),
                slack,
                p_fewer,
                1 - completeness,
                days,
                round(risk, 1),
                level,
                failing,
                again,
                levers,
            ]
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def expected_score(scores: Sequence[float]) -> float:
    """Next year's expected score from this year's and the previous years' (newest first; NaN
    where not rated): their mean — a year's luck, good or bad, is not carried forward."""
    known = [x for x in scores if not math.isnan(x)]
    if not known or math.isnan(scores[0]):
        return math.nan
    return float(np.mean(known))


def _p_fewer(steady: pd.DataFrame, subject: Any, below: int, rated: bool) -> float:
    """The chance, over the stability draws, of fewer than ``below`` stars."""
    if not rated:
        return 1.0
    chances = [
        float(steady.loc[subject, c])
        for c in steady.columns
        if c.startswith("p_") and c.endswith("_stars") and int(c.split("_")[1]) < below
    ]
    return float(np.clip(sum(x for x in chances if not math.isnan(x)), 0, 1))


def _levers(
    run: RatingRun, subject: str, expected: float, edge: float, units: Mapping[str, str]
) -> list[Lever]:
    """The figures whose rise would most lower the risk: missing ones first (report them), then
    the items that alone win back ``edge + CUSHION − expected`` points, smallest rise first."""
    meth = run.methodology
    res = run.result
    vals: dict[str, Any] = (
        {str(k): v for k, v in run.values.loc[subject].items()}
        if subject in run.values.index
        else {}
    )
    extra = edge + CUSHION - expected if not math.isnan(expected) else CUSHION
    missing: list[Lever] = []
    rising: list[tuple[float, Lever]] = []
    for item in (*meth.items, *meth.bonus_items):
        current = _plain(vals.get(item.driver))
        if current is None:
            missing.append(Lever(item.id, item.name_zh, item.driver, None, None))
            continue
        if extra <= 0:
            continue
        own = item.points - (_plain(_cell(res.points, subject, item.id)) or 0.0)
        if extra > min(own, group_room(res, subject, item)) + 1e-9:
            continue
        needed, _ = needed_value(item, res, subject, extra, vals, dict(units))
        if needed is None or needed <= current:
            continue
        rise = (needed - current) / abs(current) if current else math.inf
        rising.append((rise, Lever(item.id, item.name_zh, item.driver, current, needed)))
    rising.sort(key=lambda r: (r[0], r[1].item))
    return (missing + [lever for _, lever in rising])[:LEVERS]


def _cell(frame: pd.DataFrame, row: str, column: str) -> Any:
    return frame.at[row, column] if row in frame.index and column in frame.columns else None


def _plain(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def levers_text(levers: Sequence[Lever], units: Mapping[str, str], lang: str = "zh") -> str:
    """``在孵企业数 20 → 26 家；创业导师数（缺报）`` — the levers as one line."""
    parts = []
    for lever in levers:
        if lever.needed is None or lever.current is None:
            parts.append(f"{lever.name_zh}（{'缺报' if lang != 'en' else 'not reported'}）")
        else:
            unit = units.get(lever.indicator, "")
            unit = f" {unit}" if unit else ""
            parts.append(f"{lever.name_zh} {lever.current:,.6g} → {lever.needed:,.6g}{unit}")
    return ("；" if lang != "en" else "; ").join(parts)


def falling_text(items: Sequence[tuple[str, float]], lang: str = "zh") -> str:
    """``在孵企业数 −3.2 分；…`` — the items that lost most points since last year."""
    unit = " 分" if lang != "en" else " points"
    return ("；" if lang != "en" else "; ").join(f"{n} {v:+.1f}{unit}" for n, v in items)


# --- the back-test -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackTest:
    """Of the carriers that lost a star (or failed) in year Y+1, how many were flagged in Y."""

    rows: list[dict[str, Any]]  # per year: year, carriers, lost, flagged, hits (and "watch" too)
    flagged: int
    lost: int
    hits: int
    carriers: int

    @property
    def precision(self) -> float | None:
        return self.hits / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.hits / self.lost if self.lost else None

    @property
    def base_rate(self) -> float | None:
        return self.lost / self.carriers if self.carriers else None


def backtest(
    engine: Engine,
    config_dir: Path,
    years: Sequence[int],
    *,
    levels: Sequence[str] = ("high",),
    draws: int = DRAWS,
) -> BackTest:
    """Flag in each year Y of ``years`` (the carriers at one of ``levels``), then look at Y+1:
    a carrier rated with s stars in Y *lost a star* when it has fewer in Y+1 (vetoed counts as
    0; not rated for missing figures counts as lost). Carriers gone in Y+1 are left out."""
    runs: dict[int, list[RatingRun]] = {}

    def runs_of(y: int) -> list[RatingRun]:
        if y not in runs:
            runs[y] = score_year(engine, config_dir, y)
        return runs[y]

    rows = []
    for y in years:
        flags = risk_frame(
            engine,
            config_dir,
            y,
            draws=draws,
            runs={x: runs_of(x) for x in range(y - YEARS + 1, y + 1)},
        )
        after = _stars_of(runs_of(y + 1))
        now = flags[flags["stars"] >= 1]
        now = now[now["id"].isin(after)]
        lost = {
            str(i)
            for i, s in zip(now["id"], now["stars"], strict=True)
            if after[str(i)] < float(s) or math.isnan(after[str(i)])
        }
        flagged = set(now.loc[now["level"].isin(list(levels)), "id"].astype(str))
        rows.append(
            {
                "year": y,
                "carriers": len(now),
                "lost": len(lost),
                "flagged": len(flagged),
                "hits": len(flagged & lost),
            }
        )
    return BackTest(
        rows,
        flagged=sum(r["flagged"] for r in rows),
        lost=sum(r["lost"] for r in rows),
        hits=sum(r["hits"] for r in rows),
        carriers=sum(r["carriers"] for r in rows),
    )


def backtest_years(engine: Engine, latest: int) -> list[int]:
    """The years a back-test can flag in: each has figures the year before (the expected score's
    history) and the year after (the outcome), up to ``latest``."""
    years = sorted({int(p) for p in store.observed_periods(engine) if p.isdigit()})
    return [y for y in years if y - 1 in years and y + 1 in years and y + 1 <= latest]


def backtest_text(result: BackTest, lang: str, demo: bool) -> str:
    """One sentence: precision, recall and the base rate, years named, demo data labelled."""

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.0%}"

    years = [r["year"] for r in result.rows]
    span = f"{years[0]}–{years[-1]}" if years else "—"
    return t(
        "risk.backtest",
        lang,
        years=span,
        precision=pct(result.precision),
        recall=pct(result.recall),
        base=pct(result.base_rate),
        demo=("（演示数据）" if lang != "en" else " (demo data)") if demo else "",
    )


def _stars_of(runs: Sequence[RatingRun]) -> dict[str, float]:
    """Stars per carrier in those runs: vetoed 0, not rated NaN."""
    out: dict[str, float] = {}
    for run in runs:
        if run.methodology.type != "stars":
            continue
        table = run.result.table
        for subject, stars, status in zip(
            table.index, table["stars"], table["status"], strict=True
        ):
            if status == RATED:
                out[str(subject)] = float(stars)
            else:
                out[str(subject)] = 0.0 if status == "vetoed" else math.nan
    return out
