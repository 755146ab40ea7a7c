"""The registry: the real belt members, and every kind of bad row named precisely."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo.crs import wgs84_to_gcj02
from monitor.errors import ConfigError, RegistryError
from monitor.registry import load_city, load_registry, parse_registry, valid_credit_code

HEADER = "id,name,kind,level,district,belt_role,lon,lat,crs,location_quality\n"


@pytest.fixture(scope="module")
def city(config_dir):
    return load_city(config_dir)


def test_bundled_registry_has_the_belt_members(config_dir, city):
    parks = {p["name"]: p for p in load_registry(config_dir, city)}
    assert len(parks) == 12
    zones = sorted(n for n, p in parks.items() if p["belt_role"] == "zone")
    assert zones == sorted(["南通高新区", "海安高新区", "如皋高新区", "市北高新区"])
    assert all(parks[z]["kind"] == "high_tech_zone" for z in zones)
    assert parks["南通高新区"]["level"] == "national"
    assert parks["南通高新区"]["district_id"] == "320612"  # 通州区
    assert parks["市北高新区"]["district_id"] == "320613"  # 崇川区
    assert [n for n, p in parks.items() if p["belt_role"] == "core"] == ["南通创新区"]
    assert sum(p["belt_role"] == "park" for p in parks.values()) == 7
    assert "激光和智能制造" in parks["如皋高新区"]["leading_industries"]
    # Every real location is declared approximate until surveyed: no false precision.
    assert {p["location_quality"] for p in parks.values()} == {"approximate"}


def test_city_has_seven_districts(city):
    assert city.adcode == "320600"
    assert sorted(d.adcode for d in city.districts) == [
        "320612",
        "320613",
        "320614",
        "320623",
        "320681",
        "320682",
        "320685",
    ]
    assert city.district("如东县").adcode == "320623"
    assert city.district("320685").name == "海安市"
    assert city.district("Rudong").name == "如东县"
    assert city.district("浦东新区") is None


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("Q1,甲,incubator,provincial,崇川,none,,,,", "district", "expected a district of 南通市"),
        ("Q1,甲,incubatr,provincial,崇川区,none,,,,", "kind", "expected one of innovation_zone"),
        ("Q1,甲,incubator,county,崇川区,none,,,,", "level", "expected one of national"),
        ("Q1,甲,incubator,provincial,崇川区,center,,,,", "belt_role", "one of core, zone, park"),
        ("Q1,甲,incubator,provincial,崇川区,none,120.9x,32.0,wgs84,", "lon/lat", "decimal degrees"),
        ("Q1,甲,incubator,provincial,崇川区,none,120.9,32.0,,", "crs", "coordinate system missing"),
        (
            "Q1,甲,incubator,provincial,崇川区,none,120.9,32.0,utm,",
            "crs",
            "unknown coordinate system",
        ),
        ("Q1,甲,incubator,provincial,崇川区,none,120.9,,wgs84,", "lat", "both lon and lat"),
        (
            "Q1,甲,incubator,provincial,崇川区,none,116.4,39.9,wgs84,",
            "lon/lat",
            "a point inside 南通市",
        ),
        ("Q1,甲,incubator,provincial,崇川区,none,32.0,120.9,wgs84,", "lon/lat", "swapped"),
        (
            "Q1,甲,incubator,provincial,崇川区,none,120.9,32.0,wgs84,exact",
            "location_quality",
            "surveyed or approximate",
        ),
        ("Q1,甲,incubator,provincial,崇川区|崇川区,none,,,,", "district", "several different"),
        ("Q1,甲,incubator,provincial,崇川区|浦东新区,none,,,,", "district", "separated by |"),
        ("Q1,甲,incubator,provincial,崇川区|,none,,,,", "district", "a district of 南通市"),
        ("Q 1,甲,incubator,provincial,崇川区,none,,,,", "id", "letters, digits"),
        (",甲,incubator,provincial,崇川区,none,,,,", "id", "required"),
    ],
)
def test_bad_row_names_file_line_field_and_value(city, row, field, message):
    text = HEADER + "G1,好的,incubator,municipal,海安市,none,,,,\n" + row + "\n"
    with pytest.raises(RegistryError) as info:
        parse_registry(text, city, "my-parks.csv")
    problems = info.value.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"line 3, field '{field}'")
    assert message in problems[0]
    assert "my-parks.csv" in str(info.value)
    assert "nothing from this file was loaded" in str(info.value)


def test_all_problems_are_listed_at_once(city):
    text = HEADER + "A,甲,bad,provincial,崇川区,none,,,,\nA,乙,incubator,provincial,x区,none,,,,\n"
    with pytest.raises(RegistryError) as info:
        parse_registry(text, city, "p.csv")
    joined = "\n".join(info.value.problems)
    assert "line 2, field 'kind'" in joined
    assert "line 3, field 'id': got 'A', expected a unique id (already used on line 2)" in joined
    assert "line 3, field 'district'" in joined


def test_unknown_and_missing_columns(city):
    with pytest.raises(RegistryError, match="(?s)unknown column.*'stars'.*missing column.*level"):
        parse_registry("id,name,kind,district,stars\n", city, "p.csv")


def test_gcj02_coordinates_are_stored_as_wgs84(city):
    text = HEADER + "G1,甲,incubator,provincial,崇川区,none,120.9047,31.9581,gcj02,surveyed\n"
    park = parse_registry(text, city, "p.csv")[0]
    assert park["location_crs"] == "gcj02"
    assert park["location_quality"] == "surveyed"
    # Stored WGS-84 maps forward onto the declared GCJ-02 numbers, ~450 m away from them.
    fwd_lon, fwd_lat = wgs84_to_gcj02(park["lon"], park["lat"])
    assert (float(fwd_lon), float(fwd_lat)) == pytest.approx((120.9047, 31.9581), abs=1e-6)
    assert 120.9047 - park["lon"] > 0.003


def test_district_only_gets_the_seat_and_is_approximate(city):
    text = HEADER + "G1,甲,incubator,provincial,如东县,none,,,,\n"
    park = parse_registry(text, city, "p.csv")[0]
    seat = city.district("如东县").seat
    assert (park["lon"], park["lat"]) == seat
    assert park["location_quality"] == "approximate"


def test_gbk_csv_from_excel_loads(tmp_path, config_dir, city):
    folder = tmp_path / "cfg"
    shutil.copytree(config_dir, folder)
    (folder / "parks.csv").write_bytes(
        (HEADER + "G1,南通示例孵化器,incubator,provincial,海门区,none,,,,\n").encode("gbk")
    )
    parks = load_registry(folder, city)
    assert parks[0]["name"] == "南通示例孵化器"
    assert parks[0]["district_id"] == "320614"


def test_credit_code_check_character():
    assert valid_credit_code("91350100M000100Y43")
    assert not valid_credit_code("91350100M000100Y44")
    assert not valid_credit_code("91350100M000100Y4")


def test_bad_credit_code_is_a_problem(city):
    text = "id,name,kind,level,district,credit_code\nG1,甲,incubator,provincial,海安市,123\n"
    with pytest.raises(RegistryError, match="field 'credit_code': got '123'"):
        parse_registry(text, city, "p.csv")


def test_city_file_errors_are_config_errors(tmp_path):
    (tmp_path / "city.toml").write_text("[city]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"city.toml: \[city\] needs adcode"):
        load_city(tmp_path)
    with pytest.raises(ConfigError, match="file not found"):
        load_city(Path(tmp_path / "nowhere"))


def test_a_carrier_across_a_district_border_lists_both(config_dir, city):
    """The plan's home-textile park lies across 通州区 and 海门区: registered in the first."""
    parks = {p["id"]: p for p in load_registry(config_dir, city)}
    textile = parks["NT-P05"]
    assert textile["district_id"] == "320612"
    assert textile["districts"] == ["320612", "320614"]
    assert parks["NT-Z01"]["districts"] == [parks["NT-Z01"]["district_id"]]
    text = HEADER + "A,甲,incubator,provincial,海门区、通州区,none,,,,\n"
    (row,) = parse_registry(text, city, "p.csv")
    assert row["districts"] == ["320614", "320612"]
    assert row["district_id"] == "320614"
    # known only by its districts: placed at the principal district's seat, approximate
    assert (row["lon"], row["lat"]) == city.district("320614").seat
