"""The progress map: districts coloured by progress toward their share of a split goal, with a
panel of the city's goals and their status. Same page and safety rules as the regional map."""

from __future__ import annotations

from typing import Any

from shapely.geometry.base import BaseGeometry

from maps.page import TileChoice, add_script, client_js, new_page, render, safe_json
from maps.region import _rounded, to_display


def render_progress_map(
    districts: list[tuple[str, str, BaseGeometry]],
    district_progress: dict[str, dict[str, Any]],
    goals: list[dict[str, Any]],
    *,
    title: str,
    goal_name: str,
    labels: dict[str, str],
    demo: bool,
    tiles: TileChoice,
    lang: str = "zh",
) -> str:
    """``district_progress``: adcode → {status, status_label, latest, target, share}; ``goals``:
    [{name, status, status_label, latest, target, numbers}]."""
    crs = tiles.crs if tiles.name else "wgs84"
    features = [
        {
            "type": "Feature",
            "properties": {"adcode": code, "name": name, **district_progress.get(code, {})},
            "geometry": _rounded(to_display(geom, crs)),
        }
        for code, name, geom in districts
    ]
    data = {
        "districts": {"type": "FeatureCollection", "features": features},
        "goals": goals,
        "title": title,
        "goal": goal_name,
        "labels": labels,
        "demo": demo,
    }
    center = (32.2, 120.95)
    m = new_page(center=center, zoom=9, title=title, lang=lang, tiles=tiles)
    add_script(m, f"var DATA = {safe_json(data)};\n" + client_js("progress"))
    return render(m)
