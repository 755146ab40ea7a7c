"""Engine and schema: WAL and busy timeout on SQLite, idempotent create, upgrade by new columns."""

from __future__ import annotations

import sqlalchemy as sa

from monitor import db, models


def test_sqlite_is_wal_with_busy_timeout(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x' / 'a.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()


def test_init_is_idempotent(engine):
    assert db.schema_exists(engine)
    assert db.init_schema(engine) == []
    assert db.get_meta(engine, "schema_version") == str(models.SCHEMA_VERSION)


def test_upgrade_adds_missing_columns_and_keeps_data(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    db.init_schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO source (id, kind, location, precedence, is_demo, "
            "description, config_hash) VALUES ('s', 'file', '', 5, 0, '', '')"
        )
        # Simulate a database made by an older parkmon that lacked a column.
        conn.exec_driver_sql("ALTER TABLE source DROP COLUMN config_hash")
    changes = db.init_schema(engine)
    assert changes == ["added column source.config_hash"]
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT id, precedence, config_hash FROM source")).one()
    assert tuple(row) == ("s", 5, "")
    engine.dispose()


def test_upgrade_replaces_the_old_observation_index(tmp_path):
    """A database of an earlier version (one index on indicator) gets the (indicator, period)
    index ratings read by, and loses the one it replaces."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        db.init_schema(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_observation_indicator_period"))
            conn.execute(
                sa.text("CREATE INDEX ix_observation_indicator ON observation (indicator)")
            )
        changes = db.init_schema(engine)
        assert "created index ix_observation_indicator_period" in changes
        assert "dropped index ix_observation_indicator" in changes
        names = {i["name"] for i in sa.inspect(engine).get_indexes("observation")}
        assert "ix_observation_indicator_period" in names
        assert "ix_observation_indicator" not in names
        assert db.init_schema(engine) == []
    finally:
        engine.dispose()
