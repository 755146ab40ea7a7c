"""Composite indicators for zones and districts: the plan's five monitoring dimensions.

Each indicator is normalised to 0–1 — min–max over all years (so scores compare across years),
a z-score mapped through the normal CDF, or distance between configured goalposts — turned round
where lower is better, averaged with weights within its dimension (missing items are left out and
the others reweighted), and the dimensions are aggregated arithmetically or geometrically with
their weights to a 0–100 score (OECD/JRC Handbook on Constructing Composite Indicators, 2008).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from monitor.rating.core import (
    INCOMPLETE,
    RATED,
    RatingResult,
    finish_table,
    item_inputs,
    peer_keys,
)
from monitor.rating.methodology import Item, Methodology

GEOMETRIC_FLOOR = 0.01  # a dimension at 0 would zero a geometric mean; floor it at 1 %


def normalise(item: Item, x: np.ndarray, reference: np.ndarray, method: str) -> np.ndarray:
    ref = reference[~np.isnan(reference)]
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "goalpost":
            assert item.goalposts is not None
            lo, hi = item.goalposts
            z = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
        elif method == "zscore":
            sd = ref.std() if len(ref) > 1 else 0.0
            z = (
                np.full(len(x), 0.5)
                if sd == 0
                else np.array(
                    [
                        0.5 * (1 + math.erf(v / math.sqrt(2))) if not np.isnan(v) else np.nan
                        for v in (x - ref.mean()) / sd
                    ]
                )
            )
        else:
            lo, hi = (ref.min(), ref.max()) if len(ref) else (np.nan, np.nan)
            z = np.full(len(x), 0.5) if hi == lo else np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    if item.direction == "lower":
        z = 1.0 - z
    result: np.ndarray = np.where(np.isnan(x), np.nan, z)
    return result


def score_composite(
    values: pd.DataFrame,
    meth: Methodology,
    *,
    peers: pd.DataFrame | None,
    history: pd.DataFrame | None,
    weights: dict[str, float] | None,
) -> RatingResult:

    index = values.index
    n = len(index)
    reference = history if history is not None else values
    items = meth.items
    norm = np.full((n, len(items)), np.nan)
    inputs = np.full((n, len(items)), np.nan)
    for j, item in enumerate(items):
        x = item_inputs(values, item)
        inputs[:, j] = x
        norm[:, j] = normalise(item, x, item_inputs(reference, item), meth.normalisation)
    table = pd.DataFrame(index=index)
    dims = np.full((n, len(meth.groups)), np.nan)
    dim_w = np.array([g.points * (weights or {}).get(g.id, 1.0) for g in meth.groups])
    for k, group in enumerate(meth.groups):
        cols = [j for j, it in enumerate(items) if it.group == group.id]
        w = np.array([items[j].weight for j in cols])
        block = norm[:, cols]
        have = ~np.isnan(block)
        wsum = (have * w).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            dims[:, k] = np.where(wsum > 0, (np.nan_to_num(block) * w).sum(axis=1) / wsum, np.nan)
        table[f"g_{group.id}"] = dims[:, k] * 100
    complete_dims = ~np.isnan(dims)
    completeness = (complete_dims * dim_w).sum(axis=1) / dim_w.sum()
    share = dim_w / dim_w.sum()
    if meth.aggregation == "geometric":
        logs = np.log(np.clip(np.nan_to_num(dims, nan=GEOMETRIC_FLOOR), GEOMETRIC_FLOOR, 1.0))
        total = 100 * np.exp((logs * share).sum(axis=1))
    else:
        total = 100 * (np.nan_to_num(dims) * share).sum(axis=1)
    incomplete = completeness < max(meth.min_completeness, 1e-9) - 1e-9
    status = np.where(incomplete, INCOMPLETE, RATED)
    peer_labels = peer_keys(peers, index, meth.peer_by)
    table["bonus"] = 0.0
    finish_table(
        table, total, status, pd.factorize(peer_labels)[0], peer_labels, completeness, meth.bands
    )
    ids = [it.id for it in items]
    return RatingResult(
        meth,
        table,
        pd.DataFrame(norm * 100, index=index, columns=ids),
        pd.DataFrame(inputs, index=index, columns=ids),
        pd.DataFrame(np.nan, index=index, columns=ids),
        "reweight",
    )
