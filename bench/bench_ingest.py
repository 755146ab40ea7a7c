"""Benchmark: ingest 1,000,000 observations from CSV through the file collector and the store,
as a ratio against a raw ``sqlite3.executemany`` of the same rows in the same run.

The CSV is a wide report (one row per carrier and year, one column per indicator), like the
Torch annual statistics: 5,000 carriers × 5 years × 40 indicators = 1,000,000 values.

    python bench/bench_ingest.py [CARRIERS]      # default 5000 → 1,000,000 observations
"""

from __future__ import annotations

import csv
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from collectors.run import collect
from collectors.sources import parse_source
from monitor import db, pipeline, store
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
            "raw_value, raw_unit, source_id, run_id, revision, is_latest, recorded_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
        )
        rows: list[tuple[object, ...]] = [
            ("park", s, i, p, v, f"{v:g}", "", "bench", 1, 1, 1, "2026-01-01 00:00:00.000000")
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


def through_collector(folder: Path, parks: int) -> tuple[float, int]:
    engine = db.make_engine(f"sqlite:///{folder / 'parkmon.db'}")
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
            "columns": {f"指标{j:02d}": f"bench_{j:02d}" for j in range(N_INDICATORS)},
        },
        1,
        folder / "sources.toml",
    )
    t0 = time.perf_counter()
    result = collect(engine, spec)
    elapsed = time.perf_counter() - t0
    assert result.status.value == "ok", result.error
    engine.dispose()
    return elapsed, result.accepted


def main() -> None:
    parks = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        facts = write_csv(folder / "data.csv", parks)
        same = raw_baseline(folder / "same.db", facts, same_schema=True)
        bare = raw_baseline(folder / "bare.db", facts, same_schema=False)
        ours, accepted = through_collector(folder, parks)
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


if __name__ == "__main__":
    main()
