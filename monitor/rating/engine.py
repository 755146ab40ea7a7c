"""The scoring engine: from a frame of values and a methodology to scores, stars and ranks.

Vectorised with numpy over all carriers at once: item points per rule, missing-item treatment,
group caps, bonus, vetoes, completeness, ranks within peer groups and star bands. A carrier's own
value never enters its ``peer_ratio`` median: the median is of the *other* carriers of its peer
group (leave-one-out), so improving oneself never moves one's own yardstick.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from monitor.rating.composite import score_composite
from monitor.rating.core import (
    HELD,
    INCOMPLETE,
    RATED,
    VETOED,
    RatingResult,
    finish_table,
    item_inputs,
    peer_keys,
)
from monitor.rating.methodology import Item, Methodology


def loo_median(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """For each element, the median of the non-missing values of the *other* members of its group
    (NaN when there are none). O(n log n) per group."""
    out = np.full(len(x), np.nan)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        vals = x[idx]
        ok = ~np.isnan(vals)
        present = vals[ok]
        m = len(present)
        if m == 0:
            continue
        order = np.argsort(present)
        s = present[order]
        # Position of each member in the sorted array; members without a value remove nothing.
        pos = np.full(len(idx), m, dtype=np.int64)
        ranks = np.empty(m, dtype=np.int64)
        ranks[order] = np.arange(m)
        pos[ok] = ranks
        removed = pos < m
        size = np.where(removed, m - 1, m)  # how many others have a value
        lo = _without_own(s, pos, removed, (size - 1) // 2)
        hi = _without_own(s, pos, removed, size // 2)
        out[idx] = np.where(size > 0, (lo + hi) / 2.0, np.nan)
    return out


def _without_own(s: np.ndarray, pos: np.ndarray, removed: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The j-th value of the sorted array ``s`` once each member's own value is taken out."""
    jj = np.where(removed & (j >= pos), j + 1, j)
    result: np.ndarray = s[np.clip(jj, 0, len(s) - 1)]
    return result


def rule_points(item: Item, x: np.ndarray, median: np.ndarray | None = None) -> np.ndarray:
    """Points of a ``stars`` item for input values ``x`` (NaN stays NaN: missing)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if item.rule == "linear":
            assert item.floor is not None and item.cap is not None
            frac = np.clip((x - item.floor) / (item.cap - item.floor), 0.0, 1.0)
            pts = item.points * frac
        elif item.rule == "tiers":
            pts = np.zeros(len(x))
            for threshold, points in item.tiers:
                pts = np.where(x >= threshold, points, pts)
        elif item.rule == "yes_no":
            pts = np.where(x >= item.threshold, item.points, 0.0)
        elif item.rule == "peer_ratio":
            assert median is not None and item.cap is not None
            ratio = np.where(median > 0, x / median, np.where(x > 0, np.inf, 0.0))
            pts = item.points * np.clip(ratio / item.cap, 0.0, 1.0)
        else:
            raise ValueError(f"rule {item.rule} has no points")
    result: np.ndarray = np.where(np.isnan(x), np.nan, pts)
    return result


def score(
    values: pd.DataFrame,
    meth: Methodology,
    *,
    peers: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    missing: str | None = None,
    weights: dict[str, float] | None = None,
    held: Mapping[str, str] | None = None,
) -> RatingResult:
    """Rate every subject (row of ``values``; columns are indicator codes) under ``meth``.

    ``peers`` holds the columns named by ``meth.peer_by`` (e.g. kind); ``history`` is the frame of
    all years for composite normalisation (min–max over all years); ``missing`` overrides the
    methodology's missing-item treatment and ``weights`` multiplies group points (stability).
    ``held`` names subjects whose figures contradict each other (``monitor.logic_checks``): they
    are held for review with the reason, neither rated nor ranked.
    """
    if meth.type == "composite":
        return score_composite(values, meth, peers=peers, history=history, weights=weights)
    treatment = missing or meth.missing
    index = values.index
    peer_labels = peer_keys(peers, index, meth.peer_by)
    groups = pd.factorize(peer_labels)[0]  # integer codes: unique/compare much faster
    n = len(index)
    items = meth.items
    pts = np.full((n, len(items)), np.nan)
    inputs = np.full((n, len(items)), np.nan)
    medians = np.full((n, len(items)), np.nan)
    # A peer-ratio item of a carrier whose peer group has no other value cannot be compared:
    # it earns no points by default and is left out of its group, whose other items are scaled
    # up to the group's points (never full points for being alone).
    incomparable = np.zeros((n, len(items)), dtype=bool)
    for j, item in enumerate(items):
        x = item_inputs(values, item)
        if treatment == "peer_median":
            fill = loo_median(x, groups)
            x_used = np.where(np.isnan(x), fill, x)
        else:
            x_used = x
        med = loo_median(x, groups) if item.rule == "peer_ratio" else None
        inputs[:, j] = x
        if med is not None:
            medians[:, j] = med
            incomparable[:, j] = ~np.isnan(x_used) & np.isnan(med)
        pts[:, j] = np.where(incomparable[:, j], np.nan, rule_points(item, x_used, med))
    present = ~np.isnan(inputs)
    max_pts = np.array([it.points for it in items])
    completeness = (present * max_pts).sum(axis=1) / max_pts.sum()
    filled = np.nan_to_num(pts, nan=0.0)
    table = pd.DataFrame(index=index)
    total = np.zeros(n)
    for group in meth.groups:
        cols = [j for j, it in enumerate(items) if it.group == group.id]
        factor = (weights or {}).get(group.id, 1.0)
        possible = max_pts[cols].sum()
        comparable = possible - (incomparable[:, cols] * max_pts[cols]).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(comparable > 0, possible / comparable, 0.0)
        g = np.minimum(filled[:, cols].sum(axis=1) * scale, group.points) * factor
        table[f"g_{group.id}"] = g
        total += g
    bonus = np.zeros(n)
    for item in meth.bonus_items:
        med = loo_median(item_inputs(values, item), groups) if item.rule == "peer_ratio" else None
        b = rule_points(item, item_inputs(values, item), med)
        if med is not None:  # no peers to compare with: no bonus from a peer-ratio item
            b = np.where(np.isnan(med), np.nan, b)
        bonus += np.nan_to_num(b, nan=0.0)
    bonus = np.minimum(bonus, meth.bonus_cap)
    table["bonus"] = bonus
    total += bonus
    vetoed = np.zeros(n, dtype=bool)
    for veto in meth.vetoes:
        if veto.indicator in values.columns:
            v = values[veto.indicator].to_numpy(dtype=float)
            vetoed |= np.nan_to_num(v, nan=0.0) >= veto.threshold
    incomplete = completeness < meth.min_completeness - 1e-9
    review = np.array([(held or {}).get(str(s), "") for s in index], dtype=object)
    status = np.where(
        vetoed, VETOED, np.where(review != "", HELD, np.where(incomplete, INCOMPLETE, RATED))
    )
    finish_table(table, total, status, groups, peer_labels, completeness, meth.bands, vetoed)
    table["not_comparable"] = incomparable.sum(axis=1)
    table["review"] = review
    ids = [it.id for it in items]
    return RatingResult(
        meth,
        table,
        pd.DataFrame(pts, index=index, columns=ids),
        pd.DataFrame(inputs, index=index, columns=ids),
        pd.DataFrame(medians, index=index, columns=ids),
        treatment,
    )
