"""``parkmon rate`` and ``parkmon report``: the annual star rating and its report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from monitor.cli.common import demo_notice, err, out, settings_of
from monitor.errors import ConfigError
from monitor.i18n import STAR, stars_text, t
from monitor.lazy import LazyModule

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    import monitor.rating.explain as explaining
    from monitor import db, evaluation, registry, report, risks, safe_io, store, views
    from monitor.rating import RatingRun
else:
    db = LazyModule("monitor.db")
    evaluation = LazyModule("monitor.evaluation")
    explaining = LazyModule("monitor.rating.explain")
    registry = LazyModule("monitor.registry")
    report = LazyModule("monitor.report")
    risks = LazyModule("monitor.risks")
    safe_io = LazyModule("monitor.safe_io")
    store = LazyModule("monitor.store")
    views = LazyModule("monitor.views")


def _units(engine: Engine) -> dict[str, str]:
    return {r["code"]: r["unit"] for r in store.indicator_rows(engine)}


def rate_command(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(help="The year to rate, e.g. 2025.")],
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Only methodologies for this kind (incubator, maker_space, high_tech_zone, "
            "district…).",
        ),
    ] = None,
    explain_park: Annotated[
        str | None,
        typer.Option(
            "--explain",
            help="Print one carrier's breakdown and what would lift it a star.",
        ),
    ] = None,
) -> None:
    """Rate every carrier of YEAR and store the results (with the methodology's hash)."""
    settings = settings_of(ctx)
    lang = settings.lang
    engine = db.open_existing(settings.database_url)
    try:
        runs = evaluation.rate_year(engine, settings.config_dir, year, kind)
        units = _units(engine)
        demo = db.holds_demo_data(engine)
    finally:
        engine.dispose()
    demo_notice(demo, lang)
    if not runs:
        raise ConfigError(
            f"nothing to rate for {year}: no observations of the methodologies' "
            "indicators in that year (collect data first)"
        )
    table = Table(title=f"{year} {t('report.title', lang)}")
    table.add_column(t("report.method", lang))
    table.add_column(t("report.subjects", lang), justify="right")
    for k in range(5, 0, -1):
        table.add_column(STAR * k, justify="right")
    table.add_column(t("rating.vetoed", lang), justify="right")
    table.add_column(t("rating.incomplete", lang), justify="right")
    for run in runs:
        tb = run.result.table
        stars = tb["stars"]
        table.add_row(
            f"{run.methodology.title_zh if lang == 'zh' else run.methodology.title_en}\n"
            f"[dim]{run.methodology.name} {run.methodology.version} "
            f"{run.methodology.content_hash[:12]}[/dim]",
            str(len(tb)),
            *(str(int((stars == k).sum())) for k in range(5, 0, -1)),
            str(int((tb["status"] == "vetoed").sum())),
            str(int((tb["status"] == "incomplete").sum())),
        )
    out.print(table)
    if explain_park:
        found = [r for r in runs if explain_park in r.result.table.index]
        if not found:
            raise ConfigError(
                f"--explain {explain_park!r}: not rated in {year}; ids look like "
                "DEMO-I001 or NT-Z01 (see `parkmon parks list`)"
            )
        for run in found:
            _print_explanation(run, explain_park, units, lang)


def _print_explanation(run: RatingRun, subject: str, units: dict[str, str], lang: str) -> None:
    ex = explaining.explain(run.result, subject, run.values, units, verify=True)
    name = run.names.get(subject, subject)
    out.print(f"\n[bold]{name}[/bold] ({subject}) — {run.methodology.title_zh}")
    stars = stars_text(ex.stars, lang)
    out.print(
        f"{t('report.score', lang)} {ex.score:.1f}  {t('report.stars', lang)} {stars}  "
        f"{t('report.status', lang)} {t('rating.' + ex.status, lang)}"
    )
    gaps = Table(title=t("explain.lost", lang))
    for c in (
        "explain.item",
        "explain.value",
        "explain.points",
        "explain.lost_col",
    ):
        gaps.add_column(t(c, lang))
    for g in ex.gaps:
        gaps.add_row(
            g.name_zh,
            "—" if g.value is None else f"{g.value:,.3g}",
            "—" if g.points is None else f"{g.points:.1f} / {g.max_points:g}",
            f"{g.lost:.1f}",
        )
    out.print(gaps)
    if ex.target_stars is None:
        out.print(t("explain.top", lang))
        return
    need = "—" if ex.target_score is None else f"{ex.target_score:.1f}"
    out.print(t("explain.next", lang, stars=STAR * ex.target_stars, score=need))
    ways = Table()
    for c in (
        "explain.item",
        "explain.indicator",
        "explain.now",
        "explain.needed",
    ):
        ways.add_column(t(c, lang))
    for o in ex.options:
        ways.add_row(
            o.name_zh,
            o.indicator,
            "—" if o.current is None else f"{o.current:,.6g}",
            f"[green]{o.needed:,.6g}[/green]" if o.reachable else f"[dim]{o.note}[/dim]",
        )
    out.print(ways)


def report_command(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(help="The year of the report.")],
    fmt: Annotated[str, typer.Option("--format", help="html or xlsx.")] = "html",
    out_path: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
) -> None:
    """Write the annual rating report: a self-contained HTML page or an Excel workbook."""
    settings = settings_of(ctx)
    if fmt not in ("html", "xlsx"):
        raise ConfigError(f"--format {fmt!r}: expected html or xlsx")
    engine = db.open_read_only(settings.database_url)
    try:
        runs = views.stored_rating_runs(engine, settings.config_dir, year)
        demo = db.holds_demo_data(engine)
        units = _units(engine)
        english = views.indicator_names_en(engine)
        warning = risks.risk_frame(engine, settings.config_dir, year) if fmt == "xlsx" else None
    finally:
        engine.dispose()
    if not runs:
        raise ConfigError(f"nothing to report for {year}: no rated carriers")
    city = registry.load_city(settings.config_dir)
    districts = {d.adcode: d.name if settings.lang == "zh" else d.name_en for d in city.districts}
    path = out_path or settings.output_dir / f"report-{year}.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        safe_io.write_text(
            path,
            report.render_html(
                runs, year, districts=districts, demo=demo, lang=settings.lang, names_en=english
            ),
        )
    else:
        report.write_xlsx(
            path,
            runs,
            year,
            districts=districts,
            demo=demo,
            units=units,
            lang=settings.lang,
            names_en=english,
            risks=warning,
        )
    err.print(t("report.written", settings.lang, path=path))
    out.print(str(path))
