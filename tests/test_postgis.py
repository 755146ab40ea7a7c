"""PostGIS: real geometry columns (SRID 4326, GiST) computed from the portable ones, the demo
built on the server, and the layers read the way QGIS reads them; plain PostgreSQL unchanged."""

from __future__ import annotations

import uuid
from pathlib import Path

import geopandas as gpd
import matplotlib
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import Polygon

from monitor import db, schema, spatial, store

matplotlib.use("Agg")
import matplotlib.pyplot as plt

pytestmark = pytest.mark.postgres

ARTIFACTS = Path(__file__).parent / "artifacts"
SQUARE = Polygon([(120.8, 31.9), (121.0, 31.9), (121.0, 32.1), (120.8, 32.1)])


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def _park(pid: str, lon: float | None, lat: float | None) -> dict[str, object]:
    return {
        "id": pid,
        "name": f"载体{pid}",
        "kind": "incubator",
        "level": "provincial",
        "district_id": "320613",
        "belt_role": "none",
        "lon": lon,
        "lat": lat,
        "location_quality": "surveyed" if lon is not None else "missing",
    }


def test_geometry_columns_follow_the_portable_ones(pg_empty):
    engine = pg_empty
    db.init_schema(engine)
    assert {"geom", "boundary_geom"} <= _columns(engine, "park")
    assert "geom" in _columns(engine, "region")
    with engine.begin() as conn:
        store.upsert_regions(
            conn,
            [
                {
                    "id": "320613",
                    "name": "崇川区",
                    "level": "district",
                    "geometry": shapely.to_wkb(SQUARE),
                }
            ],
        )
        store.upsert_parks(conn, [_park("X1", 120.9, 32.0), _park("X2", None, None)])
    with engine.connect() as conn:
        points = conn.execute(
            sa.text("SELECT id, ST_AsText(geom), ST_SRID(geom) FROM park ORDER BY id")
        ).all()
        assert [tuple(p) for p in points] == [("X1", "POINT(120.9 32)", 4326), ("X2", None, None)]
        inside = conn.execute(
            sa.text(
                "SELECT p.id FROM park p JOIN region r ON ST_Within(p.geom, r.geom) "
                "WHERE r.id = '320613'"
            )
        ).scalars()
        assert list(inside) == ["X1"]
        registered = conn.execute(
            sa.text(
                "SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns "
                "WHERE f_table_schema = current_schema() ORDER BY 1, 2"
            )
        ).all()
        assert [tuple(r) for r in registered] == [
            ("park", "boundary_geom", 4326, "GEOMETRY"),
            ("park", "geom", 4326, "POINT"),
            ("region", "geom", 4326, "GEOMETRY"),
        ]
        gist = conn.execute(
            sa.text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexdef ILIKE '%USING gist%' ORDER BY 1"
            )
        ).scalars()
        assert list(gist) == sorted(c.index for c in spatial.COLUMNS)
    # A moved carrier moves on the map too: the server recomputes the column on every write.
    with engine.begin() as conn:
        store.upsert_parks(conn, [_park("X1", 120.95, 32.05)])
    with engine.connect() as conn:
        moved = conn.execute(sa.text("SELECT ST_AsText(geom) FROM park WHERE id = 'X1'"))
        assert moved.scalar() == "POINT(120.95 32.05)"
    # and parkmon's own reads are unchanged (the WKB and lon/lat columns)
    assert store.parks_frame(engine).geometry.iloc[0].equals(shapely.Point(120.95, 32.05))
    assert store.regions_frame(engine).geometry.iloc[0].equals(SQUARE)


def test_plain_postgresql_keeps_the_wkb_columns(pg_plain_url):
    admin = db.make_engine(pg_plain_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        assert spatial.postgis_version(conn) is None
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    url = sa.engine.make_url(pg_plain_url).update_query_dict({"options": f"-csearch_path={name}"})
    engine = db.make_engine(url.render_as_string(hide_password=False))
    try:
        db.init_schema(engine)
        assert schema.state(engine).current
        assert "geom" not in _columns(engine, "park")
        with engine.begin() as conn:
            store.upsert_parks(conn, [_park("X1", 120.9, 32.0)])
        assert store.parks_frame(engine).geometry.iloc[0].equals(shapely.Point(120.9, 32.0))
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def test_postgis_installed_later_gets_its_columns_on_upgrade(pg_plain_url):
    """The bureau installs PostGIS after parkmon: `parkmon db upgrade` then adds the columns."""
    admin = db.make_engine(pg_plain_url)
    name = f"late_{uuid.uuid4().hex[:8]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = db.make_engine(
        sa.engine.make_url(pg_plain_url).set(database=name).render_as_string(False)
    )
    try:
        db.init_schema(engine)
        with engine.begin() as conn:
            store.upsert_parks(conn, [_park("X1", 120.9, 32.0)])
        assert "geom" not in _columns(engine, "park")
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION postgis"))
        changes = db.init_schema(engine)
        assert changes == [
            "upgraded to postgis: geometry columns park.geom, park.boundary_geom, region.geom"
        ]
        with engine.connect() as conn:
            point = conn.execute(sa.text("SELECT ST_AsText(geom) FROM park")).scalar()
        assert point == "POINT(120.9 32)"  # existing rows computed at once
        assert db.init_schema(engine) == []
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        admin.dispose()


@pytest.mark.slow
def test_the_demo_builds_on_postgis_and_qgis_reads_its_layers(pg_empty, tmp_path, cli):
    url = pg_empty.url.render_as_string(hide_password=False)
    built = cli("--db", url, "demo", "--out", str(tmp_path / "demo"), cwd=tmp_path)
    assert "parkmon_test" in built.stdout  # it says where it built
    assert not (tmp_path / "demo" / "parkmon.db").exists()  # not a SQLite file
    assert (tmp_path / "demo" / "site" / "index.html").exists()
    assert db.holds_demo_data(pg_empty)
    parks_before = store.count_rows(pg_empty, store.models.Park)
    observations = store.count_rows(pg_empty, store.models.Observation)
    assert parks_before > 100 and observations > 10_000
    # again: the earlier demo is replaced, not added to
    cli("--db", url, "demo", "--out", str(tmp_path / "demo"), cwd=tmp_path)
    assert store.count_rows(pg_empty, store.models.Observation) == observations
    # every read command works on it
    for args in (["status"], ["goals"], ["compare", "DEMO-I001", "DEMO-I002"]):
        cli("--db", url, *args, cwd=tmp_path)
    # The layers as QGIS reads them: its PostGIS provider selects the geometry column with the
    # attributes (here the same SQL through geopandas), in the SRID geometry_columns declares.
    with pg_empty.connect() as conn:
        districts = gpd.read_postgis(
            "SELECT id, name_en, geom FROM region WHERE level = 'district'", conn, geom_col="geom"
        )
        band = gpd.read_postgis(
            "SELECT id, geom FROM region WHERE level = 'belt'", conn, geom_col="geom"
        )
        parks = gpd.read_postgis(
            "SELECT id, kind, is_demo, geom FROM park WHERE geom IS NOT NULL",
            conn,
            geom_col="geom",
        )
    assert districts.crs.to_epsg() == 4326 and parks.crs.to_epsg() == 4326
    assert len(districts) == 7 and len(band) == 1
    assert len(parks) == parks_before  # every carrier of the demo has a location
    assert parks.within(districts.union_all().buffer(0.05)).all()
    figure, axes = plt.subplots(figsize=(8, 6), dpi=100)
    districts.plot(ax=axes, color="#f4f1e8", edgecolor="#777777", linewidth=0.8)
    band.plot(ax=axes, color="#2b8cbe", alpha=0.25)
    colours = {
        "incubator": "#d95f02",
        "maker_space": "#7570b3",
        "high_tech_zone": "#e7298a",
        "development_zone": "#66a61e",
        "industrial_park": "#1b9e77",
        "innovation_zone": "#e6ab02",
    }
    for kind, group in parks.groupby("kind"):
        group.plot(ax=axes, markersize=10, color=colours.get(str(kind), "#333333"), label=kind)
    axes.legend(loc="lower right", fontsize=8)
    axes.set_title("PostGIS layers region.geom and park.geom, read as QGIS does (demo data)")
    axes.set_xlabel("longitude (EPSG:4326)")
    axes.set_ylabel("latitude")
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "qgis-layers.png"
    figure.savefig(target, bbox_inches="tight")
    plt.close(figure)
    assert target.stat().st_size > 20_000
