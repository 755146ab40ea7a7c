"""What the pages show, computed from the store: carriers, a carrier's page, comparisons, the
overview's sources, downloads (the cache in ``monitor.web.common`` keeps what is costly)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.engine import Engine

from monitor import goals as goals_module
from monitor import models, quality, safe_io, store, views
from monitor.compare import radar_svg
from monitor.i18n import label, t
from monitor.registry import load_city
from monitor.settings import Settings
from monitor.tables import table_of
from monitor.web.common import (
    MAX_COMPARED,
    cached,
    city_of,
    engine_of,
    lang_of,
    missing,
    records,
)


def all_carriers(request: Request) -> pd.DataFrame:
    """Every carrier with its latest stars and the texts a search looks in (cached)."""

    def compute() -> pd.DataFrame:
        engine = engine_of(request)
        frame = views.carriers(engine, request.app.state.settings.config_dir, lang=lang_of(request))
        latest = store.latest_ratings(engine)
        frame = frame.merge(
            latest[["subject_id", "year", "stars", "score"]].rename(
                columns={"subject_id": "id", "year": "rating_year"}
            ),
            on="id",
            how="left",
        )
        extra = store.park_table(engine, columns=["aliases", "credit_code"]).set_index("id")
        spans = park_districts(request)
        frame["districts"] = [
            spans.get(pid) or [code]
            for pid, code in zip(frame["id"], frame["district_id"], strict=True)
        ]
        frame["search"] = (
            frame["id"].str.lower()
            + "|"
            + frame["name"].str.lower()
            + "|"
            + frame["name_en"].fillna("").str.lower()
            + "|"
            + frame["id"].map(extra["aliases"]).fillna("").str.lower()
            + "|"
            + frame["id"].map(extra["credit_code"]).fillna("").str.lower()
        )
        return frame

    frame: pd.DataFrame = cached(request, "carriers", compute)
    return frame


def carriers(request: Request) -> pd.DataFrame:
    """The carriers with their latest stars, filtered by the query (kind, level, district,
    belt role, stars, search text)."""
    params = request.query_params
    frame = all_carriers(request)
    kinds = [v for v in params.getlist("kind") if v]
    if kinds:
        frame = frame[frame["kind"].isin(kinds)]
    codes = []
    for name in (v for v in params.getlist("district") if v):
        found = city_of(request).district(name)
        codes.append(found.adcode if found is not None else "")  # unknown: matches nothing
    if codes:  # a carrier across a border is listed under each of its districts
        frame = frame[frame["districts"].map(lambda ds: bool(set(ds) & set(codes)))]
    roles = [v for v in params.getlist("belt_role") if v]
    if roles:
        frame = frame[frame["belt_role"].isin(roles)]
    levels = [v for v in params.getlist("level") if v]
    if levels:
        frame = frame[frame["level"].isin(levels)]
    wanted_stars = [v for v in params.getlist("stars") if v.isdigit()]
    if wanted_stars:
        frame = frame[frame["stars"].isin([float(s) for s in wanted_stars])]
    text = (params.get("q") or "").strip().lower()
    if text:
        frame = frame[frame["search"].str.contains(text, regex=False)]
    order = params.get("sort")
    if order in SORTABLE:  # missing values (unrated) last either way
        descending = params.get("order") == "desc"
        frame = frame.sort_values(
            order, ascending=not descending, na_position="last", kind="stable"
        )
    return frame.drop(columns=["search", "districts"]).reset_index(drop=True)


AGAINST = ("peers", "kind", "district", "belt")  # the groups a carrier is compared against
SORTABLE = ("id", "name", "kind", "level", "district", "belt_role", "stars", "score", "rating_year")


def registry(request: Request) -> pd.DataFrame:
    """The registry's table (cached, the same in every language)."""
    engine = engine_of(request)
    table: pd.DataFrame = cached(request, "registry", lambda: store.park_table(engine), shared=True)
    return table


def park_districts(request: Request) -> dict[str, list[str]]:
    """Each carrier's districts (cached, the same in every language)."""
    engine = engine_of(request)
    spans: dict[str, list[str]] = cached(
        request, "park-districts", lambda: store.park_districts(engine), shared=True
    )
    return spans


def indicators(request: Request) -> list[dict[str, Any]]:
    """The indicator catalogue's rows (cached)."""
    engine = engine_of(request)
    rows: list[dict[str, Any]] = cached(
        request, "indicators", lambda: store.indicator_rows(engine), shared=True
    )
    return rows


def latest_rating_year(request: Request) -> int | None:
    """The latest year any carrier was rated (cached)."""

    def compute() -> int | None:
        with engine_of(request).connect() as conn:
            found = conn.execute(sa.select(sa.func.max(table_of(models.Rating).c.year))).scalar()
        return None if found is None else int(found)

    year: int | None = cached(request, "latest-rating-year", compute, shared=True)
    return year


def progress_of(request: Request, district: str | None = None) -> list[Any]:
    """Every goal's progress for the city or one district (adcode), cached."""
    config_dir = request.app.state.settings.config_dir
    found: list[Any] = cached(
        request,
        f"goals:{district or ''}",
        lambda: views.goal_progress(engine_of(request), config_dir, district=district),
        shared=True,
    )
    return found


# --- pages ---------------------------------------------------------------------------------------


def comparison_of(request: Request) -> tuple[dict[str, Any], int]:
    """The comparison the query asks for (ids, against, year), or the reason it cannot be made,
    with the HTTP status to answer."""
    lang = lang_of(request)
    params = request.query_params
    ids = [i.strip() for i in (params.get("ids") or "").replace("，", ",").split(",")]
    ids = list(dict.fromkeys(i for i in ids if i))
    against = params.get("against") or "peers"
    context: dict[str, Any] = {"ids": ids, "against": against, "error": None}
    if not ids:
        return {**context, "comparison": None}, 200
    if len(ids) > MAX_COMPARED or against not in AGAINST:
        context["error"] = t("web.compare_limits", lang, n=MAX_COMPARED)
        return {**context, "comparison": None}, 400
    engine = engine_of(request)
    table = registry(request)
    chosen = table[table["id"].isin(ids)]
    kinds = set(chosen["kind"])
    if len(chosen) < len(ids):
        unknown = [i for i in ids if i not in registry_ids(request)]
        context["error"] = t("web.not_found", lang, id=", ".join(unknown))
    elif len(kinds) > 1:
        shown = ("、" if lang == "zh" else ", ").join(label("kind", k, lang) for k in sorted(kinds))
        context["error"] = t("web.compare_kinds", lang, kinds=shown)
    if context["error"]:
        return {**context, "comparison": None}, 400
    year_text = params.get("year") or ""
    latest = latest_rating_year(request)
    year = int(year_text) if year_text.isdigit() else latest or datetime.now(UTC).year - 1

    def compute() -> dict[str, Any]:
        comparison = views.compare_parks(
            engine,
            ids,
            year,
            against,
            keep=lambda name, compute: cached(request, name, compute, shared=True),
        )
        names = {
            str(i): str(en if lang == "en" and isinstance(en, str) and en else zh)
            for i, zh, en in zip(chosen["id"], chosen["name"], chosen["name_en"], strict=True)
        }
        return {
            "comparison": comparison,
            "rows": records(comparison.table),
            "rated": records(comparison.ratings),
            "names": names,
            "year": year,
            "radar": Markup(radar_svg(comparison, lang=lang)),  # it escapes every text it draws
        }

    found: dict[str, Any] = cached(request, f"compare:{','.join(ids)}:{against}:{year}", compute)
    return {**found, **context}, 200


def download(frame: pd.DataFrame, kind: str, name: str, title: str) -> Response:
    """The table as a CSV (UTF-8 with BOM, for Excel and WPS) or a workbook; every text that
    could start a formula is quoted."""
    if kind == "xlsx":
        return Response(
            xlsx(frame, title),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(
        safe_io.frame_to_csv(frame).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def xlsx(frame: pd.DataFrame, title: str) -> bytes:
    """The table as a workbook (write-only, every formula-like text a quoted string)."""
    from openpyxl import Workbook  # noqa: PLC0415  (only for this download)

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(safe_io.safe_row(sheet, [str(c) for c in frame.columns]))
    for row in frame.itertuples(index=False):
        sheet.append(safe_io.safe_row(sheet, [None if missing(v) else v for v in row]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def unconfigured_sources(engine: Engine, known: set[str], lang: str) -> list[dict[str, Any]]:
    """Sources the database has runs of but this configuration does not list (the demo's
    samples, a retired source): their last result, so the overview shows every source."""
    runs = store.runs_frame(engine, limit=10_000, lang=lang)
    rows = []
    for source, mine in runs.groupby("source_id", sort=True):
        if source in known or source == "demo-generator":
            continue
        good = mine[mine["status"].isin(["ok", "partial"])]
        last = mine.iloc[0]
        rows.append(
            {
                "source": source,
                "state": "failing" if last["status"] == "failed" else "ok",
                "last_success": None if good.empty else good["finished_at"].iloc[0],
                "last_error": last["error"] or "",
            }
        )
    return rows


def settings_in(settings: Settings, lang: str) -> Settings:
    return replace(settings, lang=lang)


def registry_ids(request: Request) -> frozenset[str]:
    ids: frozenset[str] = cached(
        request, "registry-ids", lambda: frozenset(registry(request)["id"]), shared=True
    )
    return ids


def goal_series(engine: Engine, config_dir: Any, goal: Any, lang: str) -> dict[str, Any] | None:
    """The city's yearly values of a level goal's indicator, and the target line."""
    spec = next((g for g in goals_module.load_goals(config_dir) if g.id == goal.goal), None)
    if spec is None or not spec.indicator or spec.kind not in ("level", "cumulative"):
        return None
    city = load_city(config_dir).adcode
    obs = store.observations_frame(
        engine, subject_type="region", indicators=[spec.indicator], columns=()
    )
    obs = obs[(obs["subject_id"] == city) & obs["period"].str.fullmatch(r"\d{4}")]
    years = [str(y) for y in range(spec.baseline_year, spec.target_year + 1)]
    by_year = dict(zip(obs["period"], obs["value"], strict=True))
    if spec.kind == "cumulative":
        flows = {int(y): float(v) for y, v in by_year.items()}
        by_year = {
            str(y): v for y, v in goals_module.running_total(flows, spec.baseline_year).items()
        }
    title = goal.name_zh if lang == "zh" else (goal.name_en or goal.name_zh)
    series: list[dict[str, Any]] = [
        {"name": title, "values": [plain(by_year.get(y)) for y in years]}
    ]
    pace = goal.numbers.get("observed_cagr")
    if spec.kind == "level" and pace is not None and goal.latest_year and goal.latest is not None:
        # at the pace observed since the baseline (compound yearly growth) to the deadline
        series.append(
            {
                "name": t("web.projection_line", lang),
                "values": [
                    None
                    if int(y) < goal.latest_year
                    else round(goal.latest * (1 + pace) ** (int(y) - goal.latest_year), 4)
                    for y in years
                ],
                "dashed": True,
                "connect": True,
            }
        )
    return {
        "x": years,
        "series": series,
        "target": spec.target,
        "target_name": t("web.target", lang),
        "unit": spec.unit,
    }


def with_projection(chart: dict[str, Any], projected: Any, lang: str) -> dict[str, Any]:
    """The goal chart with its projection (``monitor.projection``): the path at the current
    pace to the deadline and beyond (dashed), and its 10th–90th percentile band (shaded)."""
    if projected is None or not projected.path:
        return chart
    last = max(int(chart["x"][-1]), *(int(p[0]) for p in projected.path))
    years = [str(y) for y in range(int(chart["x"][0]), last + 1)]
    pad = len(years) - len(chart["x"])
    path = {str(y): (mid, lo, hi) for y, mid, lo, hi in projected.path}
    path[str(projected.latest_year)] = (projected.latest,) * 3
    series = [
        {**s, "values": s["values"] + [None] * pad}
        for s in chart["series"]
        if not s.get("dashed")  # the pace line gives way to the projection's own path
    ]
    series.append(
        {
            "name": t("web.projection_line", lang),
            "values": [plain(path[y][0]) if y in path else None for y in years],
            "dashed": True,
            "connect": True,
        }
    )
    lows = [plain(path[y][1]) if y in path else None for y in years]
    spans = [plain(path[y][2] - path[y][1]) if y in path else None for y in years]
    band = {"name": t("web.projection_band", lang), "low": lows, "span": spans}
    return {**chart, "x": years, "series": series, "band": band}


def counted_recognitions(request: Request, goal_id: str) -> list[dict[str, Any]] | None:
    """For a goal that counts newly recognised carriers: the recognitions that count (each
    carrier's first at one of the goal's levels within the plan period); None for other goals."""
    config_dir = request.app.state.settings.config_dir
    spec = next((g for g in goals_module.load_goals(config_dir) if g.id == goal_id), None)
    if spec is None or spec.kind != "count":
        return None
    lang = lang_of(request)
    engine = engine_of(request)
    recognitions = cached(
        request, "recognitions", lambda: store.recognitions_frame(engine), shared=True
    )
    table = registry(request)
    new = goals_module.count_new(recognitions, table, spec).sort_values(["year", "park_id"])
    names = table.set_index("id")
    districts = {
        d.adcode: (d.name if lang == "zh" else d.name_en) for d in city_of(request).districts
    }
    levels = (
        recognitions.sort_values("year").drop_duplicates("park_id").set_index("park_id")["level"]
    )
    return [
        {
            "park_id": pid,
            "name": str(names.at[pid, "name"]),
            "year": int(year),
            "district": districts.get(str(code), str(code)),
            "level": str(levels.get(pid, "")),
        }
        for pid, year, code in zip(new["park_id"], new["year"], new["district_id"], strict=True)
    ]


def plain(value: Any) -> float | None:
    return None if value is None or missing(value) else float(value)


def basis_texts(request: Request, progress: Sequence[Any]) -> dict[str, str]:
    """Per goal, what its status rests on (``monitor.quality.goal_basis_text``), against the
    latest year collected."""
    lang = lang_of(request)
    reference = cached(
        request, "latest-year", lambda: quality.latest_year(engine_of(request)), shared=True
    )
    return {g.goal: quality.goal_basis_text(g, reference, lang) for g in progress}


# --- the JSON API --------------------------------------------------------------------------------
