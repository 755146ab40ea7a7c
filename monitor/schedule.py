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
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from collectors.sources import ScheduleSpec, SourceSpec, load_sources
from monitor import config_schema, db, models, store
from monitor.errors import ConfigError, LockHeldError, MonitorError
from monitor.runs import alive, mark_interrupted
from monitor.settings import Settings

log = logging.getLogger(__name__)

SCHEDULE_FILE = "schedule.toml"
JOBS_TABLE = "apscheduler_jobs"
LOCK_TABLE = "scheduler_lock"
ADVISORY_KEY = 7_320_600  # PostgreSQL advisory lock id of the parkmon scheduler
SOURCE_PREFIX = "source:"
JOB_PREFIX = "job:"


@dataclass(frozen=True)
class PipelineJob:
    id: str
    func: str
    description: str = ""
    cron: str | None = None
    interval_minutes: float | None = None
    after_collection: bool = False


@dataclass(frozen=True)
class SchedulerConfig:
    timezone: str = "Asia/Shanghai"
    missed_runs: str = "run_once"
    misfire_grace_hours: float = 24.0
    max_workers: int = 2
    heartbeat_s: float = 10.0
    lock_expiry_s: float = 60.0
    jobs: tuple[PipelineJob, ...] = ()


def load_schedule_config(config_dir: Path) -> SchedulerConfig:
    path = config_dir / SCHEDULE_FILE
    if not path.exists():
        return SchedulerConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    config_schema.check(path, data, "schedule")
    allowed = {
        "timezone",
        "missed_runs",
        "misfire_grace_hours",
        "max_workers",
        "heartbeat_s",
        "lock_expiry_s",
    }
    sched = data.get("scheduler", {})
    unknown = sorted(set(sched) - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)} in [scheduler]; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    missed = str(sched.get("missed_runs", "run_once"))
    if missed not in ("run_once", "skip"):
        raise ConfigError(f"{path}: missed_runs = {missed!r}; expected run_once or skip")
    timezone = str(sched.get("timezone", "Asia/Shanghai"))
    _zone(timezone, str(path))
    jobs = []
    job_keys = {
        "id",
        "func",
        "description",
        "cron",
        "interval_minutes",
        "interval_hours",
        "trigger",
    }
    for i, item in enumerate(data.get("job", []), start=1):
        where = f"{path}, job #{i} ({item.get('id', '?')})"
        unknown = sorted(set(item) - job_keys)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(unknown)}; allowed: "
                f"{', '.join(sorted(job_keys))}"
            )
        func = str(item.get("func", ""))
        try:
            ref_to_obj(func)
        except (ValueError, LookupError, TypeError, ImportError) as exc:
            raise ConfigError(
                f"{where}: func {func!r} is not an importable 'module:function' ({exc})"
            ) from exc
        minutes = item.get("interval_minutes")
        if item.get("interval_hours") is not None:
            minutes = float(item["interval_hours"]) * 60
        after = item.get("trigger") == "after_collection"
        if sum(x is not None and x is not False for x in (item.get("cron"), minutes, after)) != 1:
            raise ConfigError(
                f"{where}: give exactly one of cron, interval_minutes/_hours or "
                'trigger = "after_collection"'
            )
        jobs.append(
            PipelineJob(
                str(item["id"]),
                func,
                str(item.get("description", "")),
                item.get("cron"),
                None if minutes is None else float(minutes),
                after,
            )
        )
    return SchedulerConfig(
        timezone=timezone,
        missed_runs=missed,
        misfire_grace_hours=float(sched.get("misfire_grace_hours", 24)),
        max_workers=int(sched.get("max_workers", 2)),
        heartbeat_s=float(sched.get("heartbeat_s", 10)),
        lock_expiry_s=float(sched.get("lock_expiry_s", 60)),
        jobs=tuple(jobs),
    )


def _zone(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: unknown time zone {name!r}") from exc


def make_trigger(
    cron: str | None, minutes: float | None, timezone: str, where: str
) -> CronTrigger | IntervalTrigger:
    """A trigger with its time zone always explicit."""
    zone = _zone(timezone, where)
    if cron:
        try:
            return CronTrigger.from_crontab(cron, timezone=zone)
        except ValueError as exc:
            raise ConfigError(
                f"{where}: cron {cron!r} is not a valid crontab expression "
                f"(minute hour day month weekday): {exc}"
            ) from exc
    assert minutes is not None
    return IntervalTrigger(seconds=round(minutes * 60, 3), timezone=zone)


def source_trigger(spec: SourceSpec, default_tz: str) -> CronTrigger | IntervalTrigger:
    schedule = spec.schedule or ScheduleSpec()
    return make_trigger(
        schedule.cron,
        schedule.interval_minutes,
        schedule.timezone or default_tz,
        f"sources.toml, source '{spec.id}'",
    )


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


# --- the lock -----------------------------------------------------------------------------------


def _lock_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        LOCK_TABLE,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SchedulerLock:
    """One scheduler per database: a heartbeat row, plus an advisory lock on PostgreSQL."""

    def __init__(self, engine: Engine, expiry_s: float) -> None:
        self.engine = engine
        self.expiry = timedelta(seconds=expiry_s)
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        self.table = _lock_table(sa.MetaData())
        self._pg_conn: sa.Connection | None = None

    def acquire(self) -> None:
        self.table.create(self.engine, checkfirst=True)
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}
            ).scalar()
            conn.commit()
            if not got:
                conn.close()
                raise LockHeldError(self._held_message(self._current()))
            self._pg_conn = conn  # the lock lives as long as this session
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(self.table).where(self.table.c.id == 1)).mappings().first()
            if row is not None:
                stale = now - _aware(row["heartbeat_at"]) > self.expiry or self._dead_here(
                    str(row["holder"])
                )
                if not stale and self._pg_conn is None and row["holder"] != self.holder:
                    raise LockHeldError(self._held_message(row))
                if stale:
                    log.warning(
                        "taking over the scheduler lock of %s (last heartbeat %s)",
                        row["holder"],
                        row["heartbeat_at"],
                    )
                conn.execute(
                    sa.update(self.table)
                    .where(self.table.c.id == 1)
                    .values(holder=self.holder, acquired_at=now, heartbeat_at=now)
                )
            else:
                conn.execute(
                    sa.insert(self.table).values(
                        id=1, holder=self.holder, acquired_at=now, heartbeat_at=now
                    )
                )

    @staticmethod
    def _dead_here(holder: str) -> bool:
        """The holder ran on this host and its process is gone (killed): no need to wait."""
        host, _, pid = holder.rpartition(":")
        return host == socket.gethostname() and pid.isdigit() and not alive(int(pid))

    def _current(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(self.table).where(self.table.c.id == 1)).mappings().first()
        return dict(row) if row else None

    def _held_message(self, row: Any) -> str:
        if not row:
            return "another scheduler holds this database's lock; refusing to start a second one"
        return (
            f"a scheduler is already running on this database: held by {row['holder']} since "
            f"{row['acquired_at']:%Y-%m-%d %H:%M:%S} UTC, last heartbeat "
            f"{row['heartbeat_at']:%H:%M:%S} UTC; refusing to start a second one (a dead "
            f"holder's lock is taken over {self.expiry.total_seconds():.0f} s after its last "
            "heartbeat)"
        )

    def heartbeat(self) -> None:
        with self.engine.begin() as conn:
            updated = conn.execute(
                sa.update(self.table)
                .where(self.table.c.id == 1, self.table.c.holder == self.holder)
                .values(heartbeat_at=datetime.now(UTC))
            )
        if updated.rowcount != 1:
            raise LockHeldError("lost the scheduler lock to another process; stopping")

    def release(self) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.delete(self.table).where(
                        self.table.c.id == 1, self.table.c.holder == self.holder
                    )
                )
        finally:
            if self._pg_conn is not None:
                self._pg_conn.close()
                self._pg_conn = None


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
        timezone=_zone(config.timezone, SCHEDULE_FILE),
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
        stored = {job.id: job for job in jobstore.get_all_jobs()}
        wanted = desired_jobs(specs, config)
        runs = store.runs_frame(engine, limit=10_000, lang=settings.lang)
    finally:
        engine.dispose()
    rows = []
    for spec in wanted:
        job = stored.get(spec["id"])
        record = spec["id"].removeprefix(SOURCE_PREFIX)
        last = runs[runs["source_id"] == record].head(1) if len(runs) else runs
        rows.append(
            {
                "job": spec["id"],
                "name": spec["name"],
                "trigger": describe_trigger(spec["trigger"], settings.lang),
                "next_run": None if job is None or job.next_run_time is None else job.next_run_time,
                "state": "not_scheduled"
                if job is None
                else ("paused" if job.next_run_time is None else "scheduled"),
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


def status_frame(settings: Settings, now: datetime | None = None) -> pd.DataFrame:
    """Per source: last run, last success, consecutive failures, how stale its data is."""
    now = now or datetime.now(UTC)
    engine, specs, config = _setup(settings)
    try:
        runs = store.runs_frame(engine, limit=100_000, lang=settings.lang)
    finally:
        engine.dispose()
    rows = []
    for spec in specs:
        mine = runs[runs["source_id"] == spec.id] if len(runs) else runs
        statuses = list(mine["status"]) if len(mine) else []
        failures = 0
        for s in statuses:  # newest first
            if s == "failed":
                failures += 1
            elif s in ("ok", "partial"):
                break
        good = mine[mine["status"].isin(["ok", "partial"])] if len(mine) else mine
        last_ok = (
            None
            if good.empty
            else _aware(pd.Timestamp(good["finished_at"].iloc[0]).to_pydatetime())
        )
        period = expected_period(spec, config)
        age = None if last_ok is None else now - last_ok
        if not statuses:
            state = "never run"
        elif failures:
            state = "failing"
        elif period is not None and age is not None and age > period * 1.5:
            state = "stale"
        else:
            state = "ok"
        rows.append(
            {
                "source": spec.id,
                "state": state,
                "last_run": None if mine.empty else mine["started_at"].iloc[0],
                "last_status": None if mine.empty else mine["status"].iloc[0],
                "last_success": last_ok,
                "data_age_hours": None if age is None else round(age.total_seconds() / 3600, 1),
                "expected_every_hours": None
                if period is None
                else round(period.total_seconds() / 3600, 1),
                "consecutive_failures": failures,
                "last_error": "" if mine.empty else mine["error"].iloc[0],
            }
        )
    return pd.DataFrame(rows)


def expected_period(spec: SourceSpec, config: SchedulerConfig) -> timedelta | None:
    """How often the source should bring data: its interval, or the gap between cron firings."""
    if spec.schedule is None:
        return None
    trigger = source_trigger(spec, config.timezone)
    if isinstance(trigger, IntervalTrigger):
        interval: timedelta = trigger.interval
        return interval
    first = trigger.get_next_fire_time(None, datetime.now(UTC))
    if first is None:
        return None
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    gap: timedelta | None = None if second is None else second - first
    return gap
