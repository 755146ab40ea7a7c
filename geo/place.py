"""Placing carriers: which district a point lies in, and random points inside polygons."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry


def assign_districts(points: gpd.GeoSeries, districts: gpd.GeoDataFrame) -> pd.Series:
    """The adcode of the district each point lies in (None outside every district or no point).

    ``districts`` has an ``adcode`` column and polygons in the same CRS as ``points``.
    """
    result = pd.Series([None] * len(points), index=points.index, dtype=object)
    located = points.notna() & ~points.is_empty
    if not located.any():
        return result
    left = gpd.GeoDataFrame(geometry=points[located])
    joined = gpd.sjoin(left, districts[["adcode", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    result.loc[joined.index] = joined["adcode"].where(joined["adcode"].notna(), None)
    return result


def sample_points(polygon: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly random points inside ``polygon`` (rejection sampling), as an (n, 2) array."""
    if n <= 0 or polygon.is_empty:
        return np.empty((0, 2))
    x0, y0, x1, y1 = polygon.bounds
    shapely.prepare(polygon)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = max(64, 4 * (n - have))
        xy = np.column_stack([rng.uniform(x0, x1, batch), rng.uniform(y0, y1, batch)])
        keep = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
        out.append(xy[keep])
        have += int(keep.sum())
    return np.vstack(out)[:n]
