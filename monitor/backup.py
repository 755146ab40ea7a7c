"""Copies of the database and restoring them.

SQLite through its online backup API (a consistent copy while the scheduler may be writing);
PostgreSQL through ``pg_dump`` (custom format, the schema parkmon lives in) and ``pg_restore``
(in one transaction: a failed restore leaves the database as it was). The password goes to the
tools through their environment, never on a command line other users can read.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import schema
from monitor.errors import StorageError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
PG_TOOL_TIMEOUT_S = 6 * 3600


@dataclass(frozen=True)
class Copy:
    path: Path
    kind: str  # "sqlite" or "pg_dump"
    revision: str  # the schema revision of what was copied
    rows: dict[str, int]


def backup(engine: Engine, target: Path) -> Copy:
    """Write a copy of the database to ``target`` (replaced only once the copy is complete)."""
    found = schema.state(engine)
    if found.empty:
        raise StorageError(f"database {_url(engine)} has no parkmon schema: nothing to back up")
    rows = row_counts(engine)
    target = target.expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_copy(engine, partial)
            kind = "sqlite"
        elif engine.dialect.name == "postgresql":
            _pg_dump(engine, partial)
            kind = "pg_dump"
        else:
            raise StorageError(f"no backup for {engine.dialect.name} databases")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return Copy(target, kind, found.shown, rows)


def restore(engine: Engine, source: Path, *, replace: bool = False) -> Copy:
    """Put the copy ``source`` in place of the database. A database that holds a parkmon schema
    is replaced only with ``replace`` (the copy's content then is the database's, whole)."""
    source = source.expanduser()
    if not source.is_file():
        raise StorageError(f"{source}: no such backup file")
    with source.open("rb") as f:
        head = f.read(16)
    kind = (
        "sqlite"
        if head.startswith(SQLITE_MAGIC)
        else "pg_dump"
        if head[:5] == PG_DUMP_MAGIC
        else ""
    )
    wanted = {"sqlite": "sqlite", "postgresql": "pg_dump"}.get(engine.dialect.name)
    if kind != wanted:
        what = {"sqlite": "a SQLite database", "pg_dump": "a pg_dump archive"}.get(kind, "neither")
        raise StorageError(
            f"{source} is {what}; restoring into {_url(engine)} needs "
            + (
                "a SQLite file made by `parkmon db backup`"
                if wanted == "sqlite"
                else "a pg_dump archive made by `parkmon db backup`"
            )
        )
    if not schema.state(engine).empty and not replace:
        raise StorageError(
            f"database {_url(engine)} holds a parkmon schema; restoring replaces all of it: "
            "add --replace (take `parkmon db backup` of it first if it may be needed)"
        )
    if kind == "sqlite":
        _sqlite_restore(engine, source)
    else:
        _pg_restore(engine, source)
    found = schema.state(engine)
    if found.empty:
        raise StorageError(f"{source}: restored, but it held no parkmon schema")
    return Copy(source, kind, found.shown, row_counts(engine))


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of parkmon's schema (PostGIS's own table left out)."""
    with engine.connect() as conn:
        names = sorted(n for n in sa.inspect(conn).get_table_names() if n != "spatial_ref_sys")
        return {
            n: int(conn.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in names
        }


# --- SQLite --------------------------------------------------------------------------------------


def _sqlite_copy(engine: Engine, target: Path) -> None:
    raw = engine.raw_connection()
    try:
        with sqlite3.connect(target) as copy:
            raw.driver_connection.backup(copy)  # type: ignore[union-attr]
        copy.close()
    finally:
        raw.close()


def _sqlite_restore(engine: Engine, source: Path) -> None:
    original = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        listed = original.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not {r[0] for r in listed} & {schema.VERSION_TABLE, "parkmon_meta"}:
            raise StorageError(f"{source} is a SQLite database but not parkmon's")
        raw = engine.raw_connection()
        try:  # page by page into the live file, under its lock: readers see old or new
            original.backup(raw.driver_connection)  # type: ignore[arg-type]
        finally:
            raw.close()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{source}: cannot be restored: {exc}") from exc
    finally:
        original.close()
    engine.dispose()  # pooled connections still see the old pages


# --- PostgreSQL ----------------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """``pg_dump``/``pg_restore``: on PATH (Debian's wrapper picks the server's version), else
    the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if candidates:
        return str(candidates[-1])
    raise StorageError(
        f"{name} not found: install PostgreSQL's client programs (Debian: postgresql-client) "
        "of the server's major version or newer"
    )


def _pg_environment(engine: Engine) -> dict[str, str]:
    """libpq's environment for the URL: host (or socket folder), port, user, password, database
    and the URL's options (a search_path)."""
    url = engine.url
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    query = {k: (v[-1] if isinstance(v, tuple) else v) for k, v in url.query.items()}
    values = {
        "PGHOST": url.host or query.get("host"),
        "PGPORT": str(url.port) if url.port else query.get("port"),
        "PGUSER": url.username or query.get("user"),
        "PGPASSWORD": url.password or query.get("password"),
        "PGDATABASE": url.database,
        "PGOPTIONS": query.get("options"),
        "PGSSLMODE": query.get("sslmode"),
    }
    env.update({k: str(v) for k, v in values.items() if v})
    return env


def _current_schema(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT current_schema()")).scalar_one())


def _run(command: list[str], engine: Engine, what: str) -> None:
    try:
        done = subprocess.run(
            command,
            env=_pg_environment(engine),
            capture_output=True,
            text=True,
            timeout=PG_TOOL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StorageError(f"{what} of {_url(engine)} failed: {exc}") from exc
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        said = "; ".join(lines[:3]) or f"exit status {done.returncode}"
        raise StorageError(f"{what} of {_url(engine)} failed: {said}")


def _pg_dump(engine: Engine, target: Path) -> None:
    where = _current_schema(engine)
    _run(
        [
            pg_tool("pg_dump"),
            "--format=custom",
            f"--schema={where}",
            "--no-owner",
            "--no-privileges",
            f"--file={target}",
        ],
        engine,
        "pg_dump",
    )


def _pg_restore(engine: Engine, source: Path) -> None:
    listed = subprocess.run(
        [pg_tool("pg_restore"), "--list", str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=PG_TOOL_TIMEOUT_S,
    )
    if listed.returncode != 0:
        raise StorageError(f"{source}: not a readable pg_dump archive ({listed.stderr.strip()})")
    # The schema itself is left alone when it exists (public holds PostGIS, which a --clean of
    # the schema would have to drop): only parkmon's tables, sequences and indexes are replaced.
    schemas = _schemas(engine)
    kept = [line for line in listed.stdout.splitlines() if not _is_existing_schema(line, schemas)]
    with tempfile.NamedTemporaryFile(
        "w", suffix=".list", encoding="utf-8", delete=False
    ) as listing:
        listing.write("\n".join(kept) + "\n")
    plan = Path(listing.name)
    try:
        # One transaction: dropping what is there, creating and loading, all or nothing.
        _run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--use-list={plan}",
                f"--dbname={_dbname(engine)}",
                str(source),
            ],
            engine,
            "pg_restore",
        )
    finally:
        plan.unlink(missing_ok=True)
    engine.dispose()


_TOC_ENTRY = re.compile(r"^\d+; \d+ \d+ (?P<type>\S+) (?P<space>\S+) (?P<name>\S+)")


def _is_existing_schema(line: str, schemas: set[str]) -> bool:
    """A TOC line creating (or commenting on) a schema the database already has."""
    entry = _TOC_ENTRY.match(line)
    if entry is None:
        return False
    if entry["type"] == "SCHEMA":
        return entry["name"] in schemas
    if entry["type"] == "COMMENT" and entry["space"] == "-" and entry["name"] == "SCHEMA":
        return line.split()[-2] in schemas
    return False


def _schemas(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT nspname FROM pg_namespace")).scalars())


def _dbname(engine: Engine) -> str:
    """The database for pg_restore's --dbname (connection details come from the environment)."""
    name = engine.url.database or ""
    if not re.fullmatch(r"[\w$-]+", name):
        raise StorageError(f"database name {name!r}: expected letters, digits, _ $ or -")
    return name


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
