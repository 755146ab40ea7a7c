"""``parkmon db …``: where the schema stands, upgrading it, and copies of the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from monitor.cli.common import err, out, settings_of
from monitor.errors import StorageError
from monitor.lazy import LazyModule

if TYPE_CHECKING:
    from monitor import db, models, schema
else:
    db = LazyModule("monitor.db")
    models = LazyModule("monitor.models")
    schema = LazyModule("monitor.schema")

db_app = typer.Typer(
    help="The database itself: schema revision, upgrade, backup and restore.",
    no_args_is_help=True,
)


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Say which schema revision the database is at, and whether it needs an upgrade."""
    settings = settings_of(ctx)
    engine = db.make_engine(settings.database_url, create_dir=False)
    try:
        if not db.database_exists(engine):
            raise StorageError(f"database {db.describe(engine)} does not exist; run `parkmon init`")
        found = schema.state(engine)
        waiting = [] if found.empty else schema.pending(engine)
    finally:
        engine.dispose()
    out.print(f"{db.describe(engine)}: schema {found.shown}")
    if found.current:
        out.print(f"  up to date (this parkmon expects {models.SCHEMA_VERSION})")
    elif found.empty:
        out.print("  no parkmon schema yet: run `parkmon init`")
    elif waiting:
        out.print(f"  {len(waiting)} revision(s) to apply with `parkmon db upgrade`:")
        for step in waiting:
            out.print(f"    {step.revision}: {step.title}")
    else:
        out.print(f"  unknown to this parkmon (it expects {models.SCHEMA_VERSION}): newer code?")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database's schema to this parkmon's (a SQLite file is copied first)."""
    settings = settings_of(ctx)
    engine = db.make_engine(settings.database_url, create_dir=False)
    try:
        if not db.database_exists(engine):
            raise StorageError(f"database {db.describe(engine)} does not exist; run `parkmon init`")
        if schema.state(engine).empty:
            raise StorageError(
                f"database {db.describe(engine)} has no parkmon schema yet; run `parkmon init`"
            )
        kept, steps = db.upgrade_schema(engine)
    finally:
        engine.dispose()
    if kept is not None:
        err.print(f"kept a copy of the database as it was: {kept}", markup=False)
    if not steps:
        out.print(f"{db.describe(engine)}: already at {models.SCHEMA_VERSION}")
    for step in steps:
        out.print(str(step))
