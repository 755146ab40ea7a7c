"""Geography of the monitored city: coordinate systems, boundaries, the riverside belt.

Free functions over arrays and frames; this package imports nothing from parkmon's other packages.
Names are imported on first use (``geo.errors`` alone needs no numpy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from geo.errors import GeoError

if TYPE_CHECKING:
    from geo.crs import CRS_NAMES, from_wgs84, in_china, to_wgs84

__all__ = ["CRS_NAMES", "GeoError", "from_wgs84", "in_china", "to_wgs84"]


def __getattr__(name: str) -> Any:
    if name not in ("CRS_NAMES", "from_wgs84", "in_china", "to_wgs84"):
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    return getattr(importlib.import_module("geo.crs"), name)
