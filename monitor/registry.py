"""The city and its registry of innovation carriers, read from files a clerk edits in Excel.

``config/city.toml`` names the city and its districts; ``config/parks.csv`` lists the carriers.
The registry is validated as a whole: one bad row names its file, line, field, value and what was
expected, and nothing from the file is loaded until every row is right.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from geo.crs import check_crs, to_wgs84
from geo.errors import GeoError
from monitor import config_schema, models
from monitor.errors import ConfigError, RegistryError

REGISTRY_FILE = "parks.csv"
DEMO_PREFIX = "DEMO-"
CITY_FILE = "city.toml"
COLUMNS = (
    "id",
    "name",
    "name_en",
    "aliases",
    "credit_code",
    "kind",
    "level",
    "district",
    "belt_role",
    "leading_industries",
    "lon",
    "lat",
    "crs",
    "location_quality",
    "opened",
    "closed",
    "note",
)
REQUIRED = ("id", "name", "kind", "level", "district")
DISTRICT_SEPARATORS = re.compile(r"[|、]")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
# GB 32100-2015 unified social credit code: 18 characters, last one a check character.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass(frozen=True)
class District:
    adcode: str
    name: str
    name_en: str
    seat: tuple[float, float]


@dataclass(frozen=True)
class GeoConfig:
    """The [geo] and [belt] tables of city.toml (defaults: the model's, stated once)."""

    boundaries: str = config_schema.GeoTable().boundaries
    simplify_tolerance_m: float = config_schema.GeoTable().simplify_tolerance_m
    belt_width_km: float = config_schema.BeltTable().width_km
    river_neighbours: tuple[str, ...] = ()
    zone_radius_km: float = config_schema.BeltTable().zone_radius_km
    shoreline_exclude: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()


@dataclass(frozen=True)
class City:
    adcode: str
    name: str
    name_en: str
    bbox: tuple[float, float, float, float]
    districts: tuple[District, ...]
    plan_start: int
    plan_end: int
    baseline_year: int
    geo: GeoConfig = GeoConfig()

    def district(self, key: str) -> District | None:
        """Find a district by adcode, Chinese name or English name."""
        key = key.strip()
        for d in self.districts:
            if key in (d.adcode, d.name, d.name_en) or key.lower() == d.name_en.lower():
                return d
        return None

    def contains(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        return x0 <= lon <= x1 and y0 <= lat <= y1


def load_city(config_dir: Path) -> City:
    """The city of ``config_dir/city.toml``, parsed once per process for the same content (a
    daily cycle asks for it from five places; the City is immutable, so sharing is safe). The
    content, not the file's time stamp, decides: two quick edits of equal size stay apart."""
    path = config_dir / CITY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return _parse_city(path)  # the reader says what is wrong with the file
    return _cached_city(str(path), text)


@functools.lru_cache(maxsize=8)
def _cached_city(path: str, text: str) -> City:
    return _parse_city(Path(path), text)


def _parse_city(path: Path, text: str | None = None) -> City:
    model: config_schema.CityFile = config_schema.load(path, "city", text=text)
    city = model.city
    if city is None or city.adcode is None or city.name is None or city.bbox is None:
        raise ConfigError(f"{path}: [city] needs adcode, name and bbox")
    if len(city.bbox) != 4:
        raise ConfigError(
            f"{path}: [city] bbox needs 4 numbers (lon_min, lat_min, lon_max, lat_max), "
            f"got {city.bbox!r}"
        )
    districts = []
    for i, d in enumerate(model.districts):
        if d.adcode is None or d.name is None or d.seat is None or len(d.seat) != 2:
            raise ConfigError(f"{path}: districts[{i}] needs adcode, name and seat = [lon, lat]")
        districts.append(District(d.adcode, d.name, d.name_en, (d.seat[0], d.seat[1])))
    if not districts:
        raise ConfigError(f"{path}: no [[districts]] listed; a city needs at least one")
    b = city.bbox
    return City(
        adcode=city.adcode,
        name=city.name,
        name_en=city.name_en,
        bbox=(b[0], b[1], b[2], b[3]),
        districts=tuple(districts),
        plan_start=city.plan_start,
        plan_end=city.plan_end,
        baseline_year=city.baseline_year,
        geo=_geo_config(model, path),
    )


def _geo_config(model: config_schema.CityFile, path: Path) -> GeoConfig:
    exclusions = []
    for i, item in enumerate(model.belt.shoreline_exclude, start=1):
        if len(item.bbox) != 4:
            raise ConfigError(
                f"{path}: [[belt.shoreline_exclude]] #{i}: bbox needs 4 numbers "
                f"(lon_min, lat_min, lon_max, lat_max), got {item.bbox!r}"
            )
        b = item.bbox
        exclusions.append((item.name or f"#{i}", (b[0], b[1], b[2], b[3])))
    return GeoConfig(
        boundaries=model.geo.boundaries,
        simplify_tolerance_m=model.geo.simplify_tolerance_m,
        belt_width_km=model.belt.width_km,
        river_neighbours=tuple(model.belt.river_neighbours),
        zone_radius_km=model.belt.zone_radius_km,
        shoreline_exclude=tuple(exclusions),
    )


def decode_text(data: bytes, where: str) -> str:
    """Decode a clerk's text file: UTF-8 (with or without BOM), else GB18030 (superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConfigError(f"{where}: not UTF-8 or GBK/GB18030 text; save it as CSV UTF-8 from Excel")


def valid_credit_code(code: str) -> bool:
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    check = (31 - total % 31) % 31
    return _USCC_CHARS[check] == code[17]


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(m.value for m in enum)


def _year(value: str) -> int:
    year = int(value)
    if not 1949 <= year <= 2100:
        raise ValueError(value)
    return year


def parse_registry(
    text: str, city: City, where: str, inside: Callable[[float, float], bool] | None = None
) -> list[dict[str, Any]]:
    """Validate every row of a registry CSV; raise RegistryError listing all problems.

    ``inside(lon, lat)`` tells whether a WGS-84 point lies in the city (its real outline when the
    boundaries are loaded); without it the plausibility box of city.toml is used.
    """
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = _checked_header(reader.fieldnames or [], where)
    rows = _RowChecker(city, Path(where).name, inside or city.contains)
    parks: list[dict[str, Any]] = []
    for row in reader:
        raw = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if any(raw.values()):  # a blank line is not a carrier
            parks.append(rows.check(raw, reader.line_num))
    if rows.problems:
        raise RegistryError(where, rows.problems)
    if not parks:
        raise RegistryError(where, ["no carriers listed"])
    return parks


def _checked_header(fieldnames: Sequence[str], where: str) -> list[str]:
    header = [h.strip() for h in fieldnames]
    problems: list[str] = []
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown:
        problems.append(
            f"line 1: unknown column(s) {', '.join(repr(u) for u in unknown)}; "
            f"allowed: {', '.join(COLUMNS)}"
        )
    if missing:
        problems.append(f"line 1: missing column(s) {', '.join(missing)}")
    if problems:
        raise RegistryError(where, problems)
    return header


class _RowChecker:
    """Checks rows one by one, remembering ids and names seen and every problem found."""

    def __init__(self, city: City, origin: str, inside: Callable[[float, float], bool]) -> None:
        self.city, self.origin, self.inside = city, origin, inside
        self.problems: list[str] = []
        self.seen_ids: dict[str, int] = {}
        self.seen_names: dict[str, int] = {}
        self.districts = ", ".join(f"{d.name} ({d.adcode})" for d in city.districts)

    def check(self, raw: dict[str, str], line: int) -> dict[str, Any]:
        """The carrier of one row (its problems added to ``self.problems``)."""

        def bad(field: str, value: str, expected: str) -> None:
            self.problems.append(
                f"line {line}, field '{field}': got {value!r}, expected {expected}"
            )

        # Ids starting DEMO- are reserved for generated demo carriers (parkmon demo --carriers).
        demo = raw.get("id", "").startswith(DEMO_PREFIX)
        park: dict[str, Any] = {"origin": self.origin, "is_demo": demo}
        for field in REQUIRED:
            if not raw.get(field):
                bad(field, "", "a value (required)")
        self._identity(raw, park, line, bad)
        for field, enum in (("kind", models.ParkKind), ("level", models.ParkLevel)):
            value = raw.get(field, "")
            if value and value not in {m.value for m in enum}:
                bad(field, value, f"one of {_choices(enum)}")
            park[field] = value
        role = raw.get("belt_role", "") or "none"
        if role not in {m.value for m in models.BeltRole}:
            bad("belt_role", role, f"one of {_choices(models.BeltRole)} (empty = none)")
        park["belt_role"] = role
        found = self._districts(raw.get("district", ""), bad)
        district = found[0] if found else None
        park["district_id"] = district.adcode if district else ""
        park["districts"] = [d.adcode for d in found]
        code = raw.get("credit_code", "").upper()
        if code and not valid_credit_code(code):
            bad(
                "credit_code",
                code,
                "an 18-character unified social credit code with a valid "
                "check character (GB 32100-2015)",
            )
        park["credit_code"] = code or None
        _locate(raw, park, self.city, district, bad, self.inside)
        for field in ("opened", "closed"):
            value = raw.get(field, "")
            park[field] = None
            if value:
                try:
                    park[field] = _year(value)
                except ValueError:
                    bad(field, value, "a year such as 2016, or empty")
        if park["opened"] and park["closed"] and park["closed"] < park["opened"]:
            bad("closed", raw["closed"], f"a year not before opened ({park['opened']})")
        return park

    def _districts(self, value: str, bad: Callable[..., None]) -> list[District]:
        """One district, or several separated by | or 、 (a carrier across a border): the
        first is where it is registered."""
        names = [n.strip() for n in DISTRICT_SEPARATORS.split(value)] if value else []
        found: list[District] = []
        for name in names:
            district = self.city.district(name) if name else None
            if district is None or district in found:
                bad(
                    "district",
                    value,
                    f"a district of {self.city.name}, or several different ones separated by "
                    f"| (the first where it is registered): {self.districts}",
                )
                return [d for d in found if d is not None]
            found.append(district)
        return found

    def _identity(
        self, raw: dict[str, str], park: dict[str, Any], line: int, bad: Callable[..., None]
    ) -> None:
        """Id and name, each unique in the file; the free-text fields."""
        pid = raw.get("id", "")
        if pid and not _ID.match(pid):
            bad("id", pid, "letters, digits, '-' or '_' (at most 32)")
        elif pid in self.seen_ids:
            bad("id", pid, f"a unique id (already used on line {self.seen_ids[pid]})")
        self.seen_ids.setdefault(pid, line)
        name = raw.get("name", "")
        if len(name) > 128:
            bad("name", name[:20] + "…", "a name of at most 128 characters")
        if name and name in self.seen_names:
            bad("name", name, f"a unique name (already used on line {self.seen_names[name]})")
        self.seen_names.setdefault(name, line)
        park.update(
            id=pid,
            name=name,
            name_en=raw.get("name_en", ""),
            aliases=raw.get("aliases", ""),
            leading_industries=raw.get("leading_industries", ""),
            note=raw.get("note", ""),
        )


def _locate(
    raw: dict[str, str],
    park: dict[str, Any],
    city: City,
    district: District | None,
    bad: Any,
    inside: Callable[[float, float], bool],
) -> None:
    lon_s, lat_s, crs_s = raw.get("lon", ""), raw.get("lat", ""), raw.get("crs", "")
    quality = raw.get("location_quality", "")
    allowed_quality = {
        models.LocationQuality.surveyed.value,
        models.LocationQuality.approximate.value,
    }
    if quality and quality not in allowed_quality:
        bad("location_quality", quality, "surveyed or approximate (empty = approximate)")
    if not lon_s and not lat_s:
        # Known only by its district: the district's representative point, marked approximate.
        if crs_s:
            bad("crs", crs_s, "empty when lon and lat are empty")
        seat = district.seat if district else (None, None)
        park.update(
            lon=seat[0],
            lat=seat[1],
            location_crs="",
            location_quality=models.LocationQuality.approximate.value,
        )
        return
    if not lon_s or not lat_s:
        field = "lat" if lon_s else "lon"
        bad(field, "", "both lon and lat, or neither")
        return
    try:
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        bad("lon/lat", f"{lon_s}, {lat_s}", "decimal degrees such as 120.905, 31.960")
        return
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        bad(
            "lon/lat",
            f"{lon_s}, {lat_s}",
            "longitude within ±180 and latitude within ±90 (are lon and lat swapped?)",
        )
        return
    try:
        system = check_crs(crs_s)
    except GeoError as exc:
        bad("crs", crs_s, f"a declared coordinate system ({exc})")
        return
    wlon, wlat = to_wgs84(lon, lat, system)
    wlon_f, wlat_f = float(wlon), float(wlat)
    if not inside(wlon_f, wlat_f):
        bad(
            "lon/lat",
            f"{lon_s}, {lat_s}",
            f"a point inside {city.name} ({system} "
            f"{lon_s}, {lat_s} is WGS-84 {wlon_f:.5f}, {wlat_f:.5f}, outside the city)",
        )
        return
    park.update(
        lon=round(wlon_f, 7),
        lat=round(wlat_f, 7),
        location_crs=system,
        location_quality=quality or models.LocationQuality.approximate.value,
    )


def load_registry(
    config_dir: Path,
    city: City | None = None,
    inside: Callable[[float, float], bool] | None = None,
) -> list[dict[str, Any]]:
    """Read and validate ``config/parks.csv``; returns rows ready for ``store.upsert_parks``."""
    city = city or load_city(config_dir)
    path = config_dir / REGISTRY_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: registry file not found") from exc
    return parse_registry(decode_text(data, str(path)), city, str(path), inside)


def regions_without_geometry(city: City) -> list[dict[str, Any]]:
    """Region rows for the city and its districts (geometry comes from geo's bundled boundaries)."""
    rows: list[dict[str, Any]] = [
        {
            "id": city.adcode,
            "name": city.name,
            "name_en": city.name_en,
            "level": models.RegionLevel.city.value,
            "parent_id": None,
            "rep_lon": None,
            "rep_lat": None,
            "source": CITY_FILE,
        }
    ]
    for d in city.districts:
        rows.append(
            {
                "id": d.adcode,
                "name": d.name,
                "name_en": d.name_en,
                "level": models.RegionLevel.district.value,
                "parent_id": city.adcode,
                "rep_lon": d.seat[0],
                "rep_lat": d.seat[1],
                "source": CITY_FILE,
            }
        )
    return rows
