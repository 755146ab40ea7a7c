"""Reporting rounds and pre-filled workbooks: the bureau opens a round from the command line;
each office sees and downloads only its own carriers' workbooks (another carrier's answers as
if it did not exist), pre-filled with last year's figures and safe to open in Excel or WPS."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import date

import openpyxl
import pytest
from conftest import copy_sqlite

from monitor import accounts, db, rounds, store

PASSWORD = "a long enough password"
OWN, OTHER = "DEMO-I001", "DEMO-I002"  # in 如皋市 (320682) and in another district


@pytest.fixture(scope="module")
def portal_template(tmp_path_factory, copy_demo):
    """The demo with the portal's accounts and one round, built once for the module (hashing
    five passwords and opening the round are the slow part); each test gets its own copy."""
    path = copy_demo(tmp_path_factory.mktemp("portal-template"))
    engine = db.make_engine(f"sqlite:///{path}")
    actor = accounts.Actor("test")
    for name, role, extra in [
        ("admin1", "admin", {}),
        ("district1", "district", {"district": "320682"}),
        ("park1", "park", {"parks": [OWN]}),
        ("park2", "park", {"parks": [OTHER]}),
        ("viewer1", "viewer", {}),
    ]:
        accounts.add_account(engine, name, role, PASSWORD, actor=actor, **extra)
    rounds.add_round(
        engine,
        "2025-annual",
        "2025 年度报表",
        2025,
        date(2026, 3, 31),
        ["incubator"],
        actor=accounts.Actor("cli:test"),
    )
    engine.dispose()
    return path


@pytest.fixture
def portal_db(tmp_path, portal_template):
    return copy_sqlite(portal_template, tmp_path)


def _sign_in(client, name):
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token})
    assert answer.status_code == 303, answer.text[:300]


def test_a_round_is_opened_and_listed(portal_db, cli):
    opened = cli(
        "--db",
        str(portal_db),
        "rounds",
        "add",
        "2025-makers",
        "--title",
        "众创空间年报",
        "--year",
        "2025",
        "--deadline",
        "2026-04-30",
        "--kind",
        "maker_space",
        cwd=portal_db.parent,
    )
    assert "round 2025-makers opened" in opened.stderr
    listed = json.loads(
        cli(
            "--db", str(portal_db), "rounds", "list", "--format", "json", cwd=portal_db.parent
        ).stdout
    )
    assert [r["id"] for r in listed] == ["2025-makers", "2025-annual"]  # latest deadline first
    asked = listed[1]["indicators"].split("|")
    assert "incubatees" in asked and listed[1]["kinds"] == "incubator"
    assert listed[0]["kinds"] == "maker_space"
    engine = db.make_engine(f"sqlite:///{portal_db}")
    log = accounts.audit_frame(engine)
    engine.dispose()
    assert log["action"].iloc[0] == "round.add" and log["actor"].iloc[0].startswith("cli:")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--kind", "castle"], "kinds castle: expected one or more of"),
        (["--kind", "incubator", "--indicator", "nope"], "no indicator nope in the catalogue"),
        (["--kind", "incubator", "--deadline", "31/03/2026"], "a date YYYY-MM-DD expected"),
        (["--kind", "incubator", "--id", "2025-annual"], "exists already"),
    ],
)
def test_a_wrong_round_is_refused(portal_db, cli, args, expected):
    round_id = "2025-annual" if "--id" in args else "2025-b"
    options = [a for a in args if a not in ("--id", "2025-annual")]
    if "--deadline" not in options:
        options += ["--deadline", "2026-03-31"]
    result = cli(
        "--db",
        str(portal_db),
        "rounds",
        "add",
        round_id,
        "--title",
        "t",
        "--year",
        "2025",
        *options,
        cwd=portal_db.parent,
        ok=False,
    )
    assert result.returncode == 1 and expected in result.stderr


def test_each_office_sees_and_downloads_only_its_own_carriers(portal_db, serve_app):
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        page = client.get("/portal").text
        listed = re.findall(r"/portal/2025-annual/([^/]+)/workbook", page)
        assert listed == [OWN]
        own = client.get(f"/portal/2025-annual/{OWN}/workbook")
        assert own.status_code == 200
        assert own.headers["content-disposition"].endswith(f'parkmon-2025-annual-{OWN}.xlsx"')
        # another carrier's workbook, by changing the id in the address: as if it did not exist
        other = client.get(f"/portal/2025-annual/{OTHER}/workbook")
        assert other.status_code == 404
        assert client.get("/portal/no-round/DEMO-I001/workbook").status_code == 404
    with serve_app(portal_db) as client:
        _sign_in(client, "district1")
        listed = re.findall(r"/portal/2025-annual/([^/]+)/workbook", client.get("/portal").text)
        assert OWN in listed and OTHER not in listed
        engine = db.make_engine(f"sqlite:///{portal_db}")
        parks = store.park_table(engine)
        engine.dispose()
        rugao = parks[(parks["kind"] == "incubator") & (parks["district_id"] == "320682")]
        assert sorted(listed) == sorted(rugao["id"])
        assert client.get(f"/portal/2025-annual/{OTHER}/workbook").status_code == 404
    with serve_app(portal_db) as client:
        _sign_in(client, "admin1")
        assert client.get(f"/portal/2025-annual/{OTHER}/workbook").status_code == 200
    with serve_app(portal_db) as client:
        _sign_in(client, "viewer1")
        assert client.get("/portal").status_code == 403
        assert client.get(f"/portal/2025-annual/{OWN}/workbook").status_code == 403


def test_the_workbook_is_pre_filled_with_last_years_figures(portal_db, serve_app):
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        content = client.get(f"/portal/2025-annual/{OWN}/workbook").content
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["填报 Report"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[1][1] == OWN and "示例孵化器" in rows[2][1]
    header = next(i for i, r in enumerate(rows) if r[1] == "指标代码 Code")
    assert header + 1 == rounds.HEADER_ROW
    figures = {r[1]: r for r in rows[header + 1 :] if r[1]}
    assert {r[0] for r in rows[header + 1 :] if r[1]} == {OWN}
    engine = db.make_engine(f"sqlite:///{portal_db}")
    last = store.observations_frame(engine, subjects=[OWN], periods=["2024"])
    engine.dispose()
    for code, value in zip(last["indicator"], last["value"], strict=True):
        if code in figures:
            assert figures[code][4] == pytest.approx(value)  # last year's, for reference
            assert figures[code][5] is None  # this year's: to fill in
    assert figures["incubatees"][3] == "个"  # the unit beside each figure
    assert "说明 Guide" in book.sheetnames


def test_a_hostile_carrier_name_stays_text_in_the_workbook(portal_db, serve_app):
    formula = '=HYPERLINK("http://example.invalid","x")'
    with sqlite3.connect(portal_db) as conn:
        conn.execute("UPDATE park SET name = ? WHERE id = ?", (formula, OWN))
    conn.close()
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        content = client.get(f"/portal/2025-annual/{OWN}/workbook").content
    sheet = openpyxl.load_workbook(io.BytesIO(content))["填报 Report"]
    cell = sheet["B3"]
    assert cell.value == formula and cell.data_type == "s" and cell.quotePrefix


def _filled(content: bytes, values: dict[str, object]) -> bytes:
    """The downloaded workbook with this year's column filled: last year's figure for every
    indicator, except those given in ``values``."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["填报 Report"]
    for row in range(rounds.HEADER_ROW + 1, sheet.max_row + 1):
        code = sheet.cell(row, 2).value
        sheet.cell(row, 6).value = values.get(code, sheet.cell(row, 5).value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _upload(client, data: bytes):
    page = client.get(f"/portal/2025-annual/{OWN}").text
    return client.post(
        f"/portal/2025-annual/{OWN}/upload",
        data={"csrf": _csrf(page)},
        files={"file": ("报表.xlsx", data, "application/octet-stream")},
    )


def test_a_filing_from_upload_to_approval(portal_db, serve_app):
    """A park office uploads its workbook with two defects and sees both explained, fixes them
    and submits; the reviewer returns it, the office corrects it, the reviewer approves; the
    figures arrive as observations with their provenance. Another park office sees none of it."""
    engine = db.make_engine(f"sqlite:///{portal_db}")
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        blank = client.get(f"/portal/2025-annual/{OWN}/workbook").content
        # two defects: a word where a number belongs, and more financed than incubated firms
        bad = _filled(blank, {"mentors": "很多", "incubatees": 52, "financed_incubatees": 999})
        assert _upload(client, bad).status_code == 303
        page = client.get(f"/portal/2025-annual/{OWN}").text
        problems = page.split("data-problems>")[1].split("</table>")[0]
        assert "很多" in problems and "应为数字" in problems
        assert "获投融资的在孵企业多于在孵企业总数" in problems
        assert "第 " in problems and " 行" in problems  # the row, in Chinese
        assert "data-submit" not in page  # nothing with problems can be submitted
        # fixed: 52 incubatees, 8 financed
        good = _filled(blank, {"incubatees": 52, "financed_incubatees": 8})
        assert _upload(client, good).status_code == 303
        page = client.get(f"/portal/2025-annual/{OWN}").text
        assert "data-problems" not in page and "data-submit" in page
        answer = client.post(f"/portal/2025-annual/{OWN}/submit", data={"csrf": _csrf(page)})
        assert answer.status_code == 303
        page = client.get(f"/portal/2025-annual/{OWN}").text
        assert 'data-status="submitted"' in page and 'name="file"' not in page
        # while under review, another upload is refused with the reason
        refused = client.post(
            f"/portal/2025-annual/{OWN}/upload",
            data={"csrf": _csrf(page)},
            files={"file": ("报表.xlsx", good, "application/octet-stream")},
        )
        assert refused.status_code == 409 and "正在审核" in refused.text
    with serve_app(portal_db) as other:
        _sign_in(other, "park2")
        assert other.get(f"/portal/2025-annual/{OWN}").status_code == 404
        assert other.get(f"/portal/2025-annual/{OWN}/workbook").status_code == 404
        page = other.get(f"/portal/2025-annual/{OTHER}").text
        stolen = other.post(
            f"/portal/2025-annual/{OWN}/upload",
            data={"csrf": _csrf(page)},
            files={"file": ("x.xlsx", good, "application/octet-stream")},
        )
        assert stolen.status_code == 404
        assert other.get("/review").status_code == 403
    with serve_app(portal_db) as reviewer:
        _sign_in(reviewer, "admin1")
        queue = reviewer.get("/review").text
        submission = int(re.search(r'href="/review/(\d+)"', queue).group(1))
        page = reviewer.get(f"/review/{submission}").text
        assert "data-review" in page and "52" in page
        returned = reviewer.post(
            f"/review/{submission}/return",
            data={"csrf": _csrf(page), "comment": "在孵企业数与花名册不符，请核对"},
        )
        assert returned.status_code == 303
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        page = client.get(f"/portal/2025-annual/{OWN}").text
        assert 'data-status="returned"' in page and "在孵企业数与花名册不符" in page
        corrected = _filled(blank, {"incubatees": 50, "financed_incubatees": 8})
        assert _upload(client, corrected).status_code == 303
        page = client.get(f"/portal/2025-annual/{OWN}").text
        client.post(f"/portal/2025-annual/{OWN}/submit", data={"csrf": _csrf(page)})
    with serve_app(portal_db) as reviewer:
        _sign_in(reviewer, "admin1")
        page = reviewer.get(f"/review/{submission}").text
        approved = reviewer.post(
            f"/review/{submission}/approve", data={"csrf": _csrf(page), "comment": ""}
        )
        assert approved.status_code == 303
        assert "data-approve" not in reviewer.get(f"/review/{submission}").text
    figures = store.observations_frame(
        engine, subjects=[OWN], periods=["2025"], columns=["citation", "run_id"]
    )
    mine = figures[figures["source_id"] == "portal"]
    assert float(mine.loc[mine["indicator"] == "incubatees", "value"].iloc[0]) == 50
    citation = mine["citation"].iloc[0]
    assert f"portal submission {submission}" in citation
    assert "filed by park1" in citation and "approved by admin1" in citation
    # the office's own filing outranks the demo generator for the current value
    current = store.observations_frame(engine, subjects=[OWN], periods=["2025"])
    assert float(current.loc[current["indicator"] == "incubatees", "value"].iloc[0]) == 50
    actions = list(accounts.audit_frame(engine)["action"])
    engine.dispose()
    assert actions.count("filing.upload") == 3 and actions.count("filing.submit") == 2
    assert "filing.return" in actions and actions[0] == "filing.approve"


def test_an_upload_beyond_the_limit_is_refused_unread(portal_db, serve_app):
    from monitor import submissions

    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        page = client.get(f"/portal/2025-annual/{OWN}").text
        huge = b"PK" + b"\0" * (submissions.MAX_UPLOAD + 200_000)
        answer = client.post(
            f"/portal/2025-annual/{OWN}/upload",
            data={"csrf": _csrf(page)},
            files={"file": ("big.xlsx", huge, "application/octet-stream")},
        )
        assert answer.status_code == 413 and "文件过大" in answer.text
        garbage = client.post(
            f"/portal/2025-annual/{OWN}/upload",
            data={"csrf": _csrf(page)},
            files={"file": ("x.xlsx", b"not a workbook", "application/octet-stream")},
        )
        assert garbage.status_code == 303
        shown = client.get(f"/portal/2025-annual/{OWN}").text
        assert "不是 XLSX 文件" in shown and "data-submit" not in shown


def test_who_has_not_filed_by_district(portal_db, serve_app):
    engine = db.make_engine(f"sqlite:///{portal_db}")
    parks = store.park_table(engine)
    engine.dispose()
    incubators = parks[parks["kind"] == "incubator"]
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        blank = client.get(f"/portal/2025-annual/{OWN}/workbook").content
        _upload(client, _filled(blank, {}))
        page = client.get(f"/portal/2025-annual/{OWN}").text
        client.post(f"/portal/2025-annual/{OWN}/submit", data={"csrf": _csrf(page)})
        assert client.get("/portal/2025-annual/missing").status_code == 403
    with serve_app(portal_db) as client:
        _sign_in(client, "admin1")
        page = client.get("/portal/2025-annual/missing").text
        listed = re.findall(r"<tr><td>(DEMO-[^<]+)</td>", page.split("data-missing>")[1])
        assert OWN not in listed  # submitted: filed
        assert sorted(listed) == sorted(set(incubators["id"]) - {OWN})
        assert f"应报 {len(incubators)} 个，未报送 {len(incubators) - 1} 个" in page
        csv_file = client.get("/portal/2025-annual/missing", params={"format": "csv"})
        lines = csv_file.content.decode("utf-8-sig").splitlines()
        assert lines[0] == "id,name,district,state" and len(lines) == len(incubators)
    with serve_app(portal_db) as client:
        _sign_in(client, "district1")
        page = client.get("/portal/2025-annual/missing").text
        listed = re.findall(r"<tr><td>(DEMO-[^<]+)</td>", page.split("data-missing>")[1])
        rugao = incubators[incubators["district_id"] == "320682"]
        assert sorted(listed) == sorted(set(rugao["id"]) - {OWN})
        # the early warning opens on its own district; ?district= (empty) is the whole city
        own = client.get("/risks", params={"format": "csv", "all": "1"}).content
        city = client.get("/risks", params={"format": "csv", "all": "1", "district": ""}).content
        own_rows = list(csv.DictReader(io.StringIO(own.decode("utf-8-sig"))))
        city_rows = list(csv.DictReader(io.StringIO(city.decode("utf-8-sig"))))
        assert own_rows and {r["district_id"] for r in own_rows} == {"320682"}
        assert len(city_rows) > len(own_rows) and len({r["district_id"] for r in city_rows}) > 3
        page = client.get("/risks").text
        assert 'option value="320682" selected' in page
        # the counts are the district's: its second failures, not the city's
        again = sum(r["again"] == "True" for r in own_rows)
        assert f"连续两年不合格风险 {again} 家" in page


def test_the_online_form_is_checked_as_the_workbook(portal_db, serve_app):
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        form = client.get(f"/portal/2025-annual/{OWN}/form").text
        codes = re.findall(r'name="v_([a-z_]+)"', form)
        assert "incubatees" in codes and "个" in form
        values = {f"v_{c}": "" for c in codes}
        values.update({"v_incubatees": "五十", "v_mentors": "12", "csrf": _csrf(form)})
        assert client.post(f"/portal/2025-annual/{OWN}/form", data=values).status_code == 303
        page = client.get(f"/portal/2025-annual/{OWN}").text
        problems = page.split("data-problems>")[1].split("</table>")[0]
        assert "在线填写 · 在孵企业数" in problems and "五十" in problems  # named by its figure
        values["v_incubatees"] = "50"
        client.post(f"/portal/2025-annual/{OWN}/form", data=values)
        page = client.get(f"/portal/2025-annual/{OWN}").text
        assert "data-problems" not in page and "data-submit" in page
        figures = page.split("data-figures>")[1]
        assert "在孵企业数" in figures and "创业导师数" in figures
        # another carrier's form: as if it did not exist
        assert client.get(f"/portal/2025-annual/{OTHER}/form").status_code == 404
        values["csrf"] = _csrf(page)
        assert client.post(f"/portal/2025-annual/{OTHER}/form", data=values).status_code == 404


def test_the_administrator_opens_a_round_in_the_app(portal_db, serve_app):
    with serve_app(portal_db) as client:
        _sign_in(client, "admin1")
        page = client.get("/admin/rounds").text
        assert "2025-annual" in page.split("data-rounds>")[1]
        form = {
            "csrf": _csrf(page),
            "id": "2025-makers",
            "title": "众创空间 2025 年报",
            "year": "2025",
            "deadline": "2026-04-30",
            "kind": "maker_space",
        }
        assert client.post("/admin/rounds", data=form).status_code == 303
        listed = client.get("/admin/rounds").text.split("data-rounds>")[1]
        assert "2025-makers" in listed and "众创空间 2025 年报" in listed
        wrong = client.post("/admin/rounds", data={**form, "id": "x2", "deadline": "30/4"})
        assert wrong.status_code == 409 and "应为 YYYY-MM-DD 格式的日期" in wrong.text
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        assert client.get("/admin/rounds").status_code == 403


def test_the_reviewer_sees_figures_far_from_their_peers(portal_db, serve_app):
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        blank = client.get(f"/portal/2025-annual/{OWN}/workbook").content
        _upload(client, _filled(blank, {"mentors": 5000}))  # far above any peer
        page = client.get(f"/portal/2025-annual/{OWN}").text
        client.post(f"/portal/2025-annual/{OWN}/submit", data={"csrf": _csrf(page)})
    with serve_app(portal_db) as client:
        _sign_in(client, "admin1")
        queue = client.get("/review").text
        submission = re.search(r'href="/review/(\d+)"', queue).group(1)
        page = client.get(f"/review/{submission}").text
        flagged = [row for row in page.split("<tr>") if "data-outlier" in row]
        assert any("创业导师数" in row for row in flagged)
        # flagged rows are those more than 3x from the median shown beside them
        for row in flagged:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row)  # name, last year, this, change, median
            value, median = (float(c.replace(",", "").strip(" ⚠")) for c in (cells[2], cells[4]))
            ratio = value / median
            assert ratio > 3 or ratio < 1 / 3


def test_a_correction_after_approval_is_a_new_submission_and_a_new_revision(portal_db, serve_app):
    def file_and_approve(values: dict) -> None:
        with serve_app(portal_db) as client:
            _sign_in(client, "park1")
            blank = client.get(f"/portal/2025-annual/{OWN}/workbook").content
            assert _upload(client, _filled(blank, values)).status_code == 303
            page = client.get(f"/portal/2025-annual/{OWN}").text
            client.post(f"/portal/2025-annual/{OWN}/submit", data={"csrf": _csrf(page)})
        with serve_app(portal_db) as client:
            _sign_in(client, "admin1")
            queue = client.get("/review").text
            submission = re.search(r'href="/review/(\d+)"', queue).group(1)
            page = client.get(f"/review/{submission}").text
            client.post(f"/review/{submission}/approve", data={"csrf": _csrf(page)})

    file_and_approve({"incubatees": 52})
    file_and_approve({"incubatees": 55})  # the office corrects an approved filing
    engine = db.make_engine(f"sqlite:///{portal_db}")
    history = store.observations_frame(engine, subjects=[OWN], periods=["2025"], history=True)
    mine = history[(history["source_id"] == "portal") & (history["indicator"] == "incubatees")]
    assert list(zip(mine["revision"], mine["value"], strict=True)) == [(1, 52.0), (2, 55.0)]
    with engine.connect() as conn:
        statuses = [r[0] for r in conn.exec_driver_sql("SELECT status FROM submission ORDER BY id")]
    engine.dispose()
    assert statuses == ["approved", "approved"]  # two submissions, the first kept as it was


def test_a_closed_round_takes_no_more_filings(portal_db, serve_app, cli):
    with serve_app(portal_db) as client:
        _sign_in(client, "park1")
        blank = client.get(f"/portal/2025-annual/{OWN}/workbook").content
        assert _upload(client, _filled(blank, {})).status_code == 303
        closed = cli("--db", str(portal_db), "rounds", "close", "2025-annual", cwd=portal_db.parent)
        assert "round 2025-annual closed" in closed.stderr
        page = client.get(f"/portal/2025-annual/{OWN}").text
        refused = client.post(f"/portal/2025-annual/{OWN}/submit", data={"csrf": _csrf(page)})
        assert refused.status_code == 409 and "本次填报已截止" in refused.text
        assert _upload(client, _filled(blank, {})).status_code == 409
        assert "2025-annual" not in client.get("/portal").text  # no longer listed as open
    again = cli(
        "--db", str(portal_db), "rounds", "close", "2025-annual", cwd=portal_db.parent, ok=False
    )
    assert "no open round named 2025-annual" in again.stderr
