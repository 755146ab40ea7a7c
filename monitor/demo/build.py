"""The demo build: a fresh database (a SQLite file, or a server named with --db) with the
registry, generated demo carriers and their figures (labelled as demo data everywhere), the
bundled sample sources collected through the real collectors, ratings of every demo year, and
the site.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from collectors.run import RunSummary, collect_many
from collectors.sources import SourceSpec, load_sources
from monitor import belt, db, models, schema, store
from monitor.belt import CityGeography
from monitor.demo import generate as demo
from monitor.demo.samples import write_samples
from monitor.demo.server import serve_samples
from monitor.errors import ConfigError
from monitor.evaluation import rate_year
from monitor.pipeline import InitSummary, city_geography, initialise, refresh_locations
from monitor.publish import build_site
from monitor.registry import City, load_city
from monitor.tables import set_meta


@dataclass(frozen=True)
class DemoSummary:
    database: Path | str  # the SQLite file, or the server's URL (without its password)
    parks: pd.DataFrame
    observations: int
    recognitions: int
    years: tuple[int, ...]
    init: InitSummary
    runs: list[RunSummary] = field(default_factory=list)
    site: Path | None = None


def fresh_database(database: Path) -> Engine:
    """A new SQLite file at ``database``: an earlier demo there (and its WAL) is replaced."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return db.make_engine(f"sqlite:///{database}")


def fresh_named_database(url: str) -> Engine:
    """The database ``url`` names, emptied for the demo — only when it holds no parkmon schema
    or an earlier demo: demo data never mixes with real data, and real data is never dropped."""
    engine = db.make_engine(url)
    try:
        found = schema.state(engine)
        if not found.empty:
            if db.get_meta(engine, "contains_demo_data") != "true":
                raise ConfigError(
                    f"database {db.describe(engine)} holds parkmon data that is not demo data; "
                    "`parkmon demo` writes only into an empty database or an earlier demo "
                    "(choose another database, or drop --db for a SQLite file in --out)"
                )
            db.ensure_writable(engine)
            # dependent tables first (the portal's links to accounts have foreign keys)
            ours = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
            ours.append(schema.VERSION_TABLE)
            with engine.begin() as conn:
                inspector = sa.inspect(conn)
                for name in ours:
                    if inspector.has_table(name):
                        conn.execute(sa.text(f'DROP TABLE "{name}"'))
    except BaseException:
        engine.dispose()
        raise
    return engine


def start_demo_run(engine: Engine, location: str) -> int:
    """The demo generator as a source (labelled demo) and a run of it; its id."""
    with engine.begin() as conn:
        store.ensure_source(
            conn,
            demo.DEMO_SOURCE,
            kind="demo",
            location=location,
            precedence=1000,
            is_demo=True,
            description=f"{demo.DEMO_LABEL_ZH} / {demo.DEMO_LABEL_EN}",
        )
    return store.start_run(engine, demo.DEMO_SOURCE, host=socket.gethostname(), pid=os.getpid())


def demo_placement(conn: sa.Connection, geo: CityGeography | None) -> demo.Placement | None:
    """Per district: its polygon and the part of it in the belt (band + member zones' circles)."""
    if geo is None:
        return None
    members = store.parks_frame(conn, belt_roles=["core", "zone", "park"])
    area = belt.belt_area(geo, members)
    return {
        code: (poly, poly.intersection(area)) for code, poly in belt.district_polygons(geo).items()
    }


def load_demo(
    engine: Engine, city: City, seed: int = demo.DEMO_SEED, geo: CityGeography | None = None
) -> demo.DemoData:
    """Write the generated demo carriers, recognitions and observations, labelled as demo data."""
    with engine.connect() as conn:
        placement = demo_placement(conn, geo)
    data = demo.generate_demo(city, seed, placement)
    registry = store.park_table(engine, columns=["kind", "level"], include_demo=False)
    zones = demo.zone_observations(
        list(zip(registry["id"], registry["kind"], registry["level"], strict=True)),
        data.years,
        seed,
    )
    data = demo.DemoData(
        data.parks,
        data.recognitions,
        pd.concat([data.observations, zones], ignore_index=True),
        data.years,
    )
    run_id = start_demo_run(engine, f"seed={seed}")
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
        set_meta(conn, "contains_demo_data", "true")
        refresh_locations(conn, geo)
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


@contextmanager
def sample_sources(config_dir: Path) -> Iterator[list[SourceSpec]]:
    """The bundled sample sources, with their HTTP ones served on 127.0.0.1 while in use."""
    folder = config_dir / "samples"
    with serve_samples(folder) as url:
        yield load_sources(config_dir, folder / "sources.toml", {"demo_server": url})


def collect_samples(engine: Engine, config_dir: Path) -> list[RunSummary]:
    """Collect every bundled sample source through the real collectors."""
    with sample_sources(config_dir) as specs:
        return collect_many(engine, specs)


def build_demo(
    out_dir: Path,
    config_dir: Path,
    seed: int = demo.DEMO_SEED,
    *,
    with_samples: bool = True,
    on_step: Callable[[str], None] | None = None,
    database_url: str | None = None,
) -> DemoSummary:
    """Build a fresh demo database: registry, generated demo data, and the sample sources
    collected through the real collectors; the site in ``out_dir``. The database is a new
    SQLite file in ``out_dir``, or ``database_url`` when given (empty, or an earlier demo)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    database: Path | str
    if database_url is None:
        database = out_dir / "parkmon.db"
        engine = fresh_database(database)
    else:
        engine = fresh_named_database(database_url)
        database = db.describe(engine)
    step = on_step or (lambda _s: None)
    try:
        step("database, boundaries, registry")
        init = initialise(engine, config_dir)
        city = load_city(config_dir)
        step("demo carriers and their yearly figures")
        data = load_demo(engine, city, seed, city_geography(city, config_dir))
        step("collecting the sample sources (files, a JSON API and a notice on 127.0.0.1)")
        runs = collect_samples(engine, config_dir) if with_samples else []
        for year in data.years:
            step(f"rating {year}")
            rate_year(engine, config_dir, year)
        step("maps, report and the site")
        site_index = build_site(engine, config_dir, out_dir / "site")
        parks = store.park_table(engine)
        observations = store.count_rows(engine, models.Observation)
    finally:
        engine.dispose()
    return DemoSummary(
        database, parks, observations, len(data.recognitions), data.years, init, runs, site_index
    )


def write_demo_samples(config_dir: Path, out_dir: Path, seed: int = demo.DEMO_SEED) -> list[Path]:
    """Regenerate the sample source files from the same demo data ``build_demo`` makes."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.make_engine(f"sqlite:///{Path(tmp) / 'samples.db'}")
        try:
            initialise(engine, config_dir)
            city = load_city(config_dir)
            geo = city_geography(city, config_dir)
            with engine.connect() as conn:
                placement = demo_placement(conn, geo)
        finally:
            engine.dispose()
    data = demo.generate_demo(city, seed, placement)
    return write_samples(out_dir, city, data)
