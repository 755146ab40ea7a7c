"""The ``parkmon`` command line (Typer). This package is the only place that prints or exits."""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geo.errors import GeoError
from monitor import __version__
from monitor.cli.brief import brief_command
from monitor.cli.collect import collect_command, rejects_command, runs_command, summary_table
from monitor.cli.common import OutputFormat, err, out, settings_of, write_frame
from monitor.cli.database import db_app
from monitor.cli.geo import geo_app
from monitor.cli.goals import compare_command, goals_command, rankings_command
from monitor.cli.maps import maps_app, site_app
from monitor.cli.publish import publications_command, publish_command
from monitor.cli.quality import quality_command
from monitor.cli.rate import rate_command, report_command
from monitor.cli.risks import risks_command
from monitor.cli.rounds import rounds_app
from monitor.cli.run import run_command, template_app
from monitor.cli.schedule import schedule_app, status_command
from monitor.cli.serve import serve_command
from monitor.cli.users import users_app
from monitor.demo.labels import DEMO_SEED
from monitor.errors import ConfigError, MonitorError, driver_message
from monitor.i18n import label, t
from monitor.lazy import LazyModule
from monitor.settings import SETTINGS, Settings, bundled_config_dir, load_settings

# The command line starts without pandas, SQLAlchemy, folium or geopandas: each command imports
# what it uses when it runs (``parkmon --help`` in a fraction of a second).
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    import monitor.demo as demo_pkg
    from monitor import db, pipeline, registry, safe_io, views
    from monitor.demo import scale
else:
    db = LazyModule("monitor.db")
    demo_pkg = LazyModule("monitor.demo")
    pipeline = LazyModule("monitor.pipeline")
    registry = LazyModule("monitor.registry")
    safe_io = LazyModule("monitor.safe_io")
    scale = LazyModule("monitor.demo.scale")
    views = LazyModule("monitor.views")

SECRET = {s.name for s in SETTINGS if s.secret}

app = typer.Typer(
    name="parkmon",
    help="南通科创载体绩效监测 parkmon — registry, collection, star ratings, goals and maps of a "
    "city's innovation carriers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
parks_app = typer.Typer(help="The registry of carriers (载体登记).", no_args_is_help=True)
config_app = typer.Typer(help="The configuration folder.", no_args_is_help=True)
app.add_typer(parks_app, name="parks")
app.add_typer(config_app, name="config")
app.add_typer(geo_app, name="geo")
app.add_typer(template_app, name="template")
app.command("run")(run_command)
app.add_typer(maps_app, name="maps")
app.add_typer(site_app, name="site")
app.add_typer(schedule_app, name="schedule")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(rounds_app, name="rounds")
app.command("publish")(publish_command)
app.command("publications")(publications_command)
app.command("quality")(quality_command)
app.command("risks")(risks_command)
app.command("brief")(brief_command)
app.command("status")(status_command)
app.command("collect")(collect_command)
app.command("rate")(rate_command)
app.command("goals")(goals_command)
app.command("rankings")(rankings_command)
app.command("compare")(compare_command)
app.command("report")(report_command)
app.command("runs")(runs_command)
app.command("rejects")(rejects_command)
app.command("serve")(serve_command)


@app.callback()
def _root(
    ctx: typer.Context,
    database: Annotated[
        str | None,
        typer.Option("--db", help="Database URL or SQLite file path [env PARKMON_DATABASE_URL]."),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config", help="Config folder (default: the bundled config/) [env PARKMON_CONFIG]."
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language of labels: zh (default) or en [env PARKMON_LANG]."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what happens.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = load_settings({"database_url": database, "config_dir": config, "lang": lang})


@app.command()
def version() -> None:
    """Print the version."""
    out.print(f"parkmon {__version__}")


@app.command()
def init(ctx: typer.Context) -> None:
    """Create or upgrade the database schema and load the city, registry and indicators."""
    settings = settings_of(ctx)
    engine = db.make_engine(settings.database_url)
    try:
        summary = pipeline.initialise(engine, settings.config_dir)
    finally:
        engine.dispose()
    lang = settings.lang
    for change in summary.schema_changes:
        err.print(f"  {change}")
    out.print(t("msg.init_done", lang, db=db.describe(engine)))
    out.print(
        f"  {t('summary.regions', lang)}: {summary.regions}   "
        f"{t('summary.parks', lang)}: {summary.parks}   "
        f"{t('summary.indicators', lang)}: {summary.indicators}"
    )
    if summary.not_in_registry:
        err.print(
            "[yellow]in the database but no longer in parks.csv (kept): "
            f"{', '.join(summary.not_in_registry)}[/yellow]"
        )


def _parks_engine(settings: Settings) -> Engine | None:
    """The database read-only, or None when there is none yet (then the registry is listed)."""
    probe = db.make_engine(settings.database_url, create_dir=False)
    exists = db.database_exists(probe)
    probe.dispose()
    return db.open_read_only(settings.database_url) if exists else None


@parks_app.command("list")
def parks_list(
    ctx: typer.Context,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind", help="Only this kind (repeatable): incubator, maker_space, high_tech_zone, …"
        ),
    ] = None,
    district: Annotated[
        list[str] | None,
        typer.Option("--district", help="Only this district, by name or adcode (repeatable)."),
    ] = None,
    belt_role: Annotated[
        list[str] | None,
        typer.Option(
            "--belt-role", help="Only this belt role: core, zone, park, none (repeatable)."
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Include generated demo carriers.")
    ] = True,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = (
        OutputFormat.table
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """List carriers, filtered by kind, district and belt role."""
    settings = settings_of(ctx)
    lang = settings.lang
    engine = _parks_engine(settings)
    try:
        frame = views.carriers(
            engine,
            settings.config_dir,
            lang=lang,
            kinds=kind or (),
            districts=district or (),
            belt_roles=belt_role or (),
            include_demo=demo,
        )
    finally:
        if engine is not None:
            engine.dispose()
    if engine is None:
        path = settings.config_dir / "parks.csv"
        err.print(f"[yellow]{t('msg.listing_from_config', lang, path=path)}[/yellow]")
    if write_frame(frame, OutputFormat.json if as_json else fmt):
        return
    records = frame.to_dict("records")
    if not records:
        out.print(t("msg.no_parks", lang))
        return
    table = Table(show_lines=False)
    for key in ("id", "name", "kind", "level", "district", "belt_role", "location_quality"):
        table.add_column(t(f"col.{key}", lang))
    for r in records:
        name = r["name"] if lang == "zh" or not r["name_en"] else r["name_en"]
        table.add_row(
            r["id"],
            name,
            label("kind", r["kind"], lang),
            label("level", r["level"], lang),
            r["district"],
            label("belt_role", r["belt_role"], lang),
            label("location_quality", r["location_quality"], lang),
        )
    out.print(table)
    out.print(f"{t('col.total', lang)}: {len(records)}")


@app.command()
def demo(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo database.")] = Path(
        "parkmon-demo"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the generator (same seed, same data).")] = (
        DEMO_SEED
    ),
    carriers: Annotated[
        int | None,
        typer.Option(
            "--carriers",
            min=10,
            help="Instead of Nantong's demo, a synthetic province of N carriers with ten years "
            "of annual report files and its own config folder (to measure parkmon at scale).",
        ),
    ] = None,
    years: Annotated[
        int,
        typer.Option(
            "--years", min=1, max=30, help="With --carriers: years of figures, up to 2025."
        ),
    ] = 10,
) -> None:
    """Build a fresh demo database from the registry and generated demo data, and summarise it.

    The demo builds its own SQLite file in --out (replacing an earlier demo there). Given --db
    (e.g. a PostgreSQL server), it builds there instead — only in an empty database or an
    earlier demo, never in one holding real data. The site is written to --out either way.
    """
    settings = settings_of(ctx)
    lang = settings.lang
    named = settings.origin.get("database_url") == "cli"
    if named and carriers is not None:
        raise ConfigError(
            "`parkmon demo --carriers` does not use --db: it builds a fresh SQLite file in --out "
            f"({out_dir / 'parkmon.db'}) beside its own config folder; drop --db"
        )
    if not named and settings.origin.get("database_url") not in (None, "default"):
        err.print(
            f"[yellow]parkmon demo ignores database_url (from "
            f"{escape(settings.origin['database_url'])}): it builds {out_dir / 'parkmon.db'}; "
            "name a database with --db to build there[/yellow]"
        )
    if carriers is not None:
        _scale_demo(out_dir, carriers, seed, lang, years)
        return
    with err.status("parkmon demo …") as status:
        summary = demo_pkg.build_demo(
            out_dir.resolve(),
            settings.config_dir,
            seed,
            on_step=lambda s: status.update(f"parkmon demo: {s} …"),
            database_url=settings.database_url if named else None,
        )
    city = registry.load_city(settings.config_dir)
    out.print(f"[bold yellow]{t('msg.demo_banner', lang)}[/bold yellow]")
    out.print(t("msg.demo_done", lang, db=summary.database))
    parks = summary.parks
    kinds = sorted(parks["kind"].unique())
    table = Table(title=t("summary.parks", lang))
    table.add_column(t("col.district", lang))
    for k in kinds:
        table.add_column(label("kind", k, lang), justify="right")
    table.add_column(t("col.total", lang), justify="right")
    counts = parks.groupby(["district_id", "kind"]).size()
    for d in city.districts:
        row = [int(counts.get((d.adcode, k), 0)) for k in kinds]
        table.add_row(d.name if lang == "zh" else d.name_en, *map(str, row), str(sum(row)))
    totals = [int(parks["kind"].eq(k).sum()) for k in kinds]
    table.add_row(t("col.total", lang), *map(str, totals), str(sum(totals)))
    out.print(table)
    if summary.runs:
        out.print(summary_table(summary.runs, lang))
    span = summary.years
    rejected = sum(r.rejected for r in summary.runs)
    out.print(
        f"{t('summary.observations', lang)}: {summary.observations}   "
        f"{t('summary.recognitions', lang)}: {summary.recognitions}   "
        f"{t('summary.years', lang)}: {span[0]}–{span[-1]}   "
        f"{t('collect.rejected', lang)}: {rejected}"
    )
    again = shlex.quote(str(summary.database))
    out.print(f"parkmon --db {again} rejects")
    if summary.site is not None:
        out.print(f"[bold]{t('msg.open_site', lang)}[/bold] {summary.site}")
    out.print(f"parkmon --db {again} parks list --kind incubator")


def _scale_demo(out_dir: Path, carriers: int, seed: int, lang: str, years: int) -> None:
    with err.status("parkmon demo …") as status:
        built = scale.build_scale_demo(
            out_dir.resolve(),
            carriers,
            seed,
            years=years,
            on_step=lambda s: status.update(f"parkmon demo: {s} …"),
        )
    out.print(f"[bold yellow]{t('msg.demo_banner', lang)}[/bold yellow]")
    out.print(
        t(
            "msg.scale_demo_done",
            lang,
            carriers=f"{built.carriers:,}",
            districts=built.districts,
            observations=f"{built.observations:,}",
            first=built.years[0],
            last=built.years[-1],
        )
    )
    here = f"parkmon --config {built.config_dir} --db {built.database}"
    for command in (f"rate {built.years[-1]}", "site build", "collect --all"):
        out.print(f"{here} {command}")


@app.command("demo-samples", hidden=True)
def demo_samples(
    ctx: typer.Context,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder to write (default: the config folder's samples/)."),
    ] = None,
) -> None:
    """Regenerate the demo's sample source files from the demo generator (for developers)."""
    settings = settings_of(ctx)
    target = out_dir or settings.config_dir / "samples"
    for path in demo_pkg.write_demo_samples(settings.config_dir, target):
        out.print(str(path))


@config_app.command("copy")
def config_copy(
    ctx: typer.Context,
    destination: Annotated[Path, typer.Argument(help="New folder to hold an editable copy.")],
) -> None:
    """Copy the bundled config/ to a folder of your own, to edit and use with --config."""
    if destination.exists():
        raise ConfigError(f"{destination} already exists; choose a new folder")
    shutil.copytree(
        bundled_config_dir(),
        destination,
        ignore=shutil.ignore_patterns("__pycache__", "__init__.py"),
    )
    out.print(t("msg.config_copied", settings_of(ctx).lang, path=destination))


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Show the settings in force and where each came from."""
    settings = settings_of(ctx)
    for key in ("config_dir", *(s.name for s in SETTINGS)):
        value = getattr(settings, key)
        if key == "database_url":
            value = db.make_engine(value, create_dir=False).url.render_as_string(hide_password=True)
        if key in SECRET and value:
            value = "***"  # set, and not shown
        out.print(f"{key} = {value}   [dim]({settings.origin.get(key, '?')})[/dim]")


def _environment_error(exc: BaseException) -> str | None:
    """One line for what the machine refused (read-only database, full disk), or None."""
    if "sqlalchemy" in sys.modules and isinstance(exc, _operational_error()):
        message = driver_message(exc)
        if message == "the database is read-only":
            return db.read_only_message()
        if message == "the disk is full" or "disk i/o error" in message.lower():
            return "the disk is full (or failed) while writing the database; nothing was changed"
        return f"database error: {message}"
    if isinstance(exc, OSError) and safe_io.disk_full(exc):
        return f"the disk is full: {exc.strerror} ({exc.filename or ''}); nothing was changed"
    return None


def _operational_error() -> type[Exception]:
    from sqlalchemy.exc import OperationalError  # noqa: PLC0415 (only once SQLAlchemy is in use)

    return OperationalError


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: one clear line and a non-zero exit for any parkmon error.
    ``argv`` (default: the process's arguments) lets tests run the real entry point in-process."""
    try:
        app(args=argv)
    except (MonitorError, GeoError) as exc:
        err.print(f"[red]错误 error:[/red] {escape(str(exc))}")
        sys.exit(1)
    except Exception as exc:  # a refused write or a full disk, else re-raised as it is
        message = _environment_error(exc)
        if message is None:
            raise
        err.print(f"[red]错误 error:[/red] {escape(message)}")
        sys.exit(1)
