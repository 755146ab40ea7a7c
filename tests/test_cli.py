"""The `parkmon` command through its real entry point (in-process, real files); one test starts a
real process to prove the installed entry point and `python -m monitor` work."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from monitor import db, models, store

PARKMON = str(Path(sys.executable).with_name("parkmon"))


def test_python_dash_m_monitor(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert "parks" in proc.stdout and "demo" in proc.stdout


def test_parks_list_zones_without_a_database_reads_the_registry(tmp_path, cli):
    proc = cli("parks", "list", "--belt-role", "zone", "--json", cwd=tmp_path)
    zones = json.loads(proc.stdout)
    assert sorted(z["name"] for z in zones) == [
        "南通高新区",
        "如皋高新区",
        "市北高新区",
        "海安高新区",
    ]
    assert {z["kind"] for z in zones} == {"high_tech_zone"}
    assert "parks.csv" in proc.stderr  # says where the list came from
    assert not (tmp_path / "parkmon.db").exists()  # a read command creates no database


def test_init_twice_then_list_from_the_database(tmp_path, cli):
    first = cli("init", cwd=tmp_path)
    assert "upgraded to 0001_baseline" in first.stderr
    second = cli("init", cwd=tmp_path)
    assert "upgraded" not in second.stderr
    engine = db.make_engine(f"sqlite:///{tmp_path / 'parkmon.db'}")
    assert store.count_rows(engine, models.Park) == 12
    assert store.count_rows(engine, models.Region) == 9  # city, 7 districts, the belt band
    assert store.count_rows(engine, models.Indicator) >= 40
    engine.dispose()
    proc = cli("parks", "list", "--belt-role", "zone", "--json", cwd=tmp_path)
    assert len(json.loads(proc.stdout)) == 4
    assert proc.stderr == ""
    csv_out = cli(
        "--lang", "en", "parks", "list", "--district", "海安市", "--format", "csv", cwd=tmp_path
    ).stdout.splitlines()
    assert csv_out[0].startswith("id,name,name_en,kind")
    assert [line.split(",")[0] for line in csv_out[1:]] == ["NT-Z02"]
    table = cli("--lang", "en", "parks", "list", "--kind", "high_tech_zone", cwd=tmp_path).stdout
    assert "High-tech zone" in table and "National" in table and "Total: 4" in table


def test_a_bad_registry_loads_nothing_and_says_where(tmp_path, config_dir, cli):
    cfg = tmp_path / "cfg"
    shutil.copytree(config_dir, cfg)
    lines = (cfg / "parks.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].replace(",海安市,", ",海安县,")
    (cfg / "parks.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    proc = cli("--config", str(cfg), "init", cwd=tmp_path, ok=False)
    assert proc.returncode == 1
    assert "parks.csv: 1 problem(s); nothing from this file was loaded" in proc.stderr
    assert "line 4, field 'district': got '海安县'" in proc.stderr
    engine = db.make_engine(f"sqlite:///{tmp_path / 'parkmon.db'}")
    assert not db.schema_exists(engine) or store.count_rows(engine, models.Park) == 0
    engine.dispose()


def test_user_mistakes_are_one_clear_line(tmp_path, cli):
    proc = cli("parks", "list", "--district", "浦东新区", cwd=tmp_path, ok=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("错误 error: --district '浦东新区': not a district of 南通市")
    proc = cli("--lang", "fr", "parks", "list", cwd=tmp_path, ok=False)
    assert "language 'fr'" in proc.stderr
