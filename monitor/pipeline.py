"""The one place that knows the order of things: initialise a database, build the demo.

The CLI and (later) the scheduler call these functions; they never print.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collectors.run import RunSummary, collect_many
from collectors.sources import load_sources
from maps import site
from maps.page import TileChoice, tile_choice
from maps.progress import render_progress_map
from maps.region import MapData, render_region_map
from monitor import db, demo, geography, goals, models, runs, store, views
from monitor.compare import Comparison, compare, radar_svg
from monitor.demo_server import serve_samples
from monitor.errors import ConfigError
from monitor.evaluation import rate_year
from monitor.geography import CityGeography
from monitor.i18n import label, t
from monitor.indicators import load_indicators
from monitor.rating import load_methodologies
from monitor.registry import City, load_city, load_registry, region_rows
from monitor.samples import write_samples
from monitor.settings import Settings

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
    if not geography.boundaries_path(city, config_dir).exists():
        log.warning(
            "no boundaries for %s (%s): districts have no geometry; run "
            "`parkmon geo extract --city %s`",
            city.name,
            city.adcode,
            city.adcode,
        )
        return None
    return geography.load_geography(city, config_dir)


def refresh_locations(conn: sa.Connection, geo: CityGeography | None) -> None:
    """Recompute every park's district-by-geometry and belt membership (after parks change)."""
    if geo is None:
        return
    parks = store.parks_frame(conn)
    store.update_park_locations(conn, geography.locate_parks(parks, geo))


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
    regions = geography.region_rows(geo) if geo else region_rows(city)
    with engine.begin() as conn:
        store.upsert_regions(conn, regions)
        store.upsert_parks(conn, parks)
        refresh_locations(conn, geo)
        store.upsert(conn, store.table_of(models.Indicator), indicators, ["code"])
        store.upsert_rankings(conn, ranking_rows(config_dir))
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
    runs: list[RunSummary] = field(default_factory=list)
    site: Path | None = None


def demo_placement(conn: sa.Connection, geo: CityGeography | None) -> demo.Placement | None:
    """Per district: its polygon and the part of it in the belt (band + member zones' circles)."""
    if geo is None:
        return None
    members = store.parks_frame(conn, belt_roles=["core", "zone", "park"])
    belt = geography.belt_area(geo, members)
    return {
        code: (poly, poly.intersection(belt))
        for code, poly in geography.district_polygons(geo).items()
    }


def load_demo(
    engine: Engine, city: City, seed: int = demo.DEMO_SEED, geo: CityGeography | None = None
) -> demo.DemoData:
    """Write the generated demo carriers, recognitions and observations, labelled as demo data."""
    with engine.connect() as conn:
        placement = demo_placement(conn, geo)
    data = demo.generate_demo(city, seed, placement)
    registry = store.parks_frame(engine, include_demo=False)
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


def collect_samples(engine: Engine, config_dir: Path) -> list[RunSummary]:
    """Collect every bundled sample source through the real collectors, serving the HTTP ones
    from a small server on 127.0.0.1 for the duration."""
    folder = config_dir / "samples"
    with serve_samples(folder) as url:
        specs = load_sources(config_dir, folder / "sources.toml", {"demo_server": url})
        return collect_many(engine, specs)


def build_demo(
    out_dir: Path,
    config_dir: Path,
    seed: int = demo.DEMO_SEED,
    *,
    with_samples: bool = True,
    on_step: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Build a fresh demo SQLite database in ``out_dir``: registry, generated demo data, and the
    sample sources collected through the real collectors."""
    out_dir.mkdir(parents=True, exist_ok=True)
    database = out_dir / "parkmon.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    engine = db.make_engine(f"sqlite:///{database}")
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
        parks = store.parks_frame(engine)
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


def goal_progress(
    engine: Engine, config_dir: Path, *, year: int | None = None, district: str | None = None
) -> list[goals.Progress]:
    """Progress of every goal, for the city (default) or one district (adcode)."""
    specs = goals.load_goals(config_dir)
    city = load_city(config_dir)
    scope = district or city.adcode
    obs = store.observations_frame(engine, subject_type="region")
    obs = obs[obs["subject_id"] == scope]
    obs = obs.assign(year=pd.to_numeric(obs["period"], errors="coerce")).dropna(subset=["year"])
    if year is not None:
        obs = obs[obs["year"] <= year]
    now = year or datetime.now(UTC).year
    parks = pd.DataFrame(store.parks_frame(engine))
    recognitions = store.recognitions_frame(engine)
    rankings = store.rankings_frame(engine)
    carrier_goals = [g for g in specs if g.subject and g.kind != "ranking"]
    carrier_obs = store.observations_frame(
        engine, subject_type="park", indicators=sorted({g.indicator for g in carrier_goals})
    )
    carrier_obs = carrier_obs.assign(
        year=pd.to_numeric(carrier_obs["period"], errors="coerce")
    ).dropna(subset=["year"])
    if year is not None:
        carrier_obs = carrier_obs[carrier_obs["year"] <= year]
    out: list[goals.Progress] = []
    for goal in specs:
        progress = _one_goal(
            goal, district, year, scope, now, obs, carrier_obs, recognitions, parks, rankings
        )
        if progress is not None:
            stock = {"stock_2020": dict(goal.stock)} if goal.stock else {}
            out.append(
                dataclasses.replace(
                    progress,
                    basis=goal.basis,
                    name_en=goal.name_en,
                    numbers={**progress.numbers, **stock},
                )
            )
    return out


def _one_goal(
    goal: goals.GoalSpec,
    district: str | None,
    year: int | None,
    scope: str,
    now: int,
    obs: pd.DataFrame,
    carrier_obs: pd.DataFrame,
    recognitions: pd.DataFrame,
    parks: pd.DataFrame,
    rankings: pd.DataFrame,
) -> goals.Progress | None:
    """One goal's progress for the city or a district (None: no reading at that scope)."""
    if goal.kind == "ranking" or goal.subject:
        if district is not None:
            return None  # a goal of one carrier or of a ranking has no district reading
        if goal.kind != "ranking":
            mine = carrier_obs[carrier_obs["subject_id"] == goal.subject]
            return _goal_progress(goal, mine, recognitions, parks, now, goal.subject, None)
        entries = rankings[
            (rankings["ranking"] == goal.ranking) & (rankings["subject_id"] == goal.subject)
        ]
        if year is not None:
            entries = entries[entries["year"] <= year]
        return goals.ranking_progress(goal, entries)
    share = None if district is None else dict(goal.splits).get(district)
    # a district's own share of the goal; its level is measured from its own start
    spec = goal if share is None else dataclasses.replace(goal, target=share, baseline=None)
    progress = _goal_progress(spec, obs, recognitions, parks, now, scope, district)
    if district is not None and share is None:
        return goals.without_own_target(progress)
    if share is not None and goal.split_illustrative:
        return dataclasses.replace(progress, illustrative=True)
    return progress


def _goal_progress(
    goal: goals.GoalSpec,
    obs: pd.DataFrame,
    recognitions: pd.DataFrame,
    parks: pd.DataFrame,
    now: int,
    scope: str,
    district: str | None,
) -> goals.Progress:
    series = obs[obs["indicator"] == goal.indicator].set_index("year")["value"]
    series.index = series.index.astype(int)
    if goal.kind == "level":
        spec = goal if district is None else dataclasses.replace(goal, baseline=None)
        return goals.level_progress(spec, series, scope)
    if goal.kind == "growth":
        return goals.growth_progress(goal, series, scope)
    if goal.kind == "cumulative":
        return goals.cumulative_progress(goal, series, scope)
    new = goals.count_new(recognitions, parks, goal)
    new = new[new["year"] <= now]
    if district is not None:
        new = new[new["district_id"] == district]
    return goals.count_progress(
        goal,
        new,
        now,
        scope,
        None,
        has_records=goals.has_count_records(recognitions, parks, goal),
    )


def compare_parks(
    engine: Engine, subjects: Sequence[str], year: int, against: str = "peers"
) -> Comparison:
    """Gather what ``monitor.compare`` needs from the store and compare the carriers."""
    parks = pd.DataFrame(store.parks_frame(engine))
    unknown = [s for s in subjects if s not in set(parks["id"])]
    if unknown:
        raise ConfigError(f"unknown carrier id(s) {', '.join(unknown)}; see `parkmon parks list`")
    kinds = set(parks.loc[parks["id"].isin(subjects), "kind"])
    indicators = pd.DataFrame(store.indicator_rows(engine))
    indicators = indicators[indicators["scope"] == "park"]
    indicators = indicators[indicators["kinds"].map(lambda k: bool(set(k.split("|")) & kinds))]
    codes = [c for c in indicators["code"] if c not in ("safety_incident", "falsified_statistics")]
    indicators = indicators[indicators["code"].isin(codes)]
    obs = store.observations_frame(
        engine, indicators=codes, subject_type="park", periods=[str(year), str(year - 1)]
    )

    def wide(period: int) -> pd.DataFrame:
        part = obs[obs["period"] == str(period)]
        return part.pivot_table(
            index="subject_id", columns="indicator", values="value", aggfunc="last"
        ).reindex(columns=codes)

    ratings = store.ratings_frame(engine, year)
    return compare(
        list(subjects),
        year,
        wide(year),
        wide(year - 1),
        parks[["id", "kind", "level", "district_id", "in_belt"]],
        indicators,
        ratings,
        against=against,
    )


# --- maps and the site ---------------------------------------------------------------------------


def map_data(
    engine: Engine, config_dir: Path, lang: str = "zh", highlight: Sequence[str] = ()
) -> MapData:
    """Everything the regional map shows, from the store (stars of each year under the current
    methodology of each kind)."""
    city = load_city(config_dir)
    parks = pd.DataFrame(store.parks_frame(engine))
    parks = parks[parks["lon"].notna() & parks["lat"].notna()]
    hashes = {m.content_hash for m in load_methodologies(config_dir)}
    ratings = store.ratings_frame(engine)
    ratings = ratings[
        ratings["methodology_hash"].isin(hashes) & (ratings["subject_type"] == "park")
    ]
    stars: dict[str, dict[str, int | None]] = {}
    scores: dict[str, dict[str, float | None]] = {}
    for r in ratings.to_dict("records"):
        pid, year = str(r["park_id"]), str(r["year"])
        stars.setdefault(pid, {})[year] = None if pd.isna(r["stars"]) else int(r["stars"])
        scores.setdefault(pid, {})[year] = (
            None if pd.isna(r["score"]) else round(float(r["score"]), 2)
        )
    districts = {d.adcode: d.name if lang == "zh" else d.name_en for d in city.districts}
    records = []
    for p in parks.to_dict("records"):
        pid = str(p["id"])
        records.append(
            {
                "id": pid,
                "name": str(p["name"] if lang == "zh" or not p["name_en"] else p["name_en"]),
                "kind": p["kind"],
                "kind_label": label("kind", p["kind"], lang),
                "level_label": label("level", p["level"], lang),
                "district": districts.get(str(p["district_id"]), str(p["district_id"])),
                "role": p["belt_role"],
                "role_label": label("belt_role", p["belt_role"], lang),
                "lon": float(p["lon"]),
                "lat": float(p["lat"]),
                "approx": p["location_quality"] != "surveyed",
                "stars": stars.get(pid, {}),
                "score": scores.get(pid, {}),
                "demo": bool(p["is_demo"]),
                "highlight": pid in highlight,
            }
        )
    regions = store.regions_frame(engine)
    district_rows = regions[regions["level"] == "district"]
    belt_rows = regions[regions["level"] == "belt"]
    years = sorted({int(y) for y in ratings["year"]}) if len(ratings) else []
    keys = [
        "kind",
        "level",
        "district",
        "belt",
        "stars",
        "score",
        "change",
        "location",
        "approximate",
        "trend",
        "layers",
        "year",
        "legend",
        "unrated",
        "vetoed",
        "belt_band",
        "size_note",
    ]
    labels = {k: t(f"map.{k}", lang) for k in keys}
    labels["demo"] = t("msg.demo_banner", lang)
    kinds = {k: label("kind", k, lang) for k in sorted(parks["kind"].unique())}
    roles = {r: label("belt_role", r, lang) for r in ("core", "zone", "park", "none")}
    roles["none"] = "其他载体" if lang == "zh" else "Other carriers"
    return MapData(
        parks=records,
        districts=[
            (str(r["id"]), str(r["name"] if lang == "zh" else r["name_en"]), r["geometry"])
            for r in district_rows.to_dict("records")
            if r["geometry"] is not None
        ],
        belt=None if belt_rows.empty else belt_rows.geometry.iloc[0],
        years=years,
        labels=labels,
        kinds=kinds,
        roles=roles,
        title=t("map.region_title", lang, city=city.name if lang == "zh" else city.name_en),
        demo=db.holds_demo_data(engine),
    )


def progress_map_html(engine: Engine, config_dir: Path, lang: str, tiles: TileChoice) -> str:
    """Districts coloured by progress toward their share of the first split goal."""
    city = load_city(config_dir)
    specs = goals.load_goals(config_dir)
    city_progress = goal_progress(engine, config_dir)
    split = next((g for g in specs if g.splits), None)
    per_district: dict[str, dict[str, Any]] = {}
    if split is not None:
        for d in city.districts:
            for p in goal_progress(engine, config_dir, district=d.adcode):
                if p.goal == split.id:
                    per_district[d.adcode] = {
                        "status": p.status,
                        "status_label": p.status_zh if lang == "zh" else p.status,
                        "latest": p.latest_text(lang),
                        "target": goals.reported_number(p.target),
                    }
    regions = store.regions_frame(engine, levels=["district"])
    labels = {
        s: (goals.STATUS_ZH[s] if lang == "zh" else s.replace("_", " ")) for s in goals.STATUS_ZH
    }
    labels["no_data"] = labels[goals.NO_DATA]
    labels["demo"] = t("msg.demo_banner", lang)
    items = [
        {
            "name": p.name_zh,
            "status": p.status,
            "status_label": p.status_zh if lang == "zh" else p.status,
            "latest": p.latest_text(lang),
        }
        for p in city_progress
    ]
    return render_progress_map(
        [
            (str(r["id"]), str(r["name"]), r["geometry"])
            for r in regions.to_dict("records")
            if r["geometry"] is not None
        ],
        per_district,
        items,
        title=t("map.progress_title", lang, city=city.name if lang == "zh" else city.name_en),
        goal_name=(split.name_zh if split else "")
        + (
            ("（示例分解，非规划数据）" if lang == "zh" else " (illustrative split)")
            if split is not None and split.split_illustrative
            else ""
        ),
        labels=labels,
        demo=db.holds_demo_data(engine),
        tiles=tiles,
        lang=lang,
    )


def build_site(
    engine: Engine,
    config_dir: Path,
    out_dir: Path,
    *,
    lang: str = "zh",
    tiles: TileChoice | None = None,
) -> Path:
    """Write the maps, the latest annual report and an index page; returns the index."""
    from monitor.report import render_html  # noqa: PLC0415 (report imports pipeline)

    tiles = tiles or tile_choice(None)
    city = load_city(config_dir)
    demo_flag = db.holds_demo_data(engine)
    pages: list[tuple[str, str, str]] = []
    site.write(
        out_dir / "region.html", render_region_map(map_data(engine, config_dir, lang), tiles, lang)
    )
    pages.append(
        (
            "region.html",
            t("map.region_title", lang, city=city.name if lang == "zh" else city.name_en),
            t("site.region_desc", lang),
        )
    )
    site.write(out_dir / "progress.html", progress_map_html(engine, config_dir, lang, tiles))
    pages.append(
        (
            "progress.html",
            t("map.progress_title", lang, city=city.name if lang == "zh" else city.name_en),
            t("site.progress_desc", lang),
        )
    )
    current = {m.content_hash for m in load_methodologies(config_dir)}
    ratings = store.ratings_frame(engine)
    ratings = ratings[ratings["methodology_hash"].isin(current)] if len(ratings) else ratings
    if len(ratings):  # the report of the latest year rated under today's methodologies
        year = int(ratings["year"].max())
        runs = views.stored_rating_runs(engine, config_dir, year)
        districts = {d.adcode: d.name if lang == "zh" else d.name_en for d in city.districts}
        english = {r["code"]: r.get("name_en") or r["code"] for r in store.indicator_rows(engine)}
        site.write(
            out_dir / f"report-{year}.html",
            render_html(
                runs, year, districts=districts, demo=demo_flag, lang=lang, names_en=english
            ),
        )
        pages.append(
            (
                f"report-{year}.html",
                f"{year} {t('report.title', lang)}",
                t("site.report_desc", lang),
            )
        )
    index = site.write(
        out_dir / "index.html",
        site.render_index(
            t("map.site_title", lang, city=city.name if lang == "zh" else city.name_en),
            pages,
            demo=demo_flag,
            demo_label=t("msg.demo_banner", lang),
            note=t("site.note", lang),
            lang=lang,
        ),
    )
    return index


def comparison_map_html(
    engine: Engine,
    config_dir: Path,
    subjects: Sequence[str],
    year: int,
    lang: str,
    tiles: TileChoice,
    against: str = "peers",
) -> str:
    """The regional map with the compared carriers highlighted and their radar portraits."""
    comparison = compare_parks(engine, subjects, year, against)
    data = map_data(engine, config_dir, lang, highlight=subjects)
    data.extra["portrait"] = radar_svg(comparison, size=300)
    data.extra["portrait_title"] = (
        "创新画像（同类百分位）" if lang == "zh" else "Portrait (percentile among peers)"
    )
    return render_region_map(data, tiles, lang)


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
    initialise(engine, settings.config_dir)
    step("collect")
    specs = load_sources(settings.config_dir)
    runs = collect_many(engine, specs, force=force) if specs else []
    changed_years: set[int] = set()
    for r in runs:
        if r.changed_data:
            periods = store.run_periods(engine, r.run_id)
            changed_years |= {int(p[:4]) for p in periods if p[:4].isdigit()}
    site_index = None
    if changed_years or force:
        step("rate")
        years = sorted(changed_years) or sorted(
            {int(y) for y in store.ratings_frame(engine)["year"]}
        )
        for year in years:
            rate_year(engine, settings.config_dir, year)
        step("site")
        site_index = build_site(
            engine, settings.config_dir, settings.output_dir, lang=settings.lang
        )
    return RunCycle(runs, sorted(changed_years), site_index, time.perf_counter() - started)


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
        years = sorted(
            {int(p) for p in store.observations_frame(engine)["period"] if str(p).isdigit()}
        )
        for year in years:
            rate_year(engine, settings.config_dir, year)
        index = build_site(engine, settings.config_dir, settings.output_dir, lang=settings.lang)
    finally:
        engine.dispose()
    log.info("refreshed ratings for %s and the site at %s", years, index)
