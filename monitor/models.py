"""The database tables (SQLModel) and the enumerations they use.

Geometry is stored as WKB bytes so the same tables work on SQLite and PostgreSQL; points of parks
are plain WGS-84 longitude/latitude columns. History is never deleted: an observation that changes
gets a new revision and the old row stays.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (every stored time is UTC)."""
    return datetime.now(UTC)


# A source's precedence when its configuration names none; lower wins between sources that
# report the same fact (a park office's own report = 10, the demo = 1000).
DEFAULT_PRECEDENCE = 100


class RegionLevel(StrEnum):
    city = "city"
    district = "district"
    belt = "belt"


class ParkKind(StrEnum):
    innovation_zone = "innovation_zone"
    high_tech_zone = "high_tech_zone"
    development_zone = "development_zone"
    industrial_park = "industrial_park"
    incubator = "incubator"
    maker_space = "maker_space"
    accelerator = "accelerator"
    rd_institution = "rd_institution"


class ParkLevel(StrEnum):
    national = "national"
    provincial = "provincial"
    municipal = "municipal"


class BeltRole(StrEnum):
    core = "core"
    zone = "zone"
    park = "park"
    none = "none"


class LocationQuality(StrEnum):
    surveyed = "surveyed"
    approximate = "approximate"
    missing = "missing"


class SubjectType(StrEnum):
    park = "park"
    region = "region"


class Direction(StrEnum):
    higher_is_better = "higher"
    lower_is_better = "lower"


class RunStatus(StrEnum):
    running = "running"
    ok = "ok"
    partial = "partial"
    failed = "failed"
    interrupted = "interrupted"


def table_of(model: type[SQLModel]) -> sa.Table:
    """The SQLAlchemy Table behind a SQLModel table class (for Core statements)."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, sa.Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def enum_column(enum: type[StrEnum], *, nullable: bool = False, index: bool = False) -> Any:
    """A VARCHAR column holding the enum's values (no native PostgreSQL enum type to migrate)."""
    return sa.Column(
        sa.Enum(enum, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e]),
        nullable=nullable,
        index=index,
    )


class Meta(SQLModel, table=True):
    """Key/value facts about the database itself: schema version, demo flag, city."""

    __tablename__ = "parkmon_meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="")


class Region(SQLModel, table=True):
    """An administrative area (city, district) or the riverside belt, with its geometry."""

    __tablename__ = "region"
    id: str = Field(primary_key=True, max_length=32, description="adcode, or 'belt-<adcode>'")
    name: str = Field(max_length=64)
    name_en: str = Field(default="", max_length=64)
    level: RegionLevel = Field(sa_column=enum_column(RegionLevel))
    parent_id: str | None = Field(default=None, max_length=32)
    area_km2: float | None = None
    rep_lon: float | None = Field(default=None, description="representative point, WGS-84")
    rep_lat: float | None = None
    geometry: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary))
    source: str = Field(default="", max_length=255)


class Park(SQLModel, table=True):
    """An innovation carrier: zone, park, incubator, maker space, accelerator, R&D institution."""

    __tablename__ = "park"
    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=128, index=True)
    name_en: str = Field(default="", max_length=128)
    aliases: str = Field(default="", description="'|'-separated other names (full, former)")
    credit_code: str | None = Field(default=None, max_length=18, description="统一社会信用代码")
    kind: ParkKind = Field(sa_column=enum_column(ParkKind, index=True))
    level: ParkLevel = Field(sa_column=enum_column(ParkLevel))
    district_id: str = Field(max_length=32, index=True)
    belt_role: BeltRole = Field(sa_column=enum_column(BeltRole))
    leading_industries: str = Field(default="", description="'|'-separated")
    lon: float | None = Field(default=None, description="WGS-84 longitude")
    lat: float | None = Field(default=None, description="WGS-84 latitude")
    location_quality: LocationQuality = Field(sa_column=enum_column(LocationQuality))
    location_crs: str = Field(default="", max_length=16, description="system the point came in")
    boundary: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary))
    geo_district_id: str | None = Field(
        default=None, max_length=32, description="district the point lies in, by geometry"
    )
    in_belt: bool = Field(default=False, description="member of the riverside sci-tech belt")
    belt_basis: str = Field(
        default="", max_length=16, description="declared | zone_area | near_zone | riverside"
    )
    opened: int | None = None
    closed: int | None = None
    is_demo: bool = Field(default=False, index=True)
    note: str = Field(default="")
    origin: str = Field(default="", max_length=255, description="registry file or generator")
    updated_at: datetime = Field(default_factory=utcnow)


class ParkDistrict(SQLModel, table=True):
    """The districts a carrier lies in: one row per district, the principal one (where it is
    registered, ``park.district_id``) marked. Most carriers have one; a park built across a
    district border (the plan's 南通国际家纺产业园) has two. District totals count a carrier
    once, in its principal district; maps, filters and ``geo check`` use them all."""

    __tablename__ = "park_district"
    park_id: str = Field(primary_key=True, max_length=32)
    district_id: str = Field(primary_key=True, max_length=32, index=True)
    principal: bool = Field(default=False)
    basis: str = Field(default="declared", max_length=16, description="declared (the registry)")


class SchedulerLock(SQLModel, table=True):
    """The one row saying which scheduler runs on this database (``monitor.scheduler_lock``)."""

    __tablename__ = "scheduler_lock"
    id: int = Field(primary_key=True)
    holder: str = Field(max_length=255, description="host:pid")
    acquired_at: datetime
    heartbeat_at: datetime


class Recognition(SQLModel, table=True):
    """When a carrier was recognised at a level (e.g. provincial incubator in 2022)."""

    __tablename__ = "recognition"
    __table_args__ = (sa.UniqueConstraint("park_id", "level", "year", name="uq_recognition"),)
    id: int | None = Field(default=None, primary_key=True)
    park_id: str = Field(max_length=32, index=True)
    level: ParkLevel = Field(sa_column=enum_column(ParkLevel))
    year: int
    issuer: str = Field(default="", max_length=128)
    source: str = Field(default="", max_length=512)
    is_demo: bool = False


class Indicator(SQLModel, table=True):
    """One measured quantity, with its canonical unit and which way is better."""

    __tablename__ = "indicator"
    code: str = Field(primary_key=True, max_length=64)
    name_zh: str = Field(max_length=128)
    name_en: str = Field(max_length=128)
    unit: str = Field(max_length=16)
    direction: Direction = Field(sa_column=enum_column(Direction))
    kinds: str = Field(default="", description="'|'-separated subject kinds it applies to")
    scope: str = Field(default="park", max_length=16, description="park | region")
    group: str = Field(default="", max_length=64)
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    aliases: str = Field(default="", description="'|'-separated other names, e.g. the plan's")


class Source(SQLModel, table=True):
    """A place data comes from; ``precedence`` decides between sources (lower wins)."""

    __tablename__ = "source"
    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    location: str = Field(default="")
    precedence: int = DEFAULT_PRECEDENCE
    is_demo: bool = False
    description: str = ""
    config_hash: str = Field(default="", max_length=64)


class CollectionRun(SQLModel, table=True):
    """One collection of one source: counts, timing, status and incremental state."""

    __tablename__ = "collection_run"
    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(max_length=64, index=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: RunStatus = Field(sa_column=enum_column(RunStatus))
    rows_read: int = 0
    rows_accepted: int = 0
    rows_unchanged: int = 0
    rows_revised: int = 0
    rows_rejected: int = 0
    rows_skipped: int = Field(default=0, description="blank, totals and note rows skipped by rule")
    requests: int = Field(default=0, description="HTTP requests sent")
    error: str = ""
    error_data: str = Field(default="", description="the error as a message (JSON), per language")
    state: str = Field(default="", description="JSON: ETag, Last-Modified, cursor")
    host: str = Field(default="", max_length=128)
    pid: int | None = None


class Rejection(SQLModel, table=True):
    """A row that was not accepted, with its raw content and exactly where it came from."""

    __tablename__ = "rejection"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(index=True)
    source_id: str = Field(max_length=64, index=True)
    location: str = Field(default="", description="file, sheet, row, column / URL, item")
    field_name: str = Field(default="", max_length=128)
    value: str = ""
    reason: str = Field(default="", description="the reason in English")
    reason_data: str = Field(
        default="", description="the reason as a message (JSON: code, params), shown per language"
    )
    raw: str = Field(default="", description="the raw row as JSON")
    created_at: datetime = Field(default_factory=utcnow)


class Observation(SQLModel, table=True):
    """One value of one indicator for one subject and period, from one source, one revision."""

    __tablename__ = "observation"
    __table_args__ = (
        sa.UniqueConstraint(
            "source_id",
            "subject_type",
            "subject_id",
            "indicator",
            "period",
            "revision",
            name="uq_observation_revision",
        ),
        # Few indexes on purpose: each one costs every bulk insert. The unique index (which
        # starts with source_id) serves the store's "latest revision of these facts" lookups;
        # reads by indicator, or by indicator and year (a rating, a comparison), use the
        # second; one carrier's figures (its page in the web application) the third.
        sa.Index("ix_observation_indicator_period", "indicator", "period"),
        sa.Index("ix_observation_subject", "subject_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subject_type: SubjectType = Field(sa_column=enum_column(SubjectType))
    subject_id: str = Field(max_length=32)
    indicator: str = Field(max_length=64)
    period: str = Field(max_length=16, description="'2023', '2023Q1' or '2023-05'")
    value: float
    raw_value: str = Field(default="", max_length=64)
    raw_unit: str = Field(default="", max_length=16)
    citation: str = Field(
        default="", description="the source file's own citation of the figure (e.g. 统计年鉴)"
    )
    source_id: str = Field(max_length=64)
    run_id: int | None = None
    revision: int = 1
    is_latest: bool = True
    recorded_at: datetime = Field(default_factory=utcnow)


class Rating(SQLModel, table=True):
    """A computed rating of one park for one year under one exact methodology."""

    __tablename__ = "rating"
    __table_args__ = (
        sa.UniqueConstraint("subject_id", "year", "methodology_hash", name="uq_rating"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(default="park", max_length=16, description="park | region")
    subject_id: str = Field(max_length=32, index=True, description="park id, or region adcode")
    year: int = Field(index=True)
    kind: str = Field(max_length=32)
    methodology: str = Field(max_length=64)
    methodology_version: str = Field(max_length=32)
    methodology_hash: str = Field(max_length=64)
    score: float | None = None
    stars: int | None = None
    rank: int | None = None
    peer_size: int | None = None
    status: str = Field(default="rated", max_length=32, description="rated | vetoed | incomplete")
    breakdown: str = Field(default="", description="JSON per-indicator points")
    computed_at: datetime = Field(default_factory=utcnow)


class RankingEntry(SQLModel, table=True):
    """A position in a published ranking; ``position`` may be a bound ("outside the top 25")."""

    __tablename__ = "ranking_entry"
    __table_args__ = (
        sa.UniqueConstraint("ranking", "year", "subject_id", name="uq_ranking_entry"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ranking: str = Field(max_length=64)
    year: int
    subject_type: SubjectType = Field(sa_column=enum_column(SubjectType))
    subject_id: str = Field(max_length=32)
    position: int | None = None
    position_relation: str = Field(
        default="eq", max_length=8, description="eq = exactly; gt = worse than (outside top N)"
    )
    out_of: int | None = None
    source_url: str = ""
    note: str = ""


# The Alembic revision this code expects (monitor/migrations/versions; a test keeps it the head).
# --- the submission portal's people (issue 18) ------------------------------------------------


class Role(StrEnum):
    """Who someone is to parkmon; what each may do is decided in ``monitor.accounts.can``."""

    admin = "admin"  # bureau administrator: users, carriers, rounds, publishing
    reviewer = "reviewer"  # approves or returns submissions
    district = "district"  # a district office: the carriers of its district
    park = "park"  # a park office: its own carrier(s)
    viewer = "viewer"  # reads


class Account(SQLModel, table=True):
    """A person (or office) who signs in. The password is kept only as an Argon2 hash."""

    __tablename__ = "account"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, sa_column_kwargs={"unique": True}, description="login name")
    display_name: str = Field(default="", max_length=128)
    role: Role = Field(sa_column=enum_column(Role))
    district_id: str | None = Field(default=None, max_length=32, description="district offices")
    password_hash: str = Field(max_length=255)
    disabled: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)


class AccountPark(SQLModel, table=True):
    """The carriers a park office account files for."""

    __tablename__ = "account_park"
    account_id: int = Field(primary_key=True, foreign_key="account.id")
    park_id: str = Field(primary_key=True, max_length=32, index=True)


class ApiToken(SQLModel, table=True):
    """A machine client's token: only its SHA-256 is kept; it acts with ``role`` (never more
    than its account's) until revoked."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    name: str = Field(max_length=64)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    role: Role = Field(sa_column=enum_column(Role))
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """One thing someone did: signed in, uploaded, submitted, approved, returned, published,
    changed a user. Never updated or deleted."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=128, description="account name, or cli:user@host")
    action: str = Field(max_length=32, index=True)
    target: str = Field(default="", max_length=128)
    detail: str = Field(default="", description="JSON")
    address: str = Field(default="", max_length=64, description="where from (IP, or host)")


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, kept for throttling (per account and per address) and the audit."""

    __tablename__ = "login_failure"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    name: str = Field(max_length=64, index=True)
    address: str = Field(default="", max_length=64, index=True)


class ReportRound(SQLModel, table=True):
    """A reporting round the bureau opens: which carriers report (kinds), which figures
    (indicators), for which year, by when."""

    __tablename__ = "report_round"
    id: str = Field(primary_key=True, max_length=64, description="e.g. 2025-annual")
    title: str = Field(max_length=128)
    period: str = Field(max_length=16, description="the year reported, e.g. 2025")
    deadline: date
    kinds: str = Field(description="'|'-separated carrier kinds that report")
    indicators: str = Field(description="'|'-separated indicator codes asked")
    closed: bool = Field(default=False)
    created_by: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class SubmissionStatus(StrEnum):
    draft = "draft"  # uploaded, may be uploaded again
    submitted = "submitted"  # frozen, in the review queue
    returned = "returned"  # sent back with a comment; the office fixes and uploads again
    approved = "approved"  # its figures written as observations (source "portal")


class Submission(SQLModel, table=True):
    """One carrier's filing for one round: the uploaded file as it came (with its hash), the
    figures read from it and the problems found, and who submitted and reviewed it when. A
    correction after approval is a new submission; nothing is overwritten once submitted."""

    __tablename__ = "submission"
    id: int | None = Field(default=None, primary_key=True)
    round_id: str = Field(max_length=64, index=True)
    park_id: str = Field(max_length=32, index=True)
    status: SubmissionStatus = Field(sa_column=enum_column(SubmissionStatus))
    created_by: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_by: str | None = Field(default=None, max_length=128)
    submitted_at: datetime | None = None
    reviewed_by: str | None = Field(default=None, max_length=128)
    reviewed_at: datetime | None = None
    comment: str = Field(default="", description="the reviewer's, when returned or approved")
    file_name: str = Field(default="", max_length=255)
    file_sha256: str = Field(default="", max_length=64)
    file_size: int = 0
    file_bytes: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary()))
    figures: str = Field(default="[]", description="JSON: the figures read from the file")
    problems: str = Field(default="[]", description="JSON: what must be fixed, with where")
    run_id: int | None = Field(default=None, description="the run that wrote it, once approved")


class Publication(SQLModel, table=True):
    """The bureau's publication of a year's ratings: frozen as they stood (who, when, why); a
    later change is a new publication of the same year with its reason, and both stay."""

    __tablename__ = "publication"
    __table_args__ = (sa.UniqueConstraint("year", "number", name="uq_publication"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    number: int = Field(description="1 for the first publication of the year, then 2, …")
    published_by: str = Field(max_length=128)
    published_at: datetime = Field(default_factory=utcnow)
    reason: str = Field(default="", description="why it replaces the previous publication")


class PublishedRating(SQLModel, table=True):
    """One carrier's rating as a publication froze it."""

    __tablename__ = "published_rating"
    publication_id: int = Field(primary_key=True, foreign_key="publication.id")
    subject_id: str = Field(primary_key=True, max_length=32, index=True)
    methodology: str = Field(primary_key=True, max_length=64)
    methodology_version: str = Field(max_length=32)
    score: float | None = None
    stars: int | None = None
    rank: int | None = None
    peer_size: int | None = None
    status: str = Field(max_length=32)


SCHEMA_VERSION = "0010_publication"
