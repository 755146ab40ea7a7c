"""The bureau's questions before the evaluation: who may drop a star (``/risks``), whose
figures to chase (``/quality``), each with CSV and Excel downloads, and the meeting brief to
print (``/brief``, HTML or PDF)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from monitor import brief, quality, report, risks, store
from monitor.errors import ConfigError
from monitor.i18n import t
from monitor.rating import load_methodologies
from monitor.web.common import cached, city_of, engine_of, lang_of, records, render
from monitor.web.data import download, indicators


def latest_rated_year(request: Request) -> int | None:
    """The latest year with stored ratings of carriers (cached per data version)."""

    def find() -> int | None:
        frame = store.ratings_frame(engine_of(request), columns=["subject_type", "year"])
        frame = frame[frame["subject_type"] == "park"]
        return int(frame["year"].max()) if len(frame) else None

    found: int | None = cached(request, "latest-rated-year", find, shared=True)
    return found


def _year(request: Request) -> int | None:
    asked = request.query_params.get("year", "")
    return int(asked) if asked.isdigit() and len(asked) == 4 else latest_rated_year(request)


def _place_and_kind(request: Request) -> tuple[str, str]:
    """The district (adcode) and kind asked for; a district office sees its own district
    unless it asks for another (``?district=`` empty: the whole city)."""
    params = request.query_params
    viewer = getattr(request.state, "viewer", None)
    own = viewer.district if viewer is not None and viewer.role == "district" else None
    district = params.get("district", own or "") or ""
    known = {d.adcode for d in city_of(request).districts}
    kind = params.get("kind", "")
    return (
        district if district in known else "",
        kind if kind in ("incubator", "maker_space") else "",
    )


def item_labels_of(request: Request, lang: str) -> dict[str, str]:
    """Each rating item's label in ``lang`` (``report.item_labels``)."""
    if lang != "en":
        return {}
    settings = request.app.state.settings
    names_en = {str(r["code"]): str(r["name_en"] or "") for r in indicators(request)}
    return report.item_labels(load_methodologies(settings.config_dir), lang, names_en)


def _placed(request: Request, frame: pd.DataFrame) -> tuple[pd.DataFrame, str, str]:
    """The frame's rows of the district and kind asked for (``_place_and_kind``), with them."""
    district, kind = _place_and_kind(request)
    if district and "district_id" in frame:
        frame = frame[frame["district_id"] == district]
    if kind and "kind" in frame:
        frame = frame[frame["kind"] == kind]
    return frame, district, kind


def _units(request: Request) -> dict[str, str]:
    return {str(r["code"]): str(r["unit"] or "") for r in indicators(request)}


def insight_pages(app: FastAPI) -> None:
    @app.get("/risks", response_class=HTMLResponse, response_model=None)
    def risks_page(request: Request) -> Response:
        """Early warning for the year (``?year=``, default the latest rated): the second
        failures first, then by risk; ``?all=1`` the low risks too; ``?format=csv|xlsx``."""
        lang = lang_of(request)
        year = _year(request)
        settings = request.app.state.settings
        engine = engine_of(request)
        if year is None:
            return render(request, "risks.html", year=None, rows=[], backtest=None)
        frame: pd.DataFrame = cached(
            request,
            f"risks:{year}",
            lambda: risks.risk_frame(engine, settings.config_dir, year),
            shared=True,
        )
        frame, district, kind = _placed(request, frame)  # the counts are of what is asked
        units = _units(request)
        labels = item_labels_of(request, lang)
        shown = frame.assign(
            falling=[risks.falling_text(f, lang, labels) for f in frame["falling"]],
            levers=[risks.levers_text(v, units, lang, labels) for v in frame["levers"]],
        )
        everyone = request.query_params.get("all") == "1"
        if not everyone:
            shown = shown[(shown["level"] != "low") | shown["again"]]
        wanted = request.query_params.get("format")
        if wanted in ("csv", "xlsx"):
            return download(shown, wanted, f"parkmon-risks-{year}", t("report.risks", lang))

        def tested() -> Any:
            years = risks.backtest_years(engine, year)
            return risks.backtest(engine, settings.config_dir, years) if years else None

        # the back-test rates every earlier year again: asked for, not paid on every first visit
        asked = request.query_params.get("backtest") == "1"
        result = cached(request, f"risks-backtest:{year}", tested, shared=True) if asked else None
        demo = bool(request.app.state.demo)
        return render(
            request,
            "risks.html",
            year=year,
            rows=records(shown),
            everyone=everyone,
            district=district,
            kind=kind,
            districts=city_of(request).districts,
            counts=frame["level"].value_counts().to_dict(),
            again=int(frame["again"].sum()),
            backtest=None if result is None else risks.backtest_text(result, lang, demo),
            backtest_asked=asked,
        )

    @app.get("/quality", response_class=HTMLResponse, response_model=None)
    def quality_page(request: Request) -> Response:
        """Data quality: every source, and every incubator and maker space for the year
        (``?year=``), worst first; ``?format=csv|xlsx&table=sources|carriers``."""
        year = _year(request)
        engine = engine_of(request)
        sources = cached(request, "quality:sources", lambda: quality.source_quality(engine))
        carriers = (
            cached(request, f"quality:{year}", lambda: quality.carrier_quality(engine, year))
            if year is not None
            else pd.DataFrame(columns=["id", "name", "kind", "score"])
        )
        carriers, district, kind = _placed(request, carriers)
        wanted = request.query_params.get("format")
        if wanted in ("csv", "xlsx"):
            which = request.query_params.get("table")
            frame = sources if which == "sources" else carriers
            name = f"parkmon-quality-{'sources' if which == 'sources' else 'carriers'}"
            return download(frame, wanted, name, t("web.nav.quality", lang_of(request)))
        return render(
            request,
            "quality.html",
            year=year,
            sources=records(sources),
            carriers=records(carriers.head(200)),
            total=len(carriers),
            district=district,
            kind=kind,
            districts=city_of(request).districts,
        )


def brief_pages(app: FastAPI) -> None:
    @app.get("/brief", response_class=HTMLResponse, response_model=None)
    def brief_page(request: Request) -> Response:
        """The meeting brief of the year (``?year=``, default the latest rated), for the city
        or a district (``?district=``, a district office's own by default), as the printable
        page or ``?format=pdf``; ``?backtest=1`` includes the early warning's back-test."""
        lang = lang_of(request)
        year = _year(request)
        if year is None:
            return render(request, "risks.html", year=None, rows=[], backtest=None)
        settings = request.app.state.settings
        engine = engine_of(request)
        district, _kind = _place_and_kind(request)
        asked = request.query_params.get("backtest") == "1"

        def page() -> str:
            found = brief.gather(
                engine,
                settings.config_dir,
                year,
                lang,
                district=district or None,
                backtest=asked,
            )
            return brief.render_html(found, lang)

        try:
            text: str = cached(request, f"brief:{year}:{district}:{int(asked)}", page)
        except ConfigError as exc:
            return render(request, "not_found.html", status=404, message=str(exc))
        name = f"brief-{year}{'-' + district if district else ''}"
        if request.query_params.get("format") == "pdf":
            why = brief.pdf_unavailable()
            if why is not None:
                return render(request, "not_found.html", status=503, message=why)
            data: bytes = cached(
                request, f"brief-pdf:{year}:{district}:{int(asked)}", lambda: brief.pdf_bytes(text)
            )
            return Response(
                data,
                media_type="application/pdf",
                headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
            )
        response = HTMLResponse(text)
        # the brief is one self-contained page: its own stylesheet inline, no script
        response.headers["X-Parkmon-Inline-Styles"] = "1"
        return response
