"""``parkmon db …``: where the schema stands, upgrading it, and copies of the database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.common import err, out, settings_of
from monitor.errors import StorageError
from monitor.lazy import LazyModule

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from monitor import backup, db, models, schema
else:
    backup = LazyModule("monitor.backup")
    db = LazyModule("monitor.db")
    models = LazyModule("monitor.models")
    schema = LazyModule("monitor.schema")

db_app = typer.Typer(
    help="The database itself: schema revision, upgrade, backup and restore.",
    no_args_is_help=True,
)


def _existing(ctx: typer.Context) -> Engine:
    """An engine on the database the settings name, which must exist (never created here)."""
    engine = db.make_engine(settings_of(ctx).database_url, create_dir=False)
    if not db.database_exists(engine):
        engine.dispose()
        raise StorageError(f"database {db.describe(engine)} does not exist; run `parkmon init`")
    return engine


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Say which schema revision the database is at, and whether it needs an upgrade."""
    engine = _existing(ctx)
    try:
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
    engine = _existing(ctx)
    try:
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


@db_app.command("backup")
def db_backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="File to write (replaced when complete).")],
) -> None:
    """Copy the database to FILE: SQLite through its online backup (safe while the scheduler
    writes), PostgreSQL through pg_dump (custom format)."""
    engine = _existing(ctx)
    try:
        copy = backup.backup(engine, target)
    finally:
        engine.dispose()
    _say(f"backed up {db.describe(engine)} to {copy.path} ({copy.kind})", copy)


@db_app.command("restore")
def db_restore(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A file written by `parkmon db backup`.")],
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Replace a database that holds a parkmon schema."),
    ] = False,
) -> None:
    """Put a backup in place of the database (all or nothing; --replace for one in use)."""
    settings = settings_of(ctx)
    engine = db.make_engine(settings.database_url)
    try:
        db.ensure_writable(engine)
        copy = backup.restore(engine, source, replace=replace)
        behind = not schema.state(engine).current
    finally:
        engine.dispose()
    _say(f"restored {db.describe(engine)} from {copy.path}", copy)
    if behind:
        err.print(
            f"the restored schema is {copy.revision}; run `parkmon db upgrade` to use it with "
            "this parkmon",
            markup=False,
        )


def _say(headline: str, copy: backup.Copy) -> None:
    out.print(headline, markup=False)
    out.print(f"  schema {copy.revision}", markup=False)
    for table, rows in copy.rows.items():
        out.print(f"  {table}: {rows:,} rows", markup=False)
