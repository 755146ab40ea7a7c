"""Ratings name their subject: rating.park_id becomes rating.subject_id.

A rating's subject is a carrier or a district (``subject_type`` says which); the column was
called park_id when only carriers were rated. Renamed with its index; on SQLite the table is
rebuilt (batch mode), on PostgreSQL renamed in place.

Revision ID: 0004_rating_subject_id
Revises: 0003_park_district
"""

from __future__ import annotations

from alembic import op

revision = "0004_rating_subject_id"
down_revision = "0003_park_district"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rename("park_id", "subject_id")


def downgrade() -> None:
    _rename("subject_id", "park_id")


def _rename(old: str, new: str) -> None:
    with op.batch_alter_table("rating") as batch:
        batch.drop_index(f"ix_rating_{old}")
        batch.drop_constraint("uq_rating", type_="unique")
        batch.alter_column(old, new_column_name=new)
    with op.batch_alter_table("rating") as batch:
        batch.create_index(f"ix_rating_{new}", [new])
        batch.create_unique_constraint("uq_rating", [new, "year", "methodology_hash"])
