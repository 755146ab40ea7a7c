"""One scheduler per database: a lock row with a heartbeat (SQLite) or an advisory lock
(PostgreSQL); a second ``parkmon schedule start`` refuses and names the holder."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import models
from monitor.errors import LockHeldError
from monitor.runs import alive

log = logging.getLogger(__name__)

ADVISORY_KEY = 7_320_600  # PostgreSQL advisory lock id of the parkmon scheduler


def aware_utc(value: datetime) -> datetime:
    """A stored time as UTC (SQLite hands back naive datetimes)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SchedulerLock:
    """One scheduler per database: a heartbeat row, plus an advisory lock on PostgreSQL."""

    def __init__(self, engine: Engine, expiry_s: float) -> None:
        self.engine = engine
        self.expiry = timedelta(seconds=expiry_s)
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.table = models.table_of(models.SchedulerLock)
        self._pg_conn: sa.Connection | None = None

    def acquire(self) -> None:
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
            ).scalar()
            conn.commit()
            if not got:
                conn.close()
                raise LockHeldError(self._held_message(self._current()))
            self._pg_conn = conn  # the lock lives as long as this session
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(self.table).where(self.table.c.id == 1)).mappings().first()
            if row is not None:
                stale = now - aware_utc(row["heartbeat_at"]) > self.expiry or self._dead_here(
                    str(row["holder"])
                )
                if not stale and self._pg_conn is None and row["holder"] != self.holder:
                    raise LockHeldError(self._held_message(row))
                if stale:
                    log.warning(
                        "taking over the scheduler lock of %s (last heartbeat %s)",
                        row["holder"],
                        row["heartbeat_at"],
                    )
                conn.execute(
                    sa.update(self.table)
                    .where(self.table.c.id == 1)
                    .values(holder=self.holder, acquired_at=now, heartbeat_at=now)
                )
            else:
                conn.execute(
                    sa.insert(self.table).values(
                        id=1, holder=self.holder, acquired_at=now, heartbeat_at=now
                    )
                )

    @staticmethod
    def _dead_here(holder: str) -> bool:
        """The holder ran on this host and its process is gone (killed): no need to wait."""
        host, _, pid = holder.rpartition(":")
        return host == socket.gethostname() and pid.isdigit() and not alive(int(pid))

    def _current(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(self.table).where(self.table.c.id == 1)).mappings().first()
        return dict(row) if row else None

    def _held_message(self, row: Any) -> str:
        if not row:
            return "another scheduler holds this database's lock; refusing to start a second one"
        return (
            f"a scheduler is already running on this database: held by {row['holder']} since "
            f"{row['acquired_at']:%Y-%m-%d %H:%M:%S} UTC, last heartbeat "
            f"{row['heartbeat_at']:%H:%M:%S} UTC; refusing to start a second one (a dead "
            f"holder's lock is taken over {self.expiry.total_seconds():.0f} s after its last "
            "heartbeat)"
        )

    def heartbeat(self) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(self.table)
                .where(self.table.c.id == 1, self.table.c.holder == self.holder)
                .values(heartbeat_at=datetime.now(UTC))
            )
        if updated.rowcount != 1:
            raise LockHeldError("lost the scheduler lock to another process; stopping")

    def release(self) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.delete(self.table).where(
                        self.table.c.id == 1, self.table.c.holder == self.holder
                    )
                )
        finally:
            if self._pg_conn is not None:
                # The advisory lock belongs to the session: unlock it before the connection goes
                # back to the pool, where it would otherwise keep the lock held.
                try:
                    self._pg_conn.execute(
                        sa.text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY}
                    )
                    self._pg_conn.commit()
                except sa.exc.SQLAlchemyError:
                    self._pg_conn.invalidate()  # a broken session: its lock ends with it
                self._pg_conn.close()
                self._pg_conn = None
