"""Alembic's entry point: migrate the connection ``monitor.schema`` hands over (in one
transaction, which ``monitor.schema`` opens and commits)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from monitor import models  # noqa: F401  (the tables, for autogenerate)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite alters a table by copying it: batch mode does that
    compare_type=True,
)
context.run_migrations()
