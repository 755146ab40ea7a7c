"""Explanations a park manager can act on: points lost per item, and what reaches the next star.

"To reach the next star" is answered per item, one indicator at a time: the smallest increase of
the indicator behind the item (the numerator of a ratio) that lifts the score to what the next
star needs — its minimum score and, for a band with a top share, the score of the carrier it
must overtake — with everything else as it is. Other carriers' scores can only fall when this
carrier's figure rises (its figure enters their peer medians), so the answer is never too small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitor.rating.core import RATED, RatingResult, item_inputs
from monitor.rating.engine import rule_points, score
from monitor.rating.methodology import Item, Methodology

COUNT_LIKE = {"个", "家", "项", "件", "次", "人"}


@dataclass(frozen=True)
class ItemGap:
    item: str
    name_zh: str
    points: float | None
    max_points: float
    lost: float
    value: float | None


@dataclass(frozen=True)
class NextStarOption:
    item: str
    name_zh: str
    indicator: str
    current: float | None
    needed: float | None
    reachable: bool
    note: str = ""


@dataclass(frozen=True)
class Explanation:
    subject: str
    status: str
    score: float
    stars: float | None
    target_stars: int | None
    target_score: float | None
    gaps: list[ItemGap]
    options: list[NextStarOption]


def _number(value: Any) -> float | None:
    """A plain float, or None for missing (NaN, None)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _cell(frame: pd.DataFrame, row: str, column: str) -> float | None:
    if column not in frame.columns:
        return None
    return _number(frame.loc[row, column])


def _group_room(res: RatingResult, subject: str, item: Item) -> float:
    """How many more points the item's group (or the bonus) can still take before its cap."""
    meth = res.methodology
    if not item.group:
        return meth.bonus_cap - (_cell(res.table, subject, "bonus") or 0.0)
    return meth.group(item.group).points - (_cell(res.table, subject, f"g_{item.group}") or 0.0)


def target_for(res: RatingResult, subject: str) -> tuple[int | None, float | None]:
    """The next star and the score it needs, given the other carriers' scores."""
    meth: Methodology = res.methodology
    row: dict[str, Any] = {str(k): v for k, v in res.table.loc[subject].items()}
    stars_now = _number(row["stars"])
    current = 0 if stars_now is None else int(stars_now)
    higher = sorted((b for b in meth.bands if b.stars > current), key=lambda b: b.stars)
    if not higher:
        return None, None
    band = higher[0]
    need = band.min_score
    if band.top_share is not None:
        peers = res.table[(res.table["peer"] == row["peer"]) & (res.table["status"] == RATED)]
        others = peers.drop(index=subject)["score"].to_numpy()
        size = len(others) + 1
        k = math.floor(band.top_share * size + 1e-9)
        if k < 1:
            return band.stars, None  # the group is too small for this share
        if len(others) >= k:
            need = max(need, float(np.sort(others)[::-1][k - 1]))
    return band.stars, need


def _needed_value(
    item: Item,
    res: RatingResult,
    subject: str,
    extra: float,
    values: dict[str, Any],
    units: dict[str, str],
) -> tuple[float | None, str]:
    """Smallest value of the item's driver indicator that adds ``extra`` points (None: cannot)."""
    current_pts = _cell(res.points, subject, item.id) or 0.0
    goal = current_pts + extra
    if goal > item.points + 1e-9:
        return None, f"at most {item.points:g} points from this item"
    if item.rule == "linear":
        assert item.floor is not None and item.cap is not None
        x = item.floor + (goal / item.points) * (item.cap - item.floor)
    elif item.rule == "tiers":
        reach = [t for t, p in item.tiers if p >= goal - 1e-9]
        if not reach:
            return None, "no tier gives enough points"
        x = reach[0]
    elif item.rule == "yes_no":
        x = item.threshold
    elif item.rule == "peer_ratio":
        assert item.cap is not None
        median = _cell(res.medians, subject, item.id)
        if median is None or median <= 0:
            return None, "no peer median to compare with"
        x = (goal / item.points) * item.cap * median
    else:
        return None, "not a points rule"
    if item.numerator and item.denominator:
        den = _number(values.get(item.denominator))
        if den is None or den <= 0:
            return None, f"{item.denominator} is missing"
        x = x * den
    driver = item.driver
    if units.get(driver) in COUNT_LIKE:
        x = math.ceil(x - 1e-9)
    else:
        x = math.ceil(x * 100 - 1e-6) / 100
    return float(x), ""


def explain(
    res: RatingResult,
    subject: str,
    values: pd.DataFrame,
    units: dict[str, str] | None = None,
    *,
    verify: bool = False,
) -> Explanation:
    """Points lost per item against its maximum, and single-indicator ways to the next star.

    With ``verify`` each answer is confirmed by re-rating every carrier with the change applied.
    """
    meth = res.methodology
    row: dict[str, Any] = {str(k): v for k, v in res.table.loc[subject].items()}
    units = units or {}
    gaps = []
    for item in meth.items:
        pts = _cell(res.points, subject, item.id)
        gaps.append(
            ItemGap(
                item.id,
                item.name_zh,
                pts,
                item.points,
                item.points - (pts or 0.0),
                _cell(res.inputs, subject, item.id),
            )
        )
    gaps.sort(key=lambda g: -g.lost)
    target_stars, target_score = (
        target_for(res, subject) if row["status"] == RATED else (None, None)
    )
    options: list[NextStarOption] = []
    if target_stars is not None and target_score is not None and meth.type == "stars":
        deficit = target_score - float(row["score"])
        vals: dict[str, Any] = {str(k): v for k, v in values.loc[subject].items()}
        for item in (*meth.items, *meth.bonus_items):
            driver = item.driver
            current_f = _number(vals.get(driver))
            room = _group_room(res, subject, item)
            own = item.points - (_cell(res.points, subject, item.id) or 0.0)
            possible = max(0.0, min(room, own))
            if deficit > possible + 1e-9:
                options.append(
                    NextStarOption(
                        item.id,
                        item.name_zh,
                        driver,
                        current_f,
                        None,
                        False,
                        f"adds at most {possible:.1f} of the {deficit:.1f} points needed",
                    )
                )
                continue
            needed, note = _needed_value(item, res, subject, max(deficit, 0.0), vals, units)
            if needed is not None and current_f is not None and needed <= current_f:
                needed, note = None, "already there; the gap lies elsewhere"
            if needed is not None:
                needed, note = _confirm(
                    res, values, subject, driver, needed, target_score, target_stars, units, verify
                )
            options.append(
                NextStarOption(
                    item.id, item.name_zh, driver, current_f, needed, needed is not None, note
                )
            )
        options.sort(key=lambda o: (not o.reachable, o.item))
    return Explanation(
        subject,
        str(row["status"]),
        float(row["score"]),
        _number(row["stars"]),
        target_stars,
        target_score,
        gaps,
        options,
    )


def _rescore_one(
    res: RatingResult, values: pd.DataFrame, subject: str, driver: str, value: float
) -> float:
    """This carrier's score with one figure changed, the others' yardsticks held fixed."""
    meth = res.methodology
    row = {
        str(code): np.array([v], dtype=float)
        for code, v in zip(values.columns, values.loc[subject].to_numpy(dtype=float), strict=True)
    }
    row[driver] = np.array([value], dtype=float)
    total = 0.0
    points: dict[str, float] = {}
    incomparable: set[str] = set()
    for item in meth.items:
        x = item_inputs(row, item)
        median = None
        if item.rule == "peer_ratio":
            known = _cell(res.medians, subject, item.id)
            median = np.array([np.nan if known is None else known])  # 0 is a median too
            if np.isnan(median[0]) and not np.isnan(x[0]):
                incomparable.add(item.id)  # no peers: as the engine, left out and rescaled
        points[item.id] = float(np.nan_to_num(rule_points(item, x, median), nan=0.0)[0])
        if item.id in incomparable:
            points[item.id] = 0.0
    for group in meth.groups:
        members = [i for i in meth.items if i.group == group.id]
        possible = sum(i.points for i in members)
        comparable = possible - sum(i.points for i in members if i.id in incomparable)
        scale = possible / comparable if comparable > 0 else 0.0
        total += min(sum(points[i.id] for i in members) * scale, group.points)
    bonus = 0.0
    for item in meth.bonus_items:
        if item.rule == "peer_ratio":
            continue  # its peer median is not kept; the engine gives none without peers
        bonus += float(np.nan_to_num(rule_points(item, item_inputs(row, item), None), nan=0.0)[0])
    return total + min(bonus, meth.bonus_cap)


def _confirm(
    res: RatingResult,
    values: pd.DataFrame,
    subject: str,
    driver: str,
    needed: float,
    target_score: float,
    target_stars: int,
    units: dict[str, str],
    verify: bool,
) -> tuple[float | None, str]:
    """Check the candidate really reaches the target; raise it in steps when a figure that
    appears in several items (e.g. a denominator) pulls another item down."""
    candidate = needed
    for _ in range(40):
        ok = _rescore_one(res, values, subject, driver, candidate) >= target_score - 1e-9
        if ok and verify:
            changed = values.copy()
            changed.loc[subject, driver] = candidate
            full = score(changed, res.methodology, peers=peers_of(res))
            got = _cell(full.table, subject, "stars")
            ok = got is not None and got >= target_stars
        if ok:
            return candidate, ""
        step = max(abs(candidate) * 0.1, 1.0 if units.get(driver) in COUNT_LIKE else 0.01)
        candidate = candidate + step
        if units.get(driver) in COUNT_LIKE:
            candidate = float(math.ceil(candidate))
    return None, "raising this figure alone does not get there (it also lowers another item)"


def peers_of(res: RatingResult) -> pd.DataFrame | None:
    """Peer keys as a frame ``score`` understands (one column per peer_by key, joined); None
    when the result was scored without peer attributes (everyone one group)."""
    by = res.methodology.peer_by
    if not by:
        return pd.DataFrame(index=res.table.index)
    parts = res.table["peer"].astype(str).str.split("|", expand=True)
    if parts.shape[1] != len(by):
        return None
    parts.columns = list(by)
    return parts
