"""``parkmon maps …`` and ``parkmon site build``: offline maps and the site."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.common import err, out, settings_of
from monitor.lazy import LazyModule

if TYPE_CHECKING:
    import maps.page as map_page
    from maps import region, site
    from monitor import db, publish, views
else:
    db = LazyModule("monitor.db")
    map_page = LazyModule("maps.page")
    publish = LazyModule("monitor.publish")
    region = LazyModule("maps.region")
    site = LazyModule("maps.site")
    views = LazyModule("monitor.views")

maps_app = typer.Typer(
    help="Maps that draw offline (districts are the base map).", no_args_is_help=True
)

site_app = typer.Typer(help="The site: maps, report and an index page.", no_args_is_help=True)

TilesOption = Annotated[
    str,
    typer.Option(
        "--tiles",
        help="Tile layer: none (default, works offline), osm, gaode (GCJ-02; data are "
        "converted when drawn) or tianditu (key: the tianditu_key setting, "
        "PARKMON_TIANDITU_KEY).",
    ),
]


@maps_app.command("region")
def maps_region(
    ctx: typer.Context,
    out_path: Annotated[Path | None, typer.Option("--out", help="HTML file to write.")] = None,
    tiles: TilesOption = "none",
    highlight: Annotated[list[str] | None, typer.Option(help="Carrier ids to highlight.")] = None,
) -> None:
    """The regional map: carriers by stars and kind, the belt, a year control."""
    settings = settings_of(ctx)
    choice = map_page.tile_choice(tiles, settings.tianditu_key or None)
    engine = db.open_read_only(settings.database_url)
    try:
        data = views.map_data(engine, settings.config_dir, settings.lang, highlight or ())
    finally:
        engine.dispose()
    path = site.write(
        out_path or settings.output_dir / "region.html",
        region.render_region_map(data, choice, settings.lang),
    )
    err.print(f"{len(data.parks)} carriers, years {data.years}")
    out.print(str(path))


@maps_app.command("progress")
def maps_progress(
    ctx: typer.Context,
    out_path: Annotated[Path | None, typer.Option("--out", help="HTML file to write.")] = None,
    tiles: TilesOption = "none",
) -> None:
    """The progress map: districts by progress toward their share of a goal; the city's goals."""
    settings = settings_of(ctx)
    choice = map_page.tile_choice(tiles, settings.tianditu_key or None)
    engine = db.open_read_only(settings.database_url)
    try:
        page = publish.progress_map_html(engine, settings.config_dir, settings.lang, choice)
    finally:
        engine.dispose()
    out.print(str(site.write(out_path or settings.output_dir / "progress.html", page)))


@maps_app.command("compare")
def maps_compare(
    ctx: typer.Context,
    parks: Annotated[list[str], typer.Argument(help="Carrier ids to compare.")],
    year: Annotated[int, typer.Option(help="The year compared.")] = 2025,
    out_path: Annotated[Path | None, typer.Option("--out", help="HTML file to write.")] = None,
    tiles: TilesOption = "none",
) -> None:
    """The comparison map: the carriers highlighted, with their radar portraits."""
    settings = settings_of(ctx)
    choice = map_page.tile_choice(tiles, settings.tianditu_key or None)
    engine = db.open_read_only(settings.database_url)
    try:
        page = publish.comparison_map_html(
            engine, settings.config_dir, parks, year, settings.lang, choice
        )
    finally:
        engine.dispose()
    out.print(
        str(site.write(out_path or settings.output_dir / f"compare-{'-'.join(parks)}.html", page))
    )


@site_app.command("build")
def site_build(
    ctx: typer.Context,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder (default: site/).")] = None,
    tiles: TilesOption = "none",
) -> None:
    """Write the maps, the latest annual report and an index page."""
    settings = settings_of(ctx)
    choice = map_page.tile_choice(tiles, settings.tianditu_key or None)
    engine = db.open_read_only(settings.database_url)
    try:
        index = publish.build_site(
            engine,
            settings.config_dir,
            out_dir or settings.output_dir,
            lang=settings.lang,
            tiles=choice,
        )
    finally:
        engine.dispose()
    out.print(str(index))
