"""The regional map: districts as the base map, the riverside belt, every carrier coloured by its
stars and sized by its kind, a year control, filters by kind and belt role, a legend, and popups
with a small trend chart. Drawn client-side on a canvas from one compact JSON payload."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo.crs import from_wgs84
from maps.page import TileChoice, add_script, client_js, new_page, render, safe_json
from maps.payload import MapData

STAR_COLOURS = {
    "0": "#6e7781",
    "1": "#d1e5f0",
    "2": "#92c5de",
    "3": "#f4a582",
    "4": "#d6604d",
    "5": "#b2182b",
    "none": "#ffffff",
}
KIND_RADIUS = {
    "innovation_zone": 11,
    "high_tech_zone": 10,
    "development_zone": 8,
    "industrial_park": 8,
    "incubator": 5,
    "maker_space": 4,
    "accelerator": 5,
    "rd_institution": 5,
}


def to_display(geometry: BaseGeometry, crs: str) -> BaseGeometry:
    """Convert WGS-84 geometry to the tile provider's system (GCJ-02 for Gaode), at render time."""
    if crs in ("wgs84", "cgcs2000"):
        return geometry

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = from_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, convert)


def _rounded(geometry: BaseGeometry) -> dict[str, Any]:
    result: dict[str, Any] = mapping(shapely.set_precision(geometry, 1e-5))
    return result


def payload(data: MapData, tiles: TileChoice) -> dict[str, Any]:
    crs = tiles.crs if tiles.name else "wgs84"
    lon = np.array([p["lon"] for p in data.parks], dtype=float)
    lat = np.array([p["lat"] for p in data.parks], dtype=float)
    if len(lon):
        lon, lat = from_wgs84(lon, lat, crs)
    parks = columns(data.parks, lon, lat, data.years)
    districts = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"adcode": code, "name": name},
                "geometry": _rounded(to_display(geom, crs)),
            }
            for code, name, geom in data.districts
        ],
    }
    belt = (
        None
        if data.belt is None or data.belt.is_empty
        else {"type": "Feature", "properties": {}, "geometry": _rounded(to_display(data.belt, crs))}
    )
    return {
        "parks": parks,
        "districts": districts,
        "belt": belt,
        "years": data.years,
        "labels": data.labels,
        "kinds": data.kinds,
        "roles": data.roles,
        "colours": STAR_COLOURS,
        "radius": KIND_RADIUS,
        "demo": data.demo,
        "crs": crs,
        **data.extra,
    }


def _codes(values: list[str]) -> tuple[list[str], list[int]]:
    table: dict[str, int] = {}
    codes = [table.setdefault(v, len(table)) for v in values]
    return list(table), codes


_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _coded(values: list[str]) -> dict[str, Any]:
    """A categorical column: its distinct values and one base-36 character per carrier."""
    table, codes = _codes(values)
    if len(table) > len(_B36):
        return {"table": table, "list": codes}
    return {"table": table, "chars": "".join(_B36[c] for c in codes)}


def columns(
    parks: list[dict[str, Any]], lon: np.ndarray, lat: np.ndarray, years: list[int]
) -> dict[str, Any]:
    """The carriers as compact columns: coordinates as integer steps of 1e-5° (about 1 m) from an
    origin, categories as one character each, stars as one character per year ('-' unrated),
    scores in tenths."""
    lon0 = float(np.floor(lon.min())) if len(lon) else 0.0
    lat0 = float(np.floor(lat.min())) if len(lat) else 0.0
    out: dict[str, Any] = {
        "id": [p["id"] for p in parks],
        "name": [p["name"] for p in parks],
        "lon0": lon0,
        "lat0": lat0,
        "x": np.rint((lon - lon0) * 1e5).astype(int).tolist(),
        "y": np.rint((lat - lat0) * 1e5).astype(int).tolist(),
        "approx": "".join("1" if p["approx"] else "0" for p in parks),
        "highlight": "".join("1" if p.get("highlight") else "0" for p in parks),
    }
    for key in ("kind", "kind_label", "level_label", "district", "role", "role_label"):
        out[key] = _coded([str(p[key]) for p in parks])

    def star(value: Any) -> str:
        return "-" if value is None else str(int(value))

    out["stars"] = {str(y): "".join(star(p["stars"].get(str(y))) for p in parks) for y in years}
    out["score"] = {
        str(y): [
            None if p["score"].get(str(y)) is None else round(float(p["score"][str(y)]) * 10)
            for p in parks
        ]
        for y in years
    }
    return out


def bounds_center(data: MapData) -> tuple[float, float]:
    if data.districts:
        union = shapely.union_all([g for _, _, g in data.districts])
        c = union.centroid
        return c.y, c.x
    return 32.0, 120.9


def render_region_map(data: MapData, tiles: TileChoice, lang: str = "zh") -> str:
    m = new_page(center=bounds_center(data), zoom=9, title=data.title, lang=lang, tiles=tiles)
    add_script(m, f"var DATA = {safe_json(payload(data, tiles))};\n" + client_js("region"))
    return render(m)
