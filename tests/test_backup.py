"""parkmon db backup / restore: every table comes back as it was, on SQLite and PostgreSQL; a
restore that cannot be done changes nothing."""

from __future__ import annotations

import gzip
import shutil
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from monitor import backup, db, pipeline, schema, store

FIXTURE = Path(__file__).parent / "fixtures" / "parkmon-0.1.0.db.gz"


def _snapshot(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a fixed order."""
    tables = {}
    with engine.connect() as conn:
        for name in backup.row_counts(engine):
            columns = [c["name"] for c in sa.inspect(conn).get_columns(name)]
            order = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(sa.text(f'SELECT {order} FROM "{name}" ORDER BY {order}'))
            tables[name] = [tuple(r) for r in rows]
    return tables


def _change_everything(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM observation WHERE period < '2024'"))
        conn.execute(
            sa.text("UPDATE park SET name = 'changed' WHERE id IN (SELECT id FROM park LIMIT 3)")
        )
        conn.execute(sa.text("DELETE FROM rating"))


def _sqlite_demo(tmp_path: Path) -> Path:
    path = tmp_path / "parkmon.db"
    with gzip.open(FIXTURE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    engine = db.make_engine(f"sqlite:///{path}")
    db.init_schema(engine)
    engine.dispose()
    path.with_name("parkmon.db.before-migrations").unlink()
    return path


def test_sqlite_backup_and_restore_bring_back_every_table(tmp_path, cli):
    path = _sqlite_demo(tmp_path)
    engine = db.make_engine(f"sqlite:///{path}")
    before = _snapshot(engine)
    assert len(before["observation"]) > 10_000
    copy = tmp_path / "copies" / "parkmon-backup.db"
    said = cli("--db", str(path), "db", "backup", str(copy), cwd=tmp_path).stdout
    assert "observation: 21,322 rows" in said
    assert copy.read_bytes()[:16] == backup.SQLITE_MAGIC
    _change_everything(engine)
    assert _snapshot(engine) != before
    refused = cli("--db", str(path), "db", "restore", str(copy), cwd=tmp_path, ok=False)
    assert refused.returncode == 1 and "--replace" in refused.stderr
    cli("--db", str(path), "db", "restore", str(copy), "--replace", cwd=tmp_path)
    engine.dispose()
    engine = db.make_engine(f"sqlite:///{path}")
    assert _snapshot(engine) == before
    assert schema.state(engine).current
    engine.dispose()


def test_a_restore_that_cannot_be_done_changes_nothing(tmp_path, cli):
    path = _sqlite_demo(tmp_path)
    engine = db.make_engine(f"sqlite:///{path}")
    before = _snapshot(engine)
    stranger = tmp_path / "other.db"
    with sa.create_engine(f"sqlite:///{stranger}").begin() as conn:
        conn.execute(sa.text("CREATE TABLE notes (x TEXT)"))
    text = tmp_path / "notes.txt"
    text.write_text("not a database", encoding="utf-8")
    for source, expected in ((stranger, "not parkmon's"), (text, "is neither")):
        failed = cli(
            "--db", str(path), "db", "restore", str(source), "--replace", cwd=tmp_path, ok=False
        )
        assert failed.returncode == 1 and expected in failed.stderr, failed.stderr
    assert _snapshot(engine) == before
    engine.dispose()


@pytest.mark.postgres
def test_postgresql_backup_and_restore_bring_back_every_table(pg_empty, tmp_path, cli, config_dir):
    engine = pg_empty
    pipeline.initialise(engine, config_dir)  # regions with geometry (and PostGIS columns), parks
    with engine.begin() as conn:
        store.ensure_source(conn, "office", kind="file")
    parks = store.park_table(engine, columns=["kind"])["id"].tolist()
    figures = pd.DataFrame(
        {
            "subject_type": "park",
            "subject_id": parks,
            "indicator": "incubatees",
            "period": "2024",
            "value": [float(i) for i in range(len(parks))],
            "raw_value": [str(i) for i in range(len(parks))],
            "raw_unit": "个",
        }
    )
    store.upsert_observations(engine, figures, source_id="office", run_id=None)
    before = _snapshot(engine)
    assert before["observation"] and before["region"]
    with engine.connect() as conn:
        located_before = conn.execute(sa.text("SELECT count(geom) FROM park")).scalar_one()
    url = engine.url.render_as_string(hide_password=False)
    copy = tmp_path / "parkmon.dump"
    cli("--db", url, "db", "backup", str(copy), cwd=tmp_path)
    assert copy.read_bytes()[:5] == backup.PG_DUMP_MAGIC
    _change_everything(engine)
    assert _snapshot(engine) != before
    # a SQLite file is not a restore for a server
    wrong = tmp_path / "x.db"
    with sa.create_engine(f"sqlite:///{wrong}").begin() as conn:
        conn.execute(sa.text("CREATE TABLE parkmon_meta (key TEXT)"))
    failed = cli("--db", url, "db", "restore", str(wrong), "--replace", cwd=tmp_path, ok=False)
    assert "pg_dump archive" in failed.stderr
    # a damaged archive: pg_restore fails in its one transaction, nothing changes
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(copy.read_bytes()[: len(copy.read_bytes()) // 2])
    changed = _snapshot(engine)
    cli("--db", url, "db", "restore", str(damaged), "--replace", cwd=tmp_path, ok=False)
    assert _snapshot(engine) == changed
    cli("--db", url, "db", "restore", str(copy), "--replace", cwd=tmp_path)
    assert _snapshot(engine) == before
    with engine.connect() as conn:  # the PostGIS columns came back, computed
        located = conn.execute(sa.text("SELECT count(geom) FROM park")).scalar_one()
    assert located == located_before > 0


@pytest.mark.postgres
def test_a_database_in_the_public_schema_with_postgis_restores_in_place(pg_url, tmp_path, cli):
    """The usual server: parkmon in ``public`` beside PostGIS, which a restore must not drop."""
    admin = db.make_engine(pg_url)
    name = f"pub_{uuid.uuid4().hex[:8]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_url).set(database=name).render_as_string(False)
    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION postgis"))
        cli("--db", url, "init", cwd=tmp_path)
        before = _snapshot(engine)
        cli("--db", url, "db", "backup", str(tmp_path / "pub.dump"), cwd=tmp_path)
        _change_everything(engine)
        cli("--db", url, "db", "restore", str(tmp_path / "pub.dump"), "--replace", cwd=tmp_path)
        assert _snapshot(engine) == before
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT postgis_version()")).scalar()
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}"'))
        admin.dispose()
