"""The one place that knows the order of things: initialise a database, build the demo.

The CLI and (later) the scheduler call these functions; they never print.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from monitor import db, demo, models, store
from monitor.indicators import load_indicators
from monitor.registry import City, load_city, load_registry, region_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitSummary:
    schema_changes: list[str]
    regions: int
    parks: int
    indicators: int
    not_in_registry: list[str] = field(default_factory=list)


def initialise(engine: Engine, config_dir: Path) -> InitSummary:
    """Create or upgrade the schema and load the city, registry and indicator catalogue.

    Everything is validated before anything is written; the load is one transaction.
    """
    city = load_city(config_dir)
    parks = load_registry(config_dir, city)
    indicators = load_indicators(config_dir)
    changes = db.init_schema(engine)
    regions = region_rows(city)
    with engine.begin() as conn:
        store.upsert_regions(conn, regions)
        store.upsert_parks(conn, parks)
        store.upsert(conn, store.table_of(models.Indicator), indicators, ["code"])
        db.set_meta(conn, "city_adcode", city.adcode)
        park_table = store.T_PARK
        listed = {p["id"] for p in parks}
        registered = conn.execute(
            sa.select(park_table.c.id).where(park_table.c.is_demo.is_(False))
        ).scalars()
        orphans = sorted(set(registered) - listed)
    if orphans:
        log.warning("in the database but no longer in the registry (kept): %s", ", ".join(orphans))
    return InitSummary(changes, len(regions), len(parks), len(indicators), orphans)


@dataclass(frozen=True)
class DemoSummary:
    database: Path
    parks: pd.DataFrame
    observations: int
    recognitions: int
    years: tuple[int, ...]
    init: InitSummary


def load_demo(engine: Engine, city: City, seed: int = demo.DEMO_SEED) -> demo.DemoData:
    """Write the generated demo carriers, recognitions and observations, labelled as demo data."""
    data = demo.generate_demo(city, seed)
    with engine.begin() as conn:
        store.ensure_source(
            conn,
            demo.DEMO_SOURCE,
            kind="demo",
            location=f"seed={seed}",
            precedence=1000,
            is_demo=True,
            description=f"{demo.DEMO_LABEL_ZH} / {demo.DEMO_LABEL_EN}",
        )
    run_id = store.start_run(engine, demo.DEMO_SOURCE, host=socket.gethostname(), pid=os.getpid())
    with engine.begin() as conn:
        store.upsert_parks(conn, data.parks)
        store.upsert(
            conn,
            store.table_of(models.Recognition),
            data.recognitions,
            ["park_id", "level", "year"],
        )
        result = store.upsert_observations(
            engine, data.observations, source_id=demo.DEMO_SOURCE, run_id=run_id, conn=conn
        )
        db.set_meta(conn, "contains_demo_data", "true")
    store.finish_run(
        engine,
        run_id,
        status=models.RunStatus.ok,
        counts={
            "read": len(data.observations),
            "accepted": result.written,
            "unchanged": result.unchanged,
            "revised": result.revised,
            "rejected": 0,
        },
    )
    return data


def build_demo(out_dir: Path, config_dir: Path, seed: int = demo.DEMO_SEED) -> DemoSummary:
    """Build a fresh demo SQLite database in ``out_dir`` from the registry and generated data."""
    out_dir.mkdir(parents=True, exist_ok=True)
    database = out_dir / "parkmon.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        init = initialise(engine, config_dir)
        data = load_demo(engine, load_city(config_dir), seed)
        parks = store.parks_frame(engine)
    finally:
        engine.dispose()
    return DemoSummary(
        database, parks, len(data.observations), len(data.recognitions), data.years, init
    )
