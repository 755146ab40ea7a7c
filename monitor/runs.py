"""Who is running what: collection runs are claimed one at a time per source, and runs left
'running' by a process that no longer exists are marked interrupted by the next writer.

Each run records its host and pid when it starts (committed at once). Claiming is race-free on
SQLite and PostgreSQL alike: a run first commits its 'running' row, then looks for an older
'running' row of the same source from a live process; if there is one, the newcomer withdraws
its row and stops with one line naming the holder. Of two that start together, the older wins.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import models, store
from monitor.errors import SourceBusy

# A run another host left 'running' counts as live for this long (we cannot see its process).
OTHER_HOST_STALE_AFTER = timedelta(hours=12)
INTERRUPTED = "interrupted: the process ended before the run finished; nothing of it was committed"


def alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_interrupted(engine: Engine) -> int:
    """Runs left 'running' by a process on this host that no longer exists become 'interrupted'.

    Every command that writes to the store calls this first, so a killed ``parkmon collect``
    never stays 'running' until a scheduler happens to start.
    """
    host = socket.gethostname()
    t = store.T_RUN
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(t.c.id, t.c.pid).where(
                t.c.status == models.RunStatus.running, t.c.host == host
            )
        ).all()
        dead = [run_id for run_id, pid in rows if pid is None or not alive(int(pid))]
        if dead:
            conn.execute(
                sa.update(t)
                .where(t.c.id.in_(dead))
                .values(
                    status=models.RunStatus.interrupted,
                    finished_at=models.utcnow(),
                    error=INTERRUPTED,
                )
            )
    return len(dead)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def start_run(engine: Engine, source_id: str) -> int:
    """Claim a run of ``source_id`` for this process (``SourceBusy`` if a live one holds it)."""
    mark_interrupted(engine)
    host, pid = socket.gethostname(), os.getpid()
    run_id = store.start_run(engine, source_id, host=host, pid=pid)
    t = store.T_RUN
    with engine.connect() as conn:
        older = conn.execute(
            sa.select(t.c.id, t.c.host, t.c.pid, t.c.started_at)
            .where(
                t.c.source_id == source_id,
                t.c.status == models.RunStatus.running,
                t.c.id < run_id,
            )
            .order_by(t.c.id)
        ).all()
    now = models.utcnow()
    for other_id, other_host, other_pid, started in older:
        if other_host == host and other_pid is not None and not alive(int(other_pid)):
            continue  # died between mark_interrupted and now; the next writer marks it
        if other_host != host and started and now - _aware(started) > OTHER_HOST_STALE_AFTER:
            continue
        with engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.id == run_id))
        raise SourceBusy(
            f"another collection of source {source_id} is running on "
            f"{other_host}:{other_pid} (run {other_id}); this one did not start"
        )
    return run_id
