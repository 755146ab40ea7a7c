"""Benchmark: bulk observation upsert through the store vs raw sqlite3 executemany (same run).

Prints rows/s for: raw sqlite3 executemany into an equivalent table (the floor), the store's
first insert (new facts), a re-run of the same batch (all unchanged: the cost of idempotence),
and one ORM object per row (what the store avoids). Ratios, not absolute times, are the result.

    python bench/bench_store.py [ROWS]

With ``PARKMON_TEST_PG_URL`` set it also compares the store's first insert on PostgreSQL (one COPY
through the same transaction) with a raw COPY into a table with the same columns and indexes.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlmodel import Session

from monitor import db, models, store


def make_frame(rows: int) -> pd.DataFrame:
    n_ind, n_years = 40, 5
    n_parks = rows // (n_ind * n_years)
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "subject_type": "park",
            "subject_id": np.repeat([f"P{i:05d}" for i in range(n_parks)], n_ind * n_years),
            "indicator": np.tile(
                np.repeat([f"ind_{j:02d}" for j in range(n_ind)], n_years), n_parks
            ),
            "period": np.tile([str(2020 + y) for y in range(n_years)], n_parks * n_ind),
            "value": rng.integers(0, 100_000, size=n_parks * n_ind * n_years).astype(float),
        }
    )


def bench_raw(path: Path, frame: pd.DataFrame) -> float:
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(
        "CREATE TABLE obs (id INTEGER PRIMARY KEY, subject_type, subject_id, indicator, "
        "period, value, raw_value, raw_unit, source_id, run_id, revision, is_latest, "
        "recorded_at, UNIQUE (source_id, subject_type, subject_id, indicator, period, "
        "revision))"
    )
    # the store's other index, so that the floor pays what the store pays per row
    con.execute("CREATE INDEX ix_obs_indicator_period ON obs (indicator, period)")
    rows = [
        (
            r.subject_type,
            r.subject_id,
            r.indicator,
            r.period,
            r.value,
            "",
            "",
            "s",
            1,
            1,
            1,
            "2026-01-01",
        )
        for r in frame.itertuples(index=False)
    ]
    t0 = time.perf_counter()
    con.executemany(
        "INSERT INTO obs (subject_type, subject_id, indicator, period, value, "
        "raw_value, raw_unit, source_id, run_id, revision, is_latest, recorded_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    con.commit()
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def bench_store(path: Path, frame: pd.DataFrame) -> tuple[float, float]:
    engine = db.make_engine(f"sqlite:///{path}")
    db.init_schema(engine)
    with engine.begin() as conn:
        store.ensure_source(conn, "s", kind="bench")
    t0 = time.perf_counter()
    store.upsert_observations(engine, frame, source_id="s", run_id=1)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = store.upsert_observations(engine, frame, source_id="s", run_id=2)
    again = time.perf_counter() - t0
    assert result.unchanged == len(frame)
    engine.dispose()
    return first, again


def bench_orm(path: Path, frame: pd.DataFrame) -> float:
    engine = db.make_engine(f"sqlite:///{path}")
    db.init_schema(engine)
    t0 = time.perf_counter()
    with Session(engine) as session:
        for r in frame.itertuples(index=False):
            session.add(
                models.Observation(
                    subject_type=models.SubjectType.park,
                    subject_id=r.subject_id,
                    indicator=r.indicator,
                    period=r.period,
                    value=r.value,
                    source_id="s",
                    run_id=1,
                )
            )
        session.commit()
    elapsed = time.perf_counter() - t0
    engine.dispose()
    return elapsed


def bench_postgres(url: str, frame: pd.DataFrame) -> tuple[float, float]:
    """On PostgreSQL, in a scratch schema dropped afterwards: raw COPY into a table with the
    store's columns and indexes (the floor), and the store's first insert of the same facts."""
    from bench_ingest import fresh_pg_schema, pg_raw_copy

    facts = list(
        zip(frame["subject_id"], frame["indicator"], frame["period"], frame["value"], strict=True)
    )
    with fresh_pg_schema(url) as engine:
        raw = pg_raw_copy(engine, facts)
        with engine.begin() as conn:
            store.ensure_source(conn, "bench-pg", kind="bench")
        t0 = time.perf_counter()
        store.upsert_observations(engine, frame, source_id="bench-pg", run_id=1)
        ours = time.perf_counter() - t0
    return raw, ours


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    frame = make_frame(rows)
    n = len(frame)
    with tempfile.TemporaryDirectory() as tmp:
        raw = bench_raw(Path(tmp) / "raw.db", frame)
        first, again = bench_store(Path(tmp) / "store.db", frame)
        orm = bench_orm(Path(tmp) / "orm.db", frame.iloc[: min(n, 50_000)])
        orm_rows = min(n, 50_000)
    print(f"rows: {n}")
    print(f"raw sqlite3 executemany : {n / raw:>10,.0f} rows/s")
    print(f"store, new facts        : {n / first:>10,.0f} rows/s  ({first / raw:.2f}x raw time)")
    print(f"store, unchanged re-run : {n / again:>10,.0f} rows/s  ({again / raw:.2f}x raw time)")
    print(
        f"ORM object per row      : {orm_rows / orm:>10,.0f} rows/s  "
        f"({(orm / orm_rows) / (raw / n):.1f}x raw time per row)"
    )
    url = os.environ.get("PARKMON_TEST_PG_URL")
    if url:
        pg_raw, pg_store = bench_postgres(url, frame)
        print(f"PostgreSQL raw COPY     : {n / pg_raw:>10,.0f} rows/s")
        print(
            f"PostgreSQL store, new   : {n / pg_store:>10,.0f} rows/s  "
            f"({pg_store / pg_raw:.2f}x raw COPY time)"
        )
    else:
        print("PostgreSQL: set PARKMON_TEST_PG_URL to compare the store with a raw COPY")


if __name__ == "__main__":
    main()
