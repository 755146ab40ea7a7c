"""The scale demo (`parkmon demo --carriers N`): a province-sized, deterministic, labelled demo
whose config folder, report files and database work with every command."""

from __future__ import annotations

import sqlalchemy as sa

from monitor import db, models, store
from monitor.demo.scale import build_scale_demo, district_count
from monitor.registry import load_city


def test_the_province_grows_with_the_carriers():
    assert district_count(100) == 7
    assert district_count(20_000) == 100
    assert district_count(4_000) == 20


def test_scale_demo_builds_collects_and_rates(tmp_path, cli):
    result = cli("demo", "--carriers", "300", "--out", str(tmp_path / "a"), cwd=tmp_path)
    assert "演示数据" in result.stdout and "300 个载体" in result.stdout
    config, database = tmp_path / "a" / "config", tmp_path / "a" / "parkmon.db"
    city = load_city(config)
    assert city.name.endswith("（演示）") and len(city.districts) == 7
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        parks = store.parks_frame(engine)
        assert len(parks) == 300
        assert parks["is_demo"].all() and parks["name"].str.endswith("（演示）").all()
        # Every carrier sits in the district the registry gives it (by the synthetic polygons).
        assert (parks["district_id"] == parks["geo_district_id"]).all()
        with engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(store.T_OBS)).scalar()
        assert db.get_meta(engine, "contains_demo_data") == "true"
        assert stored and stored > 300 * 5 * 10
        # The report files a park office would send go through the real collectors, every row.
        here = ("--config", str(config), "--db", str(database), "--lang", "en")
        cli(*here, "collect", "--all", cwd=tmp_path)
        assert store.count_rows(engine, models.Rejection) == 0
        runs = store.runs_frame(engine)
        assert sorted(runs["source_id"]) == ["demo-generator", "scale-carriers", "scale-zones"]
        assert (runs["status"] == "ok").all()
    finally:
        engine.dispose()
    cli(*here, "rate", "2025", cwd=tmp_path)
    listed = cli(*here, "parks", "list", "--kind", "incubator", cwd=tmp_path)
    assert "(demo)" in listed.stdout


def test_the_same_seed_writes_the_same_files(tmp_path):
    one = build_scale_demo(tmp_path / "one", 120, load=False)
    two = build_scale_demo(tmp_path / "two", 120, load=False)
    files = sorted(p.relative_to(one.config_dir) for p in one.config_dir.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(two.config_dir) for p in two.config_dir.rglob("*") if p.is_file()
    )
    for name in files:
        assert (one.config_dir / name).read_bytes() == (two.config_dir / name).read_bytes(), name
    assert len([f for f in files if f.parts[0] == "data"]) == 20  # two groups × ten years
    assert models.ParkKind.incubator.value in (one.config_dir / "parks.csv").read_text("utf-8-sig")


def test_the_scale_demo_never_writes_into_the_db_named(tmp_path, cli):
    refused = cli(
        "--db", str(tmp_path / "real.db"), "demo", "--carriers", "50", cwd=tmp_path, ok=False
    )
    assert refused.returncode == 1 and "does not use --db" in refused.stderr
    assert not (tmp_path / "real.db").exists()


def test_fewer_years_end_in_2025(tmp_path):
    built = build_scale_demo(tmp_path / "two", 60, years=2, load=False)
    assert built.years == (2024, 2025)
    names = sorted(p.name for p in (built.config_dir / "data").iterdir())
    assert names == ["carriers-2024.csv", "carriers-2025.csv", "zones-2024.csv", "zones-2025.csv"]
