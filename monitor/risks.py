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

The levers are the next-star answer for every carrier at once
(``monitor.rating.nextstar.reaching_frame``) with another target score: per item,
the value of the figure behind it that wins back the points between the expected score and the
edge (for a failing carrier, the passing line) plus a ``CUSHION``, everything else unchanged;
the two or three that need the smallest relative rise. A missing figure comes first: reporting
it is the cheapest lever.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping, Sequence
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
from monitor.rating.nextstar import reaching_frame
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
    "district_id",
    "stars",
    "score",
    "last_score",
    "expected",
    "falling",
    "edge",
    "line",
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
    runs: MutableMapping[int, list[RatingRun]] | None = None,
) -> pd.DataFrame:
    """One row per incubator and maker space rated (or held, vetoed, incomplete) in ``year``:
    the signals, the risk, its level and up to ``LEVERS`` levers. The carriers that failed this
    year and are expected to fail again come first, then by risk, highest first. ``runs``: the
    ``score_year`` results by year, read from and added to (one rating of each year serves the
    early warning and its back-test)."""
    runs = {} if runs is None else runs
    this = rated_in(engine, config_dir, runs, year)
    earlier = [rated_in(engine, config_dir, runs, y) for y in range(year - 1, year - YEARS, -1)]
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


def rated_in(
    engine: Engine, config_dir: Path, runs: MutableMapping[int, list[RatingRun]], year: int
) -> list[RatingRun]:
    """``score_year`` of ``year``, computed once into ``runs``."""
    if year not in runs:
        runs[year] = score_year(engine, config_dir, year)
    return runs[year]


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


def falling(
    run: RatingRun, subject: str, last_points: pd.DataFrame
) -> list[tuple[str, str, float]]:
    """The items that lost the most points since last year (the trend of the indicators that
    carry the points): up to ``LEVERS``, each (item id, name, change in points)."""
    return falling_all(run, last_points).get(subject, [])


def falling_all(
    run: RatingRun, last_points: pd.DataFrame
) -> dict[str, list[tuple[str, str, float]]]:
    """``falling`` for every carrier of the run at once."""
    now = run.result.points
    if now.empty or last_points.empty:
        return {}
    last_points = last_points[~last_points.index.duplicated(keep="last")]
    common = now.index.intersection(last_points.index)
    before = last_points.reindex(index=common, columns=now.columns).to_numpy(dtype=float)
    change = now.loc[common].to_numpy(dtype=float) - before
    fell = np.where(np.isnan(change) | (change >= -0.05), np.inf, change)
    order = np.argsort(fell, axis=1, kind="stable")[:, :LEVERS]
    names = {i.id: i.name_zh for i in (*run.methodology.items, *run.methodology.bonus_items)}
    items = [str(c) for c in now.columns]
    out: dict[str, list[tuple[str, str, float]]] = {}
    for r, subject in enumerate(common):
        out[str(subject)] = [
            (items[c], names.get(items[c], items[c]), round(float(change[r, c]), 1))
            for c in order[r]
            if np.isfinite(fell[r, c])
        ]
    return out


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
    *,
    steady: pd.DataFrame | None = None,
    subjects: Sequence[str] | None = None,
    edge: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The signals, risk, level and levers of the run's carriers (``subjects``: only those;
    ``steady`` and ``edge``: the run's stability draws and edges when already made, e.g. kept
    by the web application for a carrier's page)."""
    table = run.result.table
    if subjects is not None:
        table = table[table.index.isin(list(subjects))]
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    if steady is None:
        steady = stability(run.values, run.methodology, peers=run.peers, draws=draws, held=run.held)
    edge = edges(run) if edge is None else edge
    passing_at = pass_score(run)
    fewer = _p_fewer(steady, table)
    drops = falling_all(run, last_points)
    kinds = _peer_column(run, table.index, "kind")
    places = _peer_column(run, table.index, "district_id")
    found = []
    for subject, status, stars, scored, completeness, p_fewer in zip(
        table.index.astype(str),
        table["status"].astype(str),
        table["stars"].to_numpy(dtype=float),
        table["score"].to_numpy(dtype=float),
        table["completeness"].to_numpy(dtype=float),
        fewer,
        strict=True,
    ):
        rated = status == RATED
        # held for review (contradicting figures) is not a verdict; a veto or too few figures is
        failing = (rated and stars < PASS_STARS) or status in ("vetoed", "incomplete")
        score = scored if rated else math.nan
        expected = expected_score([score, *(p.get(subject, math.nan) for p in past)])
        slack = expected - edge.get(subject, math.nan) if rated else math.nan
        margin = 1.0 if not rated else float(np.clip(1 - slack / MARGIN_POINTS, 0, 1))
        complete = 0.0 if math.isnan(completeness) else completeness
        days = late.get(subject)
        data = min(1.0, (1 - complete) + (LATE_WEIGHT if days is not None and days > 0 else 0))
        risk = 100 * (0.5 * margin + 0.3 * p_fewer + 0.2 * data)
        level = "high" if risk >= HIGH else ("watch" if risk >= WATCH else "low")
        again = failing and (not rated or expected < passing_at)
        found.append(
            {
                "id": subject,
                "name": run.names.get(subject, subject),
                "kind": kinds.get(subject, ""),
                "district_id": places.get(subject, ""),
                "stars": stars if rated else (0.0 if status == "vetoed" else math.nan),
                "score": score,
                "last_score": past[0].get(subject, math.nan) if past else math.nan,
                "expected": expected,
                "falling": drops.get(subject, []),
                "edge": edge.get(subject, math.nan),
                "slack": slack,
                "p_fewer": p_fewer,
                "missing_share": 1 - complete,
                "days_late": days,
                "risk": round(risk, 1),
                "level": level,
                "failing": failing,
                "again": again,
                # the line to get over next year: the passing line for a failing carrier, else
                # its band's edge (what its levers aim at)
                "line": passing_at if failing else edge.get(subject, math.nan),
            }
        )
    frame = pd.DataFrame(found)
    wanted = frame[(frame["level"] != "low") | frame["again"]]
    levers = levers_all(run, wanted, units)
    frame["levers"] = pd.Series([levers.get(s, []) for s in frame["id"]], index=frame.index)
    return frame[COLUMNS]


def _peer_column(run: RatingRun, index: pd.Index, column: str) -> dict[str, str]:
    """The carriers' kind or district (from the run's peer attributes), for these only."""
    if column not in run.peers:
        return {}
    found = run.peers[column].reindex(index)
    return {str(k): str(v) for k, v in zip(index, found, strict=True) if isinstance(v, str)}


def expected_score(scores: Sequence[float]) -> float:
    """Next year's expected score from this year's and the previous years' (newest first; NaN
    where not rated): their mean — a year's luck, good or bad, is not carried forward."""
    known = [x for x in scores if not math.isnan(x)]
    if not known or math.isnan(scores[0]):
        return math.nan
    return float(np.mean(known))


def _p_fewer(steady: pd.DataFrame, table: pd.DataFrame) -> np.ndarray:
    """Per carrier, the chance over the stability draws of fewer stars than it has (1 for a
    carrier not rated)."""
    stars = np.nan_to_num(table["stars"].to_numpy(dtype=float), nan=0.0).astype(int)
    rated = (table["status"] == RATED).to_numpy()
    columns = sorted(
        (int(c.split("_")[1]), c)
        for c in steady.columns
        if c.startswith("p_") and c.endswith("_stars")
    )
    chances = steady.reindex(table.index)[[c for _, c in columns]].to_numpy(dtype=float)
    below = np.array([k for k, _ in columns])[None, :] < stars[:, None]
    fewer = np.nansum(np.where(below, chances, 0.0), axis=1)
    return np.where(rated, np.clip(fewer, 0, 1), 1.0)


def levers_all(
    run: RatingRun, wanted: pd.DataFrame, units: Mapping[str, str]
) -> dict[str, list[Lever]]:
    """Per carrier of ``wanted`` (id, score, expected, line), the figures whose rise would
    most lower its risk: the missing ones first (report them), then the items that alone win
    back ``line + CUSHION − expected`` points (``nextstar.reaching_frame``, every carrier at
    once), smallest relative rise first; at most ``LEVERS``."""
    meth = run.methodology
    items = (*meth.items, *meth.bonus_items)
    ids = [str(i) for i in wanted["id"]]
    values = run.values.reindex(ids)
    out: dict[str, list[Lever]] = {s: [] for s in ids}
    for item in items:
        column = values[item.driver] if item.driver in values.columns else None
        absent = (
            ids if column is None else [s for s, v in zip(ids, column.isna(), strict=True) if v]
        )
        for subject in absent:
            out[subject].append(Lever(item.id, item.name_zh, item.driver, None, None))
    extra = wanted["line"] + CUSHION - wanted["expected"]
    target = pd.Series((wanted["score"] + extra).to_numpy(dtype=float), index=ids)
    target = target[(extra > 0).to_numpy() & target.notna().to_numpy()]
    if len(target):
        ways = reaching_frame(run.result, run.values, target, dict(units))
        ways = ways[ways["current"].notna()]
        rise = (ways["needed"] - ways["current"]) / ways["current"].abs().replace(0, np.nan)
        ways = ways.assign(rise=rise.fillna(np.inf)).sort_values(
            ["subject", "rise", "item"], kind="stable"
        )
        names = {i.id: i.name_zh for i in items}
        for r in ways.to_dict("records"):
            subject = str(r["subject"])
            out[subject].append(
                Lever(
                    str(r["item"]),
                    names.get(str(r["item"]), str(r["item"])),
                    str(r["indicator"]),
                    float(r["current"]),
                    float(r["needed"]),
                )
            )
    return {s: levers[:LEVERS] for s, levers in out.items()}


def levers_text(
    levers: Sequence[Lever],
    units: Mapping[str, str],
    lang: str = "zh",
    names: Mapping[str, str] | None = None,
) -> str:
    """``在孵企业数 20 → 26 家；创业导师数（缺报）`` — the levers as one line (``names``: each
    item's label in ``lang``, by item id; the Chinese name otherwise)."""
    names = names or {}
    parts = []
    for lever in levers:
        name = names.get(lever.item, lever.name_zh)
        if lever.needed is None or lever.current is None:
            parts.append(f"{name}（缺报）" if lang != "en" else f"{name} (not reported)")
        else:
            unit = units.get(lever.indicator, "")
            if lang == "en" and not unit.isascii():
                unit = ""  # the registry's units are Chinese (个, 千元): the figures speak alone
            unit = f" {unit}" if unit else ""
            parts.append(f"{name} {lever.current:,.6g} → {lever.needed:,.6g}{unit}")
    return ("；" if lang != "en" else "; ").join(parts)


def falling_text(
    items: Sequence[tuple[str, str, float]],
    lang: str = "zh",
    names: Mapping[str, str] | None = None,
) -> str:
    """``在孵企业数 −3.2 分；…`` — the items that lost most points since last year."""
    names = names or {}
    unit = " 分" if lang != "en" else " points"
    return ("；" if lang != "en" else "; ").join(
        f"{names.get(item, name)} {v:+.1f}{unit}" for item, name, v in items
    )


# --- the back-test -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackTest:
    """Of the carriers that lost a star (or failed) in year Y+1, how many were flagged in Y."""

    rows: list[dict[str, Any]]  # per year: year, carriers, lost, flagged, hits (and "watch" too)
    flagged: int
    lost: int
    hits: int
    carriers: int
    # the second-failure flag: of the carriers failing in Y (and still there in Y+1)
    failing: int = 0  # failing in Y, still there in Y+1
    again_flagged: int = 0
    again_hits: int = 0  # flagged and failing again in Y+1
    failed_again: int = 0

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
    runs: MutableMapping[int, list[RatingRun]] | None = None,
) -> BackTest:
    """Flag in each year Y of ``years`` (the carriers at one of ``levels``), then look at Y+1:
    a carrier rated with s stars in Y *lost a star* when it has fewer in Y+1 (vetoed counts as
    0; not rated for missing figures counts as lost). Carriers gone in Y+1 are left out.
    ``runs``: as for ``risk_frame``, shared with it."""
    runs = {} if runs is None else runs
    rows = []
    for y in years:
        flags = risk_frame(engine, config_dir, y, draws=draws, runs=runs)
        after = _stars_of(rated_in(engine, config_dir, runs, y + 1))
        now = flags[flags["stars"] >= 1]
        now = now[now["id"].isin(after)]
        lost = {
            str(i)
            for i, s in zip(now["id"], now["stars"], strict=True)
            if after[str(i)] < float(s) or math.isnan(after[str(i)])
        }
        flagged = set(now.loc[now["level"].isin(list(levels)), "id"].astype(str))
        failing = flags[flags["failing"].astype(bool) & flags["id"].isin(after)]
        again = set(failing.loc[failing["again"].astype(bool), "id"].astype(str))
        # failing again: fewer than the passing stars, a veto, or not rated
        failed = {
            str(i) for i in failing["id"] if math.isnan(after[str(i)]) or after[str(i)] < PASS_STARS
        }
        rows.append(
            {
                "year": y,
                "carriers": len(now),
                "lost": len(lost),
                "flagged": len(flagged),
                "hits": len(flagged & lost),
                "failing": len(failing),
                "again_flagged": len(again),
                "again_hits": len(again & failed),
                "failed_again": len(failed),
            }
        )
    return BackTest(
        rows,
        flagged=sum(r["flagged"] for r in rows),
        lost=sum(r["lost"] for r in rows),
        hits=sum(r["hits"] for r in rows),
        carriers=sum(r["carriers"] for r in rows),
        failing=sum(r["failing"] for r in rows),
        again_flagged=sum(r["again_flagged"] for r in rows),
        again_hits=sum(r["again_hits"] for r in rows),
        failed_again=sum(r["failed_again"] for r in rows),
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
    again = t(
        "risk.backtest_again",
        lang,
        flagged=result.again_flagged,
        hits=result.again_hits,
        precision=pct(result.again_hits / result.again_flagged if result.again_flagged else None),
        failed=result.failed_again,
        recall=pct(result.again_hits / result.failed_again if result.failed_again else None),
        base=pct(result.failed_again / result.failing if result.failing else None),
    )
    return t(
        "risk.backtest",
        lang,
        years=span,
        precision=pct(result.precision),
        recall=pct(result.recall),
        base=pct(result.base_rate),
        demo=("（演示数据）" if lang != "en" else " (demo data)") if demo else "",
    ) + (again if result.again_flagged or result.failed_again else "")


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
