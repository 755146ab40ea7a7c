"""schedule.toml: how the scheduler behaves and which pipeline jobs it runs; triggers with their
time zone always set (a CronTrigger built without one fires in the host's zone)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj

from collectors.sources import ScheduleSpec, SourceSpec
from monitor import config_schema
from monitor.errors import ConfigError

log = logging.getLogger(__name__)

SCHEDULE_FILE = "schedule.toml"


@dataclass(frozen=True)
class PipelineJob:
    id: str
    func: str
    description: str = ""
    cron: str | None = None
    interval_minutes: float | None = None
    after_collection: bool = False


_DEFAULTS = config_schema.SchedulerTable()  # the defaults live in the model, once


@dataclass(frozen=True)
class SchedulerConfig:
    timezone: str = _DEFAULTS.timezone
    missed_runs: str = _DEFAULTS.missed_runs
    misfire_grace_hours: float = _DEFAULTS.misfire_grace_hours
    max_workers: int = _DEFAULTS.max_workers
    heartbeat_s: float = _DEFAULTS.heartbeat_s
    lock_expiry_s: float = _DEFAULTS.lock_expiry_s
    jobs: tuple[PipelineJob, ...] = ()


def load_schedule_config(config_dir: Path, *, resolve: bool = True) -> SchedulerConfig:
    """schedule.toml, checked. ``resolve`` imports each job's function to prove it exists (the
    scheduler does; ``parkmon status``, which only needs the time zone, need not)."""
    path = config_dir / SCHEDULE_FILE
    model: config_schema.ScheduleFile | None = config_schema.load(path, "schedule", missing_ok=True)
    if model is None:
        return SchedulerConfig()
    sched = model.scheduler
    data = model.model_dump(exclude_none=True)  # the jobs as written, keys left out stay out
    zone_info(sched.timezone, str(path))
    jobs = []
    for i, item in enumerate(data.get("job", []), start=1):
        where = f"{path}, job #{i} ({item.get('id', '?')})"
        func = str(item.get("func", ""))
        try:
            if resolve:
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
        timezone=sched.timezone,
        missed_runs=sched.missed_runs,
        misfire_grace_hours=sched.misfire_grace_hours,
        max_workers=sched.max_workers,
        heartbeat_s=sched.heartbeat_s,
        lock_expiry_s=sched.lock_expiry_s,
        jobs=tuple(jobs),
    )


def zone_info(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: unknown time zone {name!r}") from exc


def make_trigger(
    cron: str | None, minutes: float | None, timezone: str, where: str
) -> CronTrigger | IntervalTrigger:
    """A trigger with its time zone always explicit."""
    zone = zone_info(timezone, where)
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
    """A source's own trigger; a schedule without a time zone runs in the scheduler's."""
    schedule = spec.schedule or ScheduleSpec(cron=None, interval_minutes=None, timezone=None)
    return make_trigger(
        schedule.cron,
        schedule.interval_minutes,
        schedule.timezone or default_tz,
        f"sources.toml, source '{spec.id}'",
    )
