"""Baseline: the schema of parkmon 0.1.0, the last release before migrations.

A new database gets these tables. A database made by parkmon 0.1.0 (or a development build
before it: no ``alembic_version`` table, but parkmon's tables) is adopted instead: tables and
columns it lacks are added (a NOT NULL column with the empty value of its type, as 0.1.0's own
upgrade did), the indexes declared here created and the one 0.1.0 replaced dropped, and it is
stamped at this revision. The tables are written out here, frozen: later changes to
``monitor.models`` must never change what this revision means.

Revision ID: 0001_baseline
Revises: (none)
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

BASELINE = sa.MetaData()

sa.Table(
    "collection_run",
    BASELINE,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("source_id", sa.String(length=64), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column(
        "status",
        sa.Enum(
            "running",
            "ok",
            "partial",
            "failed",
            "interrupted",
            name="runstatus",
            native_enum=False,
            length=32,
        ),
        nullable=False,
    ),
    sa.Column("rows_read", sa.Integer(), nullable=False),
    sa.Column("rows_accepted", sa.Integer(), nullable=False),
    sa.Column("rows_unchanged", sa.Integer(), nullable=False),
    sa.Column("rows_revised", sa.Integer(), nullable=False),
    sa.Column("rows_rejected", sa.Integer(), nullable=False),
    sa.Column("rows_skipped", sa.Integer(), nullable=False),
    sa.Column("requests", sa.Integer(), nullable=False),
    sa.Column("error", sa.String(), nullable=False),
    sa.Column("error_data", sa.String(), nullable=False),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("host", sa.String(length=128), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_collection_run_source_id", BASELINE.tables["collection_run"].c.source_id)
sa.Table(
    "indicator",
    BASELINE,
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("name_zh", sa.String(length=128), nullable=False),
    sa.Column("name_en", sa.String(length=128), nullable=False),
    sa.Column("unit", sa.String(length=16), nullable=False),
    sa.Column(
        "direction",
        sa.Enum("higher", "lower", name="direction", native_enum=False, length=32),
        nullable=False,
    ),
    sa.Column("kinds", sa.String(), nullable=False),
    sa.Column("scope", sa.String(length=16), nullable=False),
    sa.Column("group", sa.String(length=64), nullable=False),
    sa.Column("minimum", sa.Float(), nullable=True),
    sa.Column("maximum", sa.Float(), nullable=True),
    sa.Column("description", sa.String(), nullable=False),
    sa.Column("aliases", sa.String(), nullable=False),
    sa.PrimaryKeyConstraint("code"),
)
sa.Table(
    "observation",
    BASELINE,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column(
        "subject_type",
        sa.Enum("park", "region", name="subjecttype", native_enum=False, length=32),
        nullable=False,
    ),
    sa.Column("subject_id", sa.String(length=32), nullable=False),
    sa.Column("indicator", sa.String(length=64), nullable=False),
    sa.Column("period", sa.String(length=16), nullable=False),
    sa.Column("value", sa.Float(), nullable=False),
    sa.Column("raw_value", sa.String(length=64), nullable=False),
    sa.Column("raw_unit", sa.String(length=16), nullable=False),
    sa.Column("citation", sa.String(), nullable=False),
    sa.Column("source_id", sa.String(length=64), nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=True),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("is_latest", sa.Boolean(), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint(
        "source_id",
        "subject_type",
        "subject_id",
        "indicator",
        "period",
        "revision",
        name="uq_observation_revision",
    ),
)
sa.Index(
    "ix_observation_indicator_period",
    BASELINE.tables["observation"].c.indicator,
    BASELINE.tables["observation"].c.period,
)
sa.Table(
    "park",
    BASELINE,
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("name", sa.String(length=128), nullable=False),
    sa.Column("name_en", sa.String(length=128), nullable=False),
    sa.Column("aliases", sa.String(), nullable=False),
    sa.Column("credit_code", sa.String(length=18), nullable=True),
    sa.Column(
        "kind",
        sa.Enum(
            "innovation_zone",
            "high_tech_zone",
            "development_zone",
            "industrial_park",
            "incubator",
            "maker_space",
            "accelerator",
            "rd_institution",
            name="parkkind",
            native_enum=False,
            length=32,
        ),
        nullable=False,
    ),
    sa.Column(
        "level",
        sa.Enum(
            "national", "provincial", "municipal", name="parklevel", native_enum=False, length=32
        ),
        nullable=False,
    ),
    sa.Column("district_id", sa.String(length=32), nullable=False),
    sa.Column(
        "belt_role",
        sa.Enum("core", "zone", "park", "none", name="beltrole", native_enum=False, length=32),
        nullable=False,
    ),
    sa.Column("leading_industries", sa.String(), nullable=False),
    sa.Column("lon", sa.Float(), nullable=True),
    sa.Column("lat", sa.Float(), nullable=True),
    sa.Column(
        "location_quality",
        sa.Enum(
            "surveyed",
            "approximate",
            "missing",
            name="locationquality",
            native_enum=False,
            length=32,
        ),
        nullable=False,
    ),
    sa.Column("location_crs", sa.String(length=16), nullable=False),
    sa.Column("boundary", sa.LargeBinary(), nullable=True),
    sa.Column("geo_district_id", sa.String(length=32), nullable=True),
    sa.Column("in_belt", sa.Boolean(), nullable=False),
    sa.Column("belt_basis", sa.String(length=16), nullable=False),
    sa.Column("opened", sa.Integer(), nullable=True),
    sa.Column("closed", sa.Integer(), nullable=True),
    sa.Column("is_demo", sa.Boolean(), nullable=False),
    sa.Column("note", sa.String(), nullable=False),
    sa.Column("origin", sa.String(length=255), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_park_district_id", BASELINE.tables["park"].c.district_id)
sa.Index("ix_park_is_demo", BASELINE.tables["park"].c.is_demo)
sa.Index("ix_park_kind", BASELINE.tables["park"].c.kind)
sa.Index("ix_park_name", BASELINE.tables["park"].c.name)
sa.Table(
    "parkmon_meta",
    BASELINE,
    sa.Column("key", sa.String(length=64), nullable=False),
    sa.Column("value", sa.String(), nullable=False),
    sa.PrimaryKeyConstraint("key"),
)
sa.Table(
    "ranking_entry",
    BASELINE,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("ranking", sa.String(length=64), nullable=False),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column(
        "subject_type",
        sa.Enum("park", "region", name="subjecttype", native_enum=False, length=32),
        nullable=False,
    ),
    sa.Column("subject_id", sa.String(length=32), nullable=False),
    sa.Column("position", sa.Integer(), nullable=True),
    sa.Column("position_relation", sa.String(length=8), nullable=False),
    sa.Column("out_of", sa.Integer(), nullable=True),
    sa.Column("source_url", sa.String(), nullable=False),
    sa.Column("note", sa.String(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("ranking", "year", "subject_id", name="uq_ranking_entry"),
)
sa.Table(
    "rating",
    BASELINE,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("subject_type", sa.String(length=16), nullable=False),
    sa.Column("park_id", sa.String(length=32), nullable=False),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(length=32), nullable=False),
    sa.Column("methodology", sa.String(length=64), nullable=False),
    sa.Column("methodology_version", sa.String(length=32), nullable=False),
    sa.Column("methodology_hash", sa.String(length=64), nullable=False),
    sa.Column("score", sa.Float(), nullable=True),
    sa.Column("stars", sa.Integer(), nullable=True),
    sa.Column("rank", sa.Integer(), nullable=True),
    sa.Column("peer_size", sa.Integer(), nullable=True),
    sa.Column("status", sa.String(length=32), nullable=False),
    sa.Column("breakdown", sa.String(), nullable=False),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("park_id", "year", "methodology_hash", name="uq_rating"),
)
sa.Index("ix_rating_park_id", BASELINE.tables["rating"].c.park_id)
sa.Index("ix_rating_year", BASELINE.tables["rating"].c.year)
sa.Table(
    "recognition",
    BASELINE,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("park_id", sa.String(length=32), nullable=False),
    sa.Column(
        "level",
        sa.Enum(
            "national", "provincial", "municipal", name="parklevel", native_enum=False, length=32
        ),
        nullable=False,
    ),
    sa.Column("year", sa.Integer(), nullable=False),
    sa.Column("issuer", sa.String(length=128), nullable=False),
    sa.Column("source", sa.String(length=512), nullable=False),
    sa.Column("is_demo", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("park_id", "level", "year", name="uq_recognition"),
)
sa.Index("ix_recognition_park_id", BASELINE.tables["recognition"].c.park_id)
sa.Table(
    "region",
    BASELINE,
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("name", sa.String(length=64), nullable=False),
    sa.Column("name_en", sa.String(length=64), nullable=False),
    sa.Column(
        "level",
        sa.Enum("city", "district", "belt", name="regionlevel", native_enum=False, length=32),
        nullable=False,
    ),
    sa.Column("parent_id", sa.String(length=32), nullable=True),
    sa.Column("area_km2", sa.Float(), nullable=True),
    sa.Column("rep_lon", sa.Float(), nullable=True),
    sa.Column("rep_lat", sa.Float(), nullable=True),
    sa.Column("geometry", sa.LargeBinary(), nullable=True),
    sa.Column("source", sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Table(
    "rejection",
    BASELINE,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("source_id", sa.String(length=64), nullable=False),
    sa.Column("location", sa.String(), nullable=False),
    sa.Column("field_name", sa.String(length=128), nullable=False),
    sa.Column("value", sa.String(), nullable=False),
    sa.Column("reason", sa.String(), nullable=False),
    sa.Column("reason_data", sa.String(), nullable=False),
    sa.Column("raw", sa.String(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)
sa.Index("ix_rejection_run_id", BASELINE.tables["rejection"].c.run_id)
sa.Index("ix_rejection_source_id", BASELINE.tables["rejection"].c.source_id)
sa.Table(
    "source",
    BASELINE,
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.String(length=32), nullable=False),
    sa.Column("location", sa.String(), nullable=False),
    sa.Column("precedence", sa.Integer(), nullable=False),
    sa.Column("is_demo", sa.Boolean(), nullable=False),
    sa.Column("description", sa.String(), nullable=False),
    sa.Column("config_hash", sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint("id"),
)


# An index an earlier development build had, which (indicator, period) replaced: it only costs
# every bulk insert.
REPLACED_INDEXES = (("observation", "ix_observation_indicator"),)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    if not existing & set(BASELINE.tables):
        BASELINE.create_all(bind)
        return
    _adopt(bind, inspector, existing)


def _adopt(bind: sa.Connection, inspector: Any, existing: set[str]) -> None:
    """Bring a database of parkmon 0.1.0 (or a build before it) to the baseline in place."""
    for table in BASELINE.sorted_tables:
        if table.name not in existing:
            table.create(bind)
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                _add_column(bind, table, column)
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(bind)
        for name in (n for t, n in REPLACED_INDEXES if t == table.name and n in indexes):
            op.drop_index(name, table_name=table.name)


def _add_column(bind: sa.Connection, table: sa.Table, column: sa.Column[Any]) -> None:
    default = None
    if not column.nullable:
        python_type = column.type.python_type
        default = {str: "''", int: "0", float: "0", bool: "false"}.get(python_type)
    ddl_type = column.type.compile(dialect=bind.dialect)
    clause = f" NOT NULL DEFAULT {default}" if default is not None else ""
    bind.exec_driver_sql(
        f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {ddl_type}{clause}'
    )


def downgrade() -> None:
    for table in reversed(BASELINE.sorted_tables):
        op.drop_table(table.name)
