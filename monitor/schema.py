"""Where a database's schema stands, and bringing it to the code's (Alembic migrations).

Every command checks the revision before it reads or writes (one small query); only ``init``
and ``db upgrade`` change it. A database of parkmon 0.1.0 (parkmon's tables, no
``alembic_version``) is adopted by the baseline revision. Alembic itself is imported only when
something is migrated: the check needs none of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor import models
from monitor.errors import StorageError, driver_message
from monitor.tables import connection

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

VERSION_TABLE = "alembic_version"
LEGACY = "0.1.0 (before migrations)"
# pg_advisory_xact_lock key: two processes upgrading one server take turns ("pkmn" in ASCII)
_UPGRADE_LOCK = 0x706B6D6E


@dataclass(frozen=True)
class SchemaState:
    """``revision`` None with ``legacy``: parkmon 0.1.0's tables without a revision; None
    without: no parkmon schema at all."""

    revision: str | None
    legacy: bool = False

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.legacy

    @property
    def current(self) -> bool:
        return self.revision == models.SCHEMA_VERSION

    @property
    def shown(self) -> str:
        return self.revision or (LEGACY if self.legacy else "none")


def state(bind: Engine | Connection) -> SchemaState:
    """The revision a database is at (no Alembic import: one catalogue lookup, one select)."""
    try:
        with connection(bind) as conn:
            inspector = sa.inspect(conn)
            if inspector.has_table(VERSION_TABLE):
                revision = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
                return SchemaState(revision.scalar())
            return SchemaState(None, legacy=inspector.has_table(models.Meta.__tablename__))
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open database {_url(bind)}: {driver_message(exc)}") from exc


def require_current(bind: Engine | Connection) -> None:
    """Refuse, naming the command to run, unless the schema is the one this code expects."""
    found = state(bind)
    if found.current:
        return
    url = _url(bind)
    if found.empty:
        raise StorageError(f"database {url} has no parkmon schema yet; run `parkmon init` first")
    if found.legacy or found.revision in revisions():
        raise StorageError(
            f"database {url} has schema {found.shown}; this parkmon needs "
            f"{models.SCHEMA_VERSION}: run `parkmon db upgrade` (it keeps a copy of a SQLite "
            "file first; on PostgreSQL take `parkmon db backup FILE`)"
        )
    raise StorageError(
        f"database {url} has schema revision {found.revision}, which this parkmon does not "
        f"know (it expects {models.SCHEMA_VERSION}): a newer parkmon upgraded it; use that one"
    )


@dataclass(frozen=True)
class Step:
    revision: str
    title: str

    def __str__(self) -> str:
        return f"upgraded to {self.revision}: {self.title}"


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = _script()
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def pending(bind: Engine | Connection) -> list[Step]:
    """The revisions ``upgrade`` would apply, oldest first."""
    found = state(bind)
    return _between(found.revision)


def upgrade(engine: Engine) -> list[Step]:
    """Bring the database to the head revision in one transaction (taking turns with other
    processes on PostgreSQL); returns the revisions applied, oldest first."""
    from alembic import command  # noqa: PLC0415  (only when migrating)

    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
            found = state(conn)
            if found.revision is not None and found.revision not in revisions():
                require_current(conn)  # says: a newer parkmon's revision
            steps = _between(found.revision)
            if steps:
                command.upgrade(_config(conn), "head")
            if conn.dialect.name == "postgresql":
                from monitor import spatial  # noqa: PLC0415  (PostGIS only)

                added = spatial.add_columns(conn)  # PostGIS installed after its revision ran
                if added:
                    steps.append(Step("postgis", f"geometry columns {', '.join(added)}"))
    except SQLAlchemyError as exc:
        raise StorageError(
            f"upgrading the schema of {_url(engine)} failed: {driver_message(exc)}"
        ) from exc
    for step in steps:
        log.info("schema: %s", step)
    return steps


def _between(revision: str | None) -> list[Step]:
    script = _script()
    newer = []
    for s in script.walk_revisions(base="base", head="heads"):
        if s.revision == revision:
            break
        newer.append(Step(s.revision, (s.doc or "").strip().splitlines()[0].rstrip(".")))
    return list(reversed(newer))


def _config(conn: Connection | None = None) -> Config:
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", "monitor:migrations")
    config.attributes["connection"] = conn
    return config


def _script() -> Any:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    return ScriptDirectory.from_config(_config())


def _url(bind: Engine | Connection) -> str:
    engine = bind if isinstance(bind, Engine) else bind.engine
    return engine.url.render_as_string(hide_password=True)
