"""The database engine (SQLite with WAL and a busy timeout, or PostgreSQL) and its schema."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlmodel import SQLModel

from monitor import models, runs
from monitor.errors import StorageError, driver_message

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the scheduler write while readers (maps, CLI) read; the busy timeout makes a writer
    # wait for another writer instead of failing at once with "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str, *, create_dir: bool = True) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and a busy timeout on every connection."""
    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError as exc:
        raise StorageError(
            f"database URL {url!r} is not valid: {exc}; expected e.g. sqlite:///parkmon.db or "
            "postgresql+psycopg://user@host/dbname"
        ) from exc
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and create_dir:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise StorageError(
            f"no driver for {parsed.drivername!r}: {exc}; for PostgreSQL install "
            "`pip install 'parkmon[postgres]'`"
        ) from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def ensure_writable(engine: Engine) -> None:
    """For a SQLite file: refuse at once, in one line, when the file or its folder cannot be
    written (a write command would otherwise fail half-way with an obscure driver error)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    path = Path(engine.url.database or "").expanduser()
    folder = path.parent if str(path.parent) else Path()
    blocked = (path.exists() and not os.access(path, os.W_OK)) or (
        folder.exists() and not os.access(folder, os.W_OK)
    )
    if blocked:
        raise StorageError(read_only_message(engine))


def describe(engine: Engine) -> str:
    """The URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def database_exists(engine: Engine) -> bool:
    """False only for a SQLite file that is not there yet (connecting would create it)."""
    if engine.dialect.name != "sqlite":
        return True
    database = engine.url.database or ""
    return database in ("", ":memory:") or Path(database).expanduser().exists()


def schema_exists(engine: Engine) -> bool:
    try:
        return sa.inspect(engine).has_table(models.Meta.__tablename__)
    except SQLAlchemyError as exc:
        raise StorageError(
            f"cannot open database {describe(engine)}: {driver_message(exc)}"
        ) from exc


# Indexes of earlier versions that a newer index replaced (table, index): dropped on upgrade.
_REPLACED_INDEXES = (("observation", "ix_observation_indicator"),)


def _upgrade_indexes(
    conn: sa.Connection, inspector: Any, existing: set[str], changes: list[str]
) -> None:
    """Create the indexes newer versions declare on tables that already existed, and drop the
    ones they replaced (each index costs every bulk insert)."""
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in existing:
            continue
        have = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have:
                index.create(conn)
                changes.append(f"created index {index.name}")
        for name in (n for t, n in _REPLACED_INDEXES if t == table.name and n in have):
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
            changes.append(f"dropped index {name}")


def init_schema(engine: Engine) -> list[str]:
    """Create missing tables and add missing columns; safe to run again. Returns what changed."""
    ensure_writable(engine)
    changes: list[str] = []
    try:
        inspector = sa.inspect(engine)
        existing = set(inspector.get_table_names())
        metadata = SQLModel.metadata
        for table in metadata.sorted_tables:
            if table.name not in existing:
                changes.append(f"created table {table.name}")
        metadata.create_all(engine)
        # Upgrade: add columns that newer versions introduced. New columns are nullable or have a
        # server default, so this never rewrites data.
        with engine.begin() as conn:
            for table in metadata.sorted_tables:
                if table.name not in existing:
                    continue
                have = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name in have:
                        continue
                    ddl_type = column.type.compile(dialect=engine.dialect)
                    default = _default_sql(column)
                    conn.execute(
                        sa.text(
                            f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {ddl_type}'
                            f"{default}"
                        )
                    )
                    changes.append(f"added column {table.name}.{column.name}")
            _upgrade_indexes(conn, inspector, existing, changes)
            set_meta(conn, "schema_version", str(models.SCHEMA_VERSION))
    except SQLAlchemyError as exc:
        raise StorageError(
            f"cannot create the schema in {describe(engine)}: {driver_message(exc)}"
        ) from exc
    for change in changes:
        log.info("schema: %s", change)
    return changes


def _default_sql(column: sa.Column[Any]) -> str:
    default = column.default
    if default is None or not getattr(default, "is_scalar", False):
        return ""
    value = default.arg  # type: ignore[attr-defined]
    if isinstance(value, bool):
        return f" DEFAULT {'TRUE' if value else 'FALSE'}"
    if isinstance(value, int | float):
        return f" DEFAULT {value}"
    if isinstance(value, str):
        escaped = value.replace("'", "''")
        return f" DEFAULT '{escaped}'"
    return ""


def set_meta(conn: sa.Connection, key: str, value: str) -> None:
    table = models.table_of(models.Meta)
    updated = conn.execute(sa.update(table).where(table.c.key == key).values(value=value))
    if updated.rowcount == 0:
        conn.execute(sa.insert(table).values(key=key, value=value))


def get_meta(engine: Engine, key: str) -> str | None:
    table = models.table_of(models.Meta)
    with engine.connect() as conn:
        row = conn.execute(sa.select(table.c.value).where(table.c.key == key)).first()
    return None if row is None else str(row[0])


def holds_demo_data(engine: Engine) -> bool:
    """Whether the database holds generated demo data (then every output says so)."""
    return get_meta(engine, "contains_demo_data") == "true"


def require_schema(engine: Engine) -> None:
    if not schema_exists(engine):
        raise StorageError(
            f"database {describe(engine)} has no parkmon schema yet; run `parkmon init` first"
        )


def open_existing(url: str) -> Engine:
    """An engine on a database that must already exist with its schema (write commands)."""
    engine = make_engine(url, create_dir=False)
    if not database_exists(engine):
        raise StorageError(f"database {describe(engine)} does not exist; run `parkmon init`")
    ensure_writable(engine)
    require_schema(engine)
    # A write command first marks the runs that killed processes on this host left 'running'.
    runs.mark_interrupted(engine)
    return engine


def _sqlite_read_only_on_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.close()


def open_read_only(url: str) -> Engine:
    """An engine for commands that only read: it never writes, so it works on a database that
    cannot be written (a read-only file or folder, a read-only copy on a share).

    SQLite is opened with ``mode=ro`` (and ``immutable=1`` when neither the file nor its folder
    can be written, so no -wal/-shm file is needed); PostgreSQL sessions are read-only.
    """
    probe = make_engine(url, create_dir=False)
    if not database_exists(probe):
        raise StorageError(f"database {describe(probe)} does not exist; run `parkmon init`")
    if probe.dialect.name != "sqlite" or probe.url.database in (None, "", ":memory:"):
        if probe.dialect.name == "postgresql":
            probe.dispose()
            engine = sa.create_engine(
                probe.url,
                connect_args={"options": "-c default_transaction_read_only=on"},
            )
            require_schema(engine)
            return engine
        require_schema(probe)
        return probe
    probe.dispose()
    path = Path(probe.url.database or "").expanduser().resolve()
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    query = "mode=ro&uri=true" + ("" if writable else "&immutable=1")
    engine = sa.create_engine(
        f"sqlite:///file:{quote(str(path))}?{query}",
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    sa.event.listen(engine, "connect", _sqlite_read_only_on_connect)
    require_schema(engine)
    return engine


def read_only_message(engine_or_url: Engine | str | None = None) -> str:
    """What a write command says on a database it cannot write."""
    if engine_or_url is None:
        shown = "the database"
    else:
        url = engine_or_url if isinstance(engine_or_url, str) else describe(engine_or_url)
        shown = f"database {url}"
    return (
        f"{shown} is read-only; this command writes — use a writable copy, or a read "
        "command (parks list, runs, rejects, goals, maps)"
    )
