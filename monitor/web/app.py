"""The application: its settings, its read-only engine and the security headers of every
answer (the pages and the API: ``monitor.web.routes``; the page frame: ``monitor.web.common``).

Read-only: the engine is opened with ``db.open_read_only`` (a SQLite file in ``mode=ro``,
PostgreSQL sessions read-only), which also refuses a database whose schema is not this code's.
Every page is rendered by Jinja2 with autoescaping: text from the registry or a source is never
markup. Scripts run only with the per-request nonce of the Content-Security-Policy.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from monitor import db
from monitor.errors import ConfigError, MonitorError
from monitor.i18n import t
from monitor.settings import Settings, load_settings
from monitor.web.auth import (
    ANONYMOUS,
    NEEDS,
    REFRESH_SECONDS,
    SECTIONS,
    SESSION_COOKIE,
    StaleForm,
    allowed,
    public_sections,
    serializer,
    session_secret,
    set_session,
    unknown_sections,
    viewer_of,
)
from monitor.web.common import Cache, lang_of, render
from monitor.web.filing import filing_routes, form_routes, oversight_routes
from monitor.web.insight import brief_pages, insight_pages
from monitor.web.portal import filing_pages, portal_pages, publish_pages, round_pages
from monitor.web.routes import api, map_pages, more_pages, pages

log = logging.getLogger(__name__)

# Threads computing pages at once in one worker. Pages are CPU work in Python (one GIL): forty
# threads (anyio's default) take turns every few milliseconds and every request finishes late;
# a few let the rest wait their turn in the event loop. Measured in bench/bench_serve.py.
PAGE_THREADS = int(os.environ.get("PARKMON_PAGE_THREADS", "4"))


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = PAGE_THREADS
    yield


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The application on the settings' database (opened read-only; refused, in one line, when
    it is missing or its schema is not this code's)."""
    engine = engine or db.open_read_only(settings.database_url)
    app = FastAPI(
        dependencies=[Depends(guard)],
        lifespan=_lifespan,
        title="parkmon",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by a route of ours, behind the guard like every other
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.demo = db.holds_demo_data(engine)
    unknown = unknown_sections(settings.public)
    if unknown:
        raise ConfigError(
            f"public = {settings.public!r}: unknown section(s) {', '.join(unknown)}; expected "
            f"all, none or some of {', '.join(SECTIONS)}"
        )
    app.state.public = public_sections(settings.public, app.state.demo)
    app.state.writer = _writer(settings)
    app.state.sessions = serializer(_secret(app.state.writer, settings))
    app.state.cache = Cache()
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
    pages(app)
    more_pages(app)
    map_pages(app)
    insight_pages(app)
    brief_pages(app)
    api(app)
    portal_pages(app)
    publish_pages(app)
    round_pages(app)
    filing_pages(app)
    oversight_routes(app)  # before filing_routes: /portal/R/missing is not a carrier
    filing_routes(app)
    form_routes(app)
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(StaleForm, _stale_form)
    for route in app.routes:  # the schema describes the JSON API, not the HTML pages
        if isinstance(route, APIRoute) and not route.path.startswith("/api/"):
            route.include_in_schema = False
    return app


def _writer(settings: Settings) -> Callable[[], Engine]:
    """The engine the portal writes with (sign-ins, the audit log), opened at first need: the
    pages read through the read-only one."""
    made: list[Engine] = []

    def writer() -> Engine:
        if not made:
            made.append(db.make_engine(settings.database_url, create_dir=False))
        return made[0]

    return writer


def _secret(writer: Callable[[], Engine], settings: Settings) -> str:
    try:
        return session_secret(writer(), settings.secret_key)
    except (SQLAlchemyError, MonitorError) as exc:  # a read-only copy of the database
        log.warning(
            "no session key could be kept in the database (%s): sessions end with this "
            "process; set PARKMON_SECRET_KEY",
            exc,
        )
        return secrets.token_urlsafe(32)


def guard(request: Request) -> None:
    """Every route's permission, from the one table (``auth.NEEDS``) and the one decision
    (``auth.allowed``); the viewer is kept for the page."""
    viewer = viewer_of(request)
    request.state.viewer = viewer
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    section, need = NEEDS.get(path, ("", "none"))  # a route missing from the table: refused
    if allowed(viewer, need, section, request.app.state.public):
        return
    if not viewer.signed_in:
        raise SignInNeeded()
    raise Forbidden()


class SignInNeeded(Exception):
    """Nobody is signed in and the route is not public."""


class Forbidden(Exception):
    """The signed-in account may not use the route."""


async def _sign_in_needed(request: Request, _exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": t("web.login.needed", lang_of(request))}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


async def _forbidden(request: Request, _exc: Exception) -> Response:
    message = t("web.forbidden", lang_of(request))
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=403)
    return render(request, "not_found.html", status=403, message=message)


async def _stale_form(request: Request, _exc: Exception) -> Response:
    return render(
        request, "not_found.html", status=400, message=t("web.stale_form", lang_of(request))
    )


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker: the settings from PARKMON_* (set by ``parkmon serve``)."""
    return create_app(load_settings())


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    request.state.nonce = secrets.token_urlsafe(16)
    request.state.viewer = ANONYMOUS
    response = await call_next(request)
    viewer = request.state.viewer
    if (
        viewer.signed_in
        and getattr(request.state, "session_age", 0) > REFRESH_SECONDS
        and SESSION_COOKIE not in response.headers.get("set-cookie", "")
    ):
        set_session(request, response, viewer)  # the idle clock starts again
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
