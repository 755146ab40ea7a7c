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

from monitor import models, runs, schema
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


def make_engine(url: str, *, create_dir: bool = True, read_only: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and a busy timeout on every connection.
    ``read_only`` (PostgreSQL): every session is read-only (SQLite: see ``open_read_only``)."""
    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError as exc:
        raise StorageError(
            f"database URL {url!r} is not valid: {exc}; expected e.g. sqlite:///parkmon.db or "
            "postgresql+psycopg://user@host/dbname"
        ) from exc
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    parsed, kwargs = _pool_options(parsed, url)
    if parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True  # a restarted server's dead connections are replaced
        if read_only:
            # added to the URL's own options (a search_path, say), which a bare connect_args
            # value would replace
            given = parsed.query.get("options", "")
            given = " ".join(given) if isinstance(given, tuple) else given
            options = f"{given} -c default_transaction_read_only=on".strip()
            kwargs["connect_args"] = {"options": options}
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


# Connection pool sizes, given in the database URL itself so that every process (web workers,
# the scheduler, the command line) configured with one URL pools alike:
# postgresql+psycopg://parkmon@db/parkmon?pool_size=10&max_overflow=20
POOL_OPTIONS: dict[str, tuple[type, str]] = {
    "pool_size": (int, "connections kept open per process (default 5)"),
    "max_overflow": (int, "extra connections allowed at peaks (default 10)"),
    "pool_timeout": (float, "seconds to wait for a free connection (default 30)"),
    "pool_recycle": (int, "seconds after which a connection is replaced (default never)"),
}


def _pool_options(parsed: sa.engine.URL, url: str) -> tuple[sa.engine.URL, dict[str, Any]]:
    """The pool options of the URL's query (taken out: the driver would refuse them)."""
    kwargs: dict[str, Any] = {}
    for name, (kind, what) in POOL_OPTIONS.items():
        if name not in parsed.query:
            continue
        raw = parsed.query[name]
        text = raw[-1] if isinstance(raw, tuple) else raw
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value < 0:
            shown = sa.engine.make_url(url).render_as_string(hide_password=True)
            expected = "a whole number" if kind is int else "a number"
            raise StorageError(
                f"database URL {shown}: {name}={text!r}; expected {expected} ≥ 0 ({what})"
            )
        kwargs[name] = value
        parsed = parsed.difference_update_query([name])
    return parsed, kwargs


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


def init_schema(engine: Engine) -> list[str]:
    """Create the schema, or bring an older one to this code's revision (``monitor.schema``);
    safe to run again. Returns what changed: the copy kept, one line per revision applied."""
    kept, steps = upgrade_schema(engine)
    return ([f"kept a copy of the database as it was: {kept}"] if kept else []) + [
        str(step) for step in steps
    ]


def upgrade_schema(engine: Engine) -> tuple[Path | None, list[schema.Step]]:
    """The migrations still to apply, applied; a SQLite file with a schema is copied first."""
    ensure_writable(engine)
    found = schema.state(engine)
    kept = None
    if not found.empty and not found.current:
        kept = keep_copy_before_upgrade(engine, found)
        if kept is not None:
            log.warning("schema: kept a copy of the database before upgrading: %s", kept)
    return kept, schema.upgrade(engine)


def keep_copy_before_upgrade(engine: Engine, found: schema.SchemaState) -> Path | None:
    """A SQLite file about to be upgraded is first copied beside itself (``NAME.before-REV``),
    through SQLite's online backup: SQLite cannot undo a half-done ALTER on a crash. PostgreSQL
    upgrades in one transaction and keeps no copy here (``parkmon db backup`` does)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    from monitor import backup  # noqa: PLC0415  (only when upgrading)

    path = Path(engine.url.database or "").expanduser()
    target = path.with_name(f"{path.name}.before-{found.revision or 'migrations'}")
    return backup.backup(engine, target).path


def get_meta(engine: Engine, key: str) -> str | None:
    table = models.table_of(models.Meta)
    with engine.connect() as conn:
        row = conn.execute(sa.select(table.c.value).where(table.c.key == key)).first()
    return None if row is None else str(row[0])


def holds_demo_data(engine: Engine) -> bool:
    """Whether the database holds generated demo data (then every output says so)."""
    return get_meta(engine, "contains_demo_data") == "true"


def require_schema(engine: Engine) -> None:
    """Refuse a database without parkmon's schema or at another revision than this code's."""
    schema.require_current(engine)


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
            engine = make_engine(url, create_dir=False, read_only=True)
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
