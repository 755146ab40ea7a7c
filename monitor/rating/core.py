"""What every rating shares: statuses, the result of scoring, ranks and stars within peers.

The star engine (``monitor.rating.engine``) and the composite index (``monitor.rating.composite``)
both build on these; neither imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from monitor.rating.methodology import Band, Item, Methodology

RATED, VETOED, INCOMPLETE, HELD = "rated", "vetoed", "incomplete", "held"


@dataclass
class RatingResult:
    """``table`` per subject: score, stars, rank, peer_size, peer, status, completeness, bonus and
    one ``g_<group>`` column per group; ``points``/``inputs``/``medians`` per subject and item."""

    methodology: Methodology
    table: pd.DataFrame
    points: pd.DataFrame
    inputs: pd.DataFrame
    medians: pd.DataFrame
    missing_treatment: str


@dataclass(frozen=True)
class RatingRun:
    """One methodology applied to one year: the result with what it was computed from."""

    methodology: Methodology
    year: int
    result: RatingResult
    values: pd.DataFrame
    peers: pd.DataFrame
    names: dict[str, str]
    held: Mapping[str, str] = field(default_factory=dict)
    # Subjects whose figures changed after the stored rating was computed (views only).
    changed: tuple[str, ...] = ()


def item_inputs(values: pd.DataFrame | Mapping[str, np.ndarray], item: Item) -> np.ndarray:
    """The value a rule looks at: an indicator, or a ratio (NaN when the denominator is ≤ 0).

    ``values``: subjects × indicators, as a frame or as one float array per indicator (one
    subject rescored many times, without pandas' cost per column)."""
    size = len(values) if isinstance(values, pd.DataFrame) else len(next(iter(values.values())))

    def column(code: str) -> np.ndarray:
        if isinstance(values, pd.DataFrame):
            if code not in values.columns:
                return np.full(size, np.nan)
            return values[code].to_numpy(dtype=float)
        found = values.get(code)
        return np.full(size, np.nan) if found is None else found

    if item.indicator:
        return column(item.indicator)
    assert item.numerator and item.denominator
    num, den = column(item.numerator), column(item.denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: np.ndarray = np.where(den > 0, num / den, np.nan)
    return result


def peer_keys(frame: pd.DataFrame | None, index: pd.Index, by: Sequence[str]) -> np.ndarray:
    if frame is None or not by:
        return np.zeros(len(index), dtype=object)
    info = frame.reindex(index)
    keys: np.ndarray = info[by[0]].astype(str).to_numpy(dtype=object)
    for column in by[1:]:
        keys = keys + "|" + info[column].astype(str).to_numpy(dtype=object)
    return keys


def ranks_within(
    scores: np.ndarray, groups: np.ndarray, eligible: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Competition ranks (1 + number of better scores) and group sizes, among eligible members."""
    rank = np.full(len(scores), np.nan)
    size = np.full(len(scores), np.nan)
    for g in np.unique(groups):
        idx = np.flatnonzero((groups == g) & eligible)
        if len(idx) == 0:
            continue
        s = scores[idx]
        sorted_desc = np.sort(s)[::-1]
        # number strictly greater = position of the first element ≤ s in the descending order
        better = np.searchsorted(-sorted_desc, -s, side="left")
        rank[idx] = better + 1
        size[idx] = len(idx)
    return rank, size


def assign_stars(
    scores: np.ndarray, rank: np.ndarray, size: np.ndarray, bands: Sequence[Band]
) -> np.ndarray:
    """The highest band whose conditions hold; a top share means rank ≤ share × group size."""
    stars = np.zeros(len(scores))
    decided = np.zeros(len(scores), dtype=bool)
    for band in sorted(bands, key=lambda b: -b.stars):
        ok = scores >= band.min_score - 1e-9
        if band.top_share is not None:
            ok &= rank <= band.top_share * size + 1e-9
        take = ok & ~decided & ~np.isnan(scores)
        stars[take] = band.stars
        decided |= take
    return stars


def finish_table(
    table: pd.DataFrame,
    total: np.ndarray,
    status: np.ndarray,
    groups: np.ndarray,
    peer_labels: np.ndarray,
    completeness: np.ndarray,
    bands: Sequence[Band],
    vetoed: np.ndarray | None = None,
) -> None:
    """Score, stars (0 for a veto), rank and peer size among the rated, status, completeness.

    Ranks and stars are decided on the score as stored and shown (six decimals): two carriers
    that show the same score share a rank, and reaching a peer's shown score is a tie — never
    a rank lost to a difference in the sixteenth digit."""
    rated = status == RATED
    shown = np.round(total, 6)
    rank, size = ranks_within(shown, groups, rated)
    stars = assign_stars(np.where(rated, shown, np.nan), rank, size, bands)
    vetoed = np.zeros(len(total), dtype=bool) if vetoed is None else vetoed
    table["score"] = shown
    table["stars"] = np.where(rated, stars, np.where(vetoed, 0, np.nan))
    table["rank"] = rank
    table["peer_size"] = size
    table["peer"] = peer_labels
    table["status"] = status
    table["completeness"] = completeness
