"""``parkmon collect``, ``runs`` and ``rejects``: bring data in, and see what happened."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from monitor.cli.common import OutputFormat, err, out, settings_of, write_frame
from monitor.errors import ConfigError
from monitor.i18n import t
from monitor.lazy import LazyModule

if TYPE_CHECKING:
    import sqlalchemy as sa

    import collectors.run as collecting
    import collectors.sources as source_config
    from collectors.run import RunSummary
    from collectors.sources import SourceSpec
    from monitor import db, demo, safe_io, store
else:
    collecting = LazyModule("collectors.run")
    db = LazyModule("monitor.db")
    demo = LazyModule("monitor.demo")
    sa = LazyModule("sqlalchemy")
    safe_io = LazyModule("monitor.safe_io")
    source_config = LazyModule("collectors.sources")
    store = LazyModule("monitor.store")


def summary_table(results: list[RunSummary], lang: str) -> Table:
    table = Table(title=t("collect.title", lang))
    for key in (
        "source",
        "status",
        "read",
        "skipped",
        "new",
        "revised",
        "unchanged",
        "rejected",
        "seconds",
    ):
        table.add_column(t(f"collect.{key}", lang), justify="left" if key == "source" else "right")
    colour = {"ok": "green", "partial": "yellow", "failed": "red"}
    for r in results:
        status = t(f"status.{r.status.value}", lang) + (
            f" ({t('collect.not_modified', lang)})" if r.not_modified else ""
        )
        table.add_row(
            r.source_id,
            f"[{colour.get(r.status.value, 'white')}]{status}[/]",
            str(r.read),
            str(r.skipped),
            str(r.accepted),
            str(r.revised),
            str(r.unchanged),
            str(r.rejected),
            f"{r.seconds:.2f}",
        )
    return table


def run_collection(
    engine: sa.Engine,
    specs: list[SourceSpec],
    lang: str,
    *,
    force: bool = False,
    show_progress: bool = True,
) -> list[RunSummary]:
    with Progress(console=err, transient=True, disable=not show_progress) as progress:
        task = progress.add_task(t("collect.progress", lang), total=len(specs))
        return collecting.collect_many(
            engine, specs, force=force, on_done=lambda _r: progress.advance(task)
        )


def collect_command(
    ctx: typer.Context,
    sources: Annotated[list[str] | None, typer.Argument(help="Source ids to collect.")] = None,
    all_sources: Annotated[bool, typer.Option("--all", help="Collect every source.")] = False,
    samples: Annotated[
        bool,
        typer.Option(
            "--samples", help="Use the bundled demo sample sources (served on 127.0.0.1)."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Ignore ETags and file hashes: fetch and read everything again."
        ),
    ] = False,
) -> None:
    """Collect sources from config/sources.toml into the database."""
    settings = settings_of(ctx)
    lang = settings.lang
    engine = db.open_existing(settings.database_url)
    with ExitStack() as stack:
        if samples:
            specs = stack.enter_context(demo.sample_sources(settings.config_dir))
        else:
            specs = source_config.load_sources(settings.config_dir)
        if not specs:
            raise ConfigError(
                f"no sources in {settings.config_dir / 'sources.toml'}; add "
                "[[source]] tables (see docs/data-formats.md), or try --samples"
            )
        known = {s.id for s in specs}
        if sources:
            unknown = [s for s in sources if s not in known]
            if unknown:
                raise ConfigError(
                    f"unknown source(s) {', '.join(unknown)}; configured: "
                    f"{', '.join(sorted(known))}"
                )
            specs = [s for s in specs if s.id in sources]
        elif not all_sources:
            raise ConfigError(
                "name the sources to collect, or pass --all; configured: "
                + ", ".join(sorted(known))
            )
        collecting.check_aliases(engine, specs)
        results = run_collection(engine, specs, lang, force=force)
    engine.dispose()
    out.print(summary_table(results, lang))
    for r in results:
        if r.error:
            shown = r.error_in(lang)
            err.print(f"[red]{escape(r.source_id)}: {escape(shown)}[/red]", highlight=False)
    rejected = sum(r.rejected for r in results)
    if rejected:
        out.print(t("collect.see_rejects", lang, n=rejected))
    if any(r.status.value == "failed" for r in results):
        raise typer.Exit(1)


def runs_command(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    limit: Annotated[int, typer.Option(help="How many of the latest runs.")] = 20,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """The history of collection runs, newest first."""
    settings = settings_of(ctx)
    engine = db.open_read_only(settings.database_url)
    runs = store.runs_frame(engine, source_id=source, limit=limit, lang=settings.lang)
    engine.dispose()
    if write_frame(runs, fmt):
        return
    table = Table(title=t("runs.title", settings.lang))
    columns = [
        "id",
        "source_id",
        "started_at",
        "status",
        "rows_read",
        "rows_accepted",
        "rows_revised",
        "rows_unchanged",
        "rows_rejected",
        "error",
    ]
    for c in columns:
        table.add_column(t(f"runs.{c}", settings.lang))
    for r in runs.to_dict("records"):
        r["status"] = t(f"status.{r['status']}", settings.lang)
        table.add_row(*(str(r[c])[:19] if c == "started_at" else str(r[c])[:60] for c in columns))
    out.print(table)


def rejects_command(
    ctx: typer.Context,
    run: Annotated[
        int | None, typer.Argument(help="Run id (default: each source's latest run).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="Write them to this CSV (UTF-8 with BOM, opens in Excel) to fix and resend.",
        ),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """What was rejected, where, and why."""
    settings = settings_of(ctx)
    engine = db.open_read_only(settings.database_url)
    frame = store.rejections_frame(engine, run_id=run, source_id=source, lang=settings.lang)
    engine.dispose()
    if csv_out is not None:
        safe_io.write_text(csv_out, safe_io.frame_to_csv(frame), encoding="utf-8-sig")
        out.print(t("rejects.written", settings.lang, n=len(frame), path=csv_out))
        return
    if fmt is OutputFormat.json:
        sys.stdout.write(
            json.dumps(frame.to_dict("records"), ensure_ascii=False, indent=2, default=str) + "\n"
        )
        return
    if fmt is OutputFormat.csv:
        sys.stdout.write(safe_io.frame_to_csv(frame))
        return
    if frame.empty:
        out.print(t("rejects.none", settings.lang))
        return
    table = Table(title=t("rejects.title", settings.lang), show_lines=True)
    for c in ("run_id", "source_id", "location", "field_name", "value", "reason"):
        table.add_column(t(f"rejects.{c}", settings.lang))
    for r in frame.to_dict("records"):
        table.add_row(
            str(r["run_id"]),
            r["source_id"],
            r["location"],
            r["field_name"],
            r["value"],
            r["reason"],
        )
    out.print(table)
