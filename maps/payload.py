"""What a map shows, as plain data (no folium): ``monitor.views`` builds it, ``maps`` draws it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

__all__ = ["MapData"]


@dataclass
class MapData:
    """What a map shows, in WGS-84; built by ``monitor.views`` from the store."""

    parks: list[dict[str, Any]]  # id, name, kind, kind_label, level_label, district, role,
    #                              role_label, lon, lat, approx, stars{year}, score{year}
    districts: list[tuple[str, str, BaseGeometry]]  # adcode, name, polygon
    belt: BaseGeometry | None
    years: list[int]
    labels: dict[str, str]
    kinds: dict[str, str]  # kind -> label
    roles: dict[str, str]  # role -> label
    title: str = ""
    demo: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
