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
    data = config_schema.read(path, "schedule")
    sched = data.get("scheduler", {})
    missed = str(sched.get("missed_runs", "run_once"))
    if missed not in ("run_once", "skip"):
        raise ConfigError(f"{path}: missed_runs = {missed!r}; expected run_once or skip")
    timezone = str(sched.get("timezone", "Asia/Shanghai"))
    zone_info(timezone, str(path))
    jobs = []
    for i, item in enumerate(data.get("job", []), start=1):
        where = f"{path}, job #{i} ({item.get('id', '?')})"
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
    schedule = spec.schedule or ScheduleSpec()
    return make_trigger(
        schedule.cron,
        schedule.interval_minutes,
        schedule.timezone or default_tz,
        f"sources.toml, source '{spec.id}'",
    )
