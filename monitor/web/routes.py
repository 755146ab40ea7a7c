"""The pages and the JSON API, each a thin route over ``monitor.web.data`` and the views."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from maps.page import tile_choice
from maps.region import render_region_map
from monitor import freshness, models, schedule, store, views
from monitor.errors import MonitorError
from monitor.i18n import t
from monitor.projection import goal_projections
from monitor.registry import load_city
from monitor.web.apidocs import described, reference
from monitor.web.carrier import history_of, park_detail
from monitor.web.common import (
    FRESHNESS_SECONDS,
    PAGE_SIZE,
    cached,
    city_of,
    engine_of,
    goal_record,
    jsonable,
    lang_of,
    missing,
    records,
    render,
)
from monitor.web.data import (
    basis_texts,
    carriers,
    comparison_of,
    counted_recognitions,
    download,
    goal_series,
    progress_of,
    settings_in,
    unconfigured_sources,
    with_projection,
)


def pages(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        context = cached(request, "overview", lambda: _overview(request), max_age=FRESHNESS_SECONDS)
        return render(request, "home.html", **context)

    def _overview(request: Request) -> dict[str, Any]:
        engine = engine_of(request)
        settings = request.app.state.settings
        lang = lang_of(request)
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
        progress = progress_of(request)
        sparks = {
            g.goal: spec
            for g in progress
            if (spec := goal_series(engine, settings.config_dir, g, lang)) is not None
            and any(v is not None for v in spec["series"][0]["values"])
        }
        sources = records(
            freshness.status_frame(settings_in(settings, lang), engine=engine_of(request))
        )
        sources += unconfigured_sources(engine, {str(r["source"]) for r in sources}, lang)
        runs = records(store.runs_frame(engine, limit=10, lang=lang))
        rejected = len(store.rejections_frame(engine, lang=lang))
        return dict(
            counts=counts,
            year=year,
            star_counts=[(None if missing(k) else k, int(v)) for k, v in stars.items()],
            goals=progress,
            sparks={k: {**v, "spark": True} for k, v in sparks.items()},
            chart=bool(sparks),
            sources=sources,
            runs=runs,
            rejected=rejected,
        )

    @app.get("/parks", response_class=HTMLResponse, response_model=None)
    def parks(request: Request) -> Response:
        frame = carriers(request)
        kind = request.query_params.get("format")
        if kind in ("csv", "xlsx"):
            return download(frame, kind, "parkmon-parks", t("web.nav.parks", lang_of(request)))
        try:
            page = max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            page = 1
        first = (page - 1) * PAGE_SIZE
        city = city_of(request)
        return render(
            request,
            "parks.html",
            rows=records(frame.iloc[first : first + PAGE_SIZE]),
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
        detail = park_detail(request, park_id)
        if detail is None:
            missing = t("web.not_found", lang_of(request), id=park_id)
            return render(request, "not_found.html", status=404, message=missing)
        return render(request, "park.html", **detail)

    @app.get("/parks/{park_id}/history", response_class=HTMLResponse)
    def park_history(request: Request, park_id: str) -> HTMLResponse:
        found = history_of(request, park_id)
        if found is None:
            missing = t("web.not_found", lang_of(request), id=park_id)
            return render(request, "not_found.html", status=404, message=missing)
        return render(request, "history.html", **found)

    @app.get("/runs", response_class=HTMLResponse)
    def runs(request: Request) -> HTMLResponse:
        frame = store.runs_frame(engine_of(request), limit=200, lang=lang_of(request))
        return render(request, "runs.html", runs=records(frame))

    @app.get("/rejects", response_class=HTMLResponse, response_model=None)
    def rejects(request: Request) -> Response:
        """Each source's latest rejections (``?source=`` one source), with where and why, in
        the page's language; ``?format=csv|xlsx`` for the park office to fix its file (the raw
        row included, nothing a formula)."""
        engine = engine_of(request)
        lang = lang_of(request)
        source = request.query_params.get("source") or None
        frame = store.rejections_frame(engine, source_id=source, lang=lang)
        kind = request.query_params.get("format")
        if kind in ("csv", "xlsx"):
            return download(frame, kind, "parkmon-rejections", t("web.nav.rejects", lang))
        sources = sorted(set(store.rejections_frame(engine, lang=lang)["source_id"]))
        shown = records(frame.head(1000))
        return render(
            request, "rejects.html", rejects=shown, total=len(frame), sources=sources, source=source
        )


def more_pages(app: FastAPI) -> None:
    @app.get("/schedule", response_class=HTMLResponse)
    def schedule_page(request: Request) -> HTMLResponse:
        """The scheduled jobs with next run and last result, and whether a scheduler runs
        (read-only: nothing here creates or changes a job)."""
        settings = request.app.state.settings
        engine = engine_of(request)
        lang = lang_of(request)
        try:
            jobs = records(schedule.read_jobs(engine, settings.config_dir, lang))
            error = None
        except MonitorError as exc:  # a broken schedule.toml: say so, show the rest
            jobs, error = [], str(exc)
        holder = schedule.scheduler_holder(engine)
        return render(request, "schedule.html", jobs=jobs, holder=holder, error=error)

    @app.get("/goals", response_class=HTMLResponse)
    def goals_page(request: Request) -> HTMLResponse:
        progress = progress_of(request)
        return render(request, "goals.html", goals=progress, basis=basis_texts(request, progress))

    @app.get("/goals/{goal_id}", response_class=HTMLResponse)
    def goal_page(request: Request, goal_id: str) -> HTMLResponse:
        settings = request.app.state.settings
        lang = lang_of(request)
        engine = engine_of(request)
        city = [g for g in progress_of(request) if g.goal == goal_id]
        if not city:
            missing = t("web.goal_not_found", lang, id=goal_id)
            return render(request, "not_found.html", status=404, message=missing)
        districts = []
        for d in load_city(settings.config_dir).districts:
            for g in progress_of(request, d.adcode):
                if g.goal == goal_id:
                    districts.append((d.name if lang == "zh" else d.name_en, g))
        chart = goal_series(engine, settings.config_dir, city[0], lang)
        counted = counted_recognitions(request, goal_id)
        projected = cached(
            request,
            "projections",
            lambda: goal_projections(engine, settings.config_dir),
            shared=True,
        ).get(goal_id)
        if chart is not None:
            chart = with_projection(chart, projected, lang)
        return render(
            request,
            "goal.html",
            goal=city[0],
            districts=districts,
            chart=chart,
            counted=counted,
            projected=projected,
            rests_on=basis_texts(request, city)[goal_id],
        )

    @app.get("/rankings", response_class=HTMLResponse)
    def rankings_page(request: Request) -> HTMLResponse:
        frame = store.rankings_frame(engine_of(request))
        return render(request, "rankings.html", rankings=records(frame))

    @app.get("/compare", response_class=HTMLResponse)
    def compare_page(request: Request) -> HTMLResponse:
        context, status = comparison_of(request)
        return render(request, "compare.html", status=status, **context)


def map_pages(app: FastAPI) -> None:
    @app.get("/map", response_class=HTMLResponse)
    def map_page(request: Request) -> HTMLResponse:
        return render(request, "map.html")

    @app.get("/map/frame", response_class=HTMLResponse)
    def map_frame(request: Request) -> HTMLResponse:
        """The region map (the static site's, offline: Leaflet inlined) with links to each
        carrier's page; its inline scripts carry the request's nonce."""
        lang = lang_of(request)

        def draw() -> str:
            settings = request.app.state.settings
            data = views.map_data(engine_of(request), settings.config_dir, lang)
            suffix = "" if lang == settings.lang else f"?lang={lang}"
            data.extra["link"] = "/parks/{id}" + suffix
            data.extra["link_text"] = t("web.open_page", lang)
            return render_region_map(data, tile_choice(None), lang)

        page: str = cached(request, "map", draw)
        nonce = request.state.nonce
        page = re.sub(r"<script(?=[\s>])", f'<script nonce="{nonce}"', page)
        response = HTMLResponse(page)
        # the map's popups and Leaflet style elements inline: styles (never scripts) allowed
        response.headers["X-Parkmon-Inline-Styles"] = "1"
        return response


def api(app: FastAPI) -> None:
    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_schema(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @app.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        """The API reference, server-rendered from the same table as the OpenAPI schema
        (offline, no script)."""
        return render(request, "apidocs.html", routes=reference(lang_of(request)))

    @app.get("/api/parks", **described("/api/parks"))
    def api_parks(request: Request) -> Response:
        """The carriers the filters of ``/parks`` choose (all, or ``limit`` from ``offset``;
        the count before paging in the header ``X-Total-Count``)."""
        paging = {}
        for name in ("limit", "offset"):
            text = request.query_params.get(name)
            if text is not None and not text.isdigit():
                message = t("web.bad_number", lang_of(request), name=name, value=text[:40])
                return JSONResponse({"error": message}, status_code=400)
            paging[name] = None if text is None else int(text)
        frame = carriers(request)
        total = len(frame)
        first = paging["offset"] or 0
        last = None if paging["limit"] is None else first + paging["limit"]
        frame = frame.iloc[first:last]
        # pandas writes the JSON (C code): at 20,000 carriers the per-value walk took 0.3 s
        body = frame.to_json(orient="records", force_ascii=False, date_format="iso")
        return Response(body, media_type="application/json", headers={"X-Total-Count": str(total)})

    @app.get("/api/parks/{park_id}", **described("/api/parks/{park_id}"))
    def api_park(request: Request, park_id: str) -> JSONResponse:
        detail = park_detail(request, park_id)
        if detail is None:
            raise HTTPException(404, t("web.not_found", lang_of(request), id=park_id))
        return JSONResponse(jsonable(detail))

    @app.get("/api/parks/{park_id}/history", **described("/api/parks/{park_id}/history"))
    def api_park_history(request: Request, park_id: str) -> JSONResponse:
        found = history_of(request, park_id)
        if found is None:
            raise HTTPException(404, t("web.not_found", lang_of(request), id=park_id))
        return JSONResponse(jsonable(found))

    @app.get("/api/goals", **described("/api/goals"))
    def api_goals(request: Request) -> JSONResponse:
        progress = progress_of(request)
        return JSONResponse(jsonable([goal_record(g, lang_of(request)) for g in progress]))

    @app.get("/api/rankings", **described("/api/rankings"))
    def api_rankings(request: Request) -> JSONResponse:
        return JSONResponse(jsonable(records(store.rankings_frame(engine_of(request)))))

    @app.get("/api/compare", **described("/api/compare"))
    def api_compare(request: Request) -> JSONResponse:
        context, status = comparison_of(request)
        comparison = context.get("comparison")
        if status != 200 or comparison is None:
            error = context.get("error") or t("web.compare_help", lang_of(request))
            return JSONResponse({"error": error}, status_code=status if status != 200 else 400)
        return JSONResponse(
            jsonable(
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
