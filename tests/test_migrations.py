"""Migrations: the head is the models' schema on SQLite and PostgreSQL, a database of parkmon
0.1.0 upgrades with every row, and an out-of-date database is refused with the command to run."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from monitor import db, models, schema, spatial
from monitor.errors import StorageError

FIXTURES = Path(__file__).parent / "fixtures"
SPATIAL_INDEXES = {c.index for c in spatial.COLUMNS}
V010 = json.loads((FIXTURES / "parkmon-0.1.0.json").read_text(encoding="utf-8"))


def _v010_database(folder: Path) -> Path:
    """The committed demo database of parkmon 0.1.0, unpacked into ``folder``."""
    target = folder / "parkmon.db"
    with gzip.open(FIXTURES / "parkmon-0.1.0.db.gz") as packed, target.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return target


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _differences(engine: sa.Engine) -> list[object]:
    """What autogenerate would change to make the database the models' schema."""

    def ours(obj: object, name: str | None, kind: str, reflected: bool, _other: object) -> bool:
        """PostGIS's derived geometry columns and their indexes are not in the models."""
        if kind == "table" and reflected:
            return name != "spatial_ref_sys"  # PostGIS's own table
        if kind == "column" and reflected:
            return not spatial.is_spatial_column(obj.table.name, str(name))  # type: ignore[attr-defined]
        return not (kind == "index" and reflected and str(name) in SPATIAL_INDEXES)

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": ours}
        )
        return list(compare_metadata(context, SQLModel.metadata))


def test_the_head_revision_is_the_one_the_code_expects():
    assert schema.revisions()[-1] == models.SCHEMA_VERSION
    assert schema.revisions()[0] == "0001_baseline"
    assert len(schema.revisions()) == len(set(schema.revisions()))


def test_a_new_database_migrated_to_the_head_is_the_models_schema(engine):
    """Nobody may change a model without a migration: the migrated schema must equal it."""
    assert schema.state(engine).current
    assert _differences(engine) == []
    assert db.init_schema(engine) == []  # nothing left to do


def test_a_database_of_0_1_0_upgrades_with_every_row(tmp_path):
    path = _v010_database(tmp_path)
    before = _counts(path)
    assert before == V010["row_counts"]  # the fixture is what was committed
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        found = schema.state(engine)
        assert found.legacy and not found.current
        with pytest.raises(StorageError, match=r"parkmon db upgrade"):
            schema.require_current(engine)
        changes = db.init_schema(engine)
        assert changes[0].startswith("kept a copy")
        assert [c.split(":")[0] for c in changes[1:]] == [
            f"upgraded to {r}" for r in schema.revisions()
        ]
        assert schema.state(engine).current
        assert _differences(engine) == []
        assert db.get_meta(engine, "contains_demo_data") == "true"
    finally:
        engine.dispose()
    after = _counts(path)
    for table, rows in before.items():
        assert after[table] >= rows, (table, rows, after[table])
    assert after["observation"] == before["observation"]
    assert after["rating"] == before["rating"]
    # every 0.1.0 carrier had one district: now its principal row in park_district
    assert after["park_district"] == before["park"]
    # the copy kept before upgrading is the 0.1.0 database as it was
    kept = path.with_name("parkmon.db.before-migrations")
    assert _counts(kept) == before


def test_every_command_works_on_an_upgraded_0_1_0_database(tmp_path, cli):
    path = _v010_database(tmp_path)
    base = ["--db", str(path)]
    refused = cli(*base, "status", cwd=tmp_path, ok=False)
    assert refused.returncode != 0
    assert "parkmon db upgrade" in refused.stderr
    said = ""
    for args in (
        ["db", "upgrade"],
        ["db", "current"],
        ["status"],
        ["parks", "list", "--kind", "incubator", "--format", "csv"],
        ["rate", "2025"],
        ["goals"],
        ["rankings"],
        ["compare", "DEMO-I001", "DEMO-I002", "--year", "2025"],
        ["report", "2025", "--format", "html", "--out", str(tmp_path / "r.html")],
        ["runs"],
        ["rejects"],
        ["site", "build", "--out", str(tmp_path / "site")],
    ):
        said += cli(*base, *args, cwd=tmp_path).stdout
    assert models.SCHEMA_VERSION in said
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "r.html").exists()


def test_db_upgrade_says_what_it_did_and_current_says_where_it_stands(tmp_path, cli):
    path = _v010_database(tmp_path)
    assert schema.LEGACY in cli("--db", str(path), "db", "current", cwd=tmp_path).stdout
    first = cli("--db", str(path), "db", "upgrade", cwd=tmp_path)
    assert "0001_baseline" in first.stdout
    assert "before-migrations" in first.stderr  # where the copy is
    again = cli("--db", str(path), "db", "upgrade", cwd=tmp_path)
    assert "already" in again.stdout
    assert "up to date" in cli("--db", str(path), "db", "current", cwd=tmp_path).stdout


def test_a_newer_revision_is_refused_not_downgraded(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        db.init_schema(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
        with pytest.raises(StorageError, match="newer parkmon"):
            schema.require_current(engine)
        with pytest.raises(StorageError, match="newer parkmon"):
            db.init_schema(engine)
    finally:
        engine.dispose()


def test_the_baseline_adopts_a_0_1_0_database_missing_a_column_and_an_index(tmp_path):
    """A development build before 0.1.0 lacked a column and had the old observation index."""
    path = _v010_database(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE source DROP COLUMN config_hash")
        conn.execute("DROP INDEX ix_observation_indicator_period")
        conn.execute("CREATE INDEX ix_observation_indicator ON observation (indicator)")
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        db.init_schema(engine)
        assert _differences(engine) == []
        with engine.connect() as conn:
            hashes = conn.execute(sa.text("SELECT DISTINCT config_hash FROM source")).all()
        assert hashes == [("",)]
        names = {i["name"] for i in sa.inspect(engine).get_indexes("observation")}
        assert "ix_observation_indicator" not in names
    finally:
        engine.dispose()


def test_the_scheduler_refuses_an_out_of_date_database(tmp_path, cli):
    """It would run unattended against a schema its code does not match: it must not start."""
    path = _v010_database(tmp_path)
    refused = cli("--db", str(path), "schedule", "start", cwd=tmp_path, ok=False)
    assert refused.returncode != 0
    assert "0.1.0 (before migrations)" in refused.stderr
    assert "parkmon db upgrade" in refused.stderr
    assert schema.state(db.make_engine(f"sqlite:///{path}")).legacy  # untouched
