"""The application: its settings, its read-only engine and the security headers of every
answer (the pages and the API: ``monitor.web.routes``; the page frame: ``monitor.web.common``).

Read-only: the engine is opened with ``db.open_read_only`` (a SQLite file in ``mode=ro``,
PostgreSQL sessions read-only), which also refuses a database whose schema is not this code's.
Every page is rendered by Jinja2 with autoescaping: text from the registry or a source is never
markup. Scripts run only with the per-request nonce of the Content-Security-Policy.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.engine import Engine

from monitor import db
from monitor.settings import Settings, load_settings
from monitor.web.common import Cache
from monitor.web.routes import api, map_pages, more_pages, pages

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
        lifespan=_lifespan,
        title="parkmon",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.demo = db.holds_demo_data(engine)
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
    api(app)
    for route in app.routes:  # the schema describes the JSON API, not the HTML pages
        if isinstance(route, APIRoute) and not route.path.startswith("/api/"):
            route.include_in_schema = False
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
