"""The one place that knows the order of things: initialise a database, build the demo.

The CLI and (later) the scheduler call these functions; they never print.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors.run import RunSummary, collect_many
from collectors.sources import load_sources
from monitor import __version__, belt, db, goals, models, runs, store
from monitor.belt import CityGeography
from monitor.evaluation import rate_year
from monitor.indicators import CATALOGUE_FILE, load_indicators
from monitor.publish import build_site
from monitor.registry import (
    CITY_FILE,
    REGISTRY_FILE,
    City,
    load_city,
    load_registry,
    regions_without_geometry,
)
from monitor.settings import Settings
from monitor.tables import set_meta

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitSummary:
    schema_changes: list[str]
    regions: int
    parks: int
    indicators: int
    not_in_registry: list[str] = field(default_factory=list)


def city_geography(city: City, config_dir: Path) -> CityGeography | None:
    """The city's boundaries and belt, or None (with a warning) when no boundaries file exists."""
    if not belt.boundaries_path(city, config_dir).exists():
        log.warning(
            "no boundaries for %s (%s): districts have no geometry; run "
            "`parkmon geo extract --city %s`",
            city.name,
            city.adcode,
            city.adcode,
        )
        return None
    return belt.load_geography(city, config_dir)


def refresh_locations(conn: sa.Connection, geo: CityGeography | None) -> None:
    """Recompute every park's district-by-geometry and belt membership (after parks change)."""
    if geo is None:
        return
    parks = store.parks_frame(conn)
    store.update_park_locations(conn, belt.locate_parks(parks, geo))


def registry_fingerprint(config_dir: Path) -> str:
    """A hash of everything ``initialise`` loads (the city, its boundaries, the registry, the
    indicators, the rankings) and of the schema the code expects: equal means nothing to do."""
    city = load_city(config_dir)
    digest = hashlib.sha256(f"{__version__}|{models.SCHEMA_VERSION}".encode())
    for path in (
        config_dir / CITY_FILE,
        config_dir / REGISTRY_FILE,
        config_dir / CATALOGUE_FILE,
        config_dir / goals.RANKINGS_FILE,
        belt.boundaries_path(city, config_dir),
    ):
        digest.update(f"|{path.name}|".encode())
        digest.update(path.read_bytes() if path.exists() else b"(absent)")
    return digest.hexdigest()


def initialise(engine: Engine, config_dir: Path) -> InitSummary:
    """Create or upgrade the schema and load the city, boundaries, registry and indicators.

    Everything is validated before anything is written; the load is one transaction.
    """
    city = load_city(config_dir)
    geo = city_geography(city, config_dir)
    parks = load_registry(config_dir, city, inside=geo.inside() if geo else None)
    indicators = load_indicators(config_dir)
    changes = db.init_schema(engine)
    runs.mark_interrupted(engine)
    regions = belt.regions_with_geometry(geo) if geo else regions_without_geometry(city)
    with engine.begin() as conn:
        store.upsert_regions(conn, regions)
        store.upsert_parks(conn, parks)
        refresh_locations(conn, geo)
        store.upsert(conn, store.table_of(models.Indicator), indicators, ["code"])
        store.upsert_rankings(conn, ranking_rows(config_dir))
        set_meta(conn, "city_adcode", city.adcode)
        set_meta(conn, "registry_fingerprint", registry_fingerprint(config_dir))
        park_table = store.T_PARK
        listed = {p["id"] for p in parks}
        registered = conn.execute(
            sa.select(park_table.c.id).where(park_table.c.is_demo.is_(False))
        ).scalars()
        orphans = sorted(set(registered) - listed)
    if orphans:
        log.warning("in the database but no longer in the registry (kept): %s", ", ".join(orphans))
    return InitSummary(changes, len(regions), len(parks), len(indicators), orphans)


def reload_config_job(settings: Settings) -> None:
    """Scheduled: reload the registry and indicator catalogue a clerk may have edited."""
    engine = db.make_engine(settings.database_url)
    try:
        summary = initialise(engine, settings.config_dir)
    finally:
        engine.dispose()
    log.info("reloaded config: %d carriers, %d indicators", summary.parks, summary.indicators)


def rate_job(settings: Settings) -> None:
    """Scheduled: rate the last complete year (the annual reports of year − 1 are in by spring)."""
    engine = db.make_engine(settings.database_url)
    try:
        year = datetime.now(UTC).year - 1
        runs = rate_year(engine, settings.config_dir, year)
    finally:
        engine.dispose()
    log.info(
        "rated %d: %s",
        year,
        ", ".join(f"{r.methodology.name} ({len(r.result.table)})" for r in runs),
    )


# --- goals --------------------------------------------------------------------------------------


def ranking_rows(config_dir: Path) -> list[dict[str, Any]]:
    frame = goals.load_rankings(config_dir)
    rows = []
    for r in frame.to_dict("records"):
        rows.append(
            {
                "ranking": str(r["ranking"]),
                "year": int(r["year"]),
                "subject_type": str(r["subject_type"]),
                "subject_id": str(r["subject_id"]),
                "position": None if pd.isna(r["position"]) else int(r["position"]),
                "position_relation": str(r["relation"]),
                "out_of": None if pd.isna(r["out_of"]) else int(r["out_of"]),
                "source_url": "" if pd.isna(r["source_url"]) else str(r["source_url"]),
                "note": goals.ranking_citation(r),
            }
        )
    return rows


@dataclass(frozen=True)
class RunCycle:
    runs: list[RunSummary]
    rated_years: list[int]
    site: Path | None
    seconds: float


def run_cycle(
    engine: Engine,
    settings: Settings,
    *,
    force: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> RunCycle:
    """The daily job on the user's own config: reload the registry, collect every source (an
    unchanged one costs one request or one file hash and writes nothing), re-rate the years whose
    data changed, and rebuild the site when anything changed."""
    import time  # noqa: PLC0415

    step = on_step or (lambda _s: None)
    started = time.perf_counter()
    step("init")
    unchanged = (
        not force
        and db.database_exists(engine)
        and db.schema_exists(engine)
        and db.get_meta(engine, "registry_fingerprint") == registry_fingerprint(settings.config_dir)
    )
    if unchanged:  # the registry and the schema as they were: nothing to reload
        runs.mark_interrupted(engine)
    else:
        initialise(engine, settings.config_dir)
    step("collect")
    specs = load_sources(settings.config_dir)
    collected = collect_many(engine, specs, force=force) if specs else []
    changed_years: set[int] = set()
    for r in collected:
        if r.changed_data:
            periods = store.run_periods(engine, r.run_id)
            changed_years |= {int(p[:4]) for p in periods if p[:4].isdigit()}
    site_index = None
    if changed_years or force:
        step("rate")
        years = sorted(changed_years) or sorted(
            {int(y) for y in store.ratings_frame(engine, columns=["year"])["year"]}
        )
        for year in years:
            rate_year(engine, settings.config_dir, year)
        step("site")
        site_index = build_site(
            engine, settings.config_dir, settings.output_dir, lang=settings.lang
        )
    return RunCycle(collected, sorted(changed_years), site_index, time.perf_counter() - started)


def run_job(settings: Settings) -> None:
    """Scheduled: the daily cycle (see ``run_cycle``)."""
    engine = db.make_engine(settings.database_url)
    try:
        cycle = run_cycle(engine, settings)
    finally:
        engine.dispose()
    log.info(
        "daily cycle: %d source(s), re-rated %s, site %s",
        len(cycle.runs),
        cycle.rated_years or "nothing",
        cycle.site or "unchanged",
    )


def refresh_job(settings: Settings) -> None:
    """Scheduled after any collection that changed data: re-rate every year with data and
    rebuild the site (goal progress is computed when the site is built)."""
    engine = db.make_engine(settings.database_url)
    try:
        years = sorted({int(p) for p in store.observed_periods(engine) if p.isdigit()})
        for year in years:
            rate_year(engine, settings.config_dir, year)
        index = build_site(engine, settings.config_dir, settings.output_dir, lang=settings.lang)
    finally:
        engine.dispose()
    log.info("refreshed ratings for %s and the site at %s", years, index)
