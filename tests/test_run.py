"""`parkmon run` twice, the template workbook's round trip, and the CLI reference being current."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from collectors.run import collect
from collectors.sources import parse_source
from monitor import db, models, store
from monitor.cli.reference import reference
from monitor.indicators import load_indicators
from monitor.template import write_template

PARKMON = str(Path(sys.executable).with_name("parkmon"))
SOURCE = """
[[source]]
id = "haimen-office"
collector = "file"
location = "samples/district/*.csv"
skip_first_rows = 1
subject = { column = "载体名称", match = "name" }
period = "2024"
[source.columns]
"在孵企业数" = "incubatees"
"在孵企业从业人员" = "incubatee_employees"
"""


def test_run_twice_collects_nothing_new_the_second_time(tmp_path, config_dir, copy_demo, cli):
    cfg = tmp_path / "cfg"
    shutil.copytree(config_dir, cfg)
    (cfg / "sources.toml").write_text(SOURCE, encoding="utf-8")
    # the sample CSV names demo carriers: start from (a copy of) the demo database
    database = copy_demo(tmp_path)
    base = ["--config", str(cfg), "--db", str(database)]
    first = cli(*base, "run", cwd=tmp_path)
    assert "re-rated [2024]" in first.stdout
    assert (tmp_path / "site" / "index.html").exists()
    # A registry left as it was is not reloaded: a name changed in the database behind its
    # back (as a marker) survives the second run …
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.update(store.T_PARK).where(store.T_PARK.c.id == "NT-Z01").values(note="marker")
            )
        second = cli(*base, "run", cwd=tmp_path)
        assert "nothing changed" in second.stdout
        assert "未更新" in second.stdout
        assert _note(engine, "NT-Z01") == "marker"
        # … and an edited registry is: the run reloads it (and the marker goes)
        with (cfg / "parks.csv").open("a", encoding="utf-8") as handle:
            handle.write("NT-X99,新登记的孵化器,,,,incubator,municipal,崇川区,,,,,,,,,\n")
        cli(*base, "run", cwd=tmp_path)
        assert _note(engine, "NT-Z01") != "marker"
        assert "NT-X99" in set(store.parks_frame(engine)["id"])
    finally:
        engine.dispose()


def _note(engine, park_id: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.select(store.T_PARK.c.note).where(store.T_PARK.c.id == park_id)
            ).scalar_one()
        )


def test_template_round_trip(collect_engine, tmp_path, config_dir):
    path = tmp_path / "inbox" / "甲.xlsx"
    entry = write_template(path, load_indicators(config_dir), "incubator", ["甲孵化器"], 2025)
    book = openpyxl.load_workbook(path)
    ws = book["年报"]
    headers = {ws.cell(3, c).value: c for c in range(3, ws.max_column + 1)}
    ws.cell(4, headers["在孵企业数（个）"], 12)
    ws.cell(4, headers["在孵企业从业人员（人）"], 150)
    ws.cell(4, headers["在孵企业总收入（千元）"], "3,456.5")
    book.save(path)
    import tomllib

    item = tomllib.loads(entry)["source"][0]
    item["location"] = "inbox/*.xlsx"
    result = collect(collect_engine, parse_source(item, 1, tmp_path / "sources.toml"))
    assert result.status is models.RunStatus.ok, result.error
    values = store.observations_frame(collect_engine).set_index("indicator")["value"]
    assert values["incubatees"] == 12
    assert values["incubatee_revenue"] == 3456.5
    assert store.count_rows(collect_engine, models.Rejection) == 0


@pytest.mark.parametrize("kind", ["incubator", "maker_space"])
def test_template_instructions_describe_the_column_they_name(tmp_path, config_dir, kind):
    """Each 填报说明 row repeats a header of the sheet, in the sheet's order, with that header's
    unit and the meaning of that very field, in Chinese."""
    import re

    catalogue = {r["code"]: r for r in load_indicators(config_dir)}
    path = tmp_path / "t.xlsx"
    write_template(path, list(catalogue.values()), kind, [], 2025)
    book = openpyxl.load_workbook(path)
    sheet, guide = book["年报"], book["填报说明"]
    headers = [sheet.cell(3, c).value for c in range(3, sheet.max_column + 1)]
    rows = [[c.value for c in row] for row in guide.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == headers
    assert len(rows) >= 10
    for header, code, unit, meaning, *_ in rows:
        field = catalogue[code]
        assert header == f"{field['name_zh']}（{field['unit']}）"
        assert re.search(r"（([^（）]+)）$", header).group(1) == unit == field["unit"]
        assert meaning.startswith(field["name_zh"])
        assert f"单位：{unit}" in meaning or (unit == "是否" and "“是”或“否”" in meaning)
        assert not re.search(r"[A-Za-z]{3,}", meaning), meaning  # Chinese in the Chinese book


def test_cli_reference_is_current():
    docs = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    assert docs.read_text(encoding="utf-8") == reference(), (
        "docs/cli.md is stale: python -m monitor.cli.reference > docs/cli.md"
    )


def test_region_template_and_the_long_example_keep_their_citations(
    collect_engine, tmp_path, config_dir
):
    import tomllib

    from monitor.registry import load_city

    city = load_city(config_dir)
    names = [city.name, *(d.name for d in city.districts)]
    path = tmp_path / "inbox" / "region" / "统计.xlsx"
    entry = write_template(path, load_indicators(config_dir), "region", names, 2024)
    book = openpyxl.load_workbook(path)
    ws = book["年报"]
    assert ws.cell(2, 1).value == "地区" and ws.cell(2, 2).value == "数据来源"
    headers = {ws.cell(3, c).value: c for c in range(3, ws.max_column + 1)}
    assert "高新技术企业数（家）" in headers and "园区高新技术企业数（家）" not in headers
    ws.cell(4, headers["高新技术企业数（家）"], 3012)
    ws.cell(4, 2, "2024年南通市国民经济和社会发展统计公报（演示填报）")
    book.save(path)
    item = tomllib.loads(entry)["source"][0]
    result = collect(collect_engine, parse_source(item, 1, tmp_path / "sources.toml"))
    assert result.status is models.RunStatus.ok, result.error
    frame = store.observations_frame(collect_engine, subject_type="region")
    row = frame[frame["indicator"] == "hightech_firms"].iloc[0]
    assert (row["subject_id"], row["value"]) == (city.adcode, 3012)
    assert row["citation"].startswith("2024年南通市国民经济和社会发展统计公报")
    # the shipped long-layout example: the plan's own 2020 figures, in the plan's wording
    (example,) = tomllib.loads((config_dir / "examples" / "sources.toml").read_text("utf-8"))[
        "source"
    ]
    done = collect(collect_engine, parse_source(example, 1, config_dir / "sources.toml"))
    assert done.status is models.RunStatus.ok, done.error
    plan = store.observations_frame(collect_engine, subject_type="region", periods=["2020"])
    values = plan.set_index("indicator")["value"]
    assert values["hightech_output_share"] == 43.5 and values["hightech_firms"] == 2178
    assert (plan["citation"].str.startswith("南通市“十四五”科技创新规划")).all()
