"""Coordinate systems met in Chinese data: WGS-84, GCJ-02 (Amap, Tencent), BD-09 (Baidu), CGCS2000.

Storage is WGS-84 only. GCJ-02 is WGS-84 plus a published, deterministic obfuscation; BD-09 is a
further shift of GCJ-02. Both forward formulas are closed-form; their inverses are found here by
fixed-point iteration until the residual is below 1e-9° (about 0.1 mm), vectorised over numpy
arrays. CGCS2000 (Tianditu) equals WGS-84 to within centimetres at map scale and is taken as such.
The obfuscation only applies inside China: points outside the usual bounding box pass unchanged.
Around Nantong the GCJ-02 offset is roughly 470 m (see ``docs/geography.md``).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.errors import GeoError

CRS_NAMES: Final = ("wgs84", "gcj02", "bd09", "cgcs2000")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A: Final = 6378245.0
_EE: Final = 0.00669342162296594323
_X_PI: Final = np.pi * 3000.0 / 180.0
_TOLERANCE_DEG: Final = 1e-9
_MAX_ITERATIONS: Final = 50

Floats = NDArray[np.float64]


def check_crs(name: object, where: str = "") -> str:
    """Return the normalised system name, or raise GeoError naming what is allowed."""
    prefix = f"{where}: " if where else ""
    if name is None or (isinstance(name, str) and not name.strip()):
        raise GeoError(
            f"{prefix}coordinate system missing; declare one of {', '.join(CRS_NAMES)} "
            "(a coordinate without its system is never guessed)"
        )
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    aliases = {
        "wgs84": "wgs84",
        "epsg4326": "wgs84",
        "gcj02": "gcj02",
        "gcj": "gcj02",
        "bd09": "bd09",
        "bd09ll": "bd09",
        "cgcs2000": "cgcs2000",
        "epsg4490": "cgcs2000",
    }
    if key not in aliases:
        raise GeoError(
            f"{prefix}unknown coordinate system {name!r}; expected one of {', '.join(CRS_NAMES)}"
        )
    return aliases[key]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """The box inside which GCJ-02 applies (the conventional rough bounds of mainland China)."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _delta(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    if x.shape != y.shape:
        raise GeoError(f"longitude and latitude arrays differ in shape: {x.shape} vs {y.shape}")
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x, y = _as_arrays(lon, lat)
    dlon, dlat = _delta(x, y)
    inside = in_china(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward: object, lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    target_x, target_y = _as_arrays(lon, lat)
    x, y = target_x.copy(), target_y.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)  # type: ignore[operator]
        ex, ey = fx - target_x, fy - target_y
        x, y = x - ex, y - ey
        finite = np.isfinite(ex) & np.isfinite(ey)
        if not finite.any() or max(np.abs(ex[finite]).max(), np.abs(ey[finite]).max()) < (
            _TOLERANCE_DEG
        ):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Exact inverse of ``wgs84_to_gcj02`` (iterated to < 1e-9°)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """Exact inverse of ``gcj02_to_bd09`` (iterated to < 1e-9°)."""
    return _invert(gcj02_to_bd09, lon, lat)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[Floats, Floats]:
    """Convert coordinates declared in ``crs`` to WGS-84."""
    system = check_crs(crs)
    if system in ("wgs84", "cgcs2000"):
        return _as_arrays(lon, lat)
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[Floats, Floats]:
    """Convert WGS-84 coordinates to ``crs`` (e.g. GCJ-02 for Amap tiles at render time)."""
    system = check_crs(crs)
    if system in ("wgs84", "cgcs2000"):
        return _as_arrays(lon, lat)
    if system == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
