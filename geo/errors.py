"""The error geo raises. geo stands alone (it imports nothing of parkmon's other packages), so its
error lives here; ``monitor.errors`` re-exports it as part of parkmon's error tree."""


class GeoError(ValueError):
    """A coordinate or geometry is missing, has no declared system, or lies where it cannot."""
