"""Geography of the monitored city: coordinate systems, boundaries, the riverside belt.

Free functions over arrays and frames; this package imports nothing from parkmon's other packages.
"""

from geo.crs import CRS_NAMES, from_wgs84, in_china, to_wgs84
from geo.errors import GeoError

__all__ = ["CRS_NAMES", "GeoError", "from_wgs84", "in_china", "to_wgs84"]
