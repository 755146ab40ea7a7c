"""How fresh each source's data is (``parkmon status``): its last run, its last success, its
failures in a row and the age of its data against how often it should bring some.

Light on purpose: ``parkmon status`` needs the store and the sources' schedules, not the
collectors or the scheduler itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd
from apscheduler.triggers.interval import IntervalTrigger

from collectors.sources import SourceSpec, load_sources
from monitor import db, store
from monitor.schedule_config import SchedulerConfig, load_schedule_config, source_trigger
from monitor.scheduler_lock import aware_utc
from monitor.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["expected_period", "status_frame"]


def status_frame(
    settings: Settings, now: datetime | None = None, engine: Engine | None = None
) -> pd.DataFrame:
    """Per source: last run, last success, consecutive failures, how stale its data is.
    ``engine``: the caller's (the web application's read-only one); else one is opened."""
    now = now or datetime.now(UTC)
    own = engine is None
    engine = engine or db.make_engine(settings.database_url)
    try:
        if own:
            db.require_schema(engine)
        specs = load_sources(settings.config_dir)
        config = load_schedule_config(settings.config_dir, resolve=False)
        runs = store.runs_frame(engine, limit=100_000, lang=settings.lang)
    finally:
        if own:
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
            else aware_utc(pd.Timestamp(good["finished_at"].iloc[0]).to_pydatetime())
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
