"""A carrier's filing page (upload, problems, submit) and the reviewer's queue (approve or
return). Whether the account files for the carrier is ``auth.may_file``; whether it reviews is
the route's need in ``auth.NEEDS`` — nothing is decided here."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitor import messages, rounds, store, submissions
from monitor.accounts import Actor
from monitor.i18n import t
from monitor.web.auth import check_csrf
from monitor.web.carrier import peer_medians
from monitor.web.common import city_of, lang_of, records, render
from monitor.web.data import download, registry
from monitor.web.portal import carrier_for, client_address, form_text, not_yours

FORM_SLACK = 64 * 1024  # bytes of a multipart form beyond the file itself


def _shown(
    problems: list[dict[str, Any]], lang: str, form_rows: dict[int, str] | None = None
) -> list[dict[str, Any]]:
    """Problems in the reader's language; from the online form, a row of the workbook it was
    checked as is named by its figure (``form_rows``: row number → name)."""
    out = []
    for p in problems:
        where = str(p["location"])
        row = re.search(r"row (\d+)$", where)
        if form_rows is not None and row and int(row.group(1)) in form_rows:
            where = f"{t('web.form', lang)} · {form_rows[int(row.group(1))]}"
        out.append(
            {
                **p,
                "location": messages.location(where, lang),
                "reason": messages.stored(p.get("reason_data"), str(p["reason"]), lang),
            }
        )
    return out


def _actor(request: Request) -> Actor:
    return Actor(request.state.viewer.name, client_address(request))


def filing_routes(app: FastAPI) -> None:
    @app.get("/portal/{round_id}/{park_id}", response_class=HTMLResponse)
    def filing(request: Request, round_id: str, park_id: str) -> HTMLResponse:
        pair = carrier_for(request, round_id, park_id)
        if pair is None:
            return not_yours(request)
        found, park = pair
        current = submissions.latest(request.app.state.engine, round_id, park_id)
        if current is not None:
            rows = None
            if current["file_name"] == ONLINE_FORM:
                fields = rounds.asked(request.app.state.engine, found, park_id, lang_of(request))
                rows = {rounds.HEADER_ROW + 1 + i: f["name"] for i, f in enumerate(fields)}
            current["problems"] = _shown(current["problems"], lang_of(request), rows)
        names = {r["code"]: r for r in store.indicator_rows(request.app.state.engine)}
        return render(
            request,
            "filing.html",
            round=found,
            park=park,
            current=current,
            names=names,
            limit=submissions.MAX_UPLOAD,
        )

    @app.post("/portal/{round_id}/{park_id}/upload", response_model=None)
    async def upload(request: Request, round_id: str, park_id: str) -> Response:
        length = int(request.headers.get("content-length") or 0)
        if not length or length > submissions.MAX_UPLOAD + FORM_SLACK:
            message = t("web.filing.too_big", lang_of(request), limit=submissions.MAX_UPLOAD)
            return render(request, "not_found.html", status=413, message=message)
        async with request.form(
            max_files=1, max_fields=4, max_part_size=submissions.MAX_UPLOAD + 1
        ) as form:  # the uploaded file's spool is closed on leaving
            check_csrf(request, form_text(form.get("csrf")), request.state.viewer.csrf)
            sent = form.get("file")
            if sent is None or isinstance(sent, str):
                return RedirectResponse(f"/portal/{round_id}/{park_id}", status_code=303)
            data = await sent.read(submissions.MAX_UPLOAD + 1)
            file_name = sent.filename or "upload.xlsx"
        pair = carrier_for(request, round_id, park_id)
        if pair is None:
            return not_yours(request)
        try:
            submissions.upload(
                request.app.state.writer(),
                pair[0],
                park_id,
                data,
                file_name,
                _actor(request),
            )
        except submissions.FilingError as exc:
            return _refused(request, exc)
        return RedirectResponse(f"/portal/{round_id}/{park_id}", status_code=303)

    @app.post("/portal/{round_id}/{park_id}/submit", response_model=None)
    async def submit(request: Request, round_id: str, park_id: str) -> Response:
        form = await request.form(max_files=0, max_fields=4)
        check_csrf(request, form_text(form.get("csrf")), request.state.viewer.csrf)
        pair = carrier_for(request, round_id, park_id)
        current = submissions.latest(request.app.state.engine, round_id, park_id)
        if pair is None or current is None:
            return not_yours(request)
        try:
            submissions.submit(request.app.state.writer(), int(current["id"]), _actor(request))
        except submissions.FilingError as exc:
            return _refused(request, exc)
        return RedirectResponse(f"/portal/{round_id}/{park_id}", status_code=303)

    @app.get("/review", response_class=HTMLResponse)
    def review_queue(request: Request) -> HTMLResponse:
        waiting = records(submissions.queue(request.app.state.engine))
        return render(request, "review_queue.html", waiting=waiting)

    @app.get("/review/{submission_id}", response_class=HTMLResponse)
    def review(request: Request, submission_id: int) -> HTMLResponse:
        engine = request.app.state.engine
        found = submissions.by_id(engine, submission_id)
        if found is None:
            return not_yours(request)
        period = str(rounds.round_of(engine, found["round_id"])["period"])  # type: ignore[index]
        before = store.observations_frame(
            engine, subjects=[found["park_id"]], periods=[str(int(period) - 1)], columns=()
        )
        last = dict(zip(before["indicator"], before["value"], strict=True))
        names = {r["code"]: r for r in store.indicator_rows(engine)}
        table = registry(request)
        carrier = table[table["id"] == found["park_id"]]
        medians = (
            peer_medians(request, str(carrier["kind"].iloc[0]), str(carrier["level"].iloc[0]))
            if len(carrier)
            else {}
        )
        previous_year = str(int(period) - 1)
        rows = []
        for figure in found["figures"]:
            previous = last.get(figure["indicator"])
            change = (figure["value"] / previous - 1) * 100 if previous not in (None, 0) else None
            median = medians.get(figure["indicator"], {}).get(previous_year)
            rows.append(
                {
                    **figure,
                    "previous": previous,
                    "change": change,
                    "median": median,
                    "outlier": _far_from(figure["value"], median),
                }
            )
        return render(
            request, "review.html", submission=found, rows=rows, names=names, period=period
        )

    @app.post("/review/{submission_id}/approve", response_model=None)
    async def approve(request: Request, submission_id: int) -> Response:
        return await _decide(request, submission_id, approve=True)

    @app.post("/review/{submission_id}/return", response_model=None)
    async def send_back(request: Request, submission_id: int) -> Response:
        return await _decide(request, submission_id, approve=False)


async def _decide(request: Request, submission_id: int, *, approve: bool) -> Response:
    form = await request.form(max_files=0, max_fields=4)
    check_csrf(request, form_text(form.get("csrf")), request.state.viewer.csrf)
    comment = form_text(form.get("comment"))
    writer = request.app.state.writer()
    try:
        if approve:
            submissions.approve(writer, submission_id, comment, _actor(request))
        else:
            submissions.send_back(writer, submission_id, comment, _actor(request))
    except submissions.FilingError as exc:
        return _refused(request, exc)
    return RedirectResponse("/review", status_code=303)


def _refused(request: Request, exc: submissions.FilingError) -> HTMLResponse:
    message = t(f"web.filing.error.{exc.code}", lang_of(request))
    return render(request, "not_found.html", status=409, message=message)


FAR = 3.0  # a figure above 3× or below 1/3 of its peers' median (last year) is flagged


def _far_from(value: float, median: float | None) -> bool:
    """Flag for the reviewer: far from what carriers of the same kind and level reported."""
    if median is None or median <= 0 or value < 0:
        return False
    return value > FAR * median or value < median / FAR


def oversight_routes(app: FastAPI) -> None:
    @app.get("/portal/{round_id}/missing", response_class=HTMLResponse, response_model=None)
    def missing(request: Request, round_id: str) -> Response:
        """Who has not filed yet (no submission, a draft, or returned): the bureau sees every
        district, a district office its own; with the days left to the deadline."""
        engine = request.app.state.engine
        lang = lang_of(request)
        found = rounds.round_of(engine, round_id)
        if found is None:
            return not_yours(request)
        frame = submissions.filing_state(engine, found)
        viewer = request.state.viewer
        if viewer.role == "district":
            frame = frame[frame["district_id"] == viewer.district]
        waiting = frame[~frame["state"].isin(["submitted", "approved"])].reset_index(drop=True)
        names = {
            d.adcode: (d.name if lang == "zh" else d.name_en) for d in city_of(request).districts
        }
        waiting = waiting.assign(
            district=waiting["district_id"].map(lambda c: names.get(str(c), str(c))),
            state_text=waiting["state"].map(lambda s: t(f"web.missing.{s}", lang)),
        )
        kind = request.query_params.get("format")
        if kind in ("csv", "xlsx"):
            shown = waiting[["id", "name", "district", "state_text"]].rename(
                columns={"state_text": "state"}
            )
            return download(shown, kind, f"parkmon-{round_id}-not-filed", round_id[:31])
        days = (found["deadline"] - date.today()).days
        by_district = waiting.groupby("district", sort=True).size()
        return render(
            request,
            "missing.html",
            round=found,
            rows=records(waiting.head(1000)),
            total=len(waiting),
            asked=len(frame),
            days=days,
            by_district=list(by_district.items()),
        )


ONLINE_FORM = "online-form.xlsx"


def form_routes(app: FastAPI) -> None:
    @app.get("/portal/{round_id}/{park_id}/form", response_class=HTMLResponse)
    def online_form(request: Request, round_id: str, park_id: str) -> HTMLResponse:
        """The figures of the workbook as a web form (same units, bounds and checks)."""
        pair = carrier_for(request, round_id, park_id)
        if pair is None:
            return not_yours(request)
        found, park = pair
        engine = request.app.state.engine
        fields = rounds.asked(engine, found, park_id, lang_of(request))
        current = submissions.latest(engine, round_id, park_id)
        typed = {f["indicator"]: f["raw_value"] for f in (current or {}).get("figures", [])}
        return render(
            request, "online_form.html", round=found, park=park, fields=fields, typed=typed
        )

    @app.post("/portal/{round_id}/{park_id}/form", response_model=None)
    async def send_form(request: Request, round_id: str, park_id: str) -> Response:
        pair = carrier_for(request, round_id, park_id)
        if pair is None:
            return not_yours(request)
        found, park = pair
        codes = str(found["indicators"]).split("|")
        form = await request.form(max_files=0, max_fields=len(codes) + 4)
        check_csrf(request, form_text(form.get("csrf")), request.state.viewer.csrf)
        values = {code: form_text(form.get(f"v_{code}")).strip()[:64] for code in codes}
        engine = request.app.state.engine
        data = rounds.workbook(engine, found, park, lang_of(request), values)
        try:
            submissions.upload(
                request.app.state.writer(), found, park_id, data, ONLINE_FORM, _actor(request)
            )
        except submissions.FilingError as exc:
            return _refused(request, exc)
        return RedirectResponse(f"/portal/{round_id}/{park_id}", status_code=303)
