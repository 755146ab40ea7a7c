"""``parkmon risks YEAR``: which incubators and maker spaces may drop a star or fail the next
evaluation, and what would lower the risk (``monitor.risks``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from monitor.cli.common import OutputFormat, demo_notice, out, reading, settings_of, write_frame
from monitor.errors import ConfigError
from monitor.i18n import stars_text, t

if TYPE_CHECKING:
    from monitor import db, rating, registry, report, risks, store
else:
    from monitor.lazy import LazyModule

    db = LazyModule("monitor.db")
    registry = LazyModule("monitor.registry")
    report = LazyModule("monitor.report")
    rating = LazyModule("monitor.rating")
    risks = LazyModule("monitor.risks")
    store = LazyModule("monitor.store")


def risks_command(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(help="The latest evaluated year, e.g. 2025.")],
    show_all: Annotated[
        bool, typer.Option("--all", help="Every carrier, the low risks too.")
    ] = False,
    district: Annotated[
        str | None, typer.Option(help="One district's carriers (name or adcode).")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="incubator or maker_space.")] = None,
    backtest: Annotated[
        bool,
        typer.Option(
            "--backtest",
            help="Also flag each earlier year and count who lost a star the year after "
            "(precision and recall).",
        ),
    ] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """Early warning: per incubator and maker space the risk of dropping a star or failing the
    next evaluation (margin to its band's edge, stability, missing or late figures), the items
    that fell most, and the two or three figures whose rise would most lower the risk. Carriers
    that failed this year and are at risk again come first."""
    settings = settings_of(ctx)
    lang = settings.lang

    def read(engine: Any) -> tuple[Any, dict[str, str], dict[str, str], bool, Any]:
        runs: dict[int, Any] = {}  # each year rated once for the warning and its back-test
        frame = risks.risk_frame(engine, settings.config_dir, year, runs=runs)
        rows = store.indicator_rows(engine)
        units = {str(r["code"]): str(r["unit"] or "") for r in rows}
        english = {str(r["code"]): str(r["name_en"] or "") for r in rows}
        tested = None
        if backtest:
            years = risks.backtest_years(engine, year)
            tested = risks.backtest(engine, settings.config_dir, years, runs=runs)
        return frame, units, english, db.holds_demo_data(engine), tested

    if kind is not None and kind not in ("incubator", "maker_space"):
        raise ConfigError(f"--kind {kind!r}: expected incubator or maker_space")
    code = None
    if district is not None:
        found = registry.load_city(settings.config_dir).district(district)
        if found is None:
            raise ConfigError(f"--district {district!r}: not a district of the city")
        code = found.adcode
    frame, units, names_en, demo, tested = reading(ctx, read)
    if code is not None:
        frame = frame[frame["district_id"] == code]
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    demo_notice(demo, lang, machine=fmt is not OutputFormat.table)
    if not show_all:
        frame = frame[(frame["level"] != "low") | frame["again"]]
    labels = report.item_labels(rating.load_methodologies(settings.config_dir), lang, names_en)
    shown = frame.assign(
        falling=[risks.falling_text(f, lang, labels) for f in frame["falling"]],
        levers=[risks.levers_text(v, units, lang, labels) for v in frame["levers"]],
    )
    if write_frame(shown.round(4), fmt):
        return
    table = Table(title=t("risk.title", lang, year=year))
    for key in ("id", "name"):
        table.add_column(t(f"col.{key}", lang))
    for key in ("level", "risk", "stars", "score", "expected", "line"):
        table.add_column(t(f"risk.col.{key}", lang))
    for r in shown.to_dict("records"):
        level = t(f"risk.level.{r['level']}", lang)
        if r["again"]:
            level = f"[bold red]{t('risk.again', lang)}[/bold red]"
        table.add_row(
            r["id"],
            r["name"],
            level,
            f"{r['risk']:.0f}",
            stars_text(r["stars"], lang),
            _num(r["score"]),
            _num(r["expected"]),
            _num(r["line"]),
        )
    if not len(shown):
        out.print(t("risk.none", lang))
    else:
        out.print(table)
    # the long texts under the table, one carrier a paragraph (a column would be unreadable)
    for r in shown.to_dict("records"):
        if r["falling"] or r["levers"]:
            out.print(f"[bold]{escape(r['id'])} {escape(r['name'])}[/bold]")
            if r["falling"]:
                out.print(f"  {t('risk.col.falling', lang)}：{escape(r['falling'])}")
            if r["levers"]:
                out.print(f"  {t('risk.col.levers', lang)}：{escape(r['levers'])}")
    if tested is not None:
        out.print(risks.backtest_text(tested, lang, demo))


def _num(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1f}"
