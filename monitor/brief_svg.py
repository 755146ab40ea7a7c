"""The meeting brief's pictures as inline SVG: a goal's trend with its projection band, and the
region map (districts and carriers). No script, no network, nothing a PDF renderer cannot draw;
every text from outside escaped."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

STAR_COLOURS = {5: "#7a0019", 4: "#c8102e", 3: "#e8743b", 2: "#f2b134", 1: "#b9b9b9", 0: "#555"}


def trend_svg(
    values: Sequence[tuple[int, float]],
    path: Sequence[tuple[int, float, float, float]],
    target: float | None,
    target_year: int,
    *,
    label: str = "",
    width: int = 300,
    height: int = 110,
) -> str:
    """The observed values (line), the projection from the latest year with its 10th–90th
    percentile band (dashed, shaded), and the target at its deadline (a mark)."""
    points = [(y, v) for y, v in values if v is not None and math.isfinite(v)]
    if not points:
        return ""
    years = [y for y, _ in points] + [p[0] for p in path] + [target_year]
    numbers = [v for _, v in points] + [x for p in path for x in p[1:]]
    if target is not None:
        numbers.append(target)
    x0, x1 = min(years), max(years)
    y0, y1 = min(numbers), max(numbers)
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    pad_l, pad_r, pad_t, pad_b = 40, 14, 8, 18

    def sx(year: float) -> float:
        return pad_l + (year - x0) / max(x1 - x0, 1) * (width - pad_l - pad_r)

    def sy(value: float) -> float:
        return pad_t + (y1 - value) / (y1 - y0) * (height - pad_t - pad_b)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(label)}" class="trend">'
    ]
    if path:
        last_year, last_value = points[-1]
        upper = [(last_year, last_value)] + [(p[0], p[3]) for p in path]
        lower = [(p[0], p[2]) for p in reversed(path)]
        parts.append(
            f'<polygon points="{_pts(upper + lower, sx, sy)}" fill="#c8102e" '
            'fill-opacity="0.12" stroke="none"></polygon>'
        )
        middle = [(last_year, last_value)] + [(p[0], p[1]) for p in path]
        parts.append(
            f'<polyline points="{_pts(middle, sx, sy)}" fill="none" stroke="#c8102e" '
            'stroke-width="1.5" stroke-dasharray="4 3"></polyline>'
        )
    parts.append(
        f'<polyline points="{_pts(points, sx, sy)}" fill="none" stroke="#1f4e79" '
        'stroke-width="2"></polyline>'
    )
    for y, v in points:
        parts.append(f'<circle cx="{sx(y):.1f}" cy="{sy(v):.1f}" r="2.2" fill="#1f4e79"></circle>')
    if target is not None:
        tx, ty = sx(target_year), sy(target)
        parts.append(
            f'<path d="M{tx - 5:.1f},{ty:.1f} L{tx:.1f},{ty - 5:.1f} L{tx + 5:.1f},{ty:.1f} '
            f'L{tx:.1f},{ty + 5:.1f} Z" fill="#2e7d32"></path>'
        )
    for year in sorted({x0, x1, points[-1][0]}):
        parts.append(
            f'<text x="{sx(year):.1f}" y="{height - 4}" font-size="9" '
            f'text-anchor="middle">{year}</text>'
        )
    for value in (y0, y1):
        parts.append(
            f'<text x="{pad_l - 3}" y="{sy(value) + 3:.1f}" font-size="9" '
            f'text-anchor="end">{_short(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _pts(points: Iterable[tuple[float, float]], sx: Any, sy: Any) -> str:
    return " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)


def _short(value: float) -> str:
    """An axis label in at most six characters: 1.8万, 3,710, 2.55."""
    if abs(value) >= 10000:
        return f"{value / 10000:.1f}万"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def map_svg(
    regions: Sequence[tuple[str, Any]],
    carriers: Sequence[tuple[float, float, float | None]],
    *,
    width: int = 640,
    label: str = "",
) -> str:
    """Districts (name, shapely geometry in WGS-84) as outlines with their names, carriers
    (lon, lat, stars) as dots coloured by their stars. An equirectangular view scaled by the
    cosine of the middle latitude: true to shape at a city's size."""
    shapes = [(name, geom) for name, geom in regions if geom is not None and not geom.is_empty]
    if not shapes:
        return ""
    bounds = [g.bounds for _, g in shapes]
    lon0, lat0 = min(b[0] for b in bounds), min(b[1] for b in bounds)
    lon1, lat1 = max(b[2] for b in bounds), max(b[3] for b in bounds)
    squeeze = math.cos(math.radians((lat0 + lat1) / 2))
    scale = (width - 20) / max((lon1 - lon0) * squeeze, 1e-9)
    height = int((lat1 - lat0) * scale) + 20

    def xy(lon: float, lat: float) -> str:
        return f"{10 + (lon - lon0) * squeeze * scale:.1f},{10 + (lat1 - lat) * scale:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(label)}" '
        'class="map">'
    ]
    for _name, geom in shapes:
        simple = geom.simplify((lon1 - lon0) / 400)
        polygons = getattr(simple, "geoms", [simple])
        for polygon in polygons:
            ring = getattr(polygon, "exterior", None)
            if ring is None:
                continue
            d = "M" + " L".join(xy(x, y) for x, y in ring.coords) + " Z"
            parts.append(f'<path d="{d}" fill="#f6f4ef" stroke="#888" stroke-width="0.8"></path>')
    for lon, lat, stars in carriers:
        if not (math.isfinite(lon) and math.isfinite(lat)):
            continue
        colour = STAR_COLOURS.get(int(stars), "#999") if stars is not None else "#999"
        x, y = xy(lon, lat).split(",")
        parts.append(f'<circle cx="{x}" cy="{y}" r="2.6" fill="{colour}" opacity="0.85"></circle>')
    for name, geom in shapes:
        point = geom.representative_point()
        x, y = xy(point.x, point.y).split(",")
        parts.append(
            f'<text x="{x}" y="{y}" font-size="11" text-anchor="middle" fill="#333">'
            f"{html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
