"""What reaches the next star, for every carrier at once.

The same answer as ``explain.explain`` (without ``verify``) gives one carrier at a time — per
item, the smallest figure of the indicator behind it that alone lifts the score to what the next
star needs, with the other carriers' yardsticks (peer medians, the scores to overtake) held as
they are — computed column by column over all carriers, so that a report of 20,000 carriers
takes seconds, not hours. Holding the others fixed is safe: when a carrier's figure rises, the
others' scores can only fall, so the answer is never too small.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from monitor.rating.core import RATED, RatingResult, item_inputs
from monitor.rating.engine import rule_points, score
from monitor.rating.explain import COUNT_LIKE, peers_of
from monitor.rating.methodology import Item, Methodology

__all__ = ["next_star_frame", "reaching_frame", "rescore_rows", "targets"]

OPTION_COLUMNS = ["subject", "item", "indicator", "current", "needed"]
_ROUNDS = 40  # as explain._confirm: raise a candidate at most this many times


def targets(res: RatingResult) -> pd.DataFrame:
    """Per rated subject: the next star (``target_stars``), the score it needs
    (``target_score``, NaN when its peer group is too small for the band's share) and whether
    that score is a place among the peers (``by_share``: the others' scores matter)."""
    meth: Methodology = res.methodology
    table = res.table
    rated = (table["status"] == RATED).to_numpy()
    stars_now = np.nan_to_num(table["stars"].to_numpy(dtype=float), nan=0.0).astype(int)
    bands = sorted(meth.bands, key=lambda b: b.stars)
    target_stars = np.full(len(table), np.nan)
    target_score = np.full(len(table), np.nan)
    by_share = np.zeros(len(table), dtype=bool)
    scores = table["score"].to_numpy(dtype=float)
    peers = table["peer"].astype(str).to_numpy()
    for band in reversed(bands):  # the lowest band above the current stars wins
        chosen = rated & (stars_now < band.stars)
        target_stars[chosen] = band.stars
        target_score[chosen] = band.min_score
        by_share[chosen] = band.top_share is not None
        if band.top_share is None:
            continue
        for group in np.unique(peers[chosen]):
            members = np.flatnonzero(rated & (peers == group))
            order = members[np.argsort(-scores[members], kind="stable")]
            ranked = scores[order]
            size = len(members)  # with the carrier itself
            k = math.floor(band.top_share * size + 1e-9)
            here = np.flatnonzero(chosen & (peers == group))
            if k < 1:
                target_score[here] = np.nan
                continue
            if size - 1 < k:
                continue
            position = np.empty(len(table), dtype=int)
            position[order] = np.arange(size)
            # the k-th best among the others: one further down when the carrier is above it
            kth = np.where(position[here] <= k - 1, ranked[k], ranked[k - 1])
            target_score[here] = np.maximum(target_score[here], kth)
    return pd.DataFrame(
        {"target_stars": target_stars, "target_score": target_score, "by_share": by_share},
        index=table.index,
    ).loc[rated]


def rescore_rows(res: RatingResult, rows: pd.DataFrame) -> np.ndarray:
    """Each row's score with its own figures as given, the others' yardsticks held fixed (the
    vectorised ``explain._rescore_one``)."""
    meth = res.methodology
    medians = res.medians.reindex(rows.index)
    points: dict[str, np.ndarray] = {}
    incomparable: dict[str, np.ndarray] = {}
    for item in meth.items:
        x = item_inputs(rows, item)
        median = None
        lost = np.zeros(len(rows), dtype=bool)
        if item.rule == "peer_ratio":
            median = _column(medians, item.id)
            lost = np.isnan(median) & ~np.isnan(x)
        pts = np.nan_to_num(rule_points(item, x, median), nan=0.0)
        points[item.id] = np.where(lost, 0.0, pts)
        incomparable[item.id] = lost
    total = np.zeros(len(rows))
    for group in meth.groups:
        members = [i for i in meth.items if i.group == group.id]
        possible = sum(i.points for i in members)
        comparable = possible - sum(
            (np.where(incomparable[i.id], i.points, 0.0) for i in members),
            start=np.zeros(len(rows)),
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(comparable > 0, possible / comparable, 0.0)
        earned = sum((points[i.id] for i in members), start=np.zeros(len(rows)))
        total += np.minimum(earned * scale, group.points)
    bonus = np.zeros(len(rows))
    for item in meth.bonus_items:
        if item.rule == "peer_ratio":
            continue  # as the engine without peers: none
        bonus += np.nan_to_num(rule_points(item, item_inputs(rows, item), None), nan=0.0)
    result: np.ndarray = total + np.minimum(bonus, meth.bonus_cap)
    return result


def next_star_frame(
    res: RatingResult,
    values: pd.DataFrame,
    units: dict[str, str] | None = None,
    *,
    verify: int = 0,
) -> pd.DataFrame:
    """Every reachable single-indicator way to the next star: one row per subject and item
    (``subject``, ``item``, ``indicator``, ``current``, ``needed``), items in id order.

    The others' scores are held as they are, which is exact unless the carrier's new figure can
    lower the others' peer medians: a figure reported where none was, a figure that is also a
    denominator of a peer-ratio item, or missing figures filled with peer medians. Where that
    can matter (the next star is a place among the peers) and ``verify`` is set, the first
    ``verify`` answers of each carrier are confirmed by re-rating its peer group with the new
    figure, as ``explain(verify=True)`` does for one carrier."""
    if res.methodology.type != "stars":
        return pd.DataFrame(columns=OPTION_COLUMNS)
    goal = targets(res).dropna(subset=["target_score"])
    return _ways(res, values, goal, units or {}, verify)


def reaching_frame(
    res: RatingResult,
    values: pd.DataFrame,
    target_score: pd.Series,
    units: dict[str, str] | None = None,
) -> pd.DataFrame:
    """The same single-indicator answers for any score per subject (``target_score``; NaN: none
    wanted), e.g. the score that keeps a star with a cushion (``monitor.risks``)."""
    goal = pd.DataFrame({"target_score": target_score.astype(float), "by_share": False})
    return _ways(res, values, goal.dropna(subset=["target_score"]), units or {}, 0)


def _ways(
    res: RatingResult,
    values: pd.DataFrame,
    goal: pd.DataFrame,
    units: dict[str, str],
    verify: int,
) -> pd.DataFrame:
    meth = res.methodology
    subjects = goal.index.intersection(values.index).intersection(res.table.index)
    if len(subjects) == 0:
        return pd.DataFrame(columns=OPTION_COLUMNS)
    goal = goal.loc[subjects]
    rows = values.loc[subjects]
    table = res.table.loc[subjects]
    target = goal["target_score"].to_numpy(dtype=float)
    deficit = target - table["score"].to_numpy(dtype=float)
    parts = []
    for item in sorted((*meth.items, *meth.bonus_items), key=lambda i: i.id):
        earned = np.nan_to_num(_column(res.points.reindex(subjects), item.id), nan=0.0)
        if item.group:
            room = meth.group(item.group).points - np.nan_to_num(
                table[f"g_{item.group}"].to_numpy(dtype=float), nan=0.0
            )
        else:
            room = meth.bonus_cap - np.nan_to_num(table["bonus"].to_numpy(dtype=float), nan=0.0)
        possible = np.maximum(0.0, np.minimum(room, item.points - earned))
        candidate = _needed(item, res, subjects, rows, earned + np.maximum(deficit, 0.0), units)
        candidate[deficit > possible + 1e-9] = np.nan
        current = _column(rows, item.driver)
        candidate[~np.isnan(current) & (candidate <= current)] = np.nan  # the gap lies elsewhere
        needed = _confirm(res, rows, item.driver, candidate, target, units)
        found = ~np.isnan(needed)
        unsure = goal["by_share"].to_numpy(dtype=bool) & _moves_others(meth, item.driver, rows)
        parts.append(
            pd.DataFrame(
                {
                    "subject": subjects[found],
                    "item": item.id,
                    "indicator": item.driver,
                    "current": current[found],
                    "needed": needed[found],
                    "unsure": unsure[found],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["subject", "item"], kind="stable").reset_index(drop=True)
    if verify:
        frame = _verified(res, values, frame, goal, units, verify)
    return frame.drop(columns="unsure")


def _moves_others(meth: Methodology, driver: str, rows: pd.DataFrame) -> np.ndarray:
    """Per row: whether raising ``driver`` can lower another carrier's peer median (so raise
    its score): the driver is reported where it is missing, or divides a peer-ratio item, or
    missing figures are filled with peer medians."""
    if meth.missing == "peer_median":
        return np.ones(len(rows), dtype=bool)
    moves = np.zeros(len(rows), dtype=bool)
    for item in (*meth.items, *meth.bonus_items):
        if item.rule != "peer_ratio" or driver not in item.inputs:
            continue
        if item.denominator == driver:
            return np.ones(len(rows), dtype=bool)
        moves |= np.isnan(item_inputs(rows, item))
    return moves


def _verified(
    res: RatingResult,
    values: pd.DataFrame,
    frame: pd.DataFrame,
    goal: pd.DataFrame,
    units: dict[str, str],
    first: int,
) -> pd.DataFrame:
    """The first ``first`` answers of each carrier, those that could be wrong confirmed by
    re-rating the carrier's peer group (raised in steps, or dropped, as ``explain._confirm``)."""
    peers = res.table["peer"].astype(str)
    members = {
        key: index.intersection(values.index) for key, index in peers.groupby(peers).groups.items()
    }
    keep = np.ones(len(frame), dtype=bool)
    needed = frame["needed"].to_numpy(dtype=float).copy()
    target_stars = goal["target_stars"].to_dict()
    subjects = frame["subject"].to_numpy()
    unsure = frame["unsure"].to_numpy(dtype=bool)
    indicators = frame["indicator"].to_numpy()
    kept: dict[str, int] = {}
    for position in range(len(frame)):  # rows are in subject, item order
        subject = str(subjects[position])
        if kept.get(subject, 0) >= first:
            continue
        if unsure[position]:
            value = _confirm_by_rerating(
                res,
                values.loc[members[peers[subject]]],
                subject,
                str(indicators[position]),
                float(needed[position]),
                float(target_stars[subject]),
                units,
            )
            if value is None:
                keep[position] = False
                continue
            needed[position] = value
        kept[subject] = kept.get(subject, 0) + 1
    frame = frame.assign(needed=needed)
    return frame.loc[keep].reset_index(drop=True)


def _confirm_by_rerating(
    res: RatingResult,
    group: pd.DataFrame,
    subject: str,
    driver: str,
    candidate: float,
    stars: float,
    units: dict[str, str],
) -> float | None:
    count_like = units.get(driver) in COUNT_LIKE
    for _ in range(_ROUNDS):
        changed = group.copy()
        changed.loc[subject, driver] = candidate
        table = score(changed, res.methodology, peers=peers_of(res)).table
        got = float(table["stars"].to_numpy(dtype=float)[table.index.get_loc(subject)])
        if not math.isnan(got) and got >= stars:
            return candidate
        candidate = candidate + max(abs(candidate) * 0.1, 1.0 if count_like else 0.01)
        if count_like:
            candidate = float(math.ceil(candidate))
    return None


def _column(frame: pd.DataFrame, code: str) -> np.ndarray:
    if code not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[code].to_numpy(dtype=float)


def _needed(
    item: Item,
    res: RatingResult,
    subjects: pd.Index,
    rows: pd.DataFrame,
    goal: np.ndarray,
    units: dict[str, str],
) -> np.ndarray:
    """The smallest driver figure that earns ``goal`` points from the item (NaN: it cannot)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if item.rule == "linear":
            assert item.floor is not None and item.cap is not None
            x = item.floor + (goal / item.points) * (item.cap - item.floor)
        elif item.rule == "tiers":
            x = np.full(len(goal), np.nan)
            for threshold, points in reversed(item.tiers):  # the lowest tier that is enough
                x = np.where(points >= goal - 1e-9, threshold, x)
        elif item.rule == "yes_no":
            x = np.full(len(goal), float(item.threshold))
        elif item.rule == "peer_ratio":
            assert item.cap is not None
            median = _column(res.medians.reindex(subjects), item.id)
            median = np.where(median > 0, median, np.nan)
            x = (goal / item.points) * item.cap * median
        else:
            return np.full(len(goal), np.nan)
        x = np.where(goal > item.points + 1e-9, np.nan, x)
        if item.numerator and item.denominator:
            den = _column(rows, item.denominator)
            x = x * np.where(den > 0, den, np.nan)
    if units.get(item.driver) in COUNT_LIKE:
        result: np.ndarray = np.ceil(x - 1e-9)
    else:
        result = np.ceil(x * 100 - 1e-6) / 100
    return result


def _confirm(
    res: RatingResult,
    rows: pd.DataFrame,
    driver: str,
    candidate: np.ndarray,
    target: np.ndarray,
    units: dict[str, str],
) -> np.ndarray:
    """Raise each candidate in steps until the carrier's score reaches its target (a figure
    that also enters another item, as a denominator, can pull that item down); NaN when forty
    steps do not get there."""
    count_like = units.get(driver) in COUNT_LIKE
    needed = np.full(len(candidate), np.nan)
    pending = ~np.isnan(candidate)
    value = candidate.copy()
    for _ in range(_ROUNDS):
        if not pending.any():
            break
        trial = rows.loc[pending].copy()
        trial[driver] = value[pending]
        ok = rescore_rows(res, trial) >= target[pending] - 1e-9
        where = np.flatnonzero(pending)
        needed[where[ok]] = value[where[ok]]
        pending[where[ok]] = False
        step = np.maximum(np.abs(value) * 0.1, 1.0 if count_like else 0.01)
        value = np.where(pending, value + step, value)
        if count_like:
            value = np.where(pending, np.ceil(value), value)
    return needed
