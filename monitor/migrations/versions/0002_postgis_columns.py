"""PostGIS geometry columns (park point and boundary, region) where PostGIS is installed.

Generated columns from the portable ones (``monitor.spatial``), each with a GiST index, so QGIS
opens the carriers and regions as layers. On SQLite and on PostgreSQL without PostGIS this
revision changes nothing; ``parkmon db upgrade`` adds the columns if PostGIS comes later.

Revision ID: 0002_postgis_columns
Revises: 0001_baseline
"""

from __future__ import annotations

from alembic import op

from monitor import spatial

revision = "0002_postgis_columns"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    spatial.add_columns(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        spatial.drop_columns(op.get_bind())
