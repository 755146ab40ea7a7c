"""Writing to and reading from the database: bulk upserts with provenance, frames back out.

Observations follow revision semantics: a fact is (source, subject, indicator, period); the same
value again adds nothing, a changed value adds revision n+1 and keeps the old row (``is_latest``
moves). Each call is one transaction. When several sources report the same fact, the source with
the lowest ``precedence`` is current and the others stay visible in the history.

Bulk writes go through SQLAlchemy Core executemany (about 20× faster than one ORM object per row).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from monitor import messages, models
from monitor.errors import StorageError, driver_message

log = logging.getLogger(__name__)

FACT_KEY = ["subject_type", "subject_id", "indicator", "period"]
OBS_COLUMNS = [
    *FACT_KEY,
    "value",
    "raw_value",
    "raw_unit",
    "citation",
    "source_id",
    "run_id",
    "revision",
    "recorded_at",
]
# Two values closer than this (relative) are the same value re-reported, not a revision.
SAME_VALUE_RTOL = 1e-9

_DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
table_of = models.table_of
T_OBS = table_of(models.Observation)
T_SOURCE = table_of(models.Source)
T_RUN = table_of(models.CollectionRun)
T_REJECTION = table_of(models.Rejection)
T_PARK = table_of(models.Park)
T_REGION = table_of(models.Region)


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE for SQLite and PostgreSQL, as one executemany."""
    if not rows:
        return
    name = conn.dialect.name
    dialect_insert: Any = _DIALECT_INSERT.get(name)
    if dialect_insert is None:
        raise StorageError(f"database dialect {name!r} is not supported; use SQLite or PostgreSQL")
    stmt = dialect_insert(table)
    cols = update if update is not None else [c for c in rows[0] if c not in keys]
    if cols:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in cols}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(stmt, [dict(r) for r in rows])


# --- sources, runs, rejections -------------------------------------------------------------


def ensure_source(
    conn: Connection,
    source_id: str,
    *,
    kind: str,
    location: str = "",
    precedence: int = models.DEFAULT_PRECEDENCE,
    is_demo: bool = False,
    description: str = "",
    config_hash: str = "",
) -> None:
    upsert(
        conn,
        table_of(models.Source),
        [
            {
                "id": source_id,
                "kind": kind,
                "location": location,
                "precedence": precedence,
                "is_demo": is_demo,
                "description": description,
                "config_hash": config_hash,
            }
        ],
        ["id"],
    )


def start_run(engine: Engine, source_id: str, *, host: str = "", pid: int | None = None) -> int:
    """Record the start of a collection run (committed at once, so a crash leaves a trace)."""
    with engine.begin() as conn:
        result = conn.execute(
            sa.insert(T_RUN).values(
                source_id=source_id,
                started_at=models.utcnow(),
                status=models.RunStatus.running,
                host=host,
                pid=pid,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def finish_run(
    engine: Engine,
    run_id: int,
    *,
    status: models.RunStatus,
    counts: Mapping[str, int] | None = None,
    error: object = "",
    state: Mapping[str, Any] | None = None,
) -> None:
    """Close a run; ``error`` is a message (kept as data too, shown per language) or text."""
    message = messages.of(error)
    values: dict[str, Any] = {
        "status": status,
        "finished_at": models.utcnow(),
        "error": str(message),
        "error_data": messages.data_of(message),
    }
    for key, value in (counts or {}).items():
        values[key if key == "requests" else f"rows_{key}"] = int(value)
    if state is not None:
        values["state"] = json.dumps(dict(state), ensure_ascii=False, sort_keys=True)
    with engine.begin() as conn:
        conn.execute(sa.update(T_RUN).where(T_RUN.c.id == run_id).values(**values))


def add_rejections(
    conn: Connection, run_id: int, source_id: str, rejections: Iterable[Mapping[str, Any]]
) -> int:
    """Quarantine rejected rows: each has location, field_name, value, reason (a message or text)
    and raw (any JSON). A message is kept as data too, to be shown in the reader's language."""
    rows = []
    now = models.utcnow()
    for r in rejections:
        raw = r.get("raw", "")
        reason = messages.of(r.get("reason", ""))
        rows.append(
            {
                "run_id": run_id,
                "source_id": source_id,
                "location": str(r.get("location", "")),
                "field_name": str(r.get("field_name", "")),
                "value": str(r.get("value", "")),
                "reason": str(reason),
                "reason_data": messages.data_of(reason),
                "raw": raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False),
                "created_at": now,
            }
        )
    if rows:
        conn.execute(sa.insert(T_REJECTION), rows)
    return len(rows)


# --- observations --------------------------------------------------------------------------


@dataclass(frozen=True)
class UpsertResult:
    """What one batch did: new facts, changed facts (new revisions), unchanged re-reports."""

    inserted: int
    revised: int
    unchanged: int
    duplicates_in_batch: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.revised


def _prepare_batch(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    missing = [c for c in [*FACT_KEY, "value"] if c not in frame.columns]
    if missing:
        raise StorageError(f"observation batch lacks column(s) {', '.join(missing)}")
    batch = frame.loc[
        :,
        [
            c
            for c in frame.columns
            if c in {*FACT_KEY, "value", "raw_value", "raw_unit", "citation"}
        ],
    ]
    batch = batch.copy()
    for column in ("raw_value", "raw_unit", "citation"):
        if column not in batch.columns:
            batch[column] = ""
        batch[column] = batch[column].fillna("").astype(str)
    for column in FACT_KEY:
        batch[column] = batch[column].astype(str)
    values = pd.to_numeric(batch["value"], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        first = batch.loc[bad].iloc[0]
        raise StorageError(
            f"{int(bad.sum())} observation(s) have no finite value (first: "
            f"{first['subject_id']} {first['indicator']} {first['period']} = {first['value']!r}); "
            "a missing value is not an observation and must not reach the store"
        )
    batch["value"] = values.astype(float)
    twice = batch.duplicated(FACT_KEY, keep=False)
    if twice.any():
        first = batch.loc[twice].iloc[0]
        raise StorageError(
            f"{int(twice.sum())} observation(s) of one batch report the same fact "
            f"(first: {first['subject_id']} {first['indicator']} {first['period']}); a batch "
            "never overwrites itself — the collectors quarantine such rows as conflicts"
        )
    return batch, 0


def _latest_for(conn: Connection, source_id: str, batch: pd.DataFrame) -> pd.DataFrame:
    indicators = sorted(batch["indicator"].unique())
    periods = sorted(batch["period"].unique())
    stmt = sa.select(
        T_OBS.c.id,
        T_OBS.c.subject_type,
        T_OBS.c.subject_id,
        T_OBS.c.indicator,
        T_OBS.c.period,
        T_OBS.c.value.label("old_value"),
        T_OBS.c.revision.label("old_revision"),
    ).where(T_OBS.c.source_id == source_id, T_OBS.c.is_latest.is_(True))
    # Narrow the read when the batch is narrow; IN lists stay well under parameter limits.
    if len(indicators) <= 500:
        stmt = stmt.where(T_OBS.c.indicator.in_(indicators))
    if len(periods) <= 500:
        stmt = stmt.where(T_OBS.c.period.in_(periods))
    latest = _frame(conn.execute(stmt).all(), ["id", *FACT_KEY, "old_value", "old_revision"])
    for column in FACT_KEY:
        latest[column] = latest[column].astype(str)
    return latest


def upsert_observations(
    engine: Engine,
    frame: pd.DataFrame,
    *,
    source_id: str,
    run_id: int | None = None,
    conn: Connection | None = None,
) -> UpsertResult:
    """Store a batch of observations with revision semantics, in one transaction.

    ``frame`` has columns subject_type, subject_id, indicator, period, value (canonical unit) and
    optionally raw_value, raw_unit. Pass ``conn`` to join a caller's transaction (e.g. with the
    run's rejections); otherwise the batch commits or rolls back on its own.
    """
    batch, duplicates = _prepare_batch(frame)
    if batch.empty:
        return UpsertResult(0, 0, 0, duplicates)
    if conn is None:
        try:
            with engine.begin() as own:
                return _upsert_in(own, batch, source_id, run_id, duplicates)
        except IntegrityError as exc:
            raise StorageError(
                f"source {source_id!r}: another writer stored the same facts at the same time; "
                f"nothing from this batch was kept, run the collection again ({exc.orig})"
            ) from exc
        except SQLAlchemyError as exc:
            raise StorageError(
                f"source {source_id!r}: storing observations failed: {driver_message(exc)}"
            ) from exc
    return _upsert_in(conn, batch, source_id, run_id, duplicates)


def _upsert_in(
    conn: Connection, batch: pd.DataFrame, source_id: str, run_id: int | None, duplicates: int
) -> UpsertResult:
    latest = _latest_for(conn, source_id, batch)
    merged = batch.merge(latest, on=FACT_KEY, how="left", validate="one_to_one")
    has_old = merged["old_revision"].notna().to_numpy()
    old_values = merged["old_value"].to_numpy(dtype=float, na_value=np.nan)
    same = has_old & np.isclose(
        merged["value"].to_numpy(dtype=float), old_values, rtol=SAME_VALUE_RTOL, atol=0.0
    )
    changed = has_old & ~same
    new = ~has_old
    to_write = merged.loc[changed | new]
    if not to_write.empty:
        revisions = np.where(
            to_write["old_revision"].notna(),
            to_write["old_revision"].fillna(0).astype(int) + 1,
            1,
        )
        stale_ids = merged.loc[changed, "id"].astype(int).tolist()
        if stale_ids:
            conn.execute(
                sa.update(T_OBS)
                .where(T_OBS.c.id == sa.bindparam("stale_id"))
                .values(is_latest=False),
                [{"stale_id": i} for i in stale_ids],
            )
        n = len(to_write)
        columns = {
            "subject_type": to_write["subject_type"].tolist(),
            "subject_id": to_write["subject_id"].tolist(),
            "indicator": to_write["indicator"].tolist(),
            "period": to_write["period"].tolist(),
            "value": to_write["value"].to_numpy(dtype=float).tolist(),
            "raw_value": to_write["raw_value"].tolist(),
            "raw_unit": to_write["raw_unit"].tolist(),
            "citation": to_write["citation"].tolist(),
            "source_id": [source_id] * n,
            "run_id": [run_id] * n,
            "revision": revisions.astype(int).tolist(),
            "is_latest": [True] * n,
            "recorded_at": [_db_time(conn, models.utcnow())] * n,
        }
        _bulk_insert(conn, T_OBS, columns)
    return UpsertResult(
        inserted=int(new.sum()),
        revised=int(changed.sum()),
        unchanged=int(same.sum()),
        duplicates_in_batch=duplicates,
    )


def _frame(rows: Sequence[Any], columns: Sequence[str]) -> pd.DataFrame:
    """Rows to a frame column by column (pandas probing each SQLAlchemy Row is ~10× slower)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame(dict(zip(columns, (list(c) for c in zip(*rows, strict=True)), strict=True)))


def _db_time(conn: Connection, moment: datetime) -> datetime | str:
    """A UTC time as the driver stores it for the DateTime columns (SQLite keeps naive text)."""
    if conn.dialect.name == "sqlite":
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return moment


def _bulk_insert(conn: Connection, table: sa.Table, columns: Mapping[str, list[Any]]) -> None:
    """INSERT many rows as one driver-level executemany of tuples.

    For large batches SQLAlchemy's per-row parameter processing costs more than the insert itself
    (measured: 62k rows/s through ``insert(table)`` with dicts vs raw sqlite3's 440k). Values here
    are already plain Python in the database's representation (see ``_db_time``), so they go
    straight to the driver through the same connection and transaction.
    """
    names = list(columns)
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    preparer = conn.dialect.identifier_preparer
    sql = (
        f"INSERT INTO {preparer.format_table(table)} "
        f"({', '.join(preparer.quote(n) for n in names)}) "
        f"VALUES ({', '.join([placeholder] * len(names))})"
    )
    rows = list(zip(*(columns[n] for n in names), strict=True))
    if rows:
        conn.exec_driver_sql(sql, rows)


def observations_frame(
    engine: Engine,
    *,
    as_of: datetime | None = None,
    as_of_run: int | None = None,
    indicators: Sequence[str] | None = None,
    subject_type: str | None = None,
    periods: Sequence[str] | None = None,
    history: bool = False,
) -> pd.DataFrame:
    """Observations as a frame: by default the current value of each fact.

    ``as_of`` (a UTC time) or ``as_of_run`` (a run id) give the values as they stood then;
    ``history=True`` returns every revision from every source instead.
    """
    stmt = sa.select(*(T_OBS.c[c] for c in OBS_COLUMNS), T_SOURCE.c.precedence).select_from(
        T_OBS.join(T_SOURCE, T_SOURCE.c.id == T_OBS.c.source_id, isouter=True)
    )
    if indicators is not None:
        stmt = stmt.where(T_OBS.c.indicator.in_(list(indicators)))
    if subject_type is not None:
        stmt = stmt.where(T_OBS.c.subject_type == subject_type)
    if periods is not None:
        stmt = stmt.where(T_OBS.c.period.in_([str(p) for p in periods]))
    point_in_time = as_of is not None or as_of_run is not None
    if as_of is not None:
        stmt = stmt.where(T_OBS.c.recorded_at <= as_of)
    if as_of_run is not None:
        stmt = stmt.where(T_OBS.c.run_id <= as_of_run)
    if not history and not point_in_time:
        stmt = stmt.where(T_OBS.c.is_latest.is_(True))
    try:
        with engine.connect() as conn:
            frame = _frame(conn.execute(stmt).all(), [*OBS_COLUMNS, "precedence"])
    except SQLAlchemyError as exc:
        raise StorageError(f"reading observations failed: {driver_message(exc)}") from exc
    frame["value"] = frame["value"].astype(float)
    frame["precedence"] = frame["precedence"].fillna(10**6).astype(int)
    if history:
        return frame.sort_values([*FACT_KEY, "source_id", "revision"]).reset_index(drop=True)
    if point_in_time:
        frame = frame.sort_values("revision").drop_duplicates([*FACT_KEY, "source_id"], keep="last")
    frame = frame.sort_values(["precedence", "source_id"]).drop_duplicates(FACT_KEY, keep="first")
    return frame.drop(columns="precedence").sort_values(FACT_KEY).reset_index(drop=True)


def count_rows(engine: Engine, model: type[Any]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table_of(model))).scalar_one()
        )


# --- parks and regions ---------------------------------------------------------------------


@contextmanager
def _connection(bind: Engine | Connection) -> Iterator[Connection]:
    """Use the caller's connection (inside its transaction) or open one from an engine."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def update_park_locations(conn: Connection, located: pd.DataFrame) -> None:
    """Write geo_district_id, in_belt and belt_basis computed by ``monitor.belt``."""
    rows = [
        {
            "pid": r["id"],
            "geo_district_id": r["geo_district_id"],
            "in_belt": bool(r["in_belt"]),
            "belt_basis": r["belt_basis"],
        }
        for r in located.to_dict("records")
    ]
    if rows:
        conn.execute(
            sa.update(T_PARK)
            .where(T_PARK.c.id == sa.bindparam("pid"))
            .values(
                geo_district_id=sa.bindparam("geo_district_id"),
                in_belt=sa.bindparam("in_belt"),
                belt_basis=sa.bindparam("belt_basis"),
            ),
            rows,
        )


def upsert_parks(conn: Connection, parks: Sequence[Mapping[str, Any]]) -> None:
    rows = [{**p, "updated_at": models.utcnow()} for p in parks]
    upsert(conn, T_PARK, rows, ["id"])


def upsert_regions(conn: Connection, regions: Sequence[Mapping[str, Any]]) -> None:
    upsert(conn, T_REGION, regions, ["id"])


def parks_frame(
    engine: Engine | Connection,
    *,
    kinds: Sequence[str] | None = None,
    districts: Sequence[str] | None = None,
    belt_roles: Sequence[str] | None = None,
    include_demo: bool = True,
) -> gpd.GeoDataFrame:
    """Parks as a GeoDataFrame in WGS-84 (EPSG:4326); parks without a location have no geometry."""
    stmt = sa.select(*(c for c in T_PARK.c if c.name != "boundary"))
    if kinds:
        stmt = stmt.where(T_PARK.c.kind.in_(list(kinds)))
    if districts:
        stmt = stmt.where(T_PARK.c.district_id.in_(list(districts)))
    if belt_roles:
        stmt = stmt.where(T_PARK.c.belt_role.in_(list(belt_roles)))
    if not include_demo:
        stmt = stmt.where(T_PARK.c.is_demo.is_(False))
    stmt = stmt.order_by(T_PARK.c.id)
    with _connection(engine) as conn:
        result = conn.execute(stmt)
        frame = _frame(result.all(), list(result.keys()))
    for column in ("kind", "level", "belt_role", "location_quality"):
        frame[column] = frame[column].map(lambda v: getattr(v, "value", v))
    lon = frame["lon"].to_numpy(dtype=float, na_value=np.nan)
    lat = frame["lat"].to_numpy(dtype=float, na_value=np.nan)
    located = ~(np.isnan(lon) | np.isnan(lat))
    points = np.full(len(frame), None, dtype=object)
    points[located] = shapely.points(lon[located], lat[located])
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, crs="EPSG:4326"))


def regions_frame(
    engine: Engine | Connection, *, levels: Sequence[str] | None = None
) -> gpd.GeoDataFrame:
    """Regions as a GeoDataFrame in WGS-84; geometry decoded from the stored WKB."""
    stmt = sa.select(T_REGION)
    if levels:
        stmt = stmt.where(T_REGION.c.level.in_(list(levels)))
    with _connection(engine) as conn:
        result = conn.execute(stmt.order_by(T_REGION.c.id))
        frame = _frame(result.all(), list(result.keys()))
    frame["level"] = frame["level"].map(lambda v: getattr(v, "value", v))
    geometry = [None if b is None else shapely.from_wkb(bytes(b)) for b in frame.pop("geometry")]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))


def latest_ratings(engine: Engine | Connection) -> pd.DataFrame:
    """Each park's most recent rating: park_id, year, stars, score, methodology."""
    t = table_of(models.Rating)
    latest = (
        sa.select(t.c.park_id, sa.func.max(t.c.year).label("year")).group_by(t.c.park_id).subquery()
    )
    stmt = (
        sa.select(t.c.park_id, t.c.year, t.c.stars, t.c.score, t.c.methodology)
        .join(latest, sa.and_(t.c.park_id == latest.c.park_id, t.c.year == latest.c.year))
        .order_by(t.c.park_id, t.c.computed_at)
    )
    with _connection(engine) as conn:
        frame = _frame(
            conn.execute(stmt).all(), ["park_id", "year", "stars", "score", "methodology"]
        )
    return frame.drop_duplicates("park_id", keep="last").reset_index(drop=True)


def last_run_state(engine: Engine, source_id: str) -> dict[str, Any]:
    """The incremental state (ETag, cursor, file hashes) of the source's last good run."""
    stmt = (
        sa.select(T_RUN.c.state)
        .where(
            T_RUN.c.source_id == source_id,
            T_RUN.c.status.in_([models.RunStatus.ok, models.RunStatus.partial]),
        )
        .order_by(T_RUN.c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        value = conn.execute(stmt).scalar()
    if not value:
        return {}
    state = json.loads(value)
    return state if isinstance(state, dict) else {}


def upsert_recognitions(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    upsert(conn, table_of(models.Recognition), rows, ["park_id", "level", "year"])


def indicator_rows(engine: Engine) -> list[dict[str, Any]]:
    t = table_of(models.Indicator)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(t)).mappings()]


def subject_rows(engine: Engine, subject_type: str) -> list[tuple[str, str, list[str]]]:
    """(id, name, aliases) of every park or region, for matching names in collected data."""
    with engine.connect() as conn:
        if subject_type == "region":
            result = conn.execute(sa.select(T_REGION.c.id, T_REGION.c.name)).all()
            return [(str(i), str(n), []) for i, n in result]
        rows = conn.execute(sa.select(T_PARK.c.id, T_PARK.c.name, T_PARK.c.aliases)).all()
    return [(str(i), str(n), [a for a in (al or "").split("|") if a]) for i, n, al in rows]


def runs_frame(
    engine: Engine, *, source_id: str | None = None, limit: int = 20, lang: str = "en"
) -> pd.DataFrame:
    """The latest runs, newest first; errors in ``lang``."""
    stmt = sa.select(T_RUN).order_by(T_RUN.c.id.desc()).limit(limit)
    if source_id:
        stmt = stmt.where(T_RUN.c.source_id == source_id)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        frame = _frame(result.all(), list(result.keys()))
    if "status" in frame:
        frame["status"] = frame["status"].map(lambda v: getattr(v, "value", v))
    if not frame.empty:
        frame["error"] = [
            messages.stored(d, e, lang)
            for d, e in zip(frame["error_data"], frame["error"], strict=True)
        ]
    return frame.drop(columns=["error_data"], errors="ignore")


def rejections_frame(
    engine: Engine,
    *,
    run_id: int | None = None,
    source_id: str | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """Rejections of one run, or of each source's latest run that had any; locations and
    reasons in ``lang``."""
    columns = ["run_id", "source_id", "location", "field_name", "value", "reason", "raw"]
    stmt = sa.select(*(T_REJECTION.c[c] for c in columns), T_REJECTION.c.reason_data).order_by(
        T_REJECTION.c.id
    )
    if run_id is not None:
        stmt = stmt.where(T_REJECTION.c.run_id == run_id)
    else:
        latest = (
            sa.select(sa.func.max(T_REJECTION.c.run_id))
            .group_by(T_REJECTION.c.source_id)
            .scalar_subquery()
        )
        stmt = stmt.where(T_REJECTION.c.run_id.in_(latest))
    if source_id:
        stmt = stmt.where(T_REJECTION.c.source_id == source_id)
    with engine.connect() as conn:
        frame = _frame(conn.execute(stmt).all(), [*columns, "reason_data"])
    if not frame.empty:
        frame["reason"] = [
            messages.stored(d, r, lang)
            for d, r in zip(frame["reason_data"], frame["reason"], strict=True)
        ]
        frame["location"] = frame["location"].map(lambda v: messages.location(str(v), lang))
    return frame[columns]


def upsert_ratings(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store ratings; the same subject, year and methodology hash is rewritten, not duplicated
    (its first computation time is kept, so an identical re-run leaves identical rows)."""
    if not rows:
        return
    keys = ["park_id", "year", "methodology_hash"]
    update = [c for c in rows[0] if c not in (*keys, "computed_at")]
    with engine.begin() as conn:
        upsert(conn, table_of(models.Rating), rows, keys, update)


def ratings_frame(
    engine: Engine, year: int | None = None, methodology_hash: str | None = None
) -> pd.DataFrame:
    t = table_of(models.Rating)
    stmt = sa.select(t)
    if year is not None:
        stmt = stmt.where(t.c.year == year)
    if methodology_hash is not None:
        stmt = stmt.where(t.c.methodology_hash == methodology_hash)
    with engine.connect() as conn:
        result = conn.execute(stmt.order_by(t.c.methodology, t.c.rank, t.c.park_id))
        return _frame(result.all(), list(result.keys()))


def upsert_rankings(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    upsert(conn, table_of(models.RankingEntry), rows, ["ranking", "year", "subject_id"])


def rankings_frame(engine: Engine) -> pd.DataFrame:
    t = table_of(models.RankingEntry)
    with engine.connect() as conn:
        result = conn.execute(sa.select(t).order_by(t.c.ranking, t.c.year))
        frame = _frame(result.all(), list(result.keys()))
    if "subject_type" in frame:
        frame["subject_type"] = frame["subject_type"].map(lambda v: getattr(v, "value", v))
    frame = frame.rename(columns={"position_relation": "relation"})
    return frame


def recognitions_frame(engine: Engine) -> pd.DataFrame:
    t = table_of(models.Recognition)
    with engine.connect() as conn:
        result = conn.execute(sa.select(t))
        frame = _frame(result.all(), list(result.keys()))
    if "level" in frame:
        frame["level"] = frame["level"].map(lambda v: getattr(v, "value", v))
    return frame


def run_periods(engine: Engine, run_id: int) -> list[str]:
    """The periods a run wrote observations for (to know which years to re-rate)."""
    with engine.connect() as conn:
        rows = (
            conn.execute(sa.select(T_OBS.c.period).where(T_OBS.c.run_id == run_id).distinct())
            .scalars()
            .all()
        )
    return [str(r) for r in rows]
