"""Engine and schema: WAL and busy timeout on SQLite, idempotent create (upgrades: see
test_migrations)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from monitor import db, models, schema
from monitor.errors import StorageError


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


def test_pool_sizes_come_with_the_url(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'p.db'}?pool_size=3&max_overflow=1")
    try:
        assert engine.pool.size() == 3  # type: ignore[attr-defined]
        assert "pool_size" not in engine.url.query  # not handed to the driver
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()
    with pytest.raises(StorageError, match=r"pool_size='many'; expected a whole number"):
        db.make_engine(f"sqlite:///{tmp_path / 'p.db'}?pool_size=many")


@pytest.mark.postgres
def test_postgresql_pool_and_read_only_sessions(pg_url):
    url = sa.engine.make_url(pg_url).update_query_dict({"pool_size": "2", "pool_timeout": "5"})
    engine = db.make_engine(url.render_as_string(hide_password=False), read_only=True)
    try:
        assert engine.pool.size() == 2  # type: ignore[attr-defined]
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar() == "on"
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                conn.exec_driver_sql("CREATE TABLE nope (x int)")
    finally:
        engine.dispose()
