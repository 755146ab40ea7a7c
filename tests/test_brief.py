"""The meeting brief: its pictures on hand-worked cases, the whole document on the demo, and the
PDF rendered by WeasyPrint with its text read back."""

from __future__ import annotations

import os

import pypdf
import pytest
import sqlalchemy as sa
from shapely.geometry import Polygon

from monitor import brief, db, goals, risks, store
from monitor.brief_svg import map_svg, trend_svg


def test_cumulative_goals_are_drawn_as_running_totals():
    assert goals.running_total({2020: 9.0, 2021: 5.0, 2022: 7.0}, 2020) == {
        2020: 0.0,
        2021: 5.0,
        2022: 12.0,
    }


def test_a_trend_with_its_projection_band_and_target():
    svg = trend_svg(
        [(2020, 10.0), (2021, 20.0)],
        [(2022, 30.0, 25.0, 35.0)],
        40.0,
        2023,
        label="<b>目标</b>",
        width=140,
        height=68,
    )
    # x: 40 + (year − 2020) / 3 × 86; y: 8 + (40 − value) / 30 × 42
    assert '<polyline points="40.0,50.0 68.7,36.0" fill="none" stroke="#1f4e79"' in svg
    # the band: from the latest value up to the 90th percentile, back along the 10th
    assert '<polygon points="68.7,36.0 97.3,15.0 97.3,29.0"' in svg
    assert 'aria-label="&lt;b&gt;目标&lt;/b&gt;"' in svg and "<b>" not in svg
    assert '<path d="M121.0,8.0' in svg  # the target's diamond at (2023, 40)
    assert trend_svg([], [], 1.0, 2025) == ""


def test_the_map_draws_districts_and_escapes_their_names():
    square = Polygon([(120.0, 32.0), (121.0, 32.0), (121.0, 33.0), (120.0, 33.0)])
    svg = map_svg([("<i>区</i>", square)], [(120.5, 32.5, 4.0), (120.2, 32.2, None)], width=120)
    assert "&lt;i&gt;区&lt;/i&gt;" in svg and "<i>" not in svg
    assert svg.count("<circle") == 2 and 'fill="#c8102e"' in svg  # 4★ red, unrated grey


@pytest.fixture(scope="module")
def hostile_demo(tmp_path_factory, copy_demo, config_dir):
    """A demo copy whose carrier first in the early warning is named with markup."""
    database = copy_demo(tmp_path_factory.mktemp("brief"))
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        first = str(risks.risk_frame(engine, config_dir, 2025, draws=20)["id"].iloc[0])
        with engine.begin() as conn:
            conn.execute(
                sa.update(store.T_PARK)
                .where(store.T_PARK.c.id == first)
                .values(name="<script>alert(1)</script>")
            )
    finally:
        engine.dispose()
    return database


def test_the_brief_on_the_demo_as_html_and_pdf(cli, hostile_demo, tmp_path):
    reason = brief.pdf_unavailable()
    if reason is not None:
        if os.environ.get("PARKMON_REQUIRE_PDF") == "1":
            pytest.fail(f"the PDF brief must be tested here: {reason}")
        pytest.skip(f"PDF: {reason}")
    out = tmp_path / "b" / "brief-2025.html"
    result = cli(
        "--db", str(hostile_demo), "brief", "2025", "--out", str(out), "--pdf", cwd=tmp_path
    )
    assert result.stdout.split() == [str(out), str(out.with_suffix(".pdf"))]
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for heading in (
        "“十四五”重点目标",
        "2025 年星级分布与变化",
        "风险预警（2025 年评价之后）",
        "排名",
        "数据质量",
        "载体分布（按星级着色）",
    ):
        assert f">{heading}</h2>" in page, heading
    assert 'class="demo"' in page and "@page{size:A4" in page
    assert "回测（演示数据）" in page and "两年均有评级的载体中：升星" in page
    assert page.count('class="trend"') >= 5 and page.count('class="map"') == 1

    reader = pypdf.PdfReader(out.with_suffix(".pdf"))
    assert len(reader.pages) >= 4
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "南通市科技创新载体工作简报（2025 年）" in text
    assert "风险预警" in text and "连续两年不合格风险" in text
    # the name as text, never as markup (the table cell may wrap it)
    assert "<script>alert(1)</script>" in text.replace("\n", "")
    # every page is headed with the title, the date and the demo label
    for number, p in enumerate(reader.pages, 1):
        assert "· 演示数据" in p.extract_text(), number
        assert f"{number} / {len(reader.pages)}" in p.extract_text()


def test_a_districts_brief(cli, hostile_demo, tmp_path, config_dir):
    out = tmp_path / "haimen.html"
    cli(
        "--db",
        str(hostile_demo),
        "brief",
        "2025",
        "--district",
        "海门区",
        "--no-backtest",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    page = out.read_text(encoding="utf-8")
    assert "海门区科技创新载体工作简报（2025 年）" in page and "回测" not in page
    engine = db.make_engine(f"sqlite:///{hostile_demo}")
    try:
        parks = store.park_table(
            engine, columns=["name", "district_id"], kinds=["incubator", "maker_space"]
        )
    finally:
        engine.dispose()
    # (the rankings stay the city's: they name zones of other districts)
    named = [n for n in parks["name"] if f">{n}<" in page]
    assert named and set(parks.loc[parks["name"].isin(named), "district_id"]) == {"320614"}
    bad = cli(
        "--db", str(hostile_demo), "brief", "2025", "--district", "北京", cwd=tmp_path, ok=False
    )
    assert bad.returncode != 0 and "not a district of the city" in bad.stderr


def test_a_year_without_ratings_is_one_clear_line(cli, hostile_demo, tmp_path):
    result = cli("--db", str(hostile_demo), "brief", "2019", cwd=tmp_path, ok=False)
    assert result.returncode != 0
    assert "no stored ratings for 2019" in result.stderr and "parkmon rate 2019" in result.stderr


def test_the_pdf_renderer_fetches_nothing(tmp_path):
    """Markup that would make a renderer fetch (an image from a server, a stylesheet from the
    disk) fetches nothing: a real server on 127.0.0.1 sees no request."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    if brief.pdf_unavailable() is not None:
        if os.environ.get("PARKMON_REQUIRE_PDF") == "1":
            pytest.fail(f"the PDF brief must be tested here: {brief.pdf_unavailable()}")
        pytest.skip(f"PDF: {brief.pdf_unavailable()}")
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }", encoding="utf-8")
    try:
        port = httpd.server_address[1]
        page = (
            f'<html><body><p>南通</p><img src="http://127.0.0.1:{port}/x.png">'
            f'<link rel="stylesheet" href="{secret.as_uri()}"></body></html>'
        )
        data = brief.pdf_bytes(page)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
    assert data.startswith(b"%PDF") and seen == []
