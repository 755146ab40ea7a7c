"""Observations with revision semantics: a fact is (source, subject, indicator, period); the
same value again adds nothing, a changed value adds revision n+1 and keeps the old row. When
several sources report the same fact, the lowest ``precedence`` is current.

Bulk writes go to the driver directly (``tables.bulk_insert``: one executemany, or one COPY on
PostgreSQL), never one ORM object per row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from monitor import models
from monitor.errors import StorageError, driver_message
from monitor.tables import T_OBS, T_SOURCE, bulk_insert, db_time, read_frame, table_of

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
# A batch of at most this many subjects reads only their latest facts (the IN list stays well
# under SQLite's and PostgreSQL's parameter limits); a larger one reads the source's facts of
# its indicators and periods.
MAX_SUBJECTS_IN = 2_000
# Two values closer than this (relative) are the same value re-reported, not a revision.
SAME_VALUE_RTOL = 1e-9


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
    subjects = batch["subject_id"].unique()
    if len(subjects) <= MAX_SUBJECTS_IN:  # the unique index (source, type, subject, …) finds them
        stmt = stmt.where(T_OBS.c.subject_id.in_(sorted(subjects)))
    latest = read_frame(conn, stmt)
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
            "recorded_at": [db_time(conn, models.utcnow())] * n,
        }
        bulk_insert(conn, T_OBS, columns)
    return UpsertResult(
        inserted=int(new.sum()),
        revised=int(changed.sum()),
        unchanged=int(same.sum()),
        duplicates_in_batch=duplicates,
    )


def observations_frame(
    engine: Engine,
    *,
    as_of: datetime | None = None,
    as_of_run: int | None = None,
    indicators: Sequence[str] | None = None,
    subject_type: str | None = None,
    periods: Sequence[str] | None = None,
    history: bool = False,
    columns: Sequence[str] | None = None,
    subjects: Sequence[str] | sa.Select[Any] | None = None,
) -> pd.DataFrame:
    """Observations as a frame: by default the current value of each fact.

    ``as_of`` (a UTC time) or ``as_of_run`` (a run id) give the values as they stood then;
    ``history=True`` returns every revision from every source instead. ``columns`` limits what
    is read to what the caller needs (the fact, its value and its source always come): at scale
    most of the time goes into converting columns nobody looks at. ``subjects``: only these
    subjects (ids, or a query selecting ids, e.g. the carriers of one kind and level).
    """
    wanted = OBS_COLUMNS if columns is None else _with_key(columns)
    # Columns the filter fixes to one value are not read back but filled in afterwards (at a
    # year's 700,000 figures every column read costs), nor is the source joined per row: its
    # precedence comes from the small source table.
    fixed: dict[str, str] = {}
    if subject_type is not None:
        fixed["subject_type"] = subject_type
    if periods is not None and len({str(p) for p in periods}) == 1:
        fixed["period"] = str(next(iter(periods)))
    read = [c for c in wanted if c not in fixed]
    stmt = sa.select(*(T_OBS.c[c] for c in read))
    if indicators is not None:
        stmt = stmt.where(T_OBS.c.indicator.in_(list(indicators)))
    if subject_type is not None:
        stmt = stmt.where(T_OBS.c.subject_type == subject_type)
    if periods is not None:
        stmt = stmt.where(T_OBS.c.period.in_([str(p) for p in periods]))
    if subjects is not None:
        chosen = subjects if isinstance(subjects, sa.Select) else [str(s) for s in subjects]
        stmt = stmt.where(T_OBS.c.subject_id.in_(chosen))
    point_in_time = as_of is not None or as_of_run is not None
    if as_of is not None:
        stmt = stmt.where(T_OBS.c.recorded_at <= as_of)
    if as_of_run is not None:
        stmt = stmt.where(T_OBS.c.run_id <= as_of_run)
    if not history and not point_in_time:
        stmt = stmt.where(T_OBS.c.is_latest.is_(True))
    try:
        with engine.connect() as conn:
            frame = read_frame(conn, stmt)
            precedence = dict(conn.execute(sa.select(T_SOURCE.c.id, T_SOURCE.c.precedence)).all())
    except SQLAlchemyError as exc:
        raise StorageError(f"reading observations failed: {driver_message(exc)}") from exc
    for name, value in fixed.items():
        frame[name] = value
    frame = frame[wanted]
    frame["value"] = frame["value"].astype(float)
    if history:
        return frame.sort_values([*FACT_KEY, "source_id", "revision"]).reset_index(drop=True)
    if point_in_time:
        frame = frame.sort_values("revision").drop_duplicates([*FACT_KEY, "source_id"], keep="last")
    if frame["source_id"].nunique() > 1:
        # the current value of a fact reported by several sources: the lowest precedence wins
        # (ties: the first source id); ordered by integer codes, not by sorting the texts
        sources = frame["source_id"].astype("category")  # categories come sorted
        rank = sources.cat.codes.to_numpy().astype(np.int64)
        names = list(sources.cat.categories)
        unranked = 10**6
        order_of = np.array([precedence.get(n) or unranked for n in names], dtype=np.int64)
        key = order_of[rank] * len(names) + rank
        frame = frame.iloc[np.argsort(key, kind="stable")]
        frame = frame[~frame.duplicated(FACT_KEY, keep="first")]
    return frame.sort_values(FACT_KEY).reset_index(drop=True)


def _with_key(columns: Sequence[str]) -> list[str]:
    """``columns`` plus what identifying the current value needs, in OBS_COLUMNS order."""
    needed = {*FACT_KEY, "value", "source_id", "revision", *columns}
    unknown = needed - set(OBS_COLUMNS)
    if unknown:
        raise ValueError(f"not observation columns: {sorted(unknown)}")
    return [c for c in OBS_COLUMNS if c in needed]


def count_rows(engine: Engine, model: type[Any]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(table_of(model))).scalar_one()
        )
