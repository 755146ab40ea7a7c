"""Reporting rounds and pre-filled workbooks: the bureau opens a round from the command line;
each office sees and downloads only its own carriers' workbooks (another carrier's answers as
if it did not exist), pre-filled with last year's figures and safe to open in Excel or WPS."""

from __future__ import annotations

import io
import json
import re
import sqlite3

import openpyxl
import pytest

from monitor import accounts, db, store

PASSWORD = "a long enough password"
OWN, OTHER = "DEMO-I001", "DEMO-I002"  # in 如皋市 (320682) and in another district


@pytest.fixture
def portal_db(tmp_path, copy_demo, cli):
    path = copy_demo(tmp_path)
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
    engine.dispose()
    cli(
        "--db",
        str(path),
        "rounds",
        "add",
        "2025-annual",
        "--title",
        "2025 年度报表",
        "--year",
        "2025",
        "--deadline",
        "2026-03-31",
        "--kind",
        "incubator",
        cwd=tmp_path,
    )
    return path


def _sign_in(client, name):
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token})
    assert answer.status_code == 303, answer.text[:300]


def test_a_round_is_opened_and_listed(portal_db, cli):
    listed = json.loads(
        cli(
            "--db", str(portal_db), "rounds", "list", "--format", "json", cwd=portal_db.parent
        ).stdout
    )
    assert [r["id"] for r in listed] == ["2025-annual"]
    asked = listed[0]["indicators"].split("|")
    assert "incubatees" in asked and listed[0]["kinds"] == "incubator"
    engine = db.make_engine(f"sqlite:///{portal_db}")
    assert accounts.audit_frame(engine)["action"].iloc[0] == "round.add"
    engine.dispose()


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
    header = next(i for i, r in enumerate(rows) if r[0] == "指标代码 Code")
    figures = {r[0]: r for r in rows[header + 1 :] if r[0]}
    engine = db.make_engine(f"sqlite:///{portal_db}")
    last = store.observations_frame(engine, subjects=[OWN], periods=["2024"])
    engine.dispose()
    for code, value in zip(last["indicator"], last["value"], strict=True):
        if code in figures:
            assert figures[code][3] == pytest.approx(value)  # last year's, for reference
            assert figures[code][4] is None  # this year's: to fill in
    assert figures["incubatees"][2] == "个"  # the unit beside each figure
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
