"""``parkmon brief YEAR``: the meeting brief as printable HTML, and as PDF where WeasyPrint and
a CJK font are installed (``monitor.brief``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.common import err, out, reading, settings_of
from monitor.errors import ConfigError
from monitor.i18n import t

if TYPE_CHECKING:
    from monitor import brief, safe_io
else:
    from monitor.lazy import LazyModule

    brief = LazyModule("monitor.brief")
    safe_io = LazyModule("monitor.safe_io")


def brief_command(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(help="The year of the brief, e.g. 2025.")],
    out_path: Annotated[
        Path | None, typer.Option("--out", help="HTML file to write [output folder].")
    ] = None,
    district: Annotated[
        str | None,
        typer.Option(help="A district's brief (name or adcode): its goals, carriers and map."),
    ] = None,
    backtest: Annotated[
        bool,
        typer.Option(
            "--backtest/--no-backtest",
            help="Include the early warning's back-test (rates every earlier year again).",
        ),
    ] = True,
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf",
            help="Also write the PDF beside it (needs WeasyPrint, Pango and a CJK font such as "
            "Debian's fonts-wqy-zenhei).",
        ),
    ] = False,
) -> None:
    """The meeting brief: headline goals with trend and projection, the year's stars and
    changes, the early warning, rankings, data quality and the map, on A4 pages."""
    settings = settings_of(ctx)
    lang = settings.lang
    if pdf and (why := brief.pdf_unavailable()) is not None:
        raise ConfigError(f"--pdf: {why}")
    gathered = reading(
        ctx,
        lambda e: brief.gather(
            e, settings.config_dir, year, lang, district=district, backtest=backtest
        ),
    )
    page = brief.render_html(gathered, lang)
    path = out_path or settings.output_dir / f"brief-{year}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_io.write_text(path, page)
    err.print(t("brief.written", lang, path=path))
    out.print(str(path))
    if pdf:
        written = brief.write_pdf(page, path.with_suffix(".pdf"))
        err.print(t("brief.written", lang, path=written))
        out.print(str(written))
