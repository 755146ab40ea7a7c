"""The page every map is drawn on: a folium Map with Leaflet inlined and no CDN resources.

folium builds the map container and the ``L.map`` call; its default CDN scripts and styles
(Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers) are dropped — the page inlines the one
library it uses — and the data travel once, as JSON in a script, drawn by client-side code on a
canvas renderer. Text from outside only reaches the page as JSON data and is put into the DOM with
``textContent``, never as HTML.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from maps.assets import leaflet_css, leaflet_js

# Tile providers: (URL template, coordinate system the tiles are drawn in, attribution).
TILES: dict[str, tuple[str, str, str]] = {
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "wgs84",
        "© OpenStreetMap contributors",
    ),
    "gaode": (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        "gcj02",
        "© 高德地图 AutoNavi",
    ),
    "tianditu": (
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "cgcs2000",
        "© 天地图",
    ),
}


def safe_json(value: Any) -> str:
    """JSON that cannot close the <script> it sits in, nor start markup."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@dataclass(frozen=True)
class TileChoice:
    name: str  # "" = no tiles (the default): districts are the base map
    url: str = ""
    crs: str = "wgs84"
    attribution: str = ""
    subdomains: str = ""


def tile_choice(name: str | None, key: str | None = None) -> TileChoice:
    if not name or name == "none":
        return TileChoice("")
    if name not in TILES:
        from geo.errors import GeoError  # noqa: PLC0415

        raise GeoError(f"unknown tile layer {name!r}; expected none, {', '.join(TILES)}")
    url, crs, attribution = TILES[name]
    if "{key}" in url:
        if not key:
            from geo.errors import GeoError  # noqa: PLC0415

            raise GeoError(f"the {name} tiles need a key: set PARKMON_TIANDITU_KEY")
        url = url.replace("{key}", key)
    subdomains = "1234" if name == "gaode" else ("01234567" if name == "tianditu" else "")
    return TileChoice(name, url, crs, attribution, subdomains)


class _Script(MacroElement):
    """Our drawing code, rendered after the L.map call with the map's variable name."""

    def __init__(self, code: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "ParkmonScript"
        if "endraw" in code:
            raise ValueError("client code may not contain 'endraw'")
        self._template = Template(
            "{% macro script(this, kwargs) %}(function(){var map = "
            "{{ this._parent.get_name() }};\n{% raw %}" + code + "{% endraw %}\n})();"
            "{% endmacro %}"
        )


def new_page(
    *, center: tuple[float, float], zoom: int, title: str, lang: str, tiles: TileChoice
) -> folium.Map:
    m = folium.Map(
        location=list(center),
        zoom_start=zoom,
        tiles=None,
        prefer_canvas=True,
        control_scale=True,
        max_zoom=18,
        min_zoom=5,
    )
    m.default_js = []
    m.default_css = []
    root: Any = m.get_root()
    root.header.add_child(
        Element(
            f'<meta charset="utf-8"><title>{_esc(title)}</title>'
            f"<style>{leaflet_css()}</style>"
            f"<script>{leaflet_js()}</script>"
            f"<style>{STYLE}</style>"
        ),
        name="parkmon_head",
    )
    html_lang = "zh-CN" if lang == "zh" else "en"
    root.html.add_child(Element(f'<script>document.documentElement.lang = "{html_lang}";</script>'))
    if tiles.name:
        tile = {"url": tiles.url, "attribution": tiles.attribution, "subdomains": tiles.subdomains}
        m.add_child(
            _Script(
                f"L.tileLayer({safe_json(tile)}.url, {{attribution: "
                f"{safe_json(tiles.attribution)}, subdomains: "
                f"{safe_json(tiles.subdomains or 'abc')}, maxZoom: 18}}).addTo(map);"
            )
        )
    return m


def add_script(m: folium.Map, code: str) -> None:
    m.add_child(_Script(code))


def client_js(name: str) -> str:
    """A client script shipped with parkmon (maps/js/NAME.js)."""
    return (Path(__file__).resolve().parent / "js" / f"{name}.js").read_text(encoding="utf-8")


def render(m: folium.Map) -> str:
    html: str = m.get_root().render()
    return html


def _esc(text: str) -> str:
    import html  # noqa: PLC0415

    return html.escape(text)


STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; }
.pm-panel { background: rgba(255,255,255,.93); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12px; line-height: 1.45; max-width: 280px; }
.pm-panel h4 { margin: 0 0 4px; font-size: 13px; }
.pm-banner { position: absolute; z-index: 1000; top: 8px; left: 50%; transform: translateX(-50%);
  background: #fff3cd; border: 1px solid #e0b000; padding: 4px 12px; font-weight: bold;
  font-size: 13px; border-radius: 4px; }
.pm-swatch { display: inline-block; width: 11px; height: 11px; border-radius: 50%;
  border: 1px solid #333; margin-right: 4px; vertical-align: middle; }
.pm-small { font-size: 11px; color: #555; margin-top: 3px; }
.pm-popup td { padding: 1px 6px 1px 0; vertical-align: top; font-size: 12px; }
.pm-popup .pm-name { font-weight: bold; font-size: 13px; margin-bottom: 3px; }
.pm-popup .pm-demo { background: #fff3cd; color: #7a5a00; font-size: 11px; padding: 1px 4px;
  margin-bottom: 3px; }
.pm-status-achieved, .pm-status-on_track { color: #1a7f37; }
.pm-status-moderate { color: #9a6700; } .pm-status-limited { color: #bc4c00; }
.pm-status-moving_away { color: #cf222e; } .pm-status-not_enough_data { color: #777; }
"""
