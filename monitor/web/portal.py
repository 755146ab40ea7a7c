"""Signing in and out, and the administrator's pages (accounts, the audit log). What each
route may be asked by whom is decided in ``monitor.web.auth``, never here."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitor import accounts, publication, rounds
from monitor.i18n import t
from monitor.web.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    may_file,
    safe_next,
    set_session,
    sign_in,
)
from monitor.web.common import lang_of, records, render
from monitor.web.data import download, park_districts, registry

FORM_LIMIT = 4096  # bytes of a sign-in form; anything larger is refused unread


def carrier_for(request: Request, round_id: str, park_id: str) -> tuple[Any, Any] | None:
    """The round and the carrier, when both exist, the carrier reports in the round and the
    account files for it; None otherwise (answered as if it did not exist)."""
    engine = request.app.state.engine
    found = rounds.round_of(engine, round_id)
    table = registry(request)
    rows = table[table["id"] == park_id]
    if found is None or rows.empty:
        return None
    if str(rows["kind"].iloc[0]) not in str(found["kinds"]).split("|"):
        return None
    districts = park_districts(request).get(park_id) or list(rows["district_id"])
    if not may_file(request.state.viewer, park_id, districts):
        return None
    return found, records(rows)[0]


def not_yours(request: Request) -> HTMLResponse:
    message = t("web.portal.not_yours", lang_of(request))
    return render(request, "not_found.html", status=404, message=message)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def portal_pages(app: FastAPI) -> None:
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        return _login_form(request, None)

    @app.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        if int(request.headers.get("content-length") or FORM_LIMIT + 1) > FORM_LIMIT:
            return _login_form(request, t("web.login.too_big", lang_of(request)), status=413)
        form = await request.form(max_files=0, max_fields=8)
        check_csrf(request, form_text(form.get("csrf")), request.cookies.get(LOGIN_COOKIE, ""))
        name, password = form_text(form.get("name")), form_text(form.get("password"))
        writer = request.app.state.writer()
        viewer, why = sign_in(writer, name, password, client_address(request))
        if viewer is None:
            key = {"wrong": "web.login.wrong"}.get(str(why), "web.login.throttled")
            return _login_form(
                request, t(key, lang_of(request)), status=401 if why == "wrong" else 429
            )
        target = safe_next(form_text(form.get("next")))
        response = RedirectResponse(target, status_code=303)
        set_session(request, response, viewer)  # a new session: nothing from before carries over
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @app.post("/logout", response_model=None)
    async def logout(request: Request) -> Response:
        viewer = request.state.viewer
        form = await request.form(max_files=0, max_fields=4)
        if viewer.signed_in:
            check_csrf(request, form_text(form.get("csrf")), viewer.csrf)
            with request.app.state.writer().begin() as conn:
                actor = accounts.Actor(viewer.name, client_address(request))
                accounts.audit(conn, actor, "sign_out", viewer.name)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/admin/users", response_class=HTMLResponse)
    def admin_users(request: Request) -> HTMLResponse:
        frame = accounts.accounts_frame(request.app.state.engine)
        return render(request, "admin_users.html", accounts=records(frame))

    @app.get("/admin/audit", response_class=HTMLResponse, response_model=None)
    def admin_audit(request: Request) -> Response:
        frame = accounts.audit_frame(request.app.state.engine, limit=5000)
        if request.query_params.get("format") in ("csv", "xlsx"):
            kind = str(request.query_params.get("format"))
            return download(frame, kind, "parkmon-audit", t("web.audit", lang_of(request)))
        return render(
            request, "admin_audit.html", events=records(frame.head(500)), total=len(frame)
        )


def _login_form(request: Request, error: str | None, status: int = 200) -> HTMLResponse:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status=status,
        error=error,
        csrf=token,
        next=safe_next(request.query_params.get("next")),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


def form_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def filing_pages(app: FastAPI) -> None:
    @app.get("/portal", response_class=HTMLResponse)
    def portal(request: Request) -> HTMLResponse:
        """The open rounds and, for each, the carriers this account files for."""
        viewer = request.state.viewer
        engine = request.app.state.engine
        table = registry(request)
        spans = park_districts(request)
        shown = []
        for found in records(rounds.rounds_frame(engine)):
            if found["closed"]:
                continue
            kinds = str(found["kinds"]).split("|")
            mine = [
                r
                for r in records(table[table["kind"].isin(kinds)])
                if may_file(viewer, str(r["id"]), spans.get(str(r["id"])) or [r["district_id"]])
            ]
            shown.append({**found, "carriers": mine[:PORTAL_ROWS], "count": len(mine)})
        return render(request, "portal.html", rounds=shown, limit=PORTAL_ROWS)

    @app.get("/portal/{round_id}/{park_id}/workbook", response_model=None)
    def prefilled(request: Request, round_id: str, park_id: str) -> Response:
        """The carrier's pre-filled workbook of the round: only for whoever files for it (any
        other carrier answers as if it did not exist)."""
        pair = carrier_for(request, round_id, park_id)
        if pair is None:
            return not_yours(request)
        content = rounds.workbook(request.app.state.engine, *pair, lang_of(request))
        name = f"parkmon-{round_id}-{park_id}.xlsx"
        return Response(
            content,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


PORTAL_ROWS = 200


def publish_pages(app: FastAPI) -> None:
    @app.get("/admin/publish", response_class=HTMLResponse)
    def publications(request: Request) -> HTMLResponse:
        frame = publication.publications_frame(request.app.state.engine)
        return render(request, "publish.html", publications=records(frame), error=None)

    @app.post("/admin/publish", response_model=None)
    async def publish(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=4)
        check_csrf(request, form_text(form.get("csrf")), request.state.viewer.csrf)
        year = form_text(form.get("year"))
        actor = accounts.Actor(request.state.viewer.name, client_address(request))
        try:
            if not year.isdigit():
                raise publication.PublicationError(
                    f"year {year[:10]!r}: a year expected", f"年度“{year[:10]}”：应为年份"
                )
            publication.publish(
                request.app.state.writer(), int(year), form_text(form.get("reason")), actor=actor
            )
        except publication.PublicationError as exc:
            frame = publication.publications_frame(request.app.state.engine)
            return render(
                request,
                "publish.html",
                status=409,
                publications=records(frame),
                error=exc.text(lang_of(request)),
            )
        return RedirectResponse("/admin/publish", status_code=303)


def round_pages(app: FastAPI) -> None:
    @app.get("/admin/rounds", response_class=HTMLResponse)
    def rounds_page(request: Request) -> HTMLResponse:
        return _rounds_page(request, None)

    @app.post("/admin/rounds", response_model=None)
    async def open_round(request: Request) -> Response:
        """Open a reporting round from the app (as ``parkmon rounds add``)."""
        form = await request.form(max_files=0, max_fields=40)
        check_csrf(request, form_text(form.get("csrf")), request.state.viewer.csrf)
        kinds = [k for k in form.getlist("kind") if isinstance(k, str)]
        actor = accounts.Actor(request.state.viewer.name, client_address(request))
        try:
            year = form_text(form.get("year"))
            if not year.isdigit():
                raise rounds.RoundError(
                    f"year {year[:10]!r}: a year expected", f"年度“{year[:10]}”：应为年份"
                )
            deadline = _date(form_text(form.get("deadline")))
            rounds.add_round(
                request.app.state.writer(),
                form_text(form.get("id")).strip(),
                form_text(form.get("title")).strip() or form_text(form.get("id")),
                int(year),
                deadline,
                kinds,
                actor=actor,
            )
        except rounds.RoundError as exc:
            return _rounds_page(request, exc.text(lang_of(request)), status=409)
        return RedirectResponse("/admin/rounds", status_code=303)


def _rounds_page(request: Request, error: str | None, status: int = 200) -> HTMLResponse:
    frame = rounds.rounds_frame(request.app.state.engine)
    kinds = ["incubator", "maker_space", "accelerator", "high_tech_zone", "rd_institution"]
    return render(
        request, "rounds.html", status=status, rounds=records(frame), kinds=kinds, error=error
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise rounds.RoundError(
            f"deadline {text[:20]!r}: a date YYYY-MM-DD expected",
            f"截止日期“{text[:20]}”：应为 YYYY-MM-DD 格式的日期",
        ) from None
