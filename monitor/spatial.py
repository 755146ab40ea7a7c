"""PostGIS geometry columns beside the portable WKB ones, for QGIS and spatial SQL.

parkmon writes locations once, portably: ``park.lon/lat`` and ``park.boundary``, ``region.geometry``
(WKB). On a PostgreSQL database with the PostGIS extension, each also appears as a real
``geometry`` column in SRID 4326 with a GiST index — a *generated* column, computed by the server
from the portable one on every write, so no code path can let the two disagree and writing stays
the same on every backend. QGIS lists them as layers (``docs/qgis.md``). Without PostGIS (plain
PostgreSQL, SQLite) nothing here applies and the WKB columns serve as before.

The columns come with migration ``0002_postgis_columns``; ``parkmon db upgrade`` adds them later
too, when PostGIS is installed in the database after that revision ran.
"""

from __future__ import annotations

from dataclasses import dataclass

import geoalchemy2  # noqa: F401  (teaches SQLAlchemy's reflection PostGIS's geometry type)
import sqlalchemy as sa
from sqlalchemy.engine import Connection

SRID = 4326


@dataclass(frozen=True)
class SpatialColumn:
    table: str
    column: str
    geometry_type: str  # PostGIS type modifier: Point, Geometry, …
    expression: str  # from the portable columns of the same row

    @property
    def index(self) -> str:
        return f"ix_{self.table}_{self.column}"


COLUMNS = (
    SpatialColumn(
        "park",
        "geom",
        "Point",
        f"CASE WHEN lon IS NOT NULL AND lat IS NOT NULL "
        f"THEN ST_SetSRID(ST_MakePoint(lon, lat), {SRID}) END",
    ),
    SpatialColumn("park", "boundary_geom", "Geometry", f"ST_GeomFromWKB(boundary, {SRID})"),
    SpatialColumn("region", "geom", "Geometry", f"ST_GeomFromWKB(geometry, {SRID})"),
)


def postgis_version(conn: Connection) -> str | None:
    """The PostGIS version installed in this database, or None (not PostgreSQL, or no PostGIS)."""
    if conn.dialect.name != "postgresql":
        return None
    found = conn.execute(sa.text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'"))
    return found.scalar()


def missing(conn: Connection) -> list[SpatialColumn]:
    """The geometry columns PostGIS could give this database and it does not have yet."""
    if postgis_version(conn) is None:
        return []
    inspector = sa.inspect(conn)
    have = {
        (table, c["name"])
        for table in {c.table for c in COLUMNS}
        if inspector.has_table(table)
        for c in inspector.get_columns(table)
    }
    return [c for c in COLUMNS if (c.table, c.column) not in have]


def add_columns(conn: Connection) -> list[str]:
    """Add the missing geometry columns and their GiST indexes (existing rows are computed at
    once by the server); returns what was added."""
    added = []
    for c in missing(conn):
        conn.exec_driver_sql(
            f'ALTER TABLE "{c.table}" ADD COLUMN "{c.column}" '
            f"geometry({c.geometry_type}, {SRID}) GENERATED ALWAYS AS ({c.expression}) STORED"
        )
        conn.exec_driver_sql(f'CREATE INDEX "{c.index}" ON "{c.table}" USING GIST ("{c.column}")')
        added.append(f"{c.table}.{c.column}")
    return added


def drop_columns(conn: Connection) -> None:
    inspector = sa.inspect(conn)
    for c in COLUMNS:
        if inspector.has_table(c.table) and c.column in {
            col["name"] for col in inspector.get_columns(c.table)
        }:
            conn.exec_driver_sql(f'ALTER TABLE "{c.table}" DROP COLUMN "{c.column}"')


def is_spatial_column(table: str, column: str) -> bool:
    """Whether (table, column) is one of these derived columns (not in the models)."""
    return any(c.table == table and c.column == column for c in COLUMNS)
