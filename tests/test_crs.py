"""Coordinate systems: exact inverses, the size of the offset around Nantong, declared systems."""

from __future__ import annotations

import numpy as np
import pytest

from geo import crs
from geo.errors import GeoError

EARTH_M_PER_DEG = 111_320.0


def _metres(lon1, lat1, lon2, lat2):
    dx = (lon2 - lon1) * EARTH_M_PER_DEG * np.cos(np.radians(lat1))
    dy = (lat2 - lat1) * EARTH_M_PER_DEG
    return np.hypot(dx, dy)


@pytest.fixture
def grid():
    lon, lat = np.meshgrid(np.linspace(120.2, 121.95, 60), np.linspace(31.6, 32.75, 60))
    return lon, lat


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_round_trip_is_exact(grid, system):
    lon, lat = grid
    back = crs.to_wgs84(*crs.from_wgs84(lon, lat, system), system)
    assert _metres(lon, lat, *back).max() < 0.001  # < 1 mm; the issue asks for < 0.5 m


def test_offset_around_nantong_is_several_hundred_metres(grid):
    lon, lat = grid
    offset = _metres(lon, lat, *crs.wgs84_to_gcj02(lon, lat))
    assert 400 < offset.min() < offset.max() < 600


def test_outside_china_is_unchanged():
    lon, lat = np.array([2.35, -74.0]), np.array([48.85, 40.7])
    assert np.array_equal(crs.wgs84_to_gcj02(lon, lat)[0], lon)


def test_cgcs2000_is_taken_as_wgs84():
    assert crs.to_wgs84(120.9, 32.0, "CGCS2000")[0] == 120.9


@pytest.mark.parametrize(
    ("name", "match"),
    [
        (None, "coordinate system missing"),
        ("", "coordinate system missing"),
        (
            "utm51",
            "unknown coordinate system 'utm51'; expected one of wgs84, gcj02, bd09, cgcs2000",
        ),
    ],
)
def test_undeclared_system_is_an_error(name, match):
    with pytest.raises(GeoError, match=match):
        crs.check_crs(name)
