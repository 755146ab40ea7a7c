"""The riverside belt: a band inland from the Yangtze shoreline, and who belongs to the belt.

Membership is a policy list as much as a place (海安高新区 and 如皋高新区 are belt zones far
from the river), so a carrier belongs to the belt, in this order of basis:

- ``declared``: its registry row gives a belt role (core / zone / park);
- ``zone_area``: it lies inside a member's boundary polygon;
- ``near_zone``: it lies within ``zone_radius_m`` of a member's point (the member has no polygon);
- ``riverside``: it lies inside the riverside band;
- otherwise it is outside the belt (basis ``""``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.boundaries import metric_crs

BASES = ("declared", "zone_area", "near_zone", "riverside")


def riverside_band(shoreline: gpd.GeoSeries, city: gpd.GeoSeries, width_m: float) -> BaseGeometry:
    """The part of the city within ``width_m`` of the shoreline (WGS-84 polygon)."""
    if shoreline.empty or width_m <= 0:
        return shapely.Polygon()
    crs = metric_crs(city)
    line = shoreline.to_crs(crs).union_all()
    area = city.to_crs(crs).union_all()
    band = line.buffer(width_m).intersection(area)
    result: BaseGeometry = gpd.GeoSeries([band], crs=crs).to_crs(4326).iloc[0]
    return result


def belt_membership(
    parks: gpd.GeoDataFrame,
    band: BaseGeometry,
    zone_radius_m: float,
) -> pd.DataFrame:
    """``in_belt`` and ``belt_basis`` for each park (columns ``belt_role``, geometry; optional
    ``boundary`` polygons). Parks without a location can only be members by declaration."""
    declared = parks["belt_role"].fillna("none").ne("none").to_numpy()
    basis = np.where(declared, "declared", "").astype(object)
    located = parks.geometry.notna().to_numpy() & ~parks.geometry.is_empty.to_numpy()
    members = parks.loc[declared]
    points = parks.geometry
    if located.any() and len(members):
        boundaries = (
            members["boundary"]
            if "boundary" in members
            else pd.Series([None] * len(members), index=members.index)
        )
        polygons = [b for b in boundaries if b is not None and not b.is_empty]
        if polygons:
            inside = points.within(shapely.union_all(polygons)).to_numpy()
            basis = np.where((basis == "") & located & inside, "zone_area", basis)
        point_members = members.loc[[b is None or b.is_empty for b in boundaries]]
        point_members = point_members[point_members.geometry.notna()]
        if len(point_members) and zone_radius_m > 0:
            crs = metric_crs(parks.geometry[located])
            circles = point_members.geometry.to_crs(crs).buffer(zone_radius_m).union_all()
            near = np.zeros(len(parks), dtype=bool)
            near[located] = points[located].to_crs(crs).within(circles).to_numpy()
            basis = np.where((basis == "") & near, "near_zone", basis)
    if located.any() and not band.is_empty:
        riverside = np.zeros(len(parks), dtype=bool)
        riverside[located] = points[located].within(band).to_numpy()
        basis = np.where((basis == "") & riverside, "riverside", basis)
    return pd.DataFrame(
        {"in_belt": basis != "", "belt_basis": basis.astype(str)}, index=parks.index
    )
