"""Publications: a year's ratings frozen by the bureau, and each carrier's rating in them.

Revision ID: 0010_publication
Revises: 0009_submission
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_publication"
down_revision = "0009_submission"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("published_by", sa.String(length=128), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "number", name="uq_publication"),
    )
    op.create_index("ix_publication_year", "publication", ["year"])
    op.create_table(
        "published_rating",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("methodology", sa.String(length=64), nullable=False),
        sa.Column("methodology_version", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("peer_size", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["publication_id"], ["publication.id"]),
        sa.PrimaryKeyConstraint("publication_id", "subject_id", "methodology"),
    )
    op.create_index("ix_published_rating_subject_id", "published_rating", ["subject_id"])


def downgrade() -> None:
    op.drop_table("published_rating")
    op.drop_table("publication")
