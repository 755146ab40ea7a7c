"""The configured city's geography: bundled boundaries, the riverside belt, placing carriers.

Glue between ``config/city.toml`` and the pure functions of ``geo``; used by the pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.belt import belt_membership, riverside_band
from geo.boundaries import BUNDLED_DIR, ShorelineExclusion, load_boundaries, metric_crs
from geo.place import assign_districts
from monitor import models
from monitor.errors import ConfigError
from monitor.registry import City

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CityGeography:
    """Boundaries of one city in WGS-84 and the riverside band derived from them."""

    city: City
    districts: gpd.GeoDataFrame  # adcode, name, source_area_km2, geometry
    outline: BaseGeometry
    shoreline: gpd.GeoDataFrame  # neighbour, geometry
    band: BaseGeometry
    provenance: dict[str, Any]
    path: Path

    @property
    def belt_id(self) -> str:
        return f"belt-{self.city.adcode}"

    def inside(self) -> Callable[[float, float], bool]:
        outline = self.outline
        shapely.prepare(outline)
        return lambda lon, lat: bool(shapely.contains_xy(outline, lon, lat))

    def metrics(self) -> dict[str, float]:
        """Areas (km²) and shoreline lengths (km) for reports and `parkmon geo check`."""
        crs = metric_crs(self.districts.geometry)
        shore = self.shoreline.to_crs(crs)
        out = {
            "city_area_km2": float(gpd.GeoSeries([self.outline], crs=4326).to_crs(crs).area[0])
            / 1e6,
            "band_area_km2": float(gpd.GeoSeries([self.band], crs=4326).to_crs(crs).area[0]) / 1e6,
            "shoreline_km": float(shore.length.sum()) / 1e3,
        }
        for row, length in zip(self.shoreline.itertuples(), shore.length, strict=True):
            out[f"shoreline_km_{row.neighbour}"] = float(length) / 1e3
        return out


def boundaries_path(city: City, config_dir: Path) -> Path:
    name = city.geo.boundaries or f"{city.adcode}.geojson"
    local = config_dir / name
    return local if local.exists() else BUNDLED_DIR / name


def shoreline_exclusions(city: City) -> list[ShorelineExclusion]:
    return [ShorelineExclusion(name, bbox) for name, bbox in city.geo.shoreline_exclude]


def load_geography(city: City, config_dir: Path) -> CityGeography:
    path = boundaries_path(city, config_dir)
    frame = load_boundaries(path)
    provenance = frame.attrs.get("parkmon", {})
    if provenance.get("city") not in (None, city.adcode):
        raise ConfigError(
            f"{path}: holds boundaries of {provenance.get('city')}, "
            f"but city.toml is about {city.adcode}"
        )
    districts = frame[frame["role"] == "district"].reset_index(drop=True)
    known = {d.adcode for d in city.districts}
    missing = sorted(known - set(districts["adcode"]))
    if missing:
        raise ConfigError(
            f"{path}: no boundary for district(s) {', '.join(missing)} listed in "
            "city.toml; re-run `parkmon geo extract`"
        )
    outline_rows = frame[frame["role"] == "city"]
    outline = (
        outline_rows.geometry.iloc[0]
        if len(outline_rows)
        else shapely.union_all(districts.geometry.to_numpy())
    )
    shoreline = frame[frame["role"] == "shoreline"].reset_index(drop=True)
    band = riverside_band(
        shoreline.geometry, gpd.GeoSeries([outline], crs=4326), city.geo.belt_width_km * 1000.0
    )
    return CityGeography(city, districts, outline, shoreline, band, provenance, path)


def regions_with_geometry(geography: CityGeography) -> list[dict[str, Any]]:
    """Region rows (city, districts, belt) with WKB geometry, area and a representative point."""
    city = geography.city
    crs = metric_crs(geography.districts.geometry)
    source = geography.provenance.get("source", str(geography.path.name))
    rows: list[dict[str, Any]] = []

    def row(
        rid: str,
        name: str,
        name_en: str,
        level: str,
        parent: str | None,
        geom: BaseGeometry,
        rep: tuple[float, float] | None,
    ) -> dict[str, Any]:
        area = float(gpd.GeoSeries([geom], crs=4326).to_crs(crs).area[0]) / 1e6
        if rep is None or not shapely.contains_xy(geom, *rep):
            point = geom.representative_point()
            rep = (point.x, point.y)
        return {
            "id": rid,
            "name": name,
            "name_en": name_en,
            "level": level,
            "parent_id": parent,
            "area_km2": round(area, 3),
            "rep_lon": rep[0],
            "rep_lat": rep[1],
            "geometry": shapely.to_wkb(geom),
            "source": source,
        }

    rows.append(
        row(
            city.adcode,
            city.name,
            city.name_en,
            models.RegionLevel.city.value,
            None,
            geography.outline,
            None,
        )
    )
    by_code = geography.districts.set_index("adcode")
    for d in city.districts:
        geom = by_code.loc[d.adcode, "geometry"]
        if not shapely.contains_xy(geom, *d.seat):
            log.warning(
                "the seat of %s in city.toml lies outside its boundary; using the "
                "boundary's representative point",
                d.name,
            )
        rows.append(
            row(
                d.adcode,
                d.name,
                d.name_en,
                models.RegionLevel.district.value,
                city.adcode,
                geom,
                d.seat,
            )
        )
    if not geography.band.is_empty:
        rows.append(
            row(
                geography.belt_id,
                f"{city.name}沿江科创带（沿江{city.geo.belt_width_km:g}公里）",
                f"{city.name_en} riverside belt band ({city.geo.belt_width_km:g} km)",
                models.RegionLevel.belt.value,
                city.adcode,
                geography.band,
                None,
            )
        )
    return rows


def locate_parks(parks: gpd.GeoDataFrame, geography: CityGeography) -> pd.DataFrame:
    """For each park: the district its point lies in, and its belt membership with the basis."""
    districts = geography.districts[["adcode", "geometry"]]
    geo_district = assign_districts(parks.geometry, districts)
    membership = belt_membership(parks, geography.band, geography.city.geo.zone_radius_km * 1000.0)
    return pd.DataFrame(
        {
            "id": parks["id"].to_numpy(),
            "geo_district_id": geo_district.to_numpy(),
            "in_belt": membership["in_belt"].to_numpy(),
            "belt_basis": membership["belt_basis"].to_numpy(),
        }
    )


def belt_area(geography: CityGeography, members: gpd.GeoDataFrame) -> BaseGeometry:
    """The riverside band plus the circles around member points (where a carrier is 'in belt')."""
    radius = geography.city.geo.zone_radius_km * 1000.0
    parts = [geography.band]
    located = members[members.geometry.notna()]
    if len(located) and radius > 0:
        crs = metric_crs(geography.districts.geometry)
        circles = located.geometry.to_crs(crs).buffer(radius).union_all()
        parts.append(gpd.GeoSeries([circles], crs=crs).to_crs(4326).iloc[0])
    return shapely.union_all(parts).intersection(geography.outline)


def district_polygons(geography: CityGeography) -> dict[str, BaseGeometry]:
    return dict(zip(geography.districts["adcode"], geography.districts.geometry, strict=True))
