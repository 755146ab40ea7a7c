"""The web application on the demo database: every page in both languages, filters, a carrier's
page with its provenance, hostile text shown as text, security headers, and a real server."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openpyxl
import pytest

from monitor import db

PARKMON = str(Path(sys.executable).with_name("parkmon"))
HOSTILE = '<script>alert("x")</script>=1+2'
FORMULA = '=HYPERLINK("http://example.invalid","点击")'
PAGES = [
    "/risks",
    "/quality",
    "/",
    "/parks",
    "/parks?kind=incubator",
    "/goals",
    "/rankings",
    "/compare",
    "/runs",
    "/rejects",
    "/schedule",
    "/api/docs",
]


@pytest.fixture
def demo_db(tmp_path, copy_demo) -> Path:
    return copy_demo(tmp_path)


@pytest.fixture(scope="module")
def client(tmp_path_factory, copy_demo, serve_app):
    """One server on one demo copy for the module's read-only tests (tests that change the
    database take their own copy: ``demo_db``)."""
    with serve_app(copy_demo(tmp_path_factory.mktemp("web"))) as c:
        yield c


def _an_incubator(client) -> str:
    parks = client.get("/api/parks", params={"kind": "incubator"}).json()
    rated = [p for p in parks if p["stars"] is not None]
    return str(rated[0]["id"])


@pytest.mark.parametrize("path", PAGES)
def test_every_page_in_both_languages_with_the_demo_banner(client, path):
    zh = client.get(path)
    assert zh.status_code == 200, zh.text[:500]
    assert "演示数据" in zh.text  # the demo banner on every page
    assert "总览" in zh.text and "Overview" not in zh.text
    en = client.get(path, params={"lang": "en"})
    assert en.status_code == 200
    assert "Demo data" in en.text
    assert "Overview" in en.text and "总览" not in en.text
    assert 'href="/parks?lang=en"' in en.text  # links keep the language


def test_the_overview_shows_goals_counts_stars_and_sources(client):
    page = client.get("/").text
    assert "规划目标" in page and "载体数量" in page and "星级分布" in page
    sources = page.split("<h2>数据源</h2>")[1].split("</table>")[0]
    assert "demo-torch-2025" in sources and "demo-stats-api" in sources  # every source
    assert "正常" in sources  # its state, in the page's language
    assert "★" in page


def test_the_carrier_list_filters_searches_and_downloads(client):
    everyone = client.get("/api/parks").json()
    incubators = client.get("/api/parks", params={"kind": "incubator"}).json()
    assert 0 < len(incubators) < len(everyone)
    assert {p["kind"] for p in incubators} == {"incubator"}
    haimen = client.get("/api/parks", params={"district": "海门区"}).json()
    assert haimen and all("海门区" in p["district"] for p in haimen)
    # the home-textile park spans 通州区 and 海门区: found under either
    assert "NT-P05" in {p["id"] for p in haimen}
    found = client.get("/api/parks", params={"q": "南通高新"}).json()
    assert [p["id"] for p in found] == ["NT-Z01"]
    by_stars = client.get(
        "/api/parks", params={"kind": "incubator", "sort": "stars", "order": "desc"}
    ).json()
    stars = [p["stars"] for p in by_stars]
    rated = [s for s in stars if s is not None]
    assert rated == sorted(rated, reverse=True) and stars[: len(rated)] == rated  # unrated last
    by_name = [p["name"] for p in client.get("/api/parks", params={"sort": "name"}).json()]
    assert by_name == sorted(by_name)
    listed = client.get("/parks", params={"sort": "stars", "order": "desc"}).text
    assert 'data-sort="stars"' in listed and "▼" in listed
    paged = client.get("/api/parks", params={"kind": "incubator", "limit": 5, "offset": 3})
    assert paged.headers["x-total-count"] == str(len(incubators))
    assert paged.json() == incubators[3:8]
    page = client.get("/parks", params={"kind": "incubator", "lang": "en"}).text
    assert f"{len(incubators)} in all" in page
    download = client.get("/parks", params={"kind": "incubator", "format": "csv"})
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][0] == "id" and len(rows) == len(incubators) + 1


def test_a_carriers_page_shows_its_ratings_figures_and_where_they_came_from(client):
    pid = _an_incubator(client)
    page = client.get(f"/parks/{pid}")
    assert page.status_code == 200
    assert "历年评价" in page.text and "最新数据及来源" in page.text
    detail = client.get(f"/api/parks/{pid}").json()
    assert detail["park"]["id"] == pid
    assert detail["ratings"] and detail["figures"]
    figure = detail["figures"][0]
    assert {"source_id", "revision", "run_id", "recorded_at", "period", "value"} <= set(figure)
    assert figure["source_id"] in page.text
    # where the points were lost, and what lifts it a star, in the reader's language
    advice = detail["advice"]
    assert advice["year"] == max(r["year"] for r in detail["ratings"])
    assert advice["gaps"] and all(g["lost"] > 0 for g in advice["gaps"])
    assert "失分最多的指标与升星路径" in page.text
    english = client.get(f"/parks/{pid}", params={"lang": "en"}).text
    assert "where points were lost" in english
    section = english.split("where points were lost")[1].split("</table>")[0]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in section)  # no Chinese item names
    missing = client.get("/parks/NO-SUCH", params={"lang": "en"})
    assert missing.status_code == 404 and "No carrier with id NO-SUCH" in missing.text
    assert client.get("/api/parks/NO-SUCH").status_code == 404


def test_hostile_text_is_shown_as_text_and_headers_protect_the_page(demo_db, serve_app):
    with sqlite3.connect(demo_db) as conn:
        conn.execute("UPDATE park SET name = ? WHERE id = 'NT-Z01'", (HOSTILE,))
        conn.execute("UPDATE park SET name = ? WHERE id = 'NT-Z02'", (FORMULA,))
    conn.close()
    with serve_app(demo_db) as client:
        for path in ("/parks?kind=high_tech_zone", "/parks/NT-Z01", "/parks?q=script", "/"):
            page = client.get(path)
            assert page.status_code == 200
            assert "<script>alert" not in page.text
            if path != "/":
                assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
            policy = page.headers["content-security-policy"]
            assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy
            assert page.headers["x-content-type-options"] == "nosniff"
        # nothing in a download can become a formula in Excel or WPS
        download = client.get("/parks", params={"q": "hyperlink", "format": "csv"})
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        name = rows[1][rows[0].index("name")]
        assert name == "'" + FORMULA
        # the workbook: the same text, as a text cell (quote prefix), never a formula
        book = client.get("/parks", params={"q": "hyperlink", "format": "xlsx"})
        sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
        header = [c.value for c in sheet[1]]
        cell = sheet.cell(row=2, column=header.index("name") + 1)
        assert cell.value == FORMULA and cell.data_type == "s" and cell.quotePrefix


def test_serve_refuses_a_database_of_an_older_parkmon(tmp_path):
    legacy = tmp_path / "old.db"
    fixture = Path(__file__).parent / "fixtures" / "parkmon-0.1.0.db.gz"
    with gzip.open(fixture) as packed, legacy.open("wb") as out:
        shutil.copyfileobj(packed, out)
    refused = subprocess.run(
        [PARKMON, "--db", str(legacy), "serve", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1
    assert "parkmon db upgrade" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.slow
def test_parkmon_serve_answers_over_http(demo_db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [PARKMON, "--db", str(demo_db), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        answer = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/parks?lang=en", timeout=10)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert answer is not None, server.stderr.read() if server.poll() is not None else ""
        assert answer.status_code == 200
        assert "Carriers" in answer.text and "Demo data" in answer.text
        assert db.describe(db.make_engine(f"sqlite:///{demo_db}")) != ""
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_goals_rankings_and_comparisons(client):
    goals = client.get("/goals").text
    first = goals.split('href="/goals/')[1].split('"')[0]
    goal = client.get(f"/goals/{first}")
    assert goal.status_code == 200 and "分区县" in goal.text
    assert client.get("/goals/no-such-goal").status_code == 404
    rankings = client.get("/rankings", params={"lang": "en"}).text
    assert "Ranking" in rankings
    pid = _an_incubator(client)
    incubators = client.get("/api/parks", params={"kind": "incubator"}).json()
    other = next(p["id"] for p in incubators if p["id"] != pid)
    both = client.get("/compare", params={"ids": f"{pid},{other}", "lang": "en"})
    assert both.status_code == 200
    assert "<svg" in both.text and "Percentile in group" in both.text
    assert "在孵企业" not in both.text  # indicator names in English on an English page
    alone = client.get("/compare", params={"ids": pid, "against": "district"})
    assert alone.status_code == 200 and "同组百分位" in alone.text
    mixed = client.get("/compare", params={"ids": f"{pid},NT-Z01"})
    assert mixed.status_code == 400 and "不同类型的载体不作对比" in mixed.text
    unknown = client.get("/compare", params={"ids": "NOPE", "lang": "en"})
    assert unknown.status_code == 400 and "No carrier with id NOPE" in unknown.text
    many = client.get("/compare", params={"ids": ",".join(f"X{i}" for i in range(7))})
    assert many.status_code == 400


def test_pages_follow_new_data_written_by_another_process(demo_db, serve_app):
    """The application keeps what it computed until the data change (a run, a rating, the
    registry): a collection by the scheduler shows at the next request."""
    from monitor import store

    with serve_app(demo_db) as client:
        before = client.get("/").text
        assert before == client.get("/").text  # answered from what was computed
        writer = db.make_engine(f"sqlite:///{demo_db}")
        run_id = store.start_run(writer, "demo-torch-2025", host="elsewhere", pid=1)
        writer.dispose()
        after = client.get("/").text
        row = f'<td class="num">{run_id}</td><td>demo-torch-2025</td>'
        assert row in after and row not in before


def test_the_json_api_answers_what_the_pages_show(client):
    goals = client.get("/api/goals", params={"lang": "en"}).json()
    assert goals and {"goal", "status", "target_text", "status_text", "latest"} <= set(goals[0])
    rankings = client.get("/api/rankings").json()
    assert rankings and {"ranking", "year", "position", "relation"} <= set(rankings[0])
    pid = _an_incubator(client)
    compared = client.get("/api/compare", params={"ids": pid, "against": "district"}).json()
    assert compared["subjects"] == [pid] and compared["against"] == "district"
    assert compared["indicators"] and {"percentile", "group_median"} <= set(
        compared["indicators"][0]
    )
    refused = client.get("/api/compare", params={"ids": f"{pid},NT-Z01", "lang": "en"})
    assert refused.status_code == 400
    assert "different kinds" in refused.json()["error"]
    assert client.get("/api/compare").status_code == 400
    schema = client.get("/api/openapi.json").json()
    assert {"/api/parks", "/api/goals", "/api/compare"} <= set(schema["paths"])
    # every parameter the routes read is in the schema, once, and on the docs page
    listed = schema["paths"]["/api/parks"]["get"]["parameters"]
    names = [p["name"] for p in listed]
    assert sorted(names) == sorted(set(names))
    assert {"kind", "district", "q", "limit", "offset"} <= set(names)
    compare_names = {p["name"] for p in schema["paths"]["/api/compare"]["get"]["parameters"]}
    assert compare_names == {"ids", "against", "year"}
    assert "park_id" in str(schema["paths"]["/api/parks/{park_id}"]["get"]["parameters"])
    docs = client.get("/api/docs").text
    assert all(f"GET {path}" in docs for path in schema["paths"])
    assert "<script" not in docs  # readable with scripts off, nothing fetched
    bad = client.get("/api/parks", params={"limit": "ten"})
    assert bad.status_code == 400 and "ten" in bad.json()["error"]


def test_a_rerating_that_keeps_its_computation_time_still_reaches_the_pages(demo_db, serve_app):
    """Rewriting a year's ratings with the same methodology keeps each row's ``computed_at``;
    the application must still drop what it computed from the old scores."""
    from monitor import store

    with serve_app(demo_db) as client:
        pid = _an_incubator(client)
        before = client.get(f"/api/parks/{pid}").json()["ratings"][0]
        assert before["score"] != 12.34
        writer = db.make_engine(f"sqlite:///{demo_db}")
        stored = store.ratings_frame(writer, subjects=[pid])
        row = stored.sort_values("year").iloc[-1].to_dict()
        row = {k: v for k, v in row.items() if k != "id"}
        store.upsert_ratings(writer, [{**row, "score": 12.34}])
        writer.dispose()
        after = client.get(f"/api/parks/{pid}").json()["ratings"]
        assert [r["score"] for r in after if r["year"] == row["year"]] == [12.34]


def test_a_carriers_page_shows_peer_medians_star_stability_and_every_revision(demo_db, serve_app):
    """The series carry the median of the carrier's peers (same kind and level); the rating
    says how firm the star is; a corrected figure shows both revisions, the new one current."""
    import pandas as pd

    from monitor import store

    writer = db.make_engine(f"sqlite:///{demo_db}")
    with serve_app(demo_db) as client:
        pid = _an_incubator(client)
        detail = client.get(f"/api/parks/{pid}").json()
        park = detail["park"]
        # the peers' median of one indicator and year, computed here from the store
        choice = detail["chart"]["choices"][0]
        mine, peers = choice["series"]
        assert peers["dashed"] and peers["name"] == "同类同级中位数"
        group = store.park_table(writer)
        group = group[(group["kind"] == park["kind"]) & (group["level"] == park["level"])]
        figures = store.observations_frame(writer, subject_type="park", subjects=list(group["id"]))
        code = next(
            c for c, (name, _u) in _indicator_names(writer).items() if name == choice["name"]
        )
        year = detail["chart"]["x"][-1]
        wanted = figures[(figures["indicator"] == code) & (figures["period"] == year)]
        assert peers["values"][-1] == pytest.approx(float(wanted["value"].median()))
        # how firm the star is: chances that add up, the star it holds among them
        stability = detail["advice"]["stability"]
        assert sum(p for _k, p in stability["chances"]) == pytest.approx(1.0)
        assert 0 <= stability["held"] <= 1
        assert stability["rank_low"] <= stability["rank_high"]
        assert "星级稳定性" in client.get(f"/parks/{pid}").text
        # a correction: the office reports the latest figure again with a new value
        latest = detail["figures"][0]
        store.upsert_observations(
            writer,
            pd.DataFrame(
                [
                    {
                        "subject_type": "park",
                        "subject_id": pid,
                        "indicator": latest["indicator"],
                        "period": latest["period"],
                        "value": float(latest["value"]) + 7,
                    }
                ]
            ),
            source_id=latest["source_id"],
        )
        after = client.get(f"/api/parks/{pid}/history").json()
        history = next(h for h in after["history"] if h["indicator"] == latest["indicator"])
        revisions = [
            r
            for r in history["rows"]
            if r["period"] == latest["period"] and r["source_id"] == latest["source_id"]
        ]
        assert [(r["revision"], r["is_latest"]) for r in revisions] == [
            (latest["revision"] + 1, True),
            (latest["revision"], False),
        ]
        assert revisions[0]["value"] == pytest.approx(float(latest["value"]) + 7)
        assert f'href="/parks/{pid}/history"' in client.get(f"/parks/{pid}").text
        page = client.get(f"/parks/{pid}/history").text
        assert f'data-history="{latest["indicator"]}"' in page and "数据修订记录" in page
        assert client.get("/parks/NO-SUCH/history").status_code == 404
        assert client.get("/api/parks/NO-SUCH/history").status_code == 404
    writer.dispose()


def _indicator_names(engine) -> dict[str, tuple[str, str]]:
    from monitor import store

    return {r["code"]: (r["name_zh"], r["unit"]) for r in store.indicator_rows(engine)}


def test_rejections_are_listed_by_source_and_downloadable(client):
    page = client.get("/rejects")
    sources = [c.split('"')[0] for c in page.text.split('<option value="')[2:]]
    assert sources, "the demo rejects rows of its sample sources"
    one = client.get("/rejects", params={"source": sources[0]}).text
    assert one.count("<tr><td>" + sources[0]) >= 1
    assert all(f"<tr><td>{s}</td>" not in one for s in sources[1:])
    csv_file = client.get("/rejects", params={"source": sources[0], "format": "csv"})
    assert csv_file.headers["content-disposition"].endswith('parkmon-rejections.csv"')
    rows = list(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert rows[0] == ["run_id", "source_id", "location", "field_name", "value", "reason", "raw"]
    assert len(rows) > 1 and {r[1] for r in rows[1:]} == {sources[0]}
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    book = client.get("/rejects", params={"format": "xlsx", "lang": "en"})
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet.title == "Rejections" and sheet.max_row >= len(rows)


def test_the_early_warning_and_data_quality_pages(client):
    page = client.get("/risks")
    assert page.status_code == 200
    assert "风险预警 · 2025" in page.text  # the latest rated year by default
    rows = page.text.split('<tr class="risk-')[1:]
    levels = [r.split('"')[0] for r in rows]
    again = levels.count("again")
    assert again and levels[:again] == ["again"] * again  # second failures first
    assert set(levels[again:]) <= {"high", "watch"}  # the low risks only with ?all=1
    everyone = client.get("/risks", params={"all": "1"}).text
    assert everyone.count('<tr class="risk-low"') > 0
    assert "回测（演示数据）" not in page.text  # asked for, not computed on every visit
    tested = client.get("/risks", params={"backtest": "1"}).text
    assert "回测（演示数据）" in tested and "准确率" in tested
    first = rows[0].split('href="/parks/')[1].split('"')[0]
    assert client.get(f"/parks/{first}").status_code == 200
    csv_file = client.get("/risks", params={"format": "csv"})
    assert csv_file.headers["content-disposition"].endswith('parkmon-risks-2025.csv"')
    table = list(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["id", "name", "kind"] and len(table) == len(rows) + 1
    assert client.get("/risks", params={"year": "2023"}).text.count("风险预警 · 2023") == 1
    empty = client.get("/risks", params={"year": "2010"})  # a year before any figure
    assert empty.status_code == 200 and "没有需要关注的载体" in empty.text
    english = client.get("/risks", params={"lang": "en"}).text
    assert "Early warning" in english
    assert "Back-test (demo data)" in client.get("/risks?lang=en&backtest=1").text

    quality = client.get("/quality").text
    sources = quality.split("<table data-quality-sources>")[1].split("</table>")[0]
    # worst first: the demo's Torch file, 3 of its 10 rows rejected
    assert sources.split("<tr><td>")[1].startswith("demo-torch-2025")
    carriers = quality.split("<table data-quality-carriers>")[1].split("</table>")[0]
    scores = [float(c.split('"')[0]) for c in carriers.split('data-score="')[1:]]
    assert scores and scores == sorted(scores)
    haimen = client.get("/quality", params={"district": "320614", "format": "csv"}).content
    rows = list(csv.DictReader(io.StringIO(haimen.decode("utf-8-sig"))))
    assert rows and {r["district_id"] for r in rows} == {"320614"}
    book = client.get("/quality", params={"table": "sources", "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert sheet.cell(2, 1).value == "demo-torch-2025"

    # each goal's status says what it rests on: an old figure, a bound, or nothing
    goals = client.get("/goals").text
    assert "沿用 2023 年数据（2025 年缺报）；排名仅知区间，按界值估计" in goals
    assert goals.count("data-basis>最新年度数据") > 5
    # each carrier's page: how much its rating rests on missing or late figures
    park = client.get(f"/parks/{first}").text
    assert "<table data-quality>" in park and "评级中基于缺报指标的分值占比" in park
    # and its own early warning, the same as the list's
    header, *listed = table
    high = next(
        dict(zip(header, r, strict=True)) for r in listed if r[header.index("level")] == "high"
    )
    mine = client.get(f"/parks/{high['id']}").text.split("<p data-risk>")[1].split("</p>")[0]
    assert f"（{float(high['risk']):.0f}）" in mine and "改进抓手" in mine


def test_the_meeting_brief_in_the_browser(client):
    from monitor import brief

    page = client.get("/brief")
    assert page.status_code == 200
    assert "南通市科技创新载体工作简报（2025 年）" in page.text and "<script" not in page.text
    # its own stylesheet inline, and no script: the policy allows inline styles here only
    policy = page.headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self' 'nonce-" in policy
    assert "回测" not in page.text  # the back-test when asked
    assert "回测（演示数据）" in client.get("/brief", params={"backtest": "1"}).text
    haimen = client.get("/brief", params={"district": "320614"}).text
    assert "海门区科技创新载体工作简报（2025 年）" in haimen
    assert "示例孵化器" in haimen and haimen.count('class="map"') == 1
    assert client.get("/brief", params={"year": "2019"}).status_code == 404
    pdf = client.get("/brief", params={"format": "pdf"})
    if brief.pdf_unavailable() is None:
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-disposition"].endswith('brief-2025.pdf"')
    else:
        assert pdf.status_code == 503
    assert 'href="/brief?year=2025"' in client.get("/risks").text


def test_goal_pages_project_to_the_deadline_and_list_the_recognitions_that_count(client):
    goals = {g["goal"]: g for g in client.get("/api/goals").json()}
    level = next(
        g
        for g in goals.values()
        if g["kind"] == "level" and g["projection"] is not None and g["latest_year"]
    )
    page = client.get(f"/goals/{level['goal']}").text
    chart = json.loads(page.split('id="goal-series">')[1].split("</script>")[0])
    projected = next(s for s in chart["series"] if s.get("dashed"))
    assert projected["name"] == "按目前增速推算"
    deadline = chart["x"].index(str(level["target_year"]))
    assert projected["values"][deadline] == pytest.approx(level["projection"], rel=1e-3)
    assert projected["values"][chart["x"].index(str(level["latest_year"]))] == pytest.approx(
        level["latest"]
    )
    # the projection goes on past the deadline, inside its band (low edge + span, stacked)
    band = chart["band"]
    assert band["name"] == "预测区间（10%–90%）" and len(chart["x"]) > deadline + 1
    ahead = [i for i, v in enumerate(band["low"]) if v is not None and i > deadline]
    assert ahead and all(
        band["low"][i] <= projected["values"][i] <= band["low"][i] + band["span"][i] + 1e-9
        for i in ahead
    )
    # a cumulative goal is drawn as what the years since the baseline added up to
    total = next(g for g in goals.values() if g["kind"] == "cumulative" and g["latest"])
    page = client.get(f"/goals/{total['goal']}").text
    chart = json.loads(page.split('id="goal-series">')[1].split("</script>")[0])
    values = [v for v in chart["series"][0]["values"] if v is not None]
    assert values[0] == 0 and values == sorted(values)
    assert values[-1] == pytest.approx(total["latest"])
    count = next(g for g in goals.values() if g["kind"] == "count" and g["latest"])
    page = client.get(f"/goals/{count['goal']}").text
    table = page.split("data-counted>")[1].split("</table>")[0]
    assert table.count('<a href="/parks/') == int(count["latest"])
    level_page = client.get(f"/goals/{level['goal']}").text
    assert "data-counted" not in level_page
    # the count goal's projection at the current pace, in words
    projection = page.split("data-projection>")[1].split("</p>")[0]
    assert "按目前速度" in projection


def test_a_carrier_compared_with_every_carrier_of_its_kind(client):
    pid = _an_incubator(client)
    peers = client.get("/api/compare", params={"ids": pid}).json()
    kind = client.get("/api/compare", params={"ids": pid, "against": "kind"}).json()
    assert kind["against"] == "kind"
    size = {r["indicator"]: r["group_size"] for r in kind["indicators"]}
    narrower = {r["indicator"]: r["group_size"] for r in peers["indicators"]}
    assert all(size[c] >= narrower[c] for c in narrower) and sum(size.values()) > sum(
        narrower.values()
    )
    assert "全市同类" in client.get("/compare", params={"ids": pid, "against": "kind"}).text
