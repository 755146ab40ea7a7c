"""Engine and schema: WAL and busy timeout on SQLite, idempotent create (upgrades: see
test_migrations)."""

from __future__ import annotations

from monitor import db, models, schema


def test_sqlite_is_wal_with_busy_timeout(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x' / 'a.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()


def test_init_is_idempotent(engine):
    assert db.schema_exists(engine)
    assert db.init_schema(engine) == []
    assert schema.state(engine).revision == models.SCHEMA_VERSION
