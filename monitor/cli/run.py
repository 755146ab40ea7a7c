"""``parkmon run`` (the daily cycle) and ``parkmon template`` (a workbook for park offices)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.collect import summary_table
from monitor.cli.common import err, out, settings_of
from monitor.errors import ConfigError
from monitor.lazy import LazyModule

if TYPE_CHECKING:
    from monitor import db, indicators, models, pipeline, registry, store, template
else:
    db = LazyModule("monitor.db")
    indicators = LazyModule("monitor.indicators")
    models = LazyModule("monitor.models")
    pipeline = LazyModule("monitor.pipeline")
    registry = LazyModule("monitor.registry")
    store = LazyModule("monitor.store")
    template = LazyModule("monitor.template")


template_app = typer.Typer(help="Templates for park offices.", no_args_is_help=True)


def run_command(
    ctx: typer.Context,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Read every source again and rebuild even if nothing changed."
        ),
    ] = False,
) -> None:
    """The daily cycle on your config and database: collect, re-rate what changed, rebuild."""
    settings = settings_of(ctx)
    engine = db.make_engine(settings.database_url)
    try:
        with err.status("parkmon run …") as status:
            cycle = pipeline.run_cycle(
                engine,
                settings,
                force=force,
                on_step=lambda s: status.update(f"parkmon run: {s} …"),
            )
    finally:
        engine.dispose()
    if cycle.runs:
        out.print(summary_table(cycle.runs, settings.lang))
    else:
        out.print("no sources in sources.toml: nothing to collect")
    if cycle.site:
        out.print(f"re-rated {cycle.rated_years or 'all rated years'}; site: {cycle.site}")
    else:
        out.print("nothing changed: no re-rating, site unchanged")
    out.print(f"{cycle.seconds:.1f} s")
    if any(r.status.value == "failed" for r in cycle.runs):
        raise typer.Exit(1)


@template_app.command("xlsx")
def template_xlsx(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Option(
            help="incubator or maker_space (or another kind), or region: the city and district "
            "statistics."
        ),
    ] = "incubator",
    year: Annotated[int | None, typer.Option(help="The reporting year.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", help="Workbook to write.")] = None,
) -> None:
    """Write the annual-report workbook a park office fills in, and print its sources.toml entry."""
    settings = settings_of(ctx)
    if kind not in {k.value for k in models.ParkKind} | {"region"}:
        raise ConfigError(
            f"--kind {kind!r}: expected region or one of "
            + ", ".join(k.value for k in models.ParkKind)
        )
    year = year or datetime.now(UTC).year - 1
    carriers: list[str] = []
    engine = db.make_engine(settings.database_url, create_dir=False)
    try:
        if kind == "region":
            city = registry.load_city(settings.config_dir)
            carriers = [city.name, *(d.name for d in city.districts)]
        elif db.database_exists(engine) and db.schema_exists(engine):
            parks = store.park_table(engine, columns=["name"], kinds=[kind], include_demo=False)
            carriers = parks["name"].tolist()
    finally:
        engine.dispose()
    path = out_path or Path(f"{kind}-{year}-年报模板.xlsx")
    entry = template.write_template(
        path, indicators.load_indicators(settings.config_dir), kind, carriers, year
    )
    err.print(f"template: {path}; add this to sources.toml to collect the filled-in files:")
    sys.stdout.write(entry)
