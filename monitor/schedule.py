"""The scheduler: collections and pipeline jobs on schedules that survive restarts.

APScheduler 3.x with an SQLAlchemy job store in the parkmon database itself, so schedules, next
run times and paused state survive a restart. Known traps, avoided on purpose:

- jobs are referenced as ``"monitor.schedule:run_source_job"`` (never a function from
  ``__main__``, which APScheduler 3.11 accepts and then silently drops from the store on restart);
- every CronTrigger and IntervalTrigger gets the time zone explicitly (a CronTrigger built without
  one fires in the host's zone, not the scheduler's);
- ``misfire_grace_time`` fits daily-to-yearly jobs (the default of 1 s would drop late runs);
- the job store uses parkmon's engine (WAL and a busy timeout on SQLite), and the main loop checks
  that the scheduler thread is alive (a thread that died on a locked database leaves
  ``scheduler.running`` True).

One scheduler per database: a lock row with a heartbeat (SQLite) or an advisory lock
(PostgreSQL); a second ``parkmon schedule start`` refuses and names the holder.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj
from sqlalchemy.engine import Engine

from collectors.run import RunSummary, check_aliases, collect
from collectors.sources import SourceSpec, load_sources
from monitor import db, models, store
from monitor.errors import ConfigError, LockHeldError, MonitorError
from monitor.runs import mark_interrupted
from monitor.schedule_config import (
    SCHEDULE_FILE,
    PipelineJob,
    SchedulerConfig,
    load_schedule_config,
    make_trigger,
    source_trigger,
    zone_info,
)
from monitor.scheduler_lock import SchedulerLock
from monitor.settings import Settings

__all__ = [
    "LockHeldError",
    "PipelineJob",
    "SchedulerConfig",
    "SchedulerLock",
    "build_scheduler",
    "handle_missed",
    "jobs_frame",
    "load_schedule_config",
    "make_trigger",
    "run_now",
    "set_paused",
    "start",
]

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
SOURCE_PREFIX = "source:"
JOB_PREFIX = "job:"


# --- what jobs run ----------------------------------------------------------------------------


@dataclass
class _Context:
    settings: Settings
    engine: Engine
    specs: dict[str, SourceSpec]
    config: SchedulerConfig
    after_collection: list[PipelineJob] = field(default_factory=list)


class _Active:
    """The context of the scheduler (or run-now) in this process; jobs read it."""

    context: _Context | None = None


def _context() -> _Context:
    if _Active.context is None:
        raise MonitorError("scheduler jobs run only inside `parkmon schedule start` (or run-now)")
    return _Active.context


def run_source_job(source_id: str) -> None:
    """A scheduled collection (referenced by the job store as text, never pickled code)."""
    ctx = _context()
    spec = ctx.specs.get(source_id)
    if spec is None:
        log.error("source %s is scheduled but no longer in sources.toml; skipped", source_id)
        return
    summary = collect(ctx.engine, spec)
    log.info(
        "collected %s: %s, %d new, %d revised, %d rejected%s",
        source_id,
        summary.status.value,
        summary.accepted,
        summary.revised,
        summary.rejected,
        f" — {summary.error}" if summary.error else "",
    )
    if summary.changed_data:
        for job in ctx.after_collection:
            run_pipeline_job(job.id)


def run_pipeline_job(job_id: str) -> None:
    """A pipeline job, recorded as a run of the pseudo-source 'job:<id>'. Never raises."""
    ctx = _context()
    job = next((j for j in ctx.config.jobs if j.id == job_id), None)
    if job is None:
        log.error("pipeline job %s is scheduled but no longer in schedule.toml; skipped", job_id)
        return
    record_id = JOB_PREFIX + job.id
    with ctx.engine.begin() as conn:
        store.ensure_source(
            conn, record_id, kind="pipeline", location=job.func, description=job.description
        )
    run_id = store.start_run(ctx.engine, record_id, host=socket.gethostname(), pid=os.getpid())
    try:
        func: Callable[..., Any] = ref_to_obj(job.func)
        func(ctx.settings)
    except Exception as exc:  # a failing job must not stop the scheduler
        log.exception("pipeline job %s failed", job.id)
        store.finish_run(
            ctx.engine, run_id, status=models.RunStatus.failed, error=f"{type(exc).__name__}: {exc}"
        )
        return
    store.finish_run(ctx.engine, run_id, status=models.RunStatus.ok)


# --- building and running -----------------------------------------------------------------------


def build_scheduler(engine: Engine, config: SchedulerConfig) -> BackgroundScheduler:
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=max(1, config.max_workers))},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": int(config.misfire_grace_hours * 3600),
        },
        timezone=zone_info(config.timezone, SCHEDULE_FILE),
    )


def desired_jobs(specs: Sequence[SourceSpec], config: SchedulerConfig) -> list[dict[str, Any]]:
    """Every job the config asks for, as keyword arguments of ``add_job``."""
    jobs: list[dict[str, Any]] = []
    for spec in specs:
        if spec.schedule is None:
            continue
        jobs.append(
            {
                "id": SOURCE_PREFIX + spec.id,
                "name": spec.description or spec.id,
                "func": "monitor.schedule:run_source_job",
                "args": [spec.id],
                "trigger": source_trigger(spec, config.timezone),
            }
        )
    for job in config.jobs:
        if job.after_collection:
            continue
        jobs.append(
            {
                "id": JOB_PREFIX + job.id,
                "name": job.description or job.id,
                "func": "monitor.schedule:run_pipeline_job",
                "args": [job.id],
                "trigger": make_trigger(
                    job.cron,
                    job.interval_minutes,
                    config.timezone,
                    f"{SCHEDULE_FILE}, job {job.id}",
                ),
            }
        )
    return jobs


def sync_jobs(scheduler: BackgroundScheduler, wanted: list[dict[str, Any]]) -> list[str]:
    """Bring the job store in line with the config, keeping paused jobs paused."""
    notes = []
    existing = {job.id: job for job in scheduler.get_jobs()}
    for spec in wanted:
        old = existing.get(spec["id"])
        paused = old is not None and old.next_run_time is None
        kwargs = dict(spec, replace_existing=True)
        if paused:
            kwargs["next_run_time"] = None
        elif old is not None and str(old.trigger) == str(spec["trigger"]):
            kwargs["next_run_time"] = old.next_run_time  # keep a due (missed) run visible
        scheduler.add_job(**kwargs)
        if old is None:
            notes.append(f"scheduled {spec['id']}")
    for job_id in set(existing) - {s["id"] for s in wanted}:
        scheduler.remove_job(job_id)
        notes.append(f"removed {job_id} (no longer configured)")
    return notes


def handle_missed(scheduler: BackgroundScheduler, policy: str, now: datetime) -> list[str]:
    """Log runs that fell due while down; with 'skip', move them to their next due time."""
    notes = []
    for job in scheduler.get_jobs():
        due = job.next_run_time
        if due is None or due > now:
            continue
        if policy == "skip":
            following = job.trigger.get_next_fire_time(None, now)
            job.modify(next_run_time=following)
            notes.append(
                f"{job.id}: skipped the run due {due:%Y-%m-%d %H:%M %Z} "
                f"(missed while stopped); next {following:%Y-%m-%d %H:%M %Z}"
            )
        else:
            notes.append(
                f"{job.id}: the run due {due:%Y-%m-%d %H:%M %Z} was missed while "
                "stopped; running it once now"
            )
    return notes


def _setup(settings: Settings) -> tuple[Engine, list[SourceSpec], SchedulerConfig]:
    engine = db.make_engine(settings.database_url)
    db.require_schema(engine)
    specs = load_sources(settings.config_dir)
    check_aliases(engine, specs)
    return engine, specs, load_schedule_config(settings.config_dir)


def start(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    on_event: Callable[[str], None] = log.info,
) -> int:
    """Run the scheduler in the foreground until SIGINT/SIGTERM (or ``stop`` is set).

    Returns an exit code: 0 after a clean stop, 1 when the scheduler thread died.
    """
    engine, specs, config = _setup(settings)
    lock = SchedulerLock(engine, config.lock_expiry_s)
    lock.acquire()
    stop = stop or threading.Event()
    scheduler = build_scheduler(engine, config)
    code = 0
    try:
        interrupted = mark_interrupted(engine)
        if interrupted:
            on_event(f"marked {interrupted} run(s) interrupted (left running by a stopped process)")
        _Active.context = _Context(
            settings,
            engine,
            {s.id: s for s in specs},
            config,
            [j for j in config.jobs if j.after_collection],
        )
        scheduler.start(paused=True)
        for note in sync_jobs(scheduler, desired_jobs(specs, config)):
            on_event(note)
        for note in handle_missed(scheduler, config.missed_runs, datetime.now(UTC)):
            on_event(note)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        scheduler.resume()
        on_event(
            f"scheduler running: {len(scheduler.get_jobs())} job(s); lock held by "
            f"{lock.holder}; stop with Ctrl-C or SIGTERM"
        )
        while not stop.wait(config.heartbeat_s):
            lock.heartbeat()
            thread = getattr(scheduler, "_thread", None)
            if thread is not None and not thread.is_alive():
                on_event("the scheduler thread died; stopping so that a supervisor restarts it")
                code = 1
                break
        on_event("stopping: no new jobs; waiting for running jobs to finish")
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        _Active.context = None
        lock.release()
        engine.dispose()
    on_event("scheduler stopped")
    return code


# --- inspection and manual control -------------------------------------------------------------


def _job_store(
    settings: Settings,
) -> tuple[SQLAlchemyJobStore, Engine, list[SourceSpec], SchedulerConfig]:
    """The job store, opened without starting a scheduler (nothing can run from here)."""
    engine, specs, config = _setup(settings)
    jobstore = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
    jobstore.start(build_scheduler(engine, config), "default")
    return jobstore, engine, specs, config


def jobs_frame(settings: Settings) -> pd.DataFrame:
    """Configured and stored jobs: id, what, trigger, next run, paused, last status and error."""
    jobstore, engine, specs, config = _job_store(settings)
    try:
        stored = {job.id: job.next_run_time for job in jobstore.get_all_jobs()}
        runs = store.runs_frame(engine, limit=10_000, lang=settings.lang)
    finally:
        engine.dispose()
    return _job_rows(desired_jobs(specs, config), stored, runs, settings.lang)


def read_jobs(engine: Engine, config_dir: Path, lang: str) -> pd.DataFrame:
    """``jobs_frame`` for a reader that must not write (the web application): the stored next
    run times are read from the job table when a scheduler has created it, never created here;
    the configuration is read as the scheduler reads it."""
    specs = load_sources(config_dir)
    config = load_schedule_config(config_dir)
    stored: dict[str, datetime | None] = {}
    if sa.inspect(engine).has_table(JOBS_TABLE):
        table = sa.table(JOBS_TABLE, sa.column("id"), sa.column("next_run_time"))
        with engine.connect() as conn:
            for job_id, stamp in conn.execute(sa.select(table.c.id, table.c.next_run_time)):
                # APScheduler 3 keeps the next run as a POSIX timestamp; NULL when paused
                stored[str(job_id)] = (
                    None if stamp is None else datetime.fromtimestamp(float(stamp), UTC)
                )
    runs = store.runs_frame(engine, limit=10_000, lang=lang)
    return _job_rows(desired_jobs(specs, config), stored, runs, lang)


def scheduler_holder(engine: Engine) -> dict[str, Any] | None:
    """Who holds the scheduler's lock (host and process) and its last heartbeat, if anyone."""
    table = models.table_of(models.SchedulerLock)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(table.c.holder, table.c.acquired_at, table.c.heartbeat_at)
        ).first()
    return None if row is None else dict(row._mapping)


def _job_rows(
    wanted: list[dict[str, Any]],
    stored: dict[str, datetime | None],
    runs: pd.DataFrame,
    lang: str,
) -> pd.DataFrame:
    rows = []
    for spec in wanted:
        record = spec["id"].removeprefix(SOURCE_PREFIX)
        last = runs[runs["source_id"] == record].head(1) if len(runs) else runs
        scheduled = spec["id"] in stored
        rows.append(
            {
                "job": spec["id"],
                "name": spec["name"],
                "trigger": describe_trigger(spec["trigger"], lang),
                "next_run": stored.get(spec["id"]),
                "state": "not_scheduled"
                if not scheduled
                else ("paused" if stored[spec["id"]] is None else "scheduled"),
                "last_status": None if last.empty else last["status"].iloc[0],
                "last_error": None if last.empty else last["error"].iloc[0],
            }
        )
    return pd.DataFrame(rows)


def describe_trigger(trigger: CronTrigger | IntervalTrigger, lang: str = "en") -> str:
    """'every 6:00:00' / '每 6:00:00'; 'cron 0 2 * * * (Asia/Shanghai)' (a cron line as written)."""
    if isinstance(trigger, IntervalTrigger):
        return f"每 {trigger.interval}" if lang == "zh" else f"every {trigger.interval}"
    fields = {f.name: str(f) for f in trigger.fields}
    expr = " ".join(fields[k] for k in ("minute", "hour", "day", "month", "day_of_week"))
    return f"cron {expr} ({trigger.timezone})"


def set_paused(settings: Settings, job_id: str, paused: bool) -> str:
    """Pause or resume a stored job. A running scheduler sees the change at its next wake-up."""
    jobstore, engine, _, _ = _job_store(settings)
    try:
        job = jobstore.lookup_job(job_id)
        if job is None:
            known = [j.id for j in jobstore.get_all_jobs()]
            raise ConfigError(
                f"no scheduled job {job_id!r}; jobs: {', '.join(known) or 'none'} "
                "(a new job appears after `parkmon schedule start`)"
            )
        job.next_run_time = (
            None if paused else job.trigger.get_next_fire_time(None, datetime.now(UTC))
        )
        jobstore.update_job(job)
        when = (
            "paused"
            if job.next_run_time is None
            else f"next run {job.next_run_time:%Y-%m-%d %H:%M %Z}"
        )
    finally:
        engine.dispose()
    return f"{job_id}: {when}"


def run_now(settings: Settings, job_id: str) -> RunSummary | None:
    """Run a configured job at once in this process (recorded like a scheduled run)."""
    engine, specs, config = _setup(settings)
    by_id = {s.id: s for s in specs}
    _Active.context = _Context(
        settings, engine, by_id, config, [j for j in config.jobs if j.after_collection]
    )
    try:
        if job_id.startswith(SOURCE_PREFIX) or job_id in by_id:
            source_id = job_id.removeprefix(SOURCE_PREFIX)
            if source_id not in by_id:
                raise ConfigError(f"no source {source_id!r} in sources.toml")
            return collect(engine, by_id[source_id])
        name = job_id.removeprefix(JOB_PREFIX)
        if name not in {j.id for j in config.jobs}:
            raise ConfigError(
                f"no job {job_id!r}; sources: {', '.join(by_id) or 'none'}; "
                f"pipeline jobs: {', '.join(j.id for j in config.jobs) or 'none'}"
            )
        run_pipeline_job(name)
        return None
    finally:
        _Active.context = None
        engine.dispose()
