"""Maps: self-contained folium maps of the region, progress toward goals, and comparisons.

Names are imported on first use (``maps.payload`` needs no folium).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maps.page import TileChoice, tile_choice
    from maps.payload import MapData
    from maps.progress import render_progress_map
    from maps.region import render_region_map

_WHERE = {
    "MapData": "maps.payload",
    "TileChoice": "maps.page",
    "tile_choice": "maps.page",
    "render_progress_map": "maps.progress",
    "render_region_map": "maps.region",
}

__all__ = ["MapData", "TileChoice", "render_progress_map", "render_region_map", "tile_choice"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'maps' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
