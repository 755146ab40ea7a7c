"""Benchmark: ingest 1,000,000 observations from CSV through the file collector and the store,
as a ratio against a raw ``sqlite3.executemany`` of the same rows in the same run.

The CSV is a wide report (one row per carrier and year, one column per indicator), like the
Torch annual statistics: 5,000 carriers × 5 years × 40 indicators = 1,000,000 values.

    python bench/bench_ingest.py [CARRIERS]      # default 5000 → 1,000,000 observations
    python bench/bench_ingest.py --pg URL        # also on PostgreSQL, against a raw COPY

On PostgreSQL the collector writes into a fresh schema of the database URL names (dropped
afterwards), with parkmon's tables, indexes and — when the database has PostGIS — its
geometry columns in place; the baseline is psycopg's ``COPY`` of the same tuples into a copy of
the observation table with the same indexes.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors.run import collect
from collectors.sources import parse_source
from monitor import db, pipeline, spatial, store
from monitor.settings import bundled_config_dir

N_INDICATORS = 40
YEARS = (2021, 2022, 2023, 2024, 2025)


def write_csv(path: Path, parks: int) -> list[tuple[str, str, str, float]]:
    rng = np.random.default_rng(5)
    values = rng.integers(0, 100_000, size=(parks * len(YEARS), N_INDICATORS))
    facts = []
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["载体编号", "年份", *[f"指标{j:02d}" for j in range(N_INDICATORS)]])
        k = 0
        for i in range(parks):
            for year in YEARS:
                row = values[k]
                k += 1
                writer.writerow([f"B{i:05d}", year, *row.tolist()])
                facts.extend(
                    (f"B{i:05d}", f"bench_{j:02d}", str(year), float(v)) for j, v in enumerate(row)
                )
    return facts


def raw_baseline(
    path: Path, facts: list[tuple[str, str, str, float]], *, same_schema: bool
) -> float:
    """Raw sqlite3.executemany of the rows, already in memory. With ``same_schema`` the table is
    parkmon's own observation table (same columns, same indexes) and each row carries what the
    store writes; without it, a bare four-column table with no index (the floor)."""
    if same_schema:
        engine = db.make_engine(f"sqlite:///{path}")
        db.init_schema(engine)
        engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    if same_schema:
        sql = (
            "INSERT INTO observation (subject_type, subject_id, indicator, period, value, "
            "raw_value, raw_unit, citation, source_id, run_id, revision, is_latest, recorded_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
        )
        rows: list[tuple[object, ...]] = [
            ("park", s, i, p, v, f"{v:g}", "", "", "bench", 1, 1, 1, "2026-01-01 00:00:00.000000")
            for s, i, p, v in facts
        ]
    else:
        con.execute(
            "CREATE TABLE obs (id INTEGER PRIMARY KEY, subject_id, indicator, period, value)"
        )
        sql = "INSERT INTO obs (subject_id, indicator, period, value) VALUES (?,?,?,?)"
        rows = list(facts)
    t0 = time.perf_counter()
    con.executemany(sql, rows)
    con.commit()
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def through_collector(folder: Path, parks: int, engine: Engine) -> tuple[float, int]:
    pipeline.initialise(engine, bundled_config_dir())
    indicators = [
        {
            "code": f"bench_{j:02d}",
            "name_zh": f"指标{j:02d}",
            "name_en": f"Bench {j}",
            "unit": "个",
            "direction": "higher",
            "kinds": "incubator",
            "scope": "park",
            "group": "",
            "minimum": 0.0,
            "maximum": None,
            "description": "",
        }
        for j in range(N_INDICATORS)
    ]
    carriers = [
        {
            "id": f"B{i:05d}",
            "name": f"基准载体{i:05d}",
            "kind": "incubator",
            "level": "municipal",
            "district_id": "320613",
            "belt_role": "none",
            "location_quality": "missing",
        }
        for i in range(parks)
    ]
    with engine.begin() as conn:
        store.upsert(conn, store.table_of(store.models.Indicator), indicators, ["code"])
        store.upsert_parks(conn, carriers)
    spec = parse_source(
        {
            "id": "bench",
            "collector": "file",
            "location": "data.csv",
            "subject": {"column": "载体编号", "match": "id"},
            "period_column": "年份",
            "max_rows": 10_000_000,
            "max_bytes": 1 << 30,
            "max_cells": 100_000_000,
            "columns": {f"指标{j:02d}": f"bench_{j:02d}" for j in range(N_INDICATORS)},
        },
        1,
        folder / "sources.toml",
    )
    t0 = time.perf_counter()
    result = collect(engine, spec)
    elapsed = time.perf_counter() - t0
    assert result.status.value == "ok", result.error
    return elapsed, result.accepted


@contextmanager
def fresh_pg_schema(url: str) -> Iterator[Engine]:
    """An engine on a new schema of the database ``url`` names (public stays on the path for
    PostGIS); the schema is dropped afterwards."""
    name = f"bench_{os.getpid()}"
    admin = db.make_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    scoped = sa.engine.make_url(url).update_query_dict({"options": f"-csearch_path={name},public"})
    engine = db.make_engine(scoped.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def pg_raw_copy(engine: Engine, facts: list[tuple[str, str, str, float]]) -> float:
    """psycopg's COPY of the rows the store would write, into a copy of the observation table
    with the same indexes, in memory already (the practical limit on PostgreSQL)."""
    db.init_schema(engine)
    now = store.models.utcnow()
    rows = [
        ("park", s, i, p, v, f"{v:g}", "", "", "bench", 1, 1, True, now) for s, i, p, v in facts
    ]
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bench_obs (LIKE observation INCLUDING ALL)")
        driver = conn.connection.dbapi_connection
        t0 = time.perf_counter()
        with (
            driver.cursor() as cur,
            cur.copy(  # type: ignore[union-attr]
                "COPY bench_obs (subject_type, subject_id, indicator, period, value, raw_value, "
                "raw_unit, citation, source_id, run_id, revision, is_latest, recorded_at) "
                "FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_obs")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("carriers", nargs="?", type=int, default=5000)
    parser.add_argument("--pg", help="also on this PostgreSQL database (a scratch schema)")
    args = parser.parse_args()
    parks = args.carriers
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        facts = write_csv(folder / "data.csv", parks)
        same = raw_baseline(folder / "same.db", facts, same_schema=True)
        bare = raw_baseline(folder / "bare.db", facts, same_schema=False)
        engine = db.make_engine(f"sqlite:///{folder / 'parkmon.db'}")
        ours, accepted = through_collector(folder, parks, engine)
        engine.dispose()
        pg = None
        if args.pg:
            with fresh_pg_schema(args.pg) as pg_engine:
                pg_raw = pg_raw_copy(pg_engine, facts)
                with pg_engine.connect() as conn:
                    postgis = spatial.postgis_version(conn)
                pg_ours, pg_accepted = through_collector(folder, parks, pg_engine)
            assert pg_accepted == len(facts), (pg_accepted, len(facts))
            pg = (pg_raw, pg_ours, postgis)
    n = len(facts)
    assert accepted == n, (accepted, n)
    print(f"observations: {n:,}")
    print(f"raw executemany, parkmon's table and indexes: {same:6.2f} s  {n / same:>10,.0f}/s")
    print(f"raw executemany, bare table, no index:        {bare:6.2f} s  {n / bare:>10,.0f}/s")
    print(f"CSV → file collector → store:                 {ours:6.2f} s  {n / ours:>10,.0f}/s")
    print(
        f"ratio vs the same table: {ours / same:.2f}x (target: within 3x); "
        f"vs the bare table: {ours / bare:.2f}x"
    )
    if pg is not None:
        pg_raw, pg_ours, postgis = pg
        print(f"PostgreSQL{' + PostGIS ' + postgis if postgis else ''}:")
        for label, seconds in (
            ("raw COPY, parkmon's table and indexes:  ", pg_raw),
            ("CSV → file collector → store:           ", pg_ours),
        ):
            print(f"  {label}  {seconds:6.2f} s  {n / seconds:>10,.0f}/s")
        print(f"  ratio vs raw COPY: {pg_ours / pg_raw:.2f}x (the collector also reads the CSV)")


if __name__ == "__main__":
    main()
