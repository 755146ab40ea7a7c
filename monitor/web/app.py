"""The application: routes, the page frame, security headers.

Read-only: the engine is opened with ``db.open_read_only`` (a SQLite file in ``mode=ro``,
PostgreSQL sessions read-only), which also refuses a database whose schema is not this code's.
Every page is rendered by Jinja2 with autoescaping: text from the registry or a source is never
markup. Scripts run only with the per-request nonce of the Content-Security-Policy.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.engine import Engine

from maps.page import tile_choice
from maps.region import render_region_map
from monitor import db, freshness, models, report, safe_io, store, views
from monitor import goals as goals_module
from monitor.compare import radar_svg
from monitor.errors import ConfigError
from monitor.i18n import label, stars_text, t
from monitor.rating.explain import explain
from monitor.registry import load_city
from monitor.settings import Settings, load_settings

PAGE_SIZE = 100
CACHE_SECONDS = 60.0
MAX_COMPARED = 6
LANGS = ("zh", "en")


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The application on the settings' database (opened read-only; refused, in one line, when
    it is missing or its schema is not this code's)."""
    engine = engine or db.open_read_only(settings.database_url)
    app = FastAPI(
        title="parkmon",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.demo = db.holds_demo_data(engine)
    app.state.cache = {}
    app.state.templates = Environment(
        loader=PackageLoader("monitor.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app.mount(
        "/static",
        StaticFiles(directory=os.path.join(os.path.dirname(__file__), "static")),
        name="static",
    )
    app.middleware("http")(_security_headers)
    _pages(app)
    _more_pages(app)
    _map_pages(app)
    _api(app)
    return app


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker: the settings from PARKMON_* (set by ``parkmon serve``)."""
    return create_app(load_settings())


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request.state.nonce = secrets.token_urlsafe(16)
    response = await call_next(request)
    inline_styles = response.headers.get("X-Parkmon-Inline-Styles") == "1"
    if inline_styles:
        del response.headers["X-Parkmon-Inline-Styles"]
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    # the map frame may sit in the application's own pages, nowhere else
    ancestors = "'self'" if inline_styles else "'none'"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{request.state.nonce}'; "
        f"style-src {styles}; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        f"frame-ancestors {ancestors}; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if inline_styles else "DENY"
    return response


# --- helpers -------------------------------------------------------------------------------------


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang")
    return asked if asked in LANGS else request.app.state.settings.lang


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = _lang(request)

    def link(path: str, **params: object) -> str:
        """A link that keeps the page's language."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        if lang != request.app.state.settings.lang:
            query["lang"] = lang
        return path + ("?" + urlencode(query, doseq=True) if query else "")

    other = "en" if lang == "zh" else "zh"
    switch = request.url.include_query_params(lang=other)
    page = request.app.state.templates.get_template(template).render(
        lang=lang,
        t=lambda key, **kw: t(key, lang, **kw),
        label=lambda prefix, value: label(prefix, str(value), lang),
        stars=lambda value: stars_text(value, lang),
        number=_number,
        when=_when,
        link=link,
        switch=str(switch.path) + "?" + str(switch.query),
        path=request.url.path,
        demo=request.app.state.demo,
        nonce=request.state.nonce,
        **context,
    )
    return HTMLResponse(page, status_code=status)


def _number(value: object, digits: int = 2) -> str:
    if value is None:
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "—"
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.{digits}f}"


def _when(value: object) -> str:
    """A stored time as people read it: 2026-12-01 08:48 (Beijing time, UTC+8)."""
    if value is None or _missing(value):
        return "—"
    moment = pd.Timestamp(value)  # type: ignore[arg-type]
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    return moment.tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts with None for missing values (templates test ``is none``)."""
    if frame.empty:
        return []
    return [
        {str(k): (None if _missing(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list | dict | tuple):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _data_version(engine: Engine) -> tuple[Any, ...]:
    """What changes when the data does: the latest run, the latest rating, the registry's
    fingerprint (one small query; other processes — the scheduler, the CLI — write)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT (SELECT max(id) FROM collection_run), "
                "(SELECT max(finished_at) FROM collection_run), "
                "(SELECT max(computed_at) FROM rating), "
                "(SELECT value FROM parkmon_meta WHERE key = 'registry_fingerprint')"
            )
        ).one()
    return tuple(row)


def _cached(request: Request, name: str, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per data version and language, and at most CACHE_SECONDS old (the
    sources' freshness moves with the clock)."""
    cache: dict[tuple[str, str], tuple[tuple[Any, ...], float, Any]] = request.app.state.cache
    version = _data_version(_engine(request))
    key = (name, _lang(request))
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[0] == version and now - hit[1] < CACHE_SECONDS:
        return hit[2]
    value = compute()
    cache[key] = (version, now, value)
    return value


def _city(request: Request) -> Any:
    """The city of the configuration, read again only when its file changes."""
    config_dir = request.app.state.settings.config_dir
    path = Path(config_dir) / "city.toml"
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    return _load_city(str(config_dir), stamp)


@functools.lru_cache(maxsize=8)
def _load_city(config_dir: str, _stamp: int) -> Any:
    return load_city(Path(config_dir))


def _all_carriers(request: Request) -> pd.DataFrame:
    """Every carrier with its latest stars and the texts a search looks in (cached)."""

    def compute() -> pd.DataFrame:
        engine = _engine(request)
        frame = views.carriers(engine, request.app.state.settings.config_dir, lang=_lang(request))
        latest = store.latest_ratings(engine)
        frame = frame.merge(
            latest[["subject_id", "year", "stars", "score"]].rename(
                columns={"subject_id": "id", "year": "rating_year"}
            ),
            on="id",
            how="left",
        )
        extra = store.park_table(engine, columns=["aliases", "credit_code"]).set_index("id")
        spans = store.park_districts(engine)
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

    frame: pd.DataFrame = _cached(request, "carriers", compute)
    return frame


def _carriers(request: Request) -> pd.DataFrame:
    """The carriers with their latest stars, filtered by the query (kind, level, district,
    belt role, stars, search text)."""
    params = request.query_params
    frame = _all_carriers(request)
    kinds = [v for v in params.getlist("kind") if v]
    if kinds:
        frame = frame[frame["kind"].isin(kinds)]
    codes = []
    for name in (v for v in params.getlist("district") if v):
        found = _city(request).district(name)
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
    return frame.drop(columns=["search", "districts"]).reset_index(drop=True)


# --- pages ---------------------------------------------------------------------------------------


def _pages(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        context = _cached(request, "overview", lambda: _overview(request))
        return _render(request, "home.html", **context)

    def _overview(request: Request) -> dict[str, Any]:
        engine = _engine(request)
        settings = request.app.state.settings
        lang = _lang(request)
        parks = store.park_table(engine, columns=["kind", "level"])
        counts = parks.groupby(["kind", "level"]).size().unstack(fill_value=0)
        ratings = store.ratings_frame(
            engine, columns=["subject_type", "subject_id", "year", "stars", "status"]
        )
        ratings = ratings[ratings["subject_type"] == "park"]
        year = int(ratings["year"].max()) if len(ratings) else None
        stars = (
            ratings[ratings["year"] == year]["stars"].value_counts(dropna=False).sort_index()
            if year is not None
            else pd.Series(dtype=int)
        )
        progress = views.goal_progress(engine, settings.config_dir)
        sparks = {
            g.goal: spec
            for g in progress
            if (spec := _goal_series(engine, settings.config_dir, g, lang)) is not None
            and any(v is not None for v in spec["series"][0]["values"])
        }
        sources = _records(freshness.status_frame(_settings_in(settings, lang)))
        sources += _unconfigured_sources(engine, {str(r["source"]) for r in sources}, lang)
        runs = _records(store.runs_frame(engine, limit=10, lang=lang))
        rejected = len(store.rejections_frame(engine, lang=lang))
        return dict(
            counts=counts,
            year=year,
            star_counts=[(None if _missing(k) else k, int(v)) for k, v in stars.items()],
            goals=progress,
            sparks={k: {**v, "spark": True} for k, v in sparks.items()},
            chart=bool(sparks),
            sources=sources,
            runs=runs,
            rejected=rejected,
        )

    @app.get("/parks", response_class=HTMLResponse, response_model=None)
    def parks(request: Request) -> Response:
        frame = _carriers(request)
        if request.query_params.get("format") == "xlsx":
            return Response(
                _xlsx(frame, t("web.nav.parks", _lang(request))),
                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                headers={"Content-Disposition": 'attachment; filename="parkmon-parks.xlsx"'},
            )
        if request.query_params.get("format") == "csv":
            return Response(
                safe_io.frame_to_csv(frame).encode("utf-8-sig"),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="parkmon-parks.csv"'},
            )
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        first = (page - 1) * PAGE_SIZE
        city = _city(request)
        return _render(
            request,
            "parks.html",
            rows=_records(frame.iloc[first : first + PAGE_SIZE]),
            total=len(frame),
            first=first,
            page=page,
            pages=max(1, math.ceil(len(frame) / PAGE_SIZE)),
            kinds=[k.value for k in models.ParkKind],
            levels=[k.value for k in models.ParkLevel],
            roles=[k.value for k in models.BeltRole],
            districts=city.districts,
            query=request.query_params,
        )

    @app.get("/parks/{park_id}", response_class=HTMLResponse)
    def park(request: Request, park_id: str) -> HTMLResponse:
        detail = _park_detail(request, park_id)
        if detail is None:
            missing = t("web.not_found", _lang(request), id=park_id)
            return _render(request, "not_found.html", status=404, message=missing)
        return _render(request, "park.html", **detail)

    @app.get("/runs", response_class=HTMLResponse)
    def runs(request: Request) -> HTMLResponse:
        frame = store.runs_frame(_engine(request), limit=200, lang=_lang(request))
        return _render(request, "runs.html", runs=_records(frame))

    @app.get("/rejects", response_class=HTMLResponse)
    def rejects(request: Request) -> HTMLResponse:
        frame = store.rejections_frame(_engine(request), lang=_lang(request))
        shown = _records(frame.head(1000))
        return _render(request, "rejects.html", rejects=shown, total=len(frame))


def _more_pages(app: FastAPI) -> None:
    @app.get("/goals", response_class=HTMLResponse)
    def goals_page(request: Request) -> HTMLResponse:
        settings = request.app.state.settings
        progress = views.goal_progress(_engine(request), settings.config_dir)
        return _render(request, "goals.html", goals=progress)

    @app.get("/goals/{goal_id}", response_class=HTMLResponse)
    def goal_page(request: Request, goal_id: str) -> HTMLResponse:
        settings = request.app.state.settings
        lang = _lang(request)
        engine = _engine(request)
        city = [g for g in views.goal_progress(engine, settings.config_dir) if g.goal == goal_id]
        if not city:
            missing = t("web.goal_not_found", lang, id=goal_id)
            return _render(request, "not_found.html", status=404, message=missing)
        districts = []
        for d in load_city(settings.config_dir).districts:
            for g in views.goal_progress(engine, settings.config_dir, district=d.adcode):
                if g.goal == goal_id:
                    districts.append((d.name if lang == "zh" else d.name_en, g))
        chart = _goal_series(engine, settings.config_dir, city[0], lang)
        return _render(request, "goal.html", goal=city[0], districts=districts, chart=chart)

    @app.get("/rankings", response_class=HTMLResponse)
    def rankings_page(request: Request) -> HTMLResponse:
        frame = store.rankings_frame(_engine(request))
        return _render(request, "rankings.html", rankings=_records(frame))

    @app.get("/compare", response_class=HTMLResponse)
    def compare_page(request: Request) -> HTMLResponse:
        context, status = _compare(request)
        return _render(request, "compare.html", status=status, **context)


def _compare(request: Request) -> tuple[dict[str, Any], int]:
    """The comparison the query asks for (ids, against, year), or the reason it cannot be made,
    with the HTTP status to answer."""
    lang = _lang(request)
    params = request.query_params
    ids = [i.strip() for i in (params.get("ids") or "").replace("，", ",").split(",")]
    ids = list(dict.fromkeys(i for i in ids if i))
    against = params.get("against") or "peers"
    context: dict[str, Any] = {"ids": ids, "against": against, "error": None}
    if not ids:
        return {**context, "comparison": None}, 200
    if len(ids) > MAX_COMPARED or against not in ("peers", "district", "belt"):
        context["error"] = t("web.compare_limits", lang, n=MAX_COMPARED)
        return {**context, "comparison": None}, 400
    engine = _engine(request)
    table: pd.DataFrame = _cached(request, "registry", lambda: store.park_table(engine))
    chosen = table[table["id"].isin(ids)]
    kinds = set(chosen["kind"])
    if len(chosen) < len(ids):
        unknown = [i for i in ids if i not in set(table["id"])]
        context["error"] = t("web.not_found", lang, id=", ".join(unknown))
    elif len(kinds) > 1:
        shown = ("、" if lang == "zh" else ", ").join(label("kind", k, lang) for k in sorted(kinds))
        context["error"] = t("web.compare_kinds", lang, kinds=shown)
    if context["error"]:
        return {**context, "comparison": None}, 400
    ratings = store.ratings_frame(engine, columns=["subject_type", "year"])
    year_text = params.get("year") or ""
    latest = ratings["year"].max() if len(ratings) else datetime.now(UTC).year - 1
    year = int(year_text) if year_text.isdigit() else int(latest)
    comparison = views.compare_parks(engine, ids, year, against)
    names = {
        str(i): str(en if lang == "en" and isinstance(en, str) and en else zh)
        for i, zh, en in zip(chosen["id"], chosen["name"], chosen["name_en"], strict=True)
    }
    return {
        "comparison": comparison,
        "rows": _records(comparison.table),
        "rated": _records(comparison.ratings),
        "names": names,
        "year": year,
        "radar": Markup(radar_svg(comparison, lang=lang)),  # it escapes every text it draws
        **context,
    }, 200


def _map_pages(app: FastAPI) -> None:
    @app.get("/map", response_class=HTMLResponse)
    def map_page(request: Request) -> HTMLResponse:
        return _render(request, "map.html")

    @app.get("/map/frame", response_class=HTMLResponse)
    def map_frame(request: Request) -> HTMLResponse:
        """The region map (the static site's, offline: Leaflet inlined) with links to each
        carrier's page; its inline scripts carry the request's nonce."""
        lang = _lang(request)
        data = views.map_data(_engine(request), request.app.state.settings.config_dir, lang)
        suffix = "" if lang == request.app.state.settings.lang else f"?lang={lang}"
        data.extra["link"] = "/parks/{id}" + suffix
        data.extra["link_text"] = t("web.open_page", lang)
        page = render_region_map(data, tile_choice(None), lang)
        nonce = request.state.nonce
        page = re.sub(r"<script(?=[\s>])", f'<script nonce="{nonce}"', page)
        response = HTMLResponse(page)
        # the map's popups and Leaflet style elements inline: styles (never scripts) allowed
        response.headers["X-Parkmon-Inline-Styles"] = "1"
        return response


def _xlsx(frame: pd.DataFrame, title: str) -> bytes:
    """The table as a workbook (write-only, every formula-like text a quoted string)."""
    from openpyxl import Workbook  # noqa: PLC0415  (only for this download)

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(safe_io.safe_row(sheet, [str(c) for c in frame.columns]))
    for row in frame.itertuples(index=False):
        sheet.append(safe_io.safe_row(sheet, [None if _missing(v) else v for v in row]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _unconfigured_sources(engine: Engine, known: set[str], lang: str) -> list[dict[str, Any]]:
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


def _settings_in(settings: Settings, lang: str) -> Settings:
    return replace(settings, lang=lang)


def _park_detail(request: Request, park_id: str) -> dict[str, Any] | None:
    engine = _engine(request)
    lang = _lang(request)
    table: pd.DataFrame = _cached(request, "registry", lambda: store.park_table(engine))
    found = table[table["id"] == park_id]
    if found.empty:
        return None
    park = _records(found)[0]
    city = _city(request)
    city_names = {d.adcode: (d.name if lang == "zh" else d.name_en) for d in city.districts}
    districts = store.park_districts(engine).get(park_id) or [park["district_id"]]
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
    names = {
        r["code"]: (r["name_zh"] if lang == "zh" else (r["name_en"] or r["code"]), r["unit"])
        for r in store.indicator_rows(engine)
    }
    if len(figures):
        figures = figures.sort_values(["indicator", "period"], ascending=[True, False])
        figures = figures.drop_duplicates("indicator", keep="first")
    recognitions = store.recognitions_frame(engine)
    recognitions = recognitions[recognitions["park_id"] == park_id]
    latest_year = int(ratings["year"].max()) if len(ratings) else None
    return {
        "advice": _advice(request, park_id, str(park["kind"]), latest_year),
        "chart": _indicator_series(engine, park_id, names, str(park["name"]), lang),
        "park": park,
        "districts": [city_names.get(d, d) for d in districts],
        "ratings": _records(ratings),
        "figures": [
            {
                **f,
                "name": names.get(f["indicator"], (f["indicator"], ""))[0],
                "unit": names.get(f["indicator"], ("", ""))[1],
            }
            for f in _records(figures)
        ],
        "recognitions": _records(recognitions.sort_values("year")),
    }


def _advice(request: Request, park_id: str, kind: str, year: int | None) -> dict[str, Any] | None:
    """For a star-rated carrier's latest rated year: the items where it lost most points and the
    single figures that would lift it a star (``monitor.rating.explain`` on the stored ratings;
    the year's runs are computed once per data version)."""
    if year is None or kind not in ("incubator", "maker_space"):
        return None
    lang = _lang(request)
    engine = _engine(request)
    settings = request.app.state.settings

    def runs() -> list[Any]:
        try:
            return views.stored_rating_runs(engine, settings.config_dir, year, [kind])
        except ConfigError:
            return []

    found = [
        r
        for r in _cached(request, f"rating-runs:{year}:{kind}", runs)
        if park_id in r.result.table.index
    ]
    if not found:
        return None
    run = found[0]
    meth = run.methodology
    names_en = views.indicator_names_en(engine)
    items = {i.id: report.item_name(i, lang, names_en) for i in (*meth.items, *meth.bonus_items)}
    units = {r["code"]: r["unit"] for r in store.indicator_rows(engine)}
    explained = explain(run.result, park_id, run.values, units)
    return {
        "year": year,
        "stars": explained.stars,
        "target_stars": explained.target_stars,
        "target_score": explained.target_score,
        "score": explained.score,
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


def _indicator_series(
    engine: Engine, park_id: str, names: dict[str, tuple[str, str]], name: str, lang: str
) -> dict[str, Any]:
    """Every indicator of the carrier as a yearly series, for the chart's chooser."""
    history = store.observations_frame(engine, subjects=[park_id], columns=())
    history = history[history["period"].str.fullmatch(r"\d{4}")]
    years = sorted(history["period"].unique())
    choices = []
    for code, part in history.groupby("indicator", sort=True):
        by_year = dict(zip(part["period"], part["value"], strict=True))
        title, unit = names.get(str(code), (str(code), ""))
        values = [_plain(by_year.get(y)) for y in years]
        choices.append({"name": title, "unit": unit, "series": [{"name": name, "values": values}]})
    return {"x": years, "choices": choices, "series": [], "target": None, "target_name": ""}


def _goal_series(engine: Engine, config_dir: Any, goal: Any, lang: str) -> dict[str, Any] | None:
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
    title = goal.name_zh if lang == "zh" else (goal.name_en or goal.name_zh)
    return {
        "x": years,
        "series": [{"name": title, "values": [_plain(by_year.get(y)) for y in years]}],
        "target": spec.target,
        "target_name": t("web.target", lang),
        "unit": spec.unit,
    }


def _plain(value: Any) -> float | None:
    return None if value is None or _missing(value) else float(value)


# --- the JSON API --------------------------------------------------------------------------------


def _api(app: FastAPI) -> None:
    @app.get("/api/parks")
    def api_parks(request: Request) -> JSONResponse:
        frame = _carriers(request)
        return JSONResponse(_jsonable(_records(frame)))

    @app.get("/api/parks/{park_id}")
    def api_park(request: Request, park_id: str) -> JSONResponse:
        detail = _park_detail(request, park_id)
        if detail is None:
            raise HTTPException(404, t("web.not_found", _lang(request), id=park_id))
        return JSONResponse(_jsonable(detail))

    @app.get("/api/goals")
    def api_goals(request: Request) -> JSONResponse:
        progress = views.goal_progress(_engine(request), request.app.state.settings.config_dir)
        return JSONResponse(_jsonable([_goal_record(g, _lang(request)) for g in progress]))

    @app.get("/api/rankings")
    def api_rankings(request: Request) -> JSONResponse:
        return JSONResponse(_jsonable(_records(store.rankings_frame(_engine(request)))))

    @app.get("/api/compare")
    def api_compare(request: Request) -> JSONResponse:
        context, status = _compare(request)
        comparison = context.get("comparison")
        if status != 200 or comparison is None:
            error = context.get("error") or t("web.compare_help", _lang(request))
            return JSONResponse({"error": error}, status_code=status if status != 200 else 400)
        return JSONResponse(
            _jsonable(
                {
                    "year": context["year"],
                    "subjects": comparison.subjects,
                    "names": context["names"],
                    "against": context["against"],
                    "indicators": context["rows"],
                    "ratings": context["rated"],
                    "strengths": comparison.strengths,
                    "weaknesses": comparison.weaknesses,
                }
            )
        )


def _goal_record(goal: Any, lang: str) -> dict[str, Any]:
    return {
        **asdict(goal),
        "target_text": goal.target_text(lang),
        "status_text": goal.status_zh if lang == "zh" else goal.status.replace("_", " "),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | pd.Timestamp):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
