"""``parkmon schedule …`` and ``parkmon status``: run and watch the scheduler."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from monitor.cli.collect import summary_table
from monitor.cli.common import OutputFormat, err, out, settings_of, write_frame
from monitor.i18n import t
from monitor.lazy import LazyModule


def _blank(value: object) -> bool:
    """None, NaN or NaT: nothing to show."""
    if value is None or isinstance(value, str):
        return value is None
    return value is pd.NaT or (isinstance(value, float) and math.isnan(value))


schedule_app = typer.Typer(
    help="The scheduler: collections and pipeline jobs on schedules.", no_args_is_help=True
)

if TYPE_CHECKING:
    import pandas as pd

    from monitor import freshness, schedule
else:
    pd = LazyModule("pandas")
    freshness = LazyModule("monitor.freshness")
    schedule = LazyModule("monitor.schedule")


@schedule_app.command("start")
def schedule_start(ctx: typer.Context) -> None:
    """Run the scheduler in the foreground (Ctrl-C or SIGTERM stops it cleanly)."""
    settings = settings_of(ctx)
    logging.getLogger().setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    code = schedule.start(settings, on_event=lambda m: err.print(m, markup=False, highlight=False))
    raise typer.Exit(code)


@schedule_app.command("list")
def schedule_list(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Jobs, their next run and their last status."""
    settings = settings_of(ctx)
    frame = schedule.jobs_frame(settings)
    if write_frame(frame, fmt):
        return
    table = Table(title=t("schedule.title", settings.lang))
    for c in ("job", "name", "trigger", "next_run", "state", "last_status"):
        table.add_column(t(f"schedule.{c}", settings.lang))
    for r in frame.to_dict("records"):
        table.add_row(
            r["job"],
            r["name"],
            r["trigger"],
            "" if _blank(r["next_run"]) else f"{r['next_run']:%Y-%m-%d %H:%M %Z}",
            t(f"jobstate.{r['state']}", settings.lang),
            "" if _blank(r["last_status"]) else t(f"status.{r['last_status']}", settings.lang),
        )
    out.print(table)


@schedule_app.command("run-now")
def schedule_run_now(
    ctx: typer.Context,
    job: Annotated[
        str, typer.Argument(help="A source id (or source:<id>) or a pipeline job (job:<id>).")
    ],
) -> None:
    """Run one job now, in this process, recorded like a scheduled run."""
    settings = settings_of(ctx)
    summary = schedule.run_now(settings, job)
    if summary is not None:
        out.print(summary_table([summary], settings.lang))
        if summary.error:
            shown = summary.error_in(settings.lang)
            err.print(f"{summary.source_id}: {shown}", markup=False)
        if summary.status.value == "failed":
            raise typer.Exit(1)
    else:
        out.print(f"{job}: done")


@schedule_app.command("pause")
def schedule_pause(ctx: typer.Context, job: str) -> None:
    """Pause a job (it stays in the store, with no next run)."""
    out.print(schedule.set_paused(settings_of(ctx), job, True))


@schedule_app.command("resume")
def schedule_resume(ctx: typer.Context, job: str) -> None:
    """Resume a paused job."""
    out.print(schedule.set_paused(settings_of(ctx), job, False))


def _hours(value: object) -> str:
    """Hours for the table; blank (never 'nan') when a source has no successful run yet."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{float(value):g}"  # type: ignore[arg-type]


def status_command(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """Sources: last run, freshness of their data, failures."""
    settings = settings_of(ctx)
    frame = freshness.status_frame(settings)
    if write_frame(frame, fmt):
        return
    table = Table(title=t("status.title", settings.lang))
    colour = {"ok": "green", "failing": "red", "stale": "yellow", "never run": "white"}
    for c in (
        "source",
        "state",
        "last_status",
        "data_age_hours",
        "expected_every_hours",
        "consecutive_failures",
        "last_error",
    ):
        table.add_column(t(f"status.{c}", settings.lang))
    for r in frame.to_dict("records"):
        table.add_row(
            r["source"],
            f"[{colour[r['state']]}]{t('state.' + r['state'], settings.lang)}[/]",
            t(f"status.{r['last_status']}", settings.lang) if r["last_status"] else "",
            _hours(r["data_age_hours"]),
            _hours(r["expected_every_hours"]),
            str(r["consecutive_failures"]),
            str(r["last_error"] or "")[:80],
        )
    out.print(table)
