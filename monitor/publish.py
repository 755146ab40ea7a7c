"""Publishing: the maps and the static site (index, maps, the latest report), written from what
the read side (``monitor.views``) returns. Nothing here queries tables or scores anything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
from sqlalchemy.engine import Engine

from maps import site
from maps.page import TileChoice, tile_choice
from maps.progress import render_progress_map
from maps.region import render_region_map
from monitor import db, goals, store, views
from monitor.compare import radar_svg
from monitor.i18n import t
from monitor.rating import load_methodologies
from monitor.registry import load_city
from monitor.safe_io import atomic_path, write_text
from monitor.views import compare_parks, goal_progress, map_data

log = logging.getLogger(__name__)

__all__ = ["build_site", "comparison_map_html", "export_layers", "progress_map_html"]


def progress_map_html(engine: Engine, config_dir: Path, lang: str, tiles: TileChoice) -> str:
    """Districts coloured by progress toward their share of the first split goal."""
    city = load_city(config_dir)
    specs = goals.load_goals(config_dir)
    city_progress = goal_progress(engine, config_dir)
    split = next((g for g in specs if g.splits), None)
    per_district: dict[str, dict[str, Any]] = {}
    if split is not None:
        for d in city.districts:
            for p in goal_progress(engine, config_dir, district=d.adcode):
                if p.goal == split.id:
                    per_district[d.adcode] = {
                        "status": p.status,
                        "status_label": p.status_zh if lang == "zh" else p.status,
                        "latest": p.latest_text(lang),
                        "target": goals.reported_number(p.target),
                    }
    regions = store.regions_frame(engine, levels=["district"])
    labels = {
        s: (goals.STATUS_ZH[s] if lang == "zh" else s.replace("_", " ")) for s in goals.STATUS_ZH
    }
    labels["no_data"] = labels[goals.NO_DATA]
    labels["demo"] = t("msg.demo_banner", lang)
    items = [
        {
            "name": p.name_zh,
            "status": p.status,
            "status_label": p.status_zh if lang == "zh" else p.status,
            "latest": p.latest_text(lang),
        }
        for p in city_progress
    ]
    return render_progress_map(
        [
            (str(r["id"]), str(r["name"]), r["geometry"])
            for r in regions.to_dict("records")
            if r["geometry"] is not None
        ],
        per_district,
        items,
        title=t("map.progress_title", lang, city=city.name if lang == "zh" else city.name_en),
        goal_name=(split.name_zh if split else "")
        + (
            ("（示例分解，非规划数据）" if lang == "zh" else " (illustrative split)")
            if split is not None and split.split_illustrative
            else ""
        ),
        labels=labels,
        demo=db.holds_demo_data(engine),
        tiles=tiles,
        lang=lang,
    )


def build_site(
    engine: Engine,
    config_dir: Path,
    out_dir: Path,
    *,
    lang: str = "zh",
    tiles: TileChoice | None = None,
) -> Path:
    """Write the maps, the latest annual report and an index page; returns the index."""
    from monitor.report import render_html  # noqa: PLC0415 (report imports pipeline)

    tiles = tiles or tile_choice(None)
    city = load_city(config_dir)
    demo_flag = db.holds_demo_data(engine)
    pages: list[tuple[str, str, str]] = []
    site.write(
        out_dir / "region.html", render_region_map(map_data(engine, config_dir, lang), tiles, lang)
    )
    pages.append(
        (
            "region.html",
            t("map.region_title", lang, city=city.name if lang == "zh" else city.name_en),
            t("site.region_desc", lang),
        )
    )
    site.write(out_dir / "progress.html", progress_map_html(engine, config_dir, lang, tiles))
    pages.append(
        (
            "progress.html",
            t("map.progress_title", lang, city=city.name if lang == "zh" else city.name_en),
            t("site.progress_desc", lang),
        )
    )
    current = {m.content_hash for m in load_methodologies(config_dir)}
    ratings = store.ratings_frame(engine)
    ratings = ratings[ratings["methodology_hash"].isin(current)] if len(ratings) else ratings
    if len(ratings):  # the report of the latest year rated under today's methodologies
        year = int(ratings["year"].max())
        runs = views.stored_rating_runs(engine, config_dir, year)
        districts = {d.adcode: d.name if lang == "zh" else d.name_en for d in city.districts}
        english = views.indicator_names_en(engine)
        site.write(
            out_dir / f"report-{year}.html",
            render_html(
                runs, year, districts=districts, demo=demo_flag, lang=lang, names_en=english
            ),
        )
        pages.append(
            (
                f"report-{year}.html",
                f"{year} {t('report.title', lang)}",
                t("site.report_desc", lang),
            )
        )
    index = site.write(
        out_dir / "index.html",
        site.render_index(
            t("map.site_title", lang, city=city.name if lang == "zh" else city.name_en),
            pages,
            demo=demo_flag,
            demo_label=t("msg.demo_banner", lang),
            note=t("site.note", lang),
            lang=lang,
        ),
    )
    return index


def comparison_map_html(
    engine: Engine,
    config_dir: Path,
    subjects: Sequence[str],
    year: int,
    lang: str,
    tiles: TileChoice,
    against: str = "peers",
) -> str:
    """The regional map with the compared carriers highlighted and their radar portraits."""
    comparison = compare_parks(engine, subjects, year, against)
    data = map_data(engine, config_dir, lang, highlight=subjects)
    data.extra["portrait"] = radar_svg(comparison, size=300, lang=lang)
    data.extra["portrait_title"] = (
        "创新画像（同类百分位）" if lang == "zh" else "Portrait (percentile among peers)"
    )
    return render_region_map(data, tiles, lang)


def export_layers(parks: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, path: Path, fmt: str) -> Path:
    """Write the carriers (GeoJSON), or carriers and regions as two layers (GeoPackage), whole
    or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "geojson":
        write_text(path, parks.to_json(ensure_ascii=False, drop_id=True))
        return path
    with atomic_path(path) as temp:
        temp.unlink(missing_ok=True)
        parks.to_file(temp, layer="parks", driver="GPKG")
        regions.to_file(temp, layer="regions", driver="GPKG")
    return path
