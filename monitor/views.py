"""The read side: what the CLI, the static site, the reports and the web app show, read from
the store. Views never write.

A report shows the ratings as they were stored by ``parkmon rate`` (the published figures), not
a fresh scoring: when the figures behind a rating changed after it was stored, the view says
which subjects changed, and the report asks for ``parkmon rate YEAR``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from maps.payload import MapData
from monitor import belt, db, goals, store
from monitor.compare import Comparison, compare
from monitor.errors import ConfigError
from monitor.evaluation import score_year
from monitor.i18n import label, t
from monitor.rating import Methodology, RatingRun, load_methodologies
from monitor.registry import load_city, load_registry

log = logging.getLogger(__name__)

__all__ = [
    "CARRIER_COLUMNS",
    "GeoCheck",
    "carriers",
    "compare_parks",
    "geo_check",
    "geo_layers",
    "goal_progress",
    "indicator_names_en",
    "map_data",
    "stored_rating_runs",
    "stored_table",
]


STORED_COLUMNS = ("subject_id", "score", "stars", "rank", "peer_size", "status", "breakdown")


def stored_rating_runs(
    engine: Engine, config_dir: Path, year: int, kinds: Sequence[str] | None = None
) -> list[RatingRun]:
    """The stored ratings of ``year``, one run per methodology that has any, with the figures
    they were computed from (for explanations and stability). Raises ConfigError when nothing
    of that year was rated: the reader is told to run ``parkmon rate YEAR``."""
    runs = []
    for run in score_year(engine, config_dir, year, kinds):
        rows = store.ratings_frame(engine, year, run.methodology.content_hash, STORED_COLUMNS)
        if rows.empty:
            continue
        table = stored_table(rows, run.methodology)
        table["peer"] = run.result.table["peer"].reindex(table.index).to_numpy()  # kind|level
        changed = _changed(table, run.result.table)
        runs.append(
            dataclasses.replace(
                run,
                result=dataclasses.replace(run.result, table=table),
                changed=tuple(changed),
            )
        )
    if not runs:
        raise ConfigError(
            f"no stored ratings for {year} under the current methodologies: run "
            f"`parkmon rate {year}` first"
        )
    return runs


def stored_table(rows: pd.DataFrame, meth: Methodology) -> pd.DataFrame:
    """Stored rating rows as the engine's table: score, stars, rank, peer size, status, group
    points, bonus, completeness and review, indexed by subject."""
    breakdown = [json.loads(b) if b else {} for b in rows["breakdown"]]
    table = pd.DataFrame(index=pd.Index(rows["subject_id"].astype(str), name=None))
    for column in ("score", "stars", "rank", "peer_size"):
        table[column] = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
    table["status"] = rows["status"].astype(str).to_numpy()
    for group in meth.groups:
        table[f"g_{group.id}"] = [_number(b.get("groups", {}).get(group.id)) for b in breakdown]
    table["bonus"] = [_number(b.get("bonus"), 0.0) for b in breakdown]
    table["completeness"] = [_number(b.get("completeness")) for b in breakdown]
    table["review"] = [str(b.get("review", "") or "") for b in breakdown]
    return table


def _number(value: object, default: float = math.nan) -> float:
    if value is None:
        return default
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _changed(stored: pd.DataFrame, current: pd.DataFrame) -> list[str]:
    """Subjects whose score or status today differs from the stored one (or who appeared or
    disappeared since)."""
    both = stored.index.intersection(current.index)
    a = stored.loc[both, "score"].to_numpy(dtype=float)
    b = current.loc[both, "score"].to_numpy(dtype=float)
    same = np.isclose(a, b, atol=1e-4, equal_nan=True)
    same &= stored.loc[both, "status"].to_numpy() == current.loc[both, "status"].to_numpy()
    differ = set(both[~same]) | set(stored.index.symmetric_difference(current.index))
    return sorted(str(s) for s in differ)


# --- goals, comparisons and maps ---------------------------------------------------------------


def goal_progress(
    engine: Engine, config_dir: Path, *, year: int | None = None, district: str | None = None
) -> list[goals.Progress]:
    """Progress of every goal, for the city (default) or one district (adcode)."""
    specs = goals.load_goals(config_dir)
    city = load_city(config_dir)
    scope = district or city.adcode
    obs = store.observations_frame(engine, subject_type="region", columns=())
    obs = obs[obs["subject_id"] == scope]
    obs = obs.assign(year=pd.to_numeric(obs["period"], errors="coerce")).dropna(subset=["year"])
    if year is not None:
        obs = obs[obs["year"] <= year]
    now = year or datetime.now(UTC).year
    parks = store.park_table(engine)
    recognitions = store.recognitions_frame(engine)
    rankings = store.rankings_frame(engine)
    carrier_goals = [g for g in specs if g.subject and g.kind != "ranking"]
    carrier_obs = store.observations_frame(
        engine,
        subject_type="park",
        indicators=sorted({g.indicator for g in carrier_goals}),
        columns=(),
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
    engine: Engine,
    subjects: Sequence[str],
    year: int,
    against: str = "peers",
    *,
    keep: Callable[[str, Callable[[], Any]], Any] | None = None,
) -> Comparison:
    """Gather what ``monitor.compare`` needs from the store and compare the carriers.

    ``keep(name, compute)`` may return an earlier ``compute()`` of the same name (the web
    application's cache): the registry and a peer group's figures of a year are the same for
    every comparison within that group."""
    keep = keep or (lambda _name, compute: compute())
    parks = keep(
        "compare:registry",
        lambda: store.park_table(engine, columns=["kind", "level", "district_id", "in_belt"]),
    )
    known = set(parks.loc[parks["id"].isin(list(subjects)), "id"])
    unknown = [s for s in subjects if s not in known]
    if unknown:
        raise ConfigError(f"unknown carrier id(s) {', '.join(unknown)}; see `parkmon parks list`")
    kinds = set(parks.loc[parks["id"].isin(subjects), "kind"])
    indicators = pd.DataFrame(store.indicator_rows(engine))
    indicators = indicators[indicators["scope"] == "park"]
    indicators = indicators[indicators["kinds"].map(lambda k: bool(set(k.split("|")) & kinds))]
    codes = [c for c in indicators["code"] if c not in ("safety_incident", "falsified_statistics")]
    indicators = indicators[indicators["code"].isin(codes)]
    # The year's figures of the groups compared against (the subjects' kinds, and levels,
    # districts or the belt), and last year's of the subjects alone: not every carrier's.
    chosen = parks[parks["id"].isin(subjects)]
    park = store.T_PARK
    group = sa.select(park.c.id).where(park.c.kind.in_(sorted(set(chosen["kind"]))))
    if against == "district":
        group = group.where(park.c.district_id.in_(sorted(set(chosen["district_id"]))))
    elif against == "belt":
        group = group.where(park.c.in_belt.is_(True))
    elif against == "kind":
        pass  # every carrier of the kind, any level
    else:
        group = group.where(park.c.level.in_(sorted(set(chosen["level"]))))

    def wide(period: int, among: Sequence[str] | sa.Select[Any]) -> pd.DataFrame:
        part = store.observations_frame(
            engine,
            indicators=codes,
            subject_type="park",
            periods=[str(period)],
            columns=(),
            subjects=among,
        )
        return part.pivot_table(
            index="subject_id", columns="indicator", values="value", aggfunc="last"
        ).reindex(columns=codes)

    ratings = store.ratings_frame(engine, year, subjects=list(subjects))
    within = {"district": "district_id", "peers": "level"}.get(against)
    group_key = "|".join(
        [
            against,
            ",".join(sorted(set(chosen["kind"]))),
            ",".join(sorted(set(chosen[within]))) if within else "",
            str(year),
        ]
    )
    return compare(
        list(subjects),
        year,
        keep(f"compare:group:{group_key}", lambda: wide(year, group)),
        wide(year - 1, list(subjects)),
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
    parks = store.park_table(engine)
    parks = parks[parks["lon"].notna() & parks["lat"].notna()]
    hashes = {m.content_hash for m in load_methodologies(config_dir)}
    ratings = store.ratings_frame(
        engine, columns=["subject_type", "subject_id", "year", "methodology_hash", "stars", "score"]
    )
    ratings = ratings[
        ratings["methodology_hash"].isin(hashes) & (ratings["subject_type"] == "park")
    ]
    stars: dict[str, dict[str, int | None]] = {}
    scores: dict[str, dict[str, float | None]] = {}
    star_values = pd.to_numeric(ratings["stars"], errors="coerce").to_numpy(dtype=float)
    score_values = pd.to_numeric(ratings["score"], errors="coerce").to_numpy(dtype=float).round(2)
    for pid, year, star, score in zip(
        ratings["subject_id"].astype(str),
        ratings["year"].astype(str),
        star_values.tolist(),
        score_values.tolist(),
        strict=True,
    ):
        stars.setdefault(pid, {})[year] = None if math.isnan(star) else int(star)
        scores.setdefault(pid, {})[year] = None if math.isnan(score) else score
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
        "cluster",
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


# --- carriers ------------------------------------------------------------------------------------

CARRIER_COLUMNS = [
    "id",
    "name",
    "name_en",
    "kind",
    "level",
    "district_id",
    "district",
    "belt_role",
    "lon",
    "lat",
    "location_quality",
    "is_demo",
]


def carriers(
    engine: Engine | None,
    config_dir: Path,
    *,
    lang: str = "zh",
    kinds: Sequence[str] = (),
    districts: Sequence[str] = (),
    belt_roles: Sequence[str] = (),
    include_demo: bool = True,
) -> pd.DataFrame:
    """The carriers (``CARRIER_COLUMNS``), filtered by kind, district (name or adcode) and belt
    role; from the database, or straight from the registry file when ``engine`` is None."""
    city = load_city(config_dir)
    codes = []
    for d in districts:
        found = city.district(d)
        if found is None:
            raise ConfigError(
                f"--district {d!r}: not a district of {city.name}; expected "
                + ", ".join(f"{x.name} ({x.adcode})" for x in city.districts)
            )
        codes.append(found.adcode)
    if engine is not None:
        frame = store.park_table(engine)
        spans = store.park_districts(engine)
        frame["districts"] = [
            spans.get(pid) or [code]
            for pid, code in zip(frame["id"], frame["district_id"], strict=True)
        ]
    else:
        frame = pd.DataFrame(load_registry(config_dir))
    if kinds:
        frame = frame[frame["kind"].isin(kinds)]
    if codes:  # a carrier across a border is listed under each of its districts
        frame = frame[frame["districts"].map(lambda ds: bool(set(ds) & set(codes)))]
    if belt_roles:
        frame = frame[frame["belt_role"].isin(belt_roles)]
    if not include_demo:
        frame = frame[~frame["is_demo"].astype(bool)]
    names = {d.adcode: (d.name if lang == "zh" else d.name_en) for d in city.districts}
    joiner = "、" if lang == "zh" else ", "
    frame = frame.assign(
        district=frame["districts"].map(lambda ds: joiner.join(names.get(c, c) for c in ds)),
        lon=pd.to_numeric(frame["lon"], errors="coerce"),
        lat=pd.to_numeric(frame["lat"], errors="coerce"),
        is_demo=frame["is_demo"].astype(bool),
    )
    return frame.reindex(columns=CARRIER_COLUMNS).reset_index(drop=True)


# --- geography -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeoCheck:
    """Where the carriers are: the city's areas, per-district belt counts, and the carriers that
    have no location or whose point lies in another district than the registry says."""

    city: str
    band_width_km: float
    metrics: dict[str, float]
    neighbours: list[str]
    by_district: pd.DataFrame  # district, parks, in_belt, declared, zone, riverside, approximate
    unlocated: pd.DataFrame  # id, name
    disagree: pd.DataFrame  # id, name, district, geo_district


def geo_check(engine: Engine, config_dir: Path, lang: str = "zh") -> GeoCheck:
    city = load_city(config_dir)
    geo = belt.load_geography(city, config_dir)
    parks = store.parks_frame(engine)
    names = {d.adcode: d.name if lang == "zh" else d.name_en for d in city.districts}
    rows = []
    for d in city.districts:
        here = parks[parks["district_id"] == d.adcode]
        basis = here["belt_basis"]
        rows.append(
            {
                "district": names[d.adcode],
                "parks": len(here),
                "in_belt": int(here["in_belt"].sum()),
                "declared": int((basis == "declared").sum()),
                "zone": int(basis.isin(["zone_area", "near_zone"]).sum()),
                "riverside": int((basis == "riverside").sum()),
                "approximate": int((here["location_quality"] == "approximate").sum()),
            }
        )
    located = parks.geometry.notna()
    spans = store.park_districts(engine)
    # a point in any of a carrier's districts agrees (one across a border has two)
    agrees = [
        geo in (spans.get(pid) or [code])
        for pid, code, geo in zip(
            parks["id"], parks["district_id"], parks["geo_district_id"], strict=True
        )
    ]
    disagree = parks[located & ~pd.Series(agrees, index=parks.index, dtype=bool)]
    return GeoCheck(
        city=city.name if lang == "zh" else city.name_en,
        band_width_km=city.geo.belt_width_km,
        metrics=geo.metrics(),
        neighbours=[str(n) for n in geo.shoreline["neighbour"]],
        by_district=pd.DataFrame(rows),
        unlocated=pd.DataFrame(parks.loc[~located, ["id", "name"]]),
        disagree=pd.DataFrame(
            {
                "id": disagree["id"],
                "name": disagree["name"],
                "district": disagree["district_id"].map(lambda c: names.get(c, c)),
                "geo_district": disagree["geo_district_id"].map(lambda c: names.get(c, "—")),
            }
        ),
    )


def geo_layers(engine: Engine, lang: str = "zh") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Carriers with their latest ratings, and the regions, as WGS-84 layers for QGIS."""
    parks = store.parks_frame(engine)
    ratings = store.latest_ratings(engine).rename(columns={"year": "rating_year"})
    regions = store.regions_frame(engine)
    parks = parks.merge(ratings, left_on="id", right_on="subject_id", how="left").drop(
        columns=["subject_id", "updated_at"]
    )
    parks["kind_label"] = parks["kind"].map(lambda k: label("kind", k, lang))
    return (
        gpd.GeoDataFrame(parks, geometry="geometry", crs=4326),
        gpd.GeoDataFrame(regions, geometry="geometry", crs=4326),
    )


def indicator_names_en(engine: Engine) -> dict[str, str]:
    """Each indicator's English name (its code where it has none), for English output."""
    return {r["code"]: r.get("name_en") or r["code"] for r in store.indicator_rows(engine)}
