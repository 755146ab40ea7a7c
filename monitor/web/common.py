"""What every page shares: the request's language, the page frame, number and time formats,
the per-process cache of what was computed from the data."""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

from monitor.i18n import label, stars_text, t
from monitor.registry import load_city

PAGE_SIZE = 100
FRESHNESS_SECONDS = 60.0  # the overview's "how old is each source" moves with the clock
MAX_COMPARED = 6
LANGS = ("zh", "en")


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    return asked if asked in LANGS else request.app.state.settings.lang


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = lang_of(request)

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
        number=number,
        when=when,
        link=link,
        switch=str(switch.path) + "?" + str(switch.query),
        path=request.url.path,
        demo=request.app.state.demo,
        nonce=request.state.nonce,
        viewer=getattr(request.state, "viewer", None),
        default_lang=request.app.state.settings.lang,
        **context,
    )
    return HTMLResponse(page, status_code=status)


def number(value: object, digits: int = 2) -> str:
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


def when(value: object) -> str:
    """A stored time as people read it: 2026-12-01 08:48 (Beijing time, UTC+8)."""
    if value is None or missing(value):
        return "—"
    moment = pd.Timestamp(value)  # type: ignore[arg-type]
    if moment.tzinfo is None:
        moment = moment.tz_localize("UTC")
    return moment.tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts with None for missing values (templates test ``is none``)."""
    if frame.empty:
        return []
    return [
        {str(k): (None if missing(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, list | dict | tuple):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def data_version(engine: Engine) -> tuple[Any, ...]:
    """What changes when the data does: the latest run, the latest observation (figures
    written outside a run too), the mark every write of ratings
    changes (``store.RATINGS_MARK``), the registry's fingerprint (one small query of indexed
    rows; other processes — the scheduler, the CLI — write)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT (SELECT max(id) FROM collection_run), "
                "(SELECT max(finished_at) FROM collection_run), "
                "(SELECT max(id) FROM observation), "
                "(SELECT value FROM parkmon_meta WHERE key = 'ratings_written'), "
                "(SELECT max(id) FROM publication), "
                "(SELECT value FROM parkmon_meta WHERE key = 'registry_fingerprint')"
            )
        ).one()
    return tuple(row)


class Cache:
    """What pages computed, by name: the least recently used entries go first beyond ``size``
    (a carrier's page is one entry; the registry, used by every page, stays). Thread-safe: the
    routes run in a thread pool."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], float, Any]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self._computing: dict[tuple[str, str], threading.Lock] = {}

    def computing(self, key: tuple[str, str]) -> threading.Lock:
        """The lock held while ``key`` is computed: twenty requests arriving together for a
        cold entry compute it once, the others wait for it (and the GIL is not split twenty
        ways)."""
        with self._lock:
            return self._computing.setdefault(key, threading.Lock())

    def get(self, key: tuple[str, str]) -> tuple[tuple[Any, ...], float, Any] | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def put(self, key: tuple[str, str], entry: tuple[tuple[Any, ...], float, Any]) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def cached(
    request: Request,
    name: str,
    compute: Callable[[], Any],
    *,
    max_age: float | None = None,
    shared: bool = False,
) -> Any:
    """``compute()`` once per data version (and language, unless ``shared``: the same in every
    language), and at most ``max_age`` seconds old where the clock matters (the sources'
    freshness). The data version is asked once per request."""
    cache: Cache = request.app.state.cache
    version = getattr(request.state, "data_version", None)
    if version is None:
        version = request.state.data_version = data_version(engine_of(request))
    key = (name, "" if shared else lang_of(request))

    def fresh(hit: tuple[tuple[Any, ...], float, Any] | None) -> bool:
        return (
            hit is not None
            and hit[0] == version
            and (max_age is None or time.monotonic() - hit[1] < max_age)
        )

    hit = cache.get(key)
    if fresh(hit):
        return hit[2]  # type: ignore[index]
    with cache.computing(key):
        hit = cache.get(key)  # computed by another request meanwhile?
        if fresh(hit):
            return hit[2]  # type: ignore[index]
        value = compute()
        cache.put(key, (version, time.monotonic(), value))
    return value


def city_of(request: Request) -> Any:
    """The city of the configuration, read again only when its file changes."""
    config_dir = request.app.state.settings.config_dir
    path = Path(config_dir) / "city.toml"
    stamp = path.stat().st_mtime_ns if path.exists() else 0
    return _load_city(str(config_dir), stamp)


@functools.lru_cache(maxsize=8)
def _load_city(config_dir: str, _stamp: int) -> Any:
    return load_city(Path(config_dir))


def goal_record(goal: Any, lang: str) -> dict[str, Any]:
    return {
        **asdict(goal),
        "target_text": goal.target_text(lang),
        "status_text": goal.status_zh if lang == "zh" else goal.status.replace("_", " "),
    }


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | pd.Timestamp):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
