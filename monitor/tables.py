"""The tables and the generic bulk helpers every part of the store uses: dialect-aware upsert,
executemany of tuples, rows to frames, connections borrowed or opened."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel.sql.sqltypes import AutoString

from monitor import models
from monitor.errors import StorageError

log = logging.getLogger(__name__)

_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
table_of = models.table_of
T_OBS = table_of(models.Observation)
T_SOURCE = table_of(models.Source)
T_RUN = table_of(models.CollectionRun)
T_REJECTION = table_of(models.Rejection)
T_PARK = table_of(models.Park)
T_PARK_DISTRICT = table_of(models.ParkDistrict)
T_REGION = table_of(models.Region)


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE for SQLite and PostgreSQL, as one executemany."""
    if not rows:
        return
    name = conn.dialect.name
    dialect_insert: Any = _DIALECT_INSERT.get(name)
    if dialect_insert is None:
        raise StorageError(f"database dialect {name!r} is not supported; use SQLite or PostgreSQL")
    stmt = dialect_insert(table)
    cols = update if update is not None else [c for c in rows[0] if c not in keys]
    if cols:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in cols}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(stmt, [dict(r) for r in rows])


_PLAIN_TYPES = (sa.String, AutoString, sa.Integer, sa.Float, sa.Numeric, sa.Enum)


def read_frame(conn: Connection, stmt: sa.Select[Any]) -> pd.DataFrame:
    """The rows of ``stmt`` as a frame. When every column is text, a number or a boolean (no
    times) the driver's rows are taken as they are, without SQLAlchemy's per-value processing:
    for large reads that processing is most of the time. Booleans (SQLite hands back 0/1) are
    made booleans column-wise afterwards."""
    result = conn.execute(stmt)
    names = list(result.keys())
    types = [c.type for c in stmt.selected_columns]
    plain = all(isinstance(t, (*_PLAIN_TYPES, sa.Boolean)) for t in types)
    frame = frame_of(result.cursor.fetchall() if plain else result.all(), names)
    if plain:
        for name, kind in zip(names, types, strict=True):
            if isinstance(kind, sa.Boolean) and len(frame):
                values = frame[name]
                frame[name] = (
                    values.map(lambda v: None if v is None else bool(v))
                    if values.isna().any()
                    else values.astype(bool)
                )
    return frame


def frame_of(rows: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
    """Rows to a frame column by column (pandas probing each SQLAlchemy Row is ~10× slower)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    if isinstance(rows[0], tuple):  # plain driver rows: pandas reads them fastest itself
        return pd.DataFrame.from_records(rows, columns=list(columns))
    return pd.DataFrame(dict(zip(columns, (list(c) for c in zip(*rows, strict=True)), strict=True)))


def db_time(conn: Connection, moment: datetime) -> datetime | str:
    """A UTC time as the driver stores it for the DateTime columns (SQLite keeps naive text)."""
    if conn.dialect.name == "sqlite":
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def bulk_insert(conn: Connection, table: sa.Table, columns: Mapping[str, list[Any]]) -> None:
    """INSERT many rows as one driver-level executemany of tuples (PostgreSQL: one COPY).

    For large batches SQLAlchemy's per-row parameter processing costs more than the insert itself
    (measured: 62k rows/s through ``insert(table)`` with dicts vs raw sqlite3's 440k). Values here
    are already plain Python in the database's representation (see ``_db_time``), so they go
    straight to the driver through the same connection and transaction.
    """
    names = list(columns)
    preparer = conn.dialect.identifier_preparer
    target = f"{preparer.format_table(table)} ({', '.join(preparer.quote(n) for n in names)})"
    rows = list(zip(*(columns[n] for n in names), strict=True))
    if not rows:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        # PostgreSQL's COPY: several times an executemany, in the same transaction
        driver: Any = conn.connection.dbapi_connection  # a psycopg connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {target} VALUES ({', '.join([placeholder] * len(names))})", rows
    )


@contextmanager
def connection(bind: Engine | Connection) -> Iterator[Connection]:
    """Use the caller's connection (inside its transaction) or open one from an engine."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def set_meta(conn: sa.Connection, key: str, value: str) -> None:
    """One ``parkmon_meta`` entry written (inserted or replaced) in the caller's transaction."""
    table = models.table_of(models.Meta)
    updated = conn.execute(sa.update(table).where(table.c.key == key).values(value=value))
    if updated.rowcount == 0:
        conn.execute(sa.insert(table).values(key=key, value=value))
