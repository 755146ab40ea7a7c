"""One collection run: fetch → parse → map and validate → store, recorded as a CollectionRun.

The observations, recognitions and rejections of a run are written in one transaction; the
source's incremental state (ETag, file hashes) is saved only after that commit. A failure at any
step marks the run failed with its error and leaves the store as it was.
"""

from __future__ import annotations

import difflib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from collectors.catalogue import IndicatorInfo
from collectors.files import check_size, file_hash, read_table, resolve_files
from collectors.http import HttpFetcher
from collectors.lists import map_rankings, map_recognitions
from collectors.mapping import Mapped, map_observations
from collectors.names import SubjectResolver
from collectors.sources import SourceSpec
from collectors.tables import TableRows
from collectors.web import fetch_html_table, fetch_json_api
from monitor import messages, models, runs, store
from monitor.errors import (
    CollectorError,
    ConfigError,
    MonitorError,
    ParseError,
    SourceBusy,
    driver_message,
)
from monitor.messages import Msg, Where, msg

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What one run did; ``status`` is ok, partial (some rows rejected) or failed."""

    source_id: str
    run_id: int
    status: models.RunStatus = models.RunStatus.ok
    read: int = 0
    skipped: int = 0
    accepted: int = 0
    revised: int = 0
    unchanged: int = 0
    rejected: int = 0
    requests: int = 0
    not_modified: bool = False
    error: str = ""  # in English; ``error_msg`` says it in either language
    error_msg: Msg | None = None
    seconds: float = 0.0
    documents: list[str] = field(default_factory=list)

    def fail(self, error: Msg | str) -> None:
        self.status = models.RunStatus.failed
        self.error_msg = messages.of(error)
        self.error = str(self.error_msg)

    def error_in(self, lang: str) -> str:
        return self.error_msg.render(lang) if self.error_msg is not None else self.error

    @property
    def changed_data(self) -> bool:
        return self.accepted + self.revised > 0


@dataclass
class Fetched:
    tables: list[tuple[str, TableRows]]
    state: dict[str, Any]
    not_modified: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)
    # files still to read: read one at a time while mapping (``_tables``), so a run holds the
    # raw cells of one file, not of all of them
    pending: list[Path] = field(default_factory=list)


def _file_failure(name: str, reason: object, location: str = "") -> dict[str, Any]:
    """A file refused whole, as a rejection; ``reason`` is a message or text."""
    return {
        "location": location or name,
        "field_name": "",
        "value": name,
        "reason": reason,
        "raw": {},
    }


def _fetch_files(spec: SourceSpec, fetcher: HttpFetcher | None, state: dict[str, Any]) -> Fetched:
    """Each file on its own: one that is refused (size, symlink, encoding, memory) becomes a
    rejection naming it, and the source's other files still land."""
    found = resolve_files(spec)
    hashes: dict[str, str] = {}
    failures = [_file_failure(r.name, r.reason) for r in found.refused]
    readable: list[Path] = []
    for path in found.files:
        try:
            size = check_size(path, spec.max_bytes)
            hashes[path.name] = f"{size}:{file_hash(path)}"
            readable.append(path)
        except ParseError as exc:
            failures.append(_file_failure(path.name, exc.msg, exc.location))
        except OSError as exc:
            failures.append(_file_failure(path.name, _unreadable(path, exc)))
    if hashes and hashes == state.get("files") and not failures:
        return Fetched([], dict(state), not_modified=True)
    return Fetched([], {"files": hashes}, failures=failures, pending=readable)


def _tables(fetched: Fetched, spec: SourceSpec) -> Iterator[tuple[str, TableRows]]:
    """The fetched tables, then each pending file read in turn (added to ``fetched.tables``
    once read; a file that cannot be read becomes a failure naming it)."""
    yield from list(fetched.tables)
    while fetched.pending:
        path = fetched.pending.pop(0)
        try:
            table = read_table(path, spec)
        except ParseError as exc:
            fetched.failures.append(_file_failure(path.name, exc.msg, exc.location))
            continue
        except MemoryError:
            fetched.failures.append(
                _file_failure(path.name, msg("file.too_large_memory", name=path.name))
            )
            continue
        except OSError as exc:
            fetched.failures.append(_file_failure(path.name, _unreadable(path, exc)))
            continue
        fetched.tables.append((path.name, table))
        yield path.name, table


def _unreadable(path: Path, exc: OSError) -> Msg:
    return msg("file.cannot_read", name=path.name, detail=exc.strerror or str(exc))


def _fetch_json(spec: SourceSpec, fetcher: HttpFetcher | None, state: dict[str, Any]) -> Fetched:
    assert fetcher is not None
    table, new_state = fetch_json_api(spec, fetcher, state)
    if table is None:
        return Fetched([], new_state, not_modified=True)
    return Fetched([(spec.location, table)], new_state)


def _fetch_html(spec: SourceSpec, fetcher: HttpFetcher | None, state: dict[str, Any]) -> Fetched:
    table, new_state = fetch_html_table(spec, fetcher, state)
    if table is None:
        return Fetched([], new_state, not_modified=True)
    return Fetched([(spec.location, table)], new_state)


FETCHERS: dict[str, Callable[[SourceSpec, HttpFetcher | None, dict[str, Any]], Fetched]] = {
    "file": _fetch_files,
    "json_api": _fetch_json,
    "html_table": _fetch_html,
}


def catalogue_of(engine: Engine) -> dict[str, IndicatorInfo]:
    return {
        r["code"]: IndicatorInfo(
            r["code"],
            r["name_zh"],
            r["unit"],
            r["minimum"],
            r["maximum"],
            tuple(a for a in (r.get("aliases") or "").split("|") if a),
            r.get("name_en") or r["code"],
        )
        for r in store.indicator_rows(engine)
    }


def collect(
    engine: Engine,
    spec: SourceSpec,
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    force: bool = False,
) -> RunSummary:
    """Collect one source into the store. Never raises for a failing source: the summary and the
    CollectionRun say what went wrong."""
    started = time.perf_counter()
    with engine.begin() as conn:
        store.ensure_source(
            conn,
            spec.id,
            kind=spec.collector,
            location=spec.location,
            precedence=spec.precedence,
            description=spec.description,
            is_demo=spec.demo,
        )
    try:
        run_id = runs.start_run(engine, spec.id)
    except SourceBusy as exc:
        busy = RunSummary(spec.id, 0)
        busy.fail(str(exc))
        return busy
    summary = RunSummary(spec.id, run_id)
    fetcher = HttpFetcher(spec, client=client, sleep=sleep) if spec.is_http else None
    try:
        state = {} if force else store.last_run_state(engine, spec.id)
        fetched = FETCHERS[spec.collector](spec, fetcher, state)
        summary.requests = fetcher.requests if fetcher else 0
        if fetched.not_modified:
            summary.not_modified = True
            _finish(engine, summary, fetched.state, started)
            return summary
        catalogue = catalogue_of(engine)
        mapped = _map(engine, spec, fetched, catalogue)
        mapped.hold_conflicts(
            {c: (f"{i.name_zh}（{c}）", f"{i.name_en or c} ({c})") for c, i in catalogue.items()}
        )
        summary.read = sum(len(t.rows) for _, t in fetched.tables)
        summary.skipped = sum(sum(t.skipped.values()) for _, t in fetched.tables)
        summary.documents = [w for w, _ in fetched.tables]
        rejections = fetched.failures + mapped.rejections
        with one_writer(engine), engine.begin() as conn:
            # part by part (a file, a page) in one transaction: the batch holds each fact once
            # (conflicts are held above), so this stores exactly what one write of it would
            for part in mapped.observation_parts():
                result = store.upsert_observations(
                    engine, part, source_id=spec.id, run_id=run_id, conn=conn
                )
                summary.accepted += result.inserted
                summary.revised += result.revised
                summary.unchanged += result.unchanged
            if mapped.recognitions:
                new = store.upsert_recognitions(conn, mapped.recognition_records())
                summary.accepted += new
                summary.unchanged += len(mapped.recognitions) - new
            if mapped.rankings:
                new = store.upsert_rankings(conn, mapped.ranking_records())
                summary.accepted += new
                summary.unchanged += len(mapped.rankings) - new
            summary.rejected = store.add_rejections(conn, run_id, spec.id, rejections)
        if fetched.failures and not fetched.tables:
            first = fetched.failures[0]
            summary.fail(
                msg("at", where=Where(first["location"]), message=messages.of(first["reason"]))
            )
        elif summary.rejected:
            summary.status = models.RunStatus.partial
        _finish(engine, summary, fetched.state, started)
    except Exception as exc:  # a failing source must never stop the others or the scheduler
        if isinstance(exc, SQLAlchemyError):
            log.warning("source %s: %s", spec.id, short_error(exc))
        elif not isinstance(exc, MonitorError):
            log.exception("source %s: unexpected error", spec.id)
        summary.fail(short_error(exc))
        summary.accepted = summary.revised = summary.unchanged = summary.rejected = 0
        summary.requests = fetcher.requests if fetcher else 0
        _finish(engine, summary, None, started)
    finally:
        if fetcher is not None and client is None:
            fetcher.close()
    return summary


_WRITERS: dict[str, threading.Lock] = {}
_WRITERS_GUARD = threading.Lock()


@contextmanager
def one_writer(engine: Engine) -> Iterator[None]:
    """SQLite has one writer at a time: the threads of this process (``collect --all``, the
    scheduler's workers) take turns for a run's write transaction, instead of waiting on the
    busy timeout, which a large run's transaction can outlast. PostgreSQL: no turns."""
    if engine.dialect.name != "sqlite":
        yield
        return
    with _WRITERS_GUARD:
        lock = _WRITERS.setdefault(str(engine.url), threading.Lock())
    with lock:
        yield


def check_aliases(engine: Engine, specs: Sequence[SourceSpec]) -> None:
    """Refuse an alias that points at an id the registry does not have (it would store orphan
    figures under that id): one line naming the file, the alias and the nearest ids."""
    known: dict[str, list[str]] = {}
    for spec in specs:
        if spec.subject_table not in known:
            rows = store.subject_rows(engine, spec.subject_table)
            known[spec.subject_table] = [sid for sid, _, _ in rows]
        _refuse_unknown_aliases(spec, known[spec.subject_table])


def _refuse_unknown_aliases(spec: SourceSpec, ids: Sequence[str]) -> None:
    for alias, target in spec.aliases.items():
        if target not in ids:
            near = difflib.get_close_matches(target, list(ids), n=3, cutoff=0.4)
            hint = f"; near ids: {', '.join(near)}" if near else ""
            kind = "carrier" if spec.subject_table == "park" else "region"
            raise ConfigError(
                f"{spec.where or spec.id}: aliases.{alias} = {target!r}, but the registry has "
                f"no {kind} with that id{hint}"
            )


def short_error(exc: BaseException) -> Msg | str:
    """One line for a run's stored error: never a SQL statement, its parameters or a URL secret.

    Database errors (e.g. two writers storing the same fact) say what happened in a sentence;
    anything else keeps its type and the first line of its message, at most 300 characters.
    """
    if isinstance(exc, IntegrityError):
        return (
            "another writer stored the same facts at the same time; nothing of this run was "
            "kept — collect again"
        )
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None) or exc
        return f"database error ({type(orig).__name__}): {driver_message(exc)}"[:300]
    if isinstance(exc, CollectorError):
        return exc.message()
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, MonitorError):
        return text[:2000]
    return f"{type(exc).__name__}: {text}"[:300]


def _map(
    engine: Engine, spec: SourceSpec, fetched: Fetched, catalogue: dict[str, IndicatorInfo]
) -> Mapped:
    subjects = store.subject_rows(engine, spec.subject_table)
    _refuse_unknown_aliases(spec, [sid for sid, _, _ in subjects])
    resolver = SubjectResolver(subjects, spec.aliases)
    total = Mapped()
    for where, table in _tables(fetched, spec):
        if spec.records == "recognitions":
            part = map_recognitions(table.rows, table.headers, spec, resolver, where)
        elif spec.records == "rankings":
            part = map_rankings(table.rows, table.headers, spec, resolver, where)
        else:
            part = map_observations(table.rows, table.headers, spec, catalogue, resolver, where)
        total.extend(part)
        table.pack()  # mapped: keep its rows small until the run commits
    return total


def _finish(
    engine: Engine, summary: RunSummary, state: dict[str, Any] | None, started: float
) -> None:
    summary.seconds = time.perf_counter() - started
    store.finish_run(
        engine,
        summary.run_id,
        status=summary.status,
        error=summary.error_msg or summary.error,
        state=state,
        counts={
            "read": summary.read,
            "skipped": summary.skipped,
            "accepted": summary.accepted,
            "revised": summary.revised,
            "unchanged": summary.unchanged,
            "rejected": summary.rejected,
            "requests": summary.requests,
        },
    )


def collect_many(
    engine: Engine,
    specs: Sequence[SourceSpec],
    *,
    max_workers: int = 4,
    on_done: Callable[[RunSummary], None] | None = None,
    force: bool = False,
) -> list[RunSummary]:
    """Collect several sources with bounded concurrency; results in the order given."""
    results: dict[str, RunSummary] = {}
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        futures = {pool.submit(collect, engine, s, force=force): s.id for s in specs}
        for future, source_id in futures.items():
            results[source_id] = future.result()
            if on_done:
                on_done(results[source_id])
    return [results[s.id] for s in specs]
