"""The file collector on real files: GBK CSV, XLSX with merged headers (openpyxl), limits."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from collectors.run import collect
from collectors.sources import load_sources, parse_source
from monitor import models, store
from monitor.errors import ConfigError


def _spec(tmp_path: Path, **overrides):
    item = {
        "id": "office",
        "collector": "file",
        "location": "in/*.csv",
        "subject": {"column": "载体名称"},
        "period": "2024",
        "skip_first_rows": 1,
        "header_rows": 2,
        "columns": {
            "在孵企业数": "incubatees",
            "在孵企业从业人员": "incubatee_employees",
            "在孵企业总收入": "incubatee_revenue",
            "孵化基金总额": "incubation_fund",
            "孵化场地面积": "incubation_area",
        },
    }
    item.update(overrides)
    return parse_source(item, 1, tmp_path / "sources.toml")


GBK_CSV = """\
海门区2024年孵化载体统计表,,,,,,
序号,载体名称,孵化绩效,,,服务能力,
,,在孵企业数（家）,在孵企业从业人员（人）,在孵企业总收入（万元）,孵化基金总额（千元）,孵化场地面积（万平方米）
1,甲孵化器,４５,"1,200","3,456.78",5000,1.25
2,甲科技企业孵化器,46,1201,3456.78,5000,1.25
3,乙孵化器,12,—,120.5,800,0.3
4,丙众创空间,约50,90,10,300,0.05
5,戊孵化器,10,100,20,30,0.1
6,丁众创空间,30,20,15,200,0.08

,合计,143,,,,
注：金额单位见表头；—表示未填报
"""


def _write_gbk(tmp_path: Path, text: str = GBK_CSV) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    path = folder / "海门区.csv"
    path.write_bytes(text.encode("gbk"))
    return path


def _current(engine) -> pd.DataFrame:
    frame = store.observations_frame(engine)
    return frame.set_index(["subject_id", "indicator"])["value"]


def test_gbk_merged_headers_units_totals_and_three_bad_rows(collect_engine, tmp_path):
    _write_gbk(tmp_path)
    result = collect(collect_engine, _spec(tmp_path))
    assert result.status is models.RunStatus.partial
    # Rows 4 and 5 are the same carrier (the second by its registered alias): a conflict, so
    # both rows are quarantined and neither overwrites the other.
    values = _current(collect_engine)
    assert "T-I01" not in values.index.get_level_values(0)
    assert values[("T-I02", "incubatees")] == 12
    assert values[("T-I02", "incubatee_revenue")] == pytest.approx(1205)  # 万元 → 千元
    assert values[("T-I02", "incubation_fund")] == 800  # declared 千元, canonical 千元
    assert values[("T-I02", "incubation_area")] == pytest.approx(3000)  # 万平方米 → 平方米
    assert ("T-I02", "incubatee_employees") not in values.index  # '—' is missing, not 0
    assert values[("T-M01", "incubatee_employees")] == 90  # the good cells of a bad row stay
    assert ("T-M01", "incubatees") not in values.index
    assert ("T-M02", "incubatees") not in values.index  # the logic check holds the whole row
    rejects = store.rejections_frame(collect_engine)
    assert len(rejects) == 5
    reasons = dict(zip(rejects["location"], rejects["reason"], strict=True))
    for here, there in (("row 4", "row 5"), ("row 5", "row 4")):
        reason = reasons[f"海门区.csv, {here}"]
        assert reason.startswith("conflict:") and f"海门区.csv, {there}" in reason
        assert "none of these rows is stored" in reason
    assert "'４５' here" in reasons["海门区.csv, row 4"] and "'46'" in reasons["海门区.csv, row 4"]
    assert "expected a number, got '约50'" in reasons["海门区.csv, row 7"]
    assert "unknown carrier '戊孵化器'" in reasons["海门区.csv, row 8"]
    assert "more incubated firms than people they employ" in reasons["海门区.csv, row 9"]
    raw = rejects.set_index("location").loc["海门区.csv, row 7", "raw"]
    assert '"载体名称": "丙众创空间"' in raw
    assert (result.read, result.skipped) == (6, 3)  # blank, totals and note rows, by rule
    with collect_engine.connect() as conn:
        obs = conn.execute(
            sa.select(store.T_OBS.c.raw_value, store.T_OBS.c.raw_unit).where(
                store.T_OBS.c.subject_id == "T-I02", store.T_OBS.c.indicator == "incubatee_revenue"
            )
        ).one()
    assert tuple(obs) == ("120.5", "万元")


def test_collecting_twice_adds_nothing_and_one_change_adds_one_revision(collect_engine, tmp_path):
    path = _write_gbk(tmp_path)
    spec = _spec(tmp_path)
    collect(collect_engine, spec)
    count = store.count_rows(collect_engine, models.Observation)
    again = collect(collect_engine, spec)
    assert again.not_modified  # same bytes: not even parsed
    forced = collect(collect_engine, spec, force=True)
    assert (forced.accepted, forced.revised, forced.unchanged) == (0, 0, forced.unchanged)
    assert forced.unchanged > 0
    assert store.count_rows(collect_engine, models.Observation) == count
    path.write_bytes(GBK_CSV.replace("120.5", "130").encode("gbk"))
    changed = collect(collect_engine, spec)
    assert (changed.accepted, changed.revised) == (0, 1)
    assert store.count_rows(collect_engine, models.Observation) == count + 1
    assert _current(collect_engine)[("T-I02", "incubatee_revenue")] == 1300


def _xlsx(path: Path, rows: list[list[object]], merges: list[str]) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "年报"
    for row in rows:
        ws.append(row)
    for m in merges:
        ws.merge_cells(m)
    book.save(path)


def test_xlsx_with_merged_header_written_by_openpyxl(collect_engine, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _xlsx(
        folder / "r.xlsx",
        [
            ["2024年度报表", None, None, None],
            ["载体名称", "孵化绩效", None, "服务能力"],
            [None, "在孵企业数", "在孵企业从业人员", "孵化基金总额（万元）"],
            ["乙孵化器", 20, 200, 12.5],
            ["丁众创空间", 8, "80", None],
            ["注：本表金额单位为万元", None, None, None],
        ],
        ["A1:D1", "A2:A3", "B2:C2"],
    )
    spec = _spec(
        tmp_path,
        location="in/*.xlsx",
        columns={
            "在孵企业数": "incubatees",
            "在孵企业从业人员": "incubatee_employees",
            "孵化基金总额": "incubation_fund",
        },
    )
    result = collect(collect_engine, spec)
    assert result.status is models.RunStatus.ok, result.error
    values = _current(collect_engine)
    assert values[("T-I02", "incubation_fund")] == 125.0
    assert values[("T-M02", "incubatee_employees")] == 80
    assert ("T-M02", "incubation_fund") not in values.index
    assert result.skipped == 1


def test_long_layout(collect_engine, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "long.csv").write_text(
        "载体,指标,年份,数值,单位\n甲孵化器,在孵企业数,2023,30,家\n甲孵化器,incubatee_revenue,2023,"
        "1.5,亿元\n甲孵化器,在孵企业从业人员,2023,300,\n乙孵化器,不存在的指标,2023,1,\n",
        encoding="utf-8-sig",
    )
    spec = parse_source(
        {
            "id": "long",
            "collector": "file",
            "location": "in/long.csv",
            "layout": "long",
            "subject": {"column": "载体"},
            "indicator_column": "指标",
            "value_column": "数值",
            "unit_column": "单位",
            "period_column": "年份",
        },
        1,
        tmp_path / "sources.toml",
    )
    result = collect(collect_engine, spec)
    frame = store.observations_frame(collect_engine)
    got = {(r.indicator, r.period): r.value for r in frame.itertuples()}
    assert got == {
        ("incubatees", "2023"): 30,
        ("incubatee_revenue", "2023"): 150_000,
        ("incubatee_employees", "2023"): 300,
    }
    assert result.rejected == 1
    assert "unknown indicator '不存在的指标'" in store.rejections_frame(collect_engine)["reason"][0]


def test_globs_stay_in_the_declared_folder(collect_engine, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("x\n1\n", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    os.symlink(outside, folder / "link.csv")
    (folder / "good.csv").write_bytes(GBK_CSV.encode("gbk"))
    result = collect(collect_engine, _spec(tmp_path))
    # The symlink is refused on its own; the good file beside it lands.
    assert result.status is models.RunStatus.partial
    assert result.accepted > 0
    reasons = store.rejections_frame(collect_engine)["reason"].tolist()
    assert any("link.csv is a symlink leading outside" in r for r in reasons)
    bad = collect(collect_engine, _spec(tmp_path, location="*/x.csv"))
    assert "a glob may only be in the file name" in bad.error


def test_size_limit_and_zip_bomb(collect_engine, tmp_path):
    _write_gbk(tmp_path)
    small = collect(collect_engine, _spec(tmp_path, max_bytes=100))
    assert small.status is models.RunStatus.failed
    assert "exceed the limit of 100" in small.error
    folder = tmp_path / "bomb"
    folder.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))
    (folder / "bomb.xlsx").write_bytes(buffer.getvalue())
    result = collect(collect_engine, _spec(tmp_path, location="bomb/*.xlsx"))
    assert result.status is models.RunStatus.failed
    assert "zip bomb" in result.error


def test_a_crash_mid_run_leaves_the_store_as_it_was(collect_engine, tmp_path, monkeypatch):
    _write_gbk(tmp_path)

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")

    # Fault injection: the rejections are written after the observations, in one transaction.
    monkeypatch.setattr(store, "add_rejections", crash)
    result = collect(collect_engine, _spec(tmp_path))
    assert result.status is models.RunStatus.failed
    assert "disk on fire" in result.error
    assert store.count_rows(collect_engine, models.Observation) == 0
    runs = store.runs_frame(collect_engine)
    assert runs["status"].tolist() == ["failed"]
    assert runs["state"].tolist() == [""]  # the file hash is not remembered: retried next time
    monkeypatch.undo()
    retry = collect(collect_engine, _spec(tmp_path))
    assert retry.accepted > 0


def test_config_errors_list_what_is_allowed(tmp_path):
    unknown = r"source #1 'x': unknown key or table 'colums'; expected: aliases"
    with pytest.raises(ConfigError, match=unknown):
        parse_source(
            {"id": "x", "collector": "file", "location": "a.csv", "colums": {}},
            1,
            tmp_path / "sources.toml",
        )
    with pytest.raises(ConfigError, match="collector = 'ftp'; expected one of 'file', 'json_api'"):
        parse_source(
            {"id": "x", "collector": "ftp", "location": "a.csv"}, 1, tmp_path / "sources.toml"
        )
    with pytest.raises(ConfigError, match="secrets are never written"):
        parse_source(
            {
                "id": "x",
                "collector": "json_api",
                "location": "http://127.0.0.1/x",
                "token": "abc",
                "columns": {"a": "b"},
                "period": "2024",
            },
            1,
            tmp_path / "sources.toml",
        )
    with pytest.raises(ConfigError, match="not in allowed_hosts"):
        parse_source(
            {
                "id": "x",
                "collector": "json_api",
                "location": "http://evil.example/x",
                "allowed_hosts": ["127.0.0.1"],
                "columns": {"a": "b"},
                "period": "2024",
            },
            1,
            tmp_path / "sources.toml",
        )


def test_bundled_sample_sources_parse(config_dir):
    specs = load_sources(
        config_dir, config_dir / "samples" / "sources.toml", {"demo_server": "http://127.0.0.1:9"}
    )
    assert [s.collector for s in specs] == ["file", "file", "json_api", "html_table"]
    assert all(s.demo for s in specs)


def test_indicators_are_accepted_in_the_plans_own_words(collect_engine, tmp_path):
    """The plan calls the share 高新技术产业产值占工业产值比重 (table) and
    高新技术产业产值占规上工业总产值比重 (text): both are aliases, in long and wide files."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "long.csv").write_text(
        "地区,指标,数值,年份\n"
        "南通市,高新技术产业产值占工业产值比重,47.12,2023\n"
        "海门区,高新技术产业产值占规上工业总产值比重,45.3,2023\n"
        "南通市,高新技术企业,3000,2023\n",
        encoding="utf-8",
    )
    long = collect(
        collect_engine,
        parse_source(
            {
                "id": "long",
                "collector": "file",
                "location": "in/long.csv",
                "layout": "long",
                "subject": {"column": "地区", "type": "region"},
                "indicator_column": "指标",
                "value_column": "数值",
                "period_column": "年份",
            },
            1,
            tmp_path / "sources.toml",
        ),
    )
    (folder / "wide.csv").write_text("地区,高新产值占比\n如皋市,44.4\n", encoding="utf-8")
    wide = collect(
        collect_engine,
        parse_source(
            {
                "id": "wide",
                "collector": "file",
                "location": "in/wide.csv",
                "subject": {"column": "地区", "type": "region"},
                "period": "2023",
                "columns": {"高新产值占比": "高新技术产业产值占规上工业总产值比重"},
            },
            2,
            tmp_path / "sources.toml",
        ),
    )
    assert (long.accepted, wide.accepted) == (2, 1)
    frame = store.observations_frame(collect_engine)
    assert set(frame["indicator"]) == {"hightech_output_share"}
    assert sorted(frame["value"]) == [44.4, 45.3, 47.12]
    (reason,) = store.rejections_frame(collect_engine, source_id="long")["reason"]
    # a near miss names each candidate once, with its code: the city's and the zones' figures
    assert "高新技术企业数 (hightech_firms)" in reason
    assert "园区高新技术企业数 (zone_hightech_firms)" in reason
    assert reason.count("(hightech_firms)") == 1


def test_an_indicator_name_used_twice_is_refused(tmp_path, config_dir):
    import shutil

    from monitor.indicators import load_indicators

    copy = tmp_path / "config"
    shutil.copytree(config_dir, copy)
    path = copy / "indicators.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('name_zh = "园区技术合同成交额"', 'name_zh = "技术合同成交额"'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="the name '技术合同成交额' is already used by"):
        load_indicators(copy)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("47", (47, "eq")),
        ("第47位", (47, "eq")),
        (41.0, (41, "eq")),
        ("> 25", (25, "gt")),
        ("前25名以外", (25, "gt")),
        ("未进入前20名", (20, "gt")),
        ("20名以外", (20, "gt")),
    ],
)
def test_ranking_positions_and_bounds(text, expected):
    from collectors.lists import parse_position

    assert parse_position(text) == expected


def test_a_published_ranking_is_collected_like_any_source(collect_engine, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "rank.csv").write_text(
        "城市,位次,参评城市数\n南通市,前20名以外,101\n海门区,第3位,\n无名市,5,\n南通市,19,101\n",
        encoding="utf-8",
    )
    spec = parse_source(
        {
            "id": "city-ranking-2024",
            "collector": "file",
            "records": "rankings",
            "ranking": "innovative-city",
            "location": "in/rank.csv",
            "subject": {"column": "城市", "type": "region"},
            "fields": {"name": "城市", "position": "位次", "out_of": "参评城市数"},
            "year": 2024,
            "issuer": "中国科学技术信息研究所",
            "document": "国家创新型城市创新能力评价报告2024",
        },
        1,
        tmp_path / "sources.toml",
    )
    result = collect(collect_engine, spec)
    assert result.status is models.RunStatus.partial
    rows = store.rankings_frame(collect_engine)
    rows = rows[rows["note"].str.contains("city-ranking-2024")]
    got = {(r["subject_id"], r["position"], r["relation"]) for r in rows.to_dict("records")}
    assert got == {("320614", 3, "eq")}  # 南通市 twice: a conflict, neither row stored
    reasons = " ".join(store.rejections_frame(collect_engine)["reason"])
    assert "unknown subject '无名市'" in reasons
    assert reasons.count("conflict:") == 2
    note = rows["note"].iloc[0]
    assert note.startswith("中国科学技术信息研究所，国家创新型城市创新能力评价报告2024。")


def test_a_packed_row_keeps_its_quarantine_copy():
    """Rows are packed once mapped (memory); what a quarantine would store stays the same."""
    import datetime as dt

    from collectors.tables import RawRow, TableRows

    cells = {
        "载体名称": "甲孵化器",
        "在孵企业数": 12,
        "收入": 3.5,
        "空": None,
        "日期": dt.date(2024, 5, 1),
    }
    row = RawRow("a.xlsx, row 3", dict(cells))
    before = row.raw
    table = TableRows(list(cells), [row, RawRow("a.xlsx, row 4", {"other": 1})])
    table.pack()
    assert row.raw == before == {**cells, "日期": "2024-05-01"}
    assert row.location == "a.xlsx, row 3"
    assert table.rows[1].raw == {"other": 1}  # a row with other headers keeps its own


def test_sources_collected_side_by_side_take_turns_to_write_sqlite(
    collect_engine, tmp_path, monkeypatch
):
    """SQLite has one writer: two sources collected at once (``collect --all``, the scheduler's
    workers) write one after the other, never both inside a write transaction — a large run's
    transaction can outlast the busy timeout of the other waiting in the driver."""
    import threading

    from collectors import run

    events: list[tuple[str, str]] = []
    inside = threading.Event()
    original = store.upsert_observations

    def recorded(engine, frame, *, source_id, **kw):
        events.append(("start", source_id))
        inside.set()
        threading.Event().wait(0.3)  # hold the write a while: an overlap would show
        result = original(engine, frame, source_id=source_id, **kw)
        events.append(("end", source_id))
        return result

    monkeypatch.setattr(store, "upsert_observations", recorded)
    specs = []
    for name in ("a", "b"):
        folder = tmp_path / f"in-{name}"
        folder.mkdir()
        (folder / "r.csv").write_text("载体名称,在孵企业数\n甲孵化器,4\n乙孵化器,5\n", "utf-8")
        specs.append(
            parse_source(
                {
                    "id": f"office-{name}",
                    "collector": "file",
                    "location": f"in-{name}/*.csv",
                    "subject": {"column": "载体名称"},
                    "period": "2024",
                    "columns": {"在孵企业数": "incubatees"},
                },
                1,
                tmp_path / "sources.toml",
            )
        )
    results = run.collect_many(collect_engine, specs, max_workers=2)
    assert [r.status for r in results] == [models.RunStatus.ok] * 2
    assert inside.is_set()
    open_now = 0
    for kind, _ in events:
        open_now += 1 if kind == "start" else -1
        assert open_now <= 1, events
    assert sorted(s for k, s in events if k == "end") == ["office-a", "office-b"]
