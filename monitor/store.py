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
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from monitor import messages, models
from monitor.observations import (
    FACT_KEY,
    MAX_SUBJECTS_IN,
    OBS_COLUMNS,
    SAME_VALUE_RTOL,
    UpsertResult,
    count_rows,
    observations_frame,
    upsert_observations,
)
from monitor.tables import (
    T_OBS,
    T_PARK,
    T_PARK_DISTRICT,
    T_REGION,
    T_REJECTION,
    T_RUN,
    T_SOURCE,
    bulk_insert,
    connection,
    frame_of,
    read_frame,
    set_meta,
    table_of,
    upsert,
)

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

__all__ = [
    "FACT_KEY",
    "OBS_COLUMNS",
    "SAME_VALUE_RTOL",
    "T_OBS",
    "T_PARK",
    "T_REGION",
    "T_REJECTION",
    "T_RUN",
    "T_SOURCE",
    "UpsertResult",
    "count_rows",
    "observations_frame",
    "table_of",
    "upsert",
    "upsert_observations",
]

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


# --- parks and regions ---------------------------------------------------------------------


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
    """Insert or update carriers. A row's ``districts`` (adcodes, principal first; default: its
    ``district_id`` alone) replaces the districts the registry declared for it."""
    now = models.utcnow()
    rows = [{k: v for k, v in p.items() if k != "districts"} | {"updated_at": now} for p in parks]
    upsert(conn, T_PARK, rows, ["id"])
    declared = {
        str(p["id"]): [str(d) for d in (p.get("districts") or [p["district_id"]]) if d]
        for p in parks
        if "district_id" in p or "districts" in p
    }
    if not declared:
        return
    t = T_PARK_DISTRICT
    ids = list(declared)
    for start in range(0, len(ids), MAX_SUBJECTS_IN):
        part = ids[start : start + MAX_SUBJECTS_IN]
        conn.execute(sa.delete(t).where(t.c.park_id.in_(part), t.c.basis == "declared"))
    links = [
        (pid, code, i == 0)
        for pid, codes in declared.items()
        for i, code in enumerate(dict.fromkeys(codes))
    ]
    bulk_insert(
        conn,
        t,
        {
            "park_id": [link[0] for link in links],
            "district_id": [link[1] for link in links],
            "principal": [link[2] for link in links],
            "basis": ["declared"] * len(links),
        },
    )


def park_districts(engine: Engine | Connection) -> dict[str, list[str]]:
    """Each carrier's districts, principal first."""
    t = T_PARK_DISTRICT
    stmt = sa.select(t.c.park_id, t.c.district_id).order_by(
        t.c.park_id, t.c.principal.desc(), t.c.district_id
    )
    found: dict[str, list[str]] = {}
    with connection(engine) as conn:
        for pid, code in conn.execute(stmt):
            found.setdefault(pid, []).append(code)
    return found


def upsert_regions(conn: Connection, regions: Sequence[Mapping[str, Any]]) -> None:
    upsert(conn, T_REGION, regions, ["id"])


def park_table(
    engine: Engine | Connection,
    *,
    columns: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    districts: Sequence[str] | None = None,
    belt_roles: Sequence[str] | None = None,
    include_demo: bool = True,
    ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The registry as a plain frame (no geometry, enums as their text values), by id
    (``ids``: only these carriers).

    ``columns`` reads only those (``id`` always comes): a comparison or a count needs five of
    the registry's twenty columns, and at 20,000 carriers the rest is most of the read.
    """
    names = [c.name for c in T_PARK.c if c.name != "boundary"]
    if columns is not None:
        unknown = set(columns) - set(names)
        if unknown:
            raise ValueError(f"not park columns: {sorted(unknown)}")
        names = [n for n in names if n == "id" or n in columns]
    stmt = sa.select(*(T_PARK.c[n] for n in names))
    if kinds:
        stmt = stmt.where(T_PARK.c.kind.in_(list(kinds)))
    if districts:
        stmt = stmt.where(T_PARK.c.district_id.in_(list(districts)))
    if belt_roles:
        stmt = stmt.where(T_PARK.c.belt_role.in_(list(belt_roles)))
    if not include_demo:
        stmt = stmt.where(T_PARK.c.is_demo.is_(False))
    if ids is not None:
        stmt = stmt.where(T_PARK.c.id.in_(list(ids)))
    with connection(engine) as conn:
        frame = read_frame(conn, stmt.order_by(T_PARK.c.id))
    for column in ("kind", "level", "belt_role", "location_quality"):
        if column in frame:
            frame[column] = frame[column].map(lambda v: getattr(v, "value", v))
    return frame


def parks_frame(
    engine: Engine | Connection,
    *,
    kinds: Sequence[str] | None = None,
    districts: Sequence[str] | None = None,
    belt_roles: Sequence[str] | None = None,
    include_demo: bool = True,
) -> gpd.GeoDataFrame:
    """Parks as a GeoDataFrame in WGS-84 (EPSG:4326); parks without a location have no geometry.
    (``park_table`` when no geometry is needed: it spares loading geopandas.)"""
    import geopandas as gpd  # noqa: PLC0415  (only where geometry is wanted)
    import shapely  # noqa: PLC0415

    frame = park_table(
        engine, kinds=kinds, districts=districts, belt_roles=belt_roles, include_demo=include_demo
    )
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
    import geopandas as gpd  # noqa: PLC0415  (only where geometry is wanted)
    import shapely  # noqa: PLC0415

    stmt = sa.select(T_REGION)
    if levels:
        stmt = stmt.where(T_REGION.c.level.in_(list(levels)))
    with connection(engine) as conn:
        result = conn.execute(stmt.order_by(T_REGION.c.id))
        frame = frame_of(result.all(), list(result.keys()))
    frame["level"] = frame["level"].map(lambda v: getattr(v, "value", v))
    geometry = [None if b is None else shapely.from_wkb(bytes(b)) for b in frame.pop("geometry")]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))


def latest_ratings(engine: Engine | Connection) -> pd.DataFrame:
    """Each park's most recent rating: subject_id, year, stars, score, methodology."""
    t = table_of(models.Rating)
    latest = (
        sa.select(t.c.subject_id, sa.func.max(t.c.year).label("year"))
        .group_by(t.c.subject_id)
        .subquery()
    )
    stmt = (
        sa.select(t.c.subject_id, t.c.year, t.c.stars, t.c.score, t.c.methodology)
        .join(latest, sa.and_(t.c.subject_id == latest.c.subject_id, t.c.year == latest.c.year))
        .order_by(t.c.subject_id, t.c.computed_at)
    )
    with connection(engine) as conn:
        frame = frame_of(
            conn.execute(stmt).all(), ["subject_id", "year", "stars", "score", "methodology"]
        )
    return frame.drop_duplicates("subject_id", keep="last").reset_index(drop=True)


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


def _already_there(
    conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> int:
    """How many of ``rows`` exist already (by ``keys``): a re-collection reports them unchanged,
    not new."""
    if not rows:
        return 0
    wanted = {tuple(r[k] for k in keys) for r in rows}
    first = keys[0]
    stmt = sa.select(*(table.c[k] for k in keys)).where(
        table.c[first].in_(sorted({r[first] for r in rows}))
    )
    return sum(1 for found in conn.execute(stmt) if tuple(found) in wanted)


def upsert_recognitions(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Store recognitions; returns how many were new."""
    table, keys = table_of(models.Recognition), ["park_id", "level", "year"]
    known = _already_there(conn, table, rows, keys)
    upsert(conn, table, rows, keys)
    return len(rows) - known


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
        frame = frame_of(result.all(), list(result.keys()))
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
        frame = frame_of(conn.execute(stmt).all(), [*columns, "reason_data"])
    if not frame.empty:
        frame["reason"] = [
            messages.stored(d, r, lang)
            for d, r in zip(frame["reason_data"], frame["reason"], strict=True)
        ]
        frame["location"] = frame["location"].map(lambda v: messages.location(str(v), lang))
    return frame[columns]


RATINGS_MARK = "ratings_written"  # parkmon_meta key changed by every write of ratings


def upsert_ratings(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store ratings; the same subject, year and methodology hash is rewritten, not duplicated
    (its first computation time is kept, so an identical re-run leaves identical rows)."""
    if not rows:
        return
    keys = ["subject_id", "year", "methodology_hash"]
    update = [c for c in rows[0] if c not in (*keys, "computed_at")]
    with engine.begin() as conn:
        upsert(conn, table_of(models.Rating), rows, keys, update)
        # a re-rate may keep every row's computed_at: readers that cache (the web application)
        # learn of the change from this mark, one indexed row
        set_meta(conn, RATINGS_MARK, uuid.uuid4().hex)


def ratings_frame(
    engine: Engine,
    year: int | None = None,
    methodology_hash: str | None = None,
    columns: Sequence[str] | None = None,
    subjects: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Stored ratings (of a year, of a methodology, of some subjects); ``columns`` reads only
    those (the breakdown JSON is most of a rating row)."""
    t = table_of(models.Rating)
    stmt = sa.select(t) if columns is None else sa.select(*(t.c[c] for c in columns))
    if subjects is not None:
        stmt = stmt.where(t.c.subject_id.in_(list(subjects)))
    if year is not None:
        stmt = stmt.where(t.c.year == year)
    if methodology_hash is not None:
        stmt = stmt.where(t.c.methodology_hash == methodology_hash)
    with engine.connect() as conn:
        return read_frame(conn, stmt.order_by(t.c.methodology, t.c.rank, t.c.subject_id))


def upsert_rankings(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Store ranking positions; returns how many were new."""
    table, keys = table_of(models.RankingEntry), ["ranking", "year", "subject_id"]
    known = _already_there(conn, table, rows, keys)
    upsert(conn, table, rows, keys)
    return len(rows) - known


def rankings_frame(engine: Engine) -> pd.DataFrame:
    t = table_of(models.RankingEntry)
    with engine.connect() as conn:
        result = conn.execute(sa.select(t).order_by(t.c.ranking, t.c.year))
        frame = frame_of(result.all(), list(result.keys()))
    if "subject_type" in frame:
        frame["subject_type"] = frame["subject_type"].map(lambda v: getattr(v, "value", v))
    frame = frame.rename(columns={"position_relation": "relation"})
    return frame


def recognitions_frame(engine: Engine) -> pd.DataFrame:
    t = table_of(models.Recognition)
    with engine.connect() as conn:
        result = conn.execute(sa.select(t))
        frame = frame_of(result.all(), list(result.keys()))
    if "level" in frame:
        frame["level"] = frame["level"].map(lambda v: getattr(v, "value", v))
    return frame


def observed_periods(engine: Engine) -> list[str]:
    """Every period with a stored observation (one query, not a read of the observations)."""
    with engine.connect() as conn:
        return [str(p) for p in conn.execute(sa.select(T_OBS.c.period).distinct()).scalars()]


def run_periods(engine: Engine, run_id: int) -> list[str]:
    """The periods a run wrote observations for (to know which years to re-rate)."""
    with engine.connect() as conn:
        rows = (
            conn.execute(sa.select(T_OBS.c.period).where(T_OBS.c.run_id == run_id).distinct())
            .scalars()
            .all()
        )
    return [str(r) for r in rows]
