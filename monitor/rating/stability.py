"""How stable is a star? A Monte Carlo over the weights and the missing-data treatment.

Each draw multiplies every group's points by an independent factor in [1 − spread, 1 + spread]
(rescaled so the groups still total the methodology's maximum), and picks the missing-item
treatment at random (score 0, or the peer median). Per carrier it reports the probability of
each star and the 5th–95th percentile of its rank (Saisana, Saltelli & Tarantola 2005, the
uncertainty analysis of composite indicators).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from monitor.rating.core import RATED, assign_stars, ranks_within
from monitor.rating.engine import score
from monitor.rating.methodology import Methodology


def stability(
    values: pd.DataFrame,
    meth: Methodology,
    *,
    peers: pd.DataFrame | None = None,
    draws: int = 500,
    spread: float = 0.2,
    seed: int = 7,
    history: pd.DataFrame | None = None,
    held: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = {
        t: score(values, meth, peers=peers, missing=t, history=history, held=held)
        for t in (("zero", "peer_median") if meth.type == "stars" else ("zero",))
    }
    treatments = list(base)
    first = base[treatments[0]]
    index = values.index
    groups = pd.factorize(first.table["peer"].to_numpy())[0]
    rated = (first.table["status"] == RATED).to_numpy()
    group_ids = [g.id for g in meth.groups]
    totals = np.array([g.points for g in meth.groups])
    parts = {
        t: np.column_stack([r.table[f"g_{g}"].to_numpy() for g in group_ids])
        for t, r in base.items()
    }
    bonus = first.table["bonus"].to_numpy()
    stars_max = max((b.stars for b in meth.bands), default=0)
    counts = np.zeros((len(index), stars_max + 1))
    rank_draws = np.full((draws, len(index)), np.nan)
    for d in range(draws):
        factors = rng.uniform(1 - spread, 1 + spread, size=len(group_ids))
        factors *= totals.sum() / (totals * factors).sum()
        treatment = treatments[int(rng.integers(len(treatments)))]
        total = (parts[treatment] * factors).sum(axis=1) + bonus
        rank, size = ranks_within(total, groups, rated)
        stars = assign_stars(np.where(rated, total, np.nan), rank, size, meth.bands)
        for k in range(stars_max + 1):
            counts[:, k] += (stars == k) & rated
        rank_draws[d] = rank
    out = pd.DataFrame(index=index)
    for k in range(1, stars_max + 1):
        out[f"p_{k}_stars"] = counts[:, k] / draws
    with warnings.catch_warnings():
        # unrated carriers have no rank in any draw: their percentile is NaN, as it should be
        warnings.simplefilter("ignore", RuntimeWarning)
        out["rank_p05"] = np.nanpercentile(rank_draws, 5, axis=0)
        out["rank_p95"] = np.nanpercentile(rank_draws, 95, axis=0)
    out.loc[~rated, [c for c in out.columns]] = np.nan
    probs = out[[f"p_{k}_stars" for k in range(1, stars_max + 1)]].to_numpy()
    out["modal_stars"] = np.where(rated, probs.argmax(axis=1) + 1, np.nan)
    out["solid"] = np.where(rated, probs.max(axis=1) >= 0.9, False)
    return out
