"""What parkmon tells a sender about their data, in the reader's language.

Every catalogue entry is checked in both languages; a real collection of a file full of mistakes
is then read back through ``parkmon rejects`` in Chinese and English.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from collectors.run import collect
from collectors.sources import parse_source
from monitor import messages, store
from monitor.cli import app
from monitor.messages import CATALOGUE, Where, msg

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_.]{2,}")
# What stays Latin in Chinese text: file formats, encodings, protocols and the names of settings
# a reader types into sources.toml (max_rows, allowed_hosts …), which are not translated.
TECHNICAL = {
    "CSV", "XLSX", "XLS", "JSON", "UTF-8", "GB18030", "HTTP", "http", "https", "XML", "zip",
    "max_bytes", "max_rows", "max_columns", "max_cells", "pagination.size", "items", "format",
    "csv", "xlsx", "xls", "parks.csv", "city.toml", "aliases", "allowed_hosts",
    "run_deadline_s", "deadline_s", "max_pages", "defusedxml", "openpyxl", "table", "UTF",
}  # fmt: skip
# What a reader types into a cell, quoted in English messages as the accepted spellings.
CELL_WORDS = ("是/否", "国家级", "省级", "市级", "第47位", "前25名以外")


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def _without_fields(template: str) -> str:
    return re.sub(r"\{[^{}]*\}", " ", template)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_each_message_speaks_one_language(code):
    zh, en = CATALOGUE[code]
    zh_words = set(LATIN_WORD.findall(_without_fields(zh))) - TECHNICAL
    assert not zh_words, (code, zh_words)
    english = _without_fields(en)
    for word in CELL_WORDS:
        english = english.replace(word, "")
    assert not CJK.search(english), (code, en)
    # Both render from the same parameters.
    params = {f.split("!")[0]: "x" for f in _fields(zh) | _fields(en)}
    message = messages.Msg(code, params)
    assert "x" in message.render("zh") or not params
    assert message.render("en") == str(message)


def test_a_message_survives_storage_with_its_parts():
    inner = msg("value.number", value="约3千")
    outer = msg("at", where=Where("园区.xlsx, sheet '2024', row 7"), message=inner)
    listed = msg("table.no_column", column="名称", headers=["序号", "载体"])
    for message in (outer, listed):
        again = messages.from_json(message.to_json())
        assert again is not None
        assert again.render("zh") == message.render("zh")
        assert again.render("en") == message.render("en")
    assert outer.render("zh") == "园区.xlsx，工作表“2024”，第 7 行：应为数字，实际为“约3千”"
    assert outer.render("en") == "园区.xlsx, sheet '2024', row 7: expected a number, got '约3千'"
    assert listed.render("zh").endswith("序号、载体")
    quoting = msg("table.no_column", column="名称", headers=messages.quoted(["序号", "载体"]))
    assert quoting.render("zh").endswith("“序号”、“载体”")
    assert quoting.render("en").endswith("'序号', '载体'")
    assert messages.from_json(quoting.to_json()) == quoting
    # Plain text (an older database) is shown as it was stored, in either language.
    assert (
        messages.location("http://127.0.0.1:8000/notice.html, table 0, row 4", "zh")
        == "http://127.0.0.1:8000/notice.html，第 1 个表格，第 4 行"
    )
    assert messages.stored("", "old reason", "zh") == "old reason"
    assert messages.stored("{not json", "old reason", "zh") == "old reason"


BAD_CSV = """\
载体名称,年份,在孵企业数（家）,在孵企业从业人员（人）,在孵企业总收入（万元）,孵化场地面积（平方米）
甲孵化器,2024,约50,100,20,300
乙孵化器,二〇二四,10,100,20,300
丙众创空间,2024,10,100,20斤,300
戊孵化器,2024,10,100,20,300
丁众创空间,2024,-3,100,20,300
,2024,5,10,1,10
"""


def _spec(tmp_path: Path):
    item = {
        "id": "office",
        "collector": "file",
        "location": "in/*.*",
        "subject": {"column": "载体名称"},
        "period_column": "年份",
        "columns": {
            "在孵企业数": "incubatees",
            "在孵企业从业人员": "incubatee_employees",
            "在孵企业总收入": "incubatee_revenue",
            "孵化场地面积": "incubation_area",
        },
    }
    return parse_source(item, 1, tmp_path / "sources.toml")


def test_rejections_read_in_the_readers_language(collect_engine, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "海门区.csv").write_bytes(BAD_CSV.encode("gbk"))
    (folder / "坏文件.xlsx").write_bytes(b"this is not a workbook")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["名称", "年份"])  # the subject column is missing
    sheet.append(["甲孵化器", 2024])
    book.save(folder / "缺列.xlsx")
    result = collect(collect_engine, _spec(tmp_path))
    assert result.rejected == 8, store.rejections_frame(collect_engine)[["location", "reason"]]
    names = [r[1] for r in store.subject_rows(collect_engine, "park")]

    zh = store.rejections_frame(collect_engine, lang="zh")
    en = store.rejections_frame(collect_engine, lang="en")
    for text in [*zh["reason"], *zh["location"]]:
        shown = re.sub(r"“[^”]*”", " ", text)  # the values and names quoted from the file
        for name in names:
            shown = shown.replace(name, " ")
        words = set(LATIN_WORD.findall(shown)) - TECHNICAL - {"T-I01", "T-I02", "T-M01"}
        words = {w for w in words if not re.fullmatch(r"T-[IM]\d\d", w)}
        assert not words, text
    for text in en["reason"]:
        shown = re.sub(r"(?<![A-Za-z])'[^']*'", " ", text)  # quoted values, not "Incubatees' "
        for name in names:
            shown = shown.replace(name, " ")
        assert not CJK.search(shown), text
    reasons = " | ".join(zh["reason"])
    for expected in (
        "应为数字",
        "统计期",
        "无法识别的单位",
        "未登记的载体",
        "不小于 0",
        "载体名称或编号为空",
    ):
        assert expected in reasons, expected
    assert "不是 XLSX 文件" in reasons and "没有“载体名称”列" in reasons
    assert any("第 2 行" in loc for loc in zh["location"])
    assert "expected a number, got '约50'" in " | ".join(en["reason"])
    # Indicators are named in the reader's language.
    assert "在孵企业数：应为数字" in reasons
    assert "Incubat" in " | ".join(en["reason"])

    runner = CliRunner(env={"COLUMNS": "400"})
    database = str(collect_engine.url.database)
    out_zh = runner.invoke(app, ["--db", database, "--lang", "zh", "rejects"])
    out_en = runner.invoke(app, ["--db", database, "--lang", "en", "rejects"])
    assert out_zh.exit_code == 0 and out_en.exit_code == 0, out_zh.output
    assert "应为数字" in out_zh.stdout and "expected a number" not in out_zh.stdout
    assert "expected a number" in out_en.stdout and "应为数字" not in out_en.stdout
    exported = tmp_path / "拒收.csv"
    runner.invoke(app, ["--db", database, "--lang", "zh", "rejects", "--csv", str(exported)])
    assert "应为数字" in exported.read_text(encoding="utf-8-sig")
