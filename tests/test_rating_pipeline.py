"""Rating the demo year end to end: stored, reproducible, hashed, reported (HTML and Excel)."""

from __future__ import annotations

import re

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from monitor import db, evaluation, models, publish, store
from monitor.rating import load_methodology


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, copy_demo):
    return copy_demo(tmp_path_factory.mktemp("demo"))


def test_rerunning_a_year_gives_identical_stored_results(demo_db, config_dir, tmp_path):
    engine = db.make_engine(f"sqlite:///{demo_db}")
    try:
        evaluation.rate_year(engine, config_dir, 2024)
        first = store.ratings_frame(engine, 2024).drop(columns=["id"])
        evaluation.rate_year(engine, config_dir, 2024)
        second = store.ratings_frame(engine, 2024).drop(columns=["id"])
        assert len(first) > 150
        assert first.equals(second)
        kinds = set(first["methodology"])
        assert kinds == {
            "incubator-stars",
            "maker-space-stars",
            "zone-capability",
            "district-capability",
        }
        zones = first[first["methodology"] == "zone-capability"]
        assert set(zones["subject_id"]) >= {"NT-Z01", "NT-Z02", "NT-Z03", "NT-Z04"}
        districts = first[first["methodology"] == "district-capability"]
        assert len(districts) == 7
        assert set(districts["subject_type"]) == {"region"}
        # A changed weight is a new methodology hash: new rows, the old ones kept.
        text = (config_dir / "ratings" / "incubator.toml").read_text(encoding="utf-8")
        changed_dir = tmp_path / "cfg"
        import shutil

        shutil.copytree(config_dir, changed_dir)
        (changed_dir / "ratings" / "incubator.toml").write_text(
            text.replace("points = 6\nfloor = 3", "points = 7\nfloor = 3", 1), encoding="utf-8"
        )
        old_hash = load_methodology(config_dir / "ratings" / "incubator.toml").content_hash
        new_hash = load_methodology(changed_dir / "ratings" / "incubator.toml").content_hash
        assert old_hash != new_hash
        evaluation.rate_year(engine, changed_dir, 2024, ["incubator"])
        after = store.ratings_frame(engine, 2024)
        assert set(after.loc[after["methodology"] == "incubator-stars", "methodology_hash"]) == {
            old_hash,
            new_hash,
        }
        assert len(after) == len(first) + len(first[first["methodology"] == "incubator-stars"])
    finally:
        engine.dispose()


@pytest.mark.slow
def test_every_year_rates_and_vetoes_show(demo_db, config_dir):
    engine = db.make_engine(f"sqlite:///{demo_db}")
    try:
        statuses = set()
        for year in range(2020, 2026):
            runs = evaluation.rate_year(engine, config_dir, year)
            assert {r.methodology.name for r in runs} >= {"incubator-stars", "maker-space-stars"}
            for run in runs:
                statuses |= set(run.result.table["status"])
    finally:
        engine.dispose()
    assert "vetoed" in statuses  # the demo's two veto cases (一票否决)
    engine = db.make_engine(f"sqlite:///{demo_db}")
    try:
        before = store.count_rows(engine, models.Rating)
        assert evaluation.rate_year(engine, config_dir, 1999) == []  # no figures: nothing rated
        assert store.count_rows(engine, models.Rating) == before
    finally:
        engine.dispose()


@pytest.mark.slow
def test_cli_rate_explain_and_reports(demo_db, tmp_path):
    from typer.testing import CliRunner

    from monitor.cli import app

    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args: str):
        result = runner.invoke(app, ["--db", str(demo_db), *args])
        assert result.exit_code == 0, (args, result.output)
        return result

    rate = run("rate", "2025", "--kind", "incubator", "--explain", "DEMO-I004")
    assert "科技企业孵化器运营绩效星级评定" in rate.stdout
    assert "示例孵化器-04（演示）" in rate.stdout
    assert "各项失分" in rate.stdout
    html_path = tmp_path / "r.html"
    run("report", "2025", "--out", str(html_path))
    page = html_path.read_text(encoding="utf-8")
    assert "演示数据" in page  # the demo banner
    assert "<svg" in page
    assert "南通高新区" in page
    assert "<script" not in page
    # each rating says how much of it rests on reported figures
    assert "<th>数据完整度</th>" in page and re.search(r"<td>[1-9]\d?%</td></tr>", page)
    xlsx_path = tmp_path / "r.xlsx"
    run("report", "2025", "--format", "xlsx", "--out", str(xlsx_path))
    book = openpyxl.load_workbook(xlsx_path, read_only=True)
    names = book.sheetnames
    assert "改进建议" in names
    assert "评价方法" in names
    assert any("孵化器" in n for n in names)
    for name in names:  # every sheet, the explanations and the methodology included
        first_row = next(book[name].iter_rows(values_only=True))
        assert "演示数据" in str(first_row[0]), name
    book.close()
    full = openpyxl.load_workbook(xlsx_path)
    ratings = next(ws for ws in full.worksheets if "孵化器" in ws.title)
    assert ratings.freeze_panes == "D3"  # the header stays in view, under the banner
    assert ratings["A2"].font.bold and ratings["A2"].value == "排名"
    # the early warning: second failures first, each with its level and its levers
    warning = full["风险预警"]
    assert warning["A3"].value == "编号" and warning["M3"].value == "改进抓手"
    rows = list(warning.iter_rows(min_row=4, values_only=True))
    assert len(rows) == len({r[0] for r in rows}) > 100
    levels = [r[2] for r in rows]
    again = levels.count("连续两年不合格风险")
    assert again and levels[:again] == ["连续两年不合格风险"] * again
    assert set(levels[again:]) <= {"高", "关注", "低"}
    assert any("→" in (r[12] or "") for r in rows)
    # (the terminal outputs' demo banner is checked in test_labels_speak_one_language)


def test_names_are_escaped_in_the_html_report(demo_db, config_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy.db"
    shutil.copy(demo_db, copy)
    engine = db.make_engine(f"sqlite:///{copy}")
    try:
        with engine.begin() as conn:
            conn.execute(
                store.T_PARK.update()
                .where(store.T_PARK.c.id == "DEMO-I004")
                .values(name="<img src=x onerror=alert(1)>")
            )
        runs = evaluation.rate_year(engine, config_dir, 2025, ["incubator"])
    finally:
        engine.dispose()
    from monitor.report import render_html

    page = render_html(runs, 2025, districts={}, demo=True)
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_cli_compare_and_goals_on_the_demo(demo_db, tmp_path):
    from typer.testing import CliRunner

    from monitor.cli import app

    runner = CliRunner(env={"COLUMNS": "300"})

    def run(*args: str, code: int = 0):
        result = runner.invoke(app, ["--db", str(demo_db), *args])
        assert result.exit_code == code, (args, result.output)
        return result

    table = run("compare", "DEMO-I004", "DEMO-I006")
    assert "示例孵化器-06（演示）" in table.stdout
    assert "强项" in table.stdout
    for lang in ("zh", "en"):
        page = tmp_path / f"c-{lang}.html"
        run("--lang", lang, "compare", "DEMO-I004", "--against", "district", "--format", "html",
            "--out", str(page))  # fmt: skip
        text = page.read_text(encoding="utf-8")
        assert "<svg" in text
        assert ("载体对比" in text) == (lang == "zh")
        assert ("Percentile among peers" in text) == (lang == "en")
    goals = run("goals", "--district", "如东县")
    # a district is never measured against the city's targets: figures only, except its own
    # (illustrative) share of the +30 new provincial carriers
    assert "无分解目标" in goals.stdout
    assert "示例分解，非规划数据" in goals.stdout
    # a carrier rated "incomplete" that year has no stars or rank: it says so (no crash)
    incomplete = run("compare", "DEMO-I015", "DEMO-I049", "--year", "2020")
    assert "数据不全" in incomplete.stdout and "同类排名 —/—" in incomplete.stdout
    bad = run("compare", "NOPE", code=1)
    assert "unknown carrier id(s) NOPE" in str(bad.exception)


@pytest.mark.slow
def test_hostile_names_are_text_in_the_report_workbook(demo_db, config_dir, tmp_path):
    import shutil
    import zipfile

    copy = tmp_path / "copy.db"
    shutil.copy(demo_db, copy)
    hostile = {
        "DEMO-I004": '=HYPERLINK("http://x.invalid","a")',
        "DEMO-I005": "=cmd|' /C calc'!A0",
        "DEMO-I006": "@SUM(A1)",
        "DEMO-I007": "+1+2",
    }
    engine = db.make_engine(f"sqlite:///{copy}")
    try:
        with engine.begin() as conn:
            for park_id, name in hostile.items():
                conn.execute(
                    store.T_PARK.update().where(store.T_PARK.c.id == park_id).values(name=name)
                )
        runs = evaluation.rate_year(engine, config_dir, 2025, ["incubator"])
    finally:
        engine.dispose()
    from monitor.report import write_xlsx

    path = write_xlsx(tmp_path / "r.xlsx", runs, 2025, districts={}, demo=True, units={})
    with zipfile.ZipFile(path) as archive:
        for part in archive.namelist():
            if part.startswith("xl/worksheets/"):
                assert "<f>" not in archive.read(part).decode(), part
    book = openpyxl.load_workbook(path)
    cells = {
        c.value: c
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value in hostile.values()
    }
    assert set(cells) == set(hostile.values())
    assert all(c.data_type == "s" and c.quotePrefix for c in cells.values())


def test_contradicting_figures_are_held_for_review_not_rated(collect_engine, config_dir):
    """R&D spending above revenue, reported in two different files, is caught at rating time."""
    import json

    import pandas as pd

    def frame(subject, values):
        return pd.DataFrame(
            [
                {
                    "subject_type": "park",
                    "subject_id": subject,
                    "indicator": k,
                    "period": "2025",
                    "value": v,
                    "raw_value": str(v),
                    "raw_unit": "",
                }
                for k, v in values.items()
            ]
        )

    with collect_engine.begin() as conn:
        store.ensure_source(conn, "torch", kind="file")
        store.ensure_source(conn, "office", kind="file")
    figures = {
        "incubatees": 40.0,
        "incubatee_employees": 400.0,
        "incubatee_revenue": 5000.0,
        "graduated_this_year": 3.0,
        "graduated_cumulative": 20.0,
        "mentors": 10.0,
    }
    store.upsert_observations(collect_engine, frame("T-I01", figures), source_id="torch")
    store.upsert_observations(collect_engine, frame("T-I02", figures), source_id="torch")
    store.upsert_observations(
        collect_engine, frame("T-I01", {"incubatee_rd_spending": 9000.0}), source_id="office"
    )
    runs = evaluation.rate_year(collect_engine, config_dir, 2025, ["incubator"])
    table = runs[0].result.table
    assert table.loc["T-I01", "status"] == "held"
    assert pd.isna(table.loc["T-I01", "stars"]) and pd.isna(table.loc["T-I01", "rank"])
    assert "在孵企业R&D投入 9000 > 在孵企业总收入 5000" in table.loc["T-I01", "review"]
    assert table.loc["T-I02", "status"] != "held"
    stored = store.ratings_frame(collect_engine, 2025).set_index("subject_id")
    assert stored.loc["T-I01", "status"] == "held"
    assert "在孵企业研发投入超过其总收入" in json.loads(stored.loc["T-I01", "breakdown"])["review"]


LATIN_WORD = __import__("re").compile(r"[A-Za-z]{3,}")
CJK = __import__("re").compile(r"[\u4e00-\u9fff]")
ALLOWED_LATIN = {"parkmon", "GDP", "PCT", "R&D"}


def _heading_lines(output: str) -> list[str]:
    """A rich table's title and header row: every line up to the header's bottom border."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("┡"):
            return lines[:i]
    return lines[:3]


@pytest.mark.parametrize(
    "args",
    [
        ["parks", "list"],
        ["runs"],
        ["rejects"],
        ["rankings"],
        ["rate", "2025"],
        ["goals"],
        ["compare", "NT-Z01", "--year", "2024"],
    ],
)
def test_labels_speak_one_language(demo_db, args):
    """Titles and column headers of every table: no English in Chinese output, no Chinese in
    English output (names and values in the rows are data, not labels)."""
    from typer.testing import CliRunner

    from monitor.cli import app

    runner = CliRunner(env={"COLUMNS": "400"})
    zh = runner.invoke(app, ["--db", str(demo_db), "--lang", "zh", *args])
    en = runner.invoke(app, ["--db", str(demo_db), "--lang", "en", *args])
    assert zh.exit_code == 0 and en.exit_code == 0, (zh.output, en.output)
    if args[0] in ("rate", "goals", "compare"):  # made from demo data, and saying so
        assert "演示数据" in zh.stdout and "Demo data" in en.stdout, args
    if args == ["goals"]:
        as_json = runner.invoke(app, ["--db", str(demo_db), "goals", "--format", "json"])
        assert "演示数据" in as_json.stderr and as_json.stdout.lstrip().startswith("[")
    for line in _heading_lines(zh.stdout):
        words = set(LATIN_WORD.findall(line)) - ALLOWED_LATIN
        assert not words, (args, line)
    for line in _heading_lines(en.stdout):
        if "演示" in line:  # the demo banner is translated too
            raise AssertionError(line)
        assert not CJK.search(line), (args, line)


def test_the_site_index_speaks_one_language(demo_db, config_dir, tmp_path):
    import html

    from monitor.i18n import t

    engine = db.make_engine(f"sqlite:///{demo_db}")
    try:
        for lang in ("zh", "en"):
            index = publish.build_site(engine, config_dir, tmp_path / lang, lang=lang)
            page = index.read_text(encoding="utf-8")
            for key in ("site.region_desc", "site.progress_desc", "site.note"):
                assert html.escape(t(key, lang)) in page
            other = "en" if lang == "zh" else "zh"
            assert t("site.note", other) not in page
            assert f"<html lang='{'zh-CN' if lang == 'zh' else 'en'}'>" in page
            report = next(index.parent.glob("report-*.html")).read_text(encoding="utf-8")
            assert f"<html lang='{'zh-CN' if lang == 'zh' else 'en'}'>" in report
    finally:
        engine.dispose()


@pytest.mark.slow
def test_the_report_speaks_one_language(demo_db, config_dir, tmp_path):
    """The report page and workbook in Chinese have no English labels, and in English no
    Chinese ones: what remains of the other script is names (carriers, districts), indicator
    codes, methodology ids and hashes."""
    import html
    import re

    from monitor.report import render_html, write_xlsx
    from monitor.units import UNITS

    engine = db.make_engine(f"sqlite:///{demo_db}")
    try:
        runs = evaluation.rate_year(engine, config_dir, 2025)
        rows = store.indicator_rows(engine)
    finally:
        engine.dispose()
    english = {r["code"]: r["name_en"] for r in rows}
    names = sorted({n for run in runs for n in run.names.values()}, key=len, reverse=True)
    identifiers = {r["code"] for r in rows} | {run.methodology.name for run in runs}
    identifiers |= {str(i) for run in runs for i in run.names}  # carrier and region ids
    identifiers |= {"GDP", "R&D", "UTC", "parkmon"}

    def leftover_latin(text: str) -> set[str]:
        words = set(re.findall(r"[A-Za-z][A-Za-z0-9_&-]{2,}", text))
        return {w for w in words - identifiers if not re.fullmatch(r"[0-9a-f]{6,}", w)}

    def leftover_cjk(text: str) -> list[str]:
        for name in names:
            text = text.replace(name, " ")
        return CJK.findall(text.replace("★", ""))

    for lang in ("zh", "en"):
        page = render_html(runs, 2025, districts={}, demo=True, lang=lang, names_en=english)
        page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
        text = html.unescape(re.sub(r"<[^>]+>", " ", page))
        path = write_xlsx(
            tmp_path / f"{lang}.xlsx",
            [r for r in runs if r.methodology.name in ("incubator-stars", "district-capability")],
            2025,
            districts={},
            demo=True,
            units={c: "家" for c in english},
            lang=lang,
            names_en=english,
        )
        book = openpyxl.load_workbook(path)
        cells = [
            str(c.value)
            for ws in book.worksheets
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value not in UNITS
        ]
        texts = [text, *(ws.title for ws in book.worksheets), *cells]
        for piece in texts:
            if lang == "zh":
                assert not leftover_latin(piece), (leftover_latin(piece), piece[:200])
            else:
                assert not leftover_cjk(piece), (leftover_cjk(piece), piece[:200])


def test_the_report_shows_stored_ratings_and_never_writes(copy_demo, tmp_path):
    """A report renders what `parkmon rate` stored: it writes nothing, says when figures changed
    after the rating, and asks for `parkmon rate YEAR` when the year was never rated."""
    from typer.testing import CliRunner

    from monitor.cli import app
    from monitor.errors import ConfigError

    database = copy_demo(tmp_path)
    engine = db.make_engine(f"sqlite:///{database}")
    runner = CliRunner(env={"COLUMNS": "200"})

    def report(*extra: str):
        out = tmp_path / "r.html"
        result = runner.invoke(
            app, ["--db", str(database), *extra, "report", "2025", "--out", str(out)]
        )
        return result, (out.read_text(encoding="utf-8") if result.exit_code == 0 else "")

    try:
        before = store.ratings_frame(engine)
        result, page = report()
        assert result.exit_code == 0, result.output
        pd.testing.assert_frame_equal(store.ratings_frame(engine), before)  # nothing rewritten
        assert "数据在评定后有变化" not in page
        # A figure behind a stored rating changes: the report still shows the stored rating
        # and names the carrier whose figures moved.
        stored = before[(before["subject_id"] == "DEMO-I004") & (before["year"] == 2025)]
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE observation SET value = value * 50 WHERE subject_id = 'DEMO-I004' "
                    "AND period = '2025' AND indicator = 'incubatee_revenue'"
                )
            )
        result, page = report()
        assert result.exit_code == 0, result.output
        assert "数据在评定后有变化" in page and "DEMO-I004" in page
        pd.testing.assert_frame_equal(store.ratings_frame(engine), before)
        result, page = report("--lang", "en")
        assert "changed after they were rated" in page
        assert f"{float(stored['score'].iloc[0]):,.1f}" in page  # the stored score, not today's
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM rating WHERE year = 2025"))
        result, _ = report()
        assert result.exit_code != 0
        assert isinstance(result.exception, ConfigError)
        assert "parkmon rate 2025" in str(result.exception)
    finally:
        engine.dispose()
