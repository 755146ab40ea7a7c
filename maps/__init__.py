"""Maps: self-contained folium maps of the region, progress toward goals, and comparisons."""

from maps.page import TileChoice, tile_choice
from maps.progress import render_progress_map
from maps.region import MapData, render_region_map

__all__ = ["MapData", "TileChoice", "render_progress_map", "render_region_map", "tile_choice"]
