"""The scheduler's lock table under migrations (the scheduler created it itself before).

A database where a scheduler already ran has it; others get it here.

Revision ID: 0005_scheduler_lock
Revises: 0004_rating_subject_id
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_scheduler_lock"
down_revision = "0004_rating_subject_id"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("scheduler_lock"):
        return
    op.create_table(
        "scheduler_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_lock")
