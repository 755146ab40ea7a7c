"""Carriers in several districts: the park_district table, filled from park.district_id.

Revision ID: 0003_park_district
Revises: 0002_postgis_columns
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_park_district"
down_revision = "0002_postgis_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "park_district",
        sa.Column("park_id", sa.String(length=32), nullable=False),
        sa.Column("district_id", sa.String(length=32), nullable=False),
        sa.Column("principal", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("park_id", "district_id"),
    )
    op.create_index("ix_park_district_district_id", "park_district", ["district_id"])
    park = sa.table("park", sa.column("id"), sa.column("district_id"))
    # every carrier so far had one district: its principal one, as the registry declared it
    op.execute(
        table.insert().from_select(
            ["park_id", "district_id", "principal", "basis"],
            sa.select(park.c.id, park.c.district_id, sa.true(), sa.literal("declared")).where(
                park.c.district_id != ""
            ),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_park_district_district_id", table_name="park_district")
    op.drop_table("park_district")
