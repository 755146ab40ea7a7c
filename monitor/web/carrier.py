"""A carrier's page: identity, districts, ratings with the way up a star and how firm the star
is, each indicator's series against its peers' median, the latest figures and every revision
behind them (cached per carrier; ``monitor.web.data`` holds what other pages share)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.engine import Engine

from monitor import publication, quality, report, risks, store, views
from monitor.errors import ConfigError
from monitor.i18n import t
from monitor.rating.explain import explain
from monitor.rating.stability import stability
from monitor.risks import edges
from monitor.web.common import cached, city_of, engine_of, lang_of, missing, records
from monitor.web.data import indicators, park_districts, plain, registry, registry_ids


def park_detail(request: Request, park_id: str) -> dict[str, Any] | None:
    """Everything a carrier's page shows (None: no such carrier), cached per carrier."""
    if park_id not in registry_ids(request):
        return None
    detail: dict[str, Any] = cached(request, f"park:{park_id}", lambda: _detail(request, park_id))
    return detail


def _detail(request: Request, park_id: str) -> dict[str, Any] | None:
    engine = engine_of(request)
    lang = lang_of(request)
    table = registry(request)
    found = table[table["id"] == park_id]
    if found.empty:
        return None
    park = records(found)[0]
    city = city_of(request)
    city_names = {d.adcode: (d.name if lang == "zh" else d.name_en) for d in city.districts}
    spans = park_districts(request)
    districts = spans.get(park_id) or [park["district_id"]]
    ratings = store.ratings_frame(
        engine,
        subjects=[park_id],
        columns=[
            "subject_type",
            "subject_id",
            "year",
            "methodology",
            "methodology_version",
            "score",
            "stars",
            "rank",
            "peer_size",
            "status",
        ],
    ).sort_values(["year", "methodology"], ascending=[False, True])
    figures = store.observations_frame(
        engine,
        subjects=[park_id],
        columns=["raw_value", "raw_unit", "run_id", "recorded_at"],
    )
    names = indicator_names(request, lang)
    if len(figures):
        figures = figures.sort_values(["indicator", "period"], ascending=[True, False])
        figures = figures.drop_duplicates("indicator", keep="first")
    recognitions = cached(
        request, "recognitions", lambda: store.recognitions_frame(engine), shared=True
    )
    recognitions = recognitions[recognitions["park_id"] == park_id]
    latest_year = int(ratings["year"].max()) if len(ratings) else None
    checked = figures_quality(engine, park_id, str(park["kind"]), latest_year)
    late: dict[str, int] = (
        {} if checked is None or checked["days_late"] is None else {park_id: checked["days_late"]}
    )
    return {
        "advice": advice(request, park_id, str(park["kind"]), latest_year, ratings, late),
        "quality": checked,
        "chart": indicator_series(
            engine,
            park_id,
            names,
            str(park["name"]),
            lang,
            peer_medians(request, str(park["kind"]), str(park["level"])),
        ),
        "park": park,
        "districts": [city_names.get(d, d) for d in districts],
        "ratings": records(ratings),
        "figures": [
            {
                **f,
                "name": names.get(f["indicator"], (f["indicator"], ""))[0],
                "unit": names.get(f["indicator"], ("", ""))[1],
            }
            for f in records(figures)
        ],
        "recognitions": records(recognitions.sort_values("year")),
        "published": publication.published_for(engine, park_id),
    }


def figures_quality(
    engine: Engine, park_id: str, kind: str, year: int | None
) -> dict[str, Any] | None:
    """How much the latest rating rests on missing, late or revised figures: the carrier's data
    quality for that year (``monitor.quality``) and the share of the rating's points on
    missing figures (one minus its completeness)."""
    if year is None or kind not in quality.STARRED:
        return None
    found = quality.carrier_quality(engine, year, subjects=[park_id])
    if found.empty:
        return None
    row = found.iloc[0]
    rated = store.ratings_frame(
        engine, year, subjects=[park_id], columns=["subject_id", "breakdown"]
    )
    completeness = None
    for text in rated["breakdown"]:
        number = json.loads(text or "{}").get("completeness")
        completeness = None if number is None else float(number)
    days = row["days_late"]
    return {
        "year": year,
        "completeness": float(row["completeness"]),
        "days_late": None if missing(days) else int(days),
        "revised": int(row["revised"]),
        "score": float(row["score"]),
        "on_missing": None if completeness is None else 1 - completeness,
    }


def advice(
    request: Request,
    park_id: str,
    kind: str,
    year: int | None,
    ratings: pd.DataFrame,
    late: dict[str, int],
) -> dict[str, Any] | None:
    """For a star-rated carrier's latest rated year: the items where it lost most points and the
    single figures that would lift it a star (``monitor.rating.explain`` on the stored ratings;
    the year's runs are computed once per data version)."""
    if year is None or kind not in ("incubator", "maker_space"):
        return None
    lang = lang_of(request)
    engine = engine_of(request)
    settings = request.app.state.settings

    def runs() -> list[Any]:
        try:
            return views.stored_rating_runs(engine, settings.config_dir, year, [kind])
        except ConfigError:
            return []

    found = [
        (number, r)
        for number, r in enumerate(cached(request, f"rating-runs:{year}:{kind}", runs, shared=True))
        if park_id in r.result.table.index
    ]
    if not found:
        return None
    number, run = found[0]
    steady = cached(
        request,
        f"stability:{year}:{kind}:{number}",
        lambda: stability(run.values, run.methodology, peers=run.peers, draws=300, held=run.held),
        shared=True,
    )
    meth = run.methodology
    names_en = {str(r["code"]): str(r["name_en"] or "") for r in indicators(request)}
    items = {i.id: report.item_name(i, lang, names_en) for i in (*meth.items, *meth.bonus_items)}
    units = {str(r["code"]): str(r["unit"] or "") for r in indicators(request)}
    explained = explain(run.result, park_id, run.values, units)
    return {
        "risk": carrier_risk(
            request,
            run,
            steady,
            cached(request, f"edges:{year}:{kind}:{number}", lambda: edges(run), shared=True),
            park_id,
            year,
            ratings,
            late,
            items,
            units,
        ),
        "year": year,
        "stars": explained.stars,
        "target_stars": explained.target_stars,
        "target_score": explained.target_score,
        "score": explained.score,
        "stability": star_stability(steady, park_id, explained.stars),
        "gaps": [
            {
                "item": items.get(g.item, g.item),
                "points": g.points,
                "max": g.max_points,
                "lost": g.lost,
            }
            for g in explained.gaps[:5]
            if g.lost > 0
        ],
        "options": [
            {
                "item": items.get(o.item, o.item),
                "current": o.current,
                "needed": o.needed,
                "unit": units.get(o.indicator, ""),
            }
            for o in explained.options
            if o.reachable
        ],
    }


def carrier_risk(
    request: Request,
    run: Any,
    steady: pd.DataFrame,
    edge: dict[str, float],
    park_id: str,
    year: int,
    ratings: pd.DataFrame,
    late: dict[str, int],
    items: dict[str, str],
    units: dict[str, str],
) -> dict[str, Any] | None:
    """The carrier's early warning (``monitor.risks``), from the page's own rating run and
    stability draws, its stored scores of the two years before (``ratings``: the page's read of
    them) and its filing's lateness (``late``: days by carrier, from its data quality)."""
    earlier = ratings[ratings["status"] == "rated"]
    past = [
        {park_id: float(earlier.loc[earlier["year"] == y, "score"].iloc[-1])}
        if (earlier["year"] == y).any()
        else {}
        for y in range(year - 1, year - risks.YEARS, -1)
    ]
    frame = risks.assess(
        run, past, pd.DataFrame(), late, units, 0, steady=steady, subjects=[park_id], edge=edge
    )
    if frame.empty:
        return None
    row = frame.iloc[0]
    lang = lang_of(request)
    return {
        "risk": float(row["risk"]),
        "level": str(row["level"]),
        "again": bool(row["again"]),
        "expected": None if missing(row["expected"]) else float(row["expected"]),
        "line": None if missing(row["line"]) else float(row["line"]),
        "levers": risks.levers_text(row["levers"], units, lang, items),
    }


def star_stability(frame: pd.DataFrame, park_id: str, stars: float | None) -> dict[str, Any] | None:
    """How firmly the carrier holds its star when the weights and the treatment of missing
    figures vary (``monitor.rating.stability``, 300 draws): the chance of each star, the chance
    of the one it has, and the band of its rank."""
    if park_id not in frame.index or stars is None or missing(stars):
        return None
    row: dict[str, Any] = {str(k): v for k, v in frame.loc[park_id].items()}
    chances = [
        (int(c.split("_")[1]), float(v))
        for c, v in row.items()
        if c.startswith("p_") and c.endswith("_stars") and not missing(v)
    ]
    if not chances:
        return None
    return {
        "chances": [(k, p) for k, p in chances if p > 0],
        "held": dict(chances).get(int(stars), 0.0),
        "solid": bool(row["solid"]),
        "rank_low": None if missing(row["rank_p05"]) else int(row["rank_p05"]),
        "rank_high": None if missing(row["rank_p95"]) else int(row["rank_p95"]),
    }


def indicator_series(
    engine: Engine,
    park_id: str,
    names: dict[str, tuple[str, str]],
    name: str,
    lang: str,
    medians: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """Every indicator of the carrier as a yearly series, with its peers' median (same kind and
    level) as a dashed line, for the chart's chooser."""
    history = store.observations_frame(engine, subjects=[park_id], columns=())
    history = history[history["period"].str.fullmatch(r"\d{4}")]
    years = sorted(history["period"].unique())
    choices = []
    for code, part in history.groupby("indicator", sort=True):
        by_year = dict(zip(part["period"], part["value"], strict=True))
        title, unit = names.get(str(code), (str(code), ""))
        lines: list[dict[str, Any]] = [
            {"name": name, "values": [plain(by_year.get(y)) for y in years]}
        ]
        peers = (medians or {}).get(str(code))
        if peers:
            lines.append(
                {
                    "name": t("web.peer_median", lang),
                    "values": [plain(peers.get(y)) for y in years],
                    "dashed": True,
                }
            )
        choices.append({"name": title, "unit": unit, "series": lines})
    return {"x": years, "choices": choices, "series": [], "target": None, "target_name": ""}


def peer_medians(request: Request, kind: str, level: str) -> dict[str, dict[str, float]]:
    """The median of each indicator and year among the carriers of one kind and level (cached
    per group: every carrier page of the group draws from it)."""

    def compute() -> dict[str, dict[str, float]]:
        park = store.T_PARK
        group = sa.select(park.c.id).where(park.c.kind == kind, park.c.level == level)
        obs = store.observations_frame(
            engine_of(request), subject_type="park", subjects=group, columns=()
        )
        obs = obs[obs["period"].str.fullmatch(r"\d{4}")]
        medians = obs.groupby(["indicator", "period"], sort=False)["value"].median()
        out: dict[str, dict[str, float]] = {}
        for code, period, value in zip(
            medians.index.get_level_values(0),
            medians.index.get_level_values(1),
            medians.to_numpy(),
            strict=True,
        ):
            out.setdefault(str(code), {})[str(period)] = float(value)
        return out

    found: dict[str, dict[str, float]] = cached(
        request, f"peer-medians:{kind}:{level}", compute, shared=True
    )
    return found


def history_of(request: Request, park_id: str) -> dict[str, Any] | None:
    """The carrier's every revision of every figure (its own page: at ten years the table is
    several times the carrier's page), None for an unknown carrier."""
    if park_id not in registry_ids(request):
        return None
    lang = lang_of(request)
    table = registry(request)
    row = table[table["id"] == park_id].iloc[0]
    name = str(
        row["name_en"]
        if lang == "en" and isinstance(row["name_en"], str) and row["name_en"]
        else row["name"]
    )
    names = indicator_names(request, lang)
    return {
        "park_id": park_id,
        "name": name,
        "history": figure_history(engine_of(request), park_id, names),
    }


def indicator_names(request: Request, lang: str) -> dict[str, tuple[str, str]]:
    """Each indicator's name in ``lang`` (its code where it has no English one) and unit."""
    return {
        r["code"]: (r["name_zh"] if lang == "zh" else (r["name_en"] or r["code"]), r["unit"])
        for r in indicators(request)
    }


def figure_history(
    engine: Engine, park_id: str, names: dict[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    """Every revision of every figure of the carrier, from every source, grouped by indicator
    (the provenance behind the latest figures: what was reported when, and what replaced it)."""
    rows = store.observations_frame(
        engine,
        subjects=[park_id],
        history=True,
        columns=["raw_value", "raw_unit", "run_id", "recorded_at"],
    )
    # the value in use of each fact: the latest revision of the source that takes precedence
    used = store.observations_frame(engine, subjects=[park_id], columns=())
    key = ["subject_type", "indicator", "period", "source_id", "revision"]
    rows = rows.merge(used[key].assign(is_latest=True), on=key, how="left")
    rows["is_latest"] = rows["is_latest"].eq(True)
    out = []
    rows = rows.sort_values(
        ["indicator", "period", "source_id", "revision"], ascending=[True, False, True, False]
    )
    for code, part in itertools.groupby(records(rows), key=lambda r: str(r["indicator"])):
        title, unit = names.get(code, (code, ""))
        out.append({"indicator": code, "name": title, "unit": unit, "rows": list(part)})
    return out
