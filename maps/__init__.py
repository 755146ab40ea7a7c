"""Maps: self-contained folium maps of the region, progress toward goals, and comparisons."""
