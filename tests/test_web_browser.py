"""The web application in the Debian Chromium: every page draws with the network cut (nothing
but the application itself is ever asked for), no script error, no Content-Security-Policy
violation, the charts drawn by the served ECharts, the language switch and the chart's chooser
working. Screenshots are kept as test artifacts."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def demo_db(tmp_path, copy_demo) -> Path:
    return copy_demo(tmp_path)


def _visit(browser, base: str, path: str, *, charts: bool = False):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    own = urlsplit(base).netloc
    outside: list[str] = []
    errors: list[str] = []

    def route(r):
        if urlsplit(r.request.url).netloc == own:
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = page.goto(base + path)
    assert response is not None and response.status == 200, path
    if charts:
        page.wait_for_function(
            "Number(document.documentElement.dataset.chartsDrawn || 0) > 0", timeout=20_000
        )
    return page, outside, errors


def test_the_pages_draw_offline_without_errors(demo_db, serve_app, browser):
    with serve_app(demo_db) as client:
        base = str(client.base_url).rstrip("/")
        incubators = client.get("/api/parks", params={"kind": "incubator"}).json()
        rated = [p["id"] for p in incubators if p["stars"] is not None]
        goals_page = client.get("/goals").text
        goal_ids = [chunk.split('"')[0] for chunk in goals_page.split('href="/goals/')[1:]]
        pages = [
            ("/", True),
            ("/parks?kind=incubator", False),
            (f"/parks/{rated[0]}", True),
            ("/goals", False),
            (f"/goals/{goal_ids[0]}", False),
            (f"/compare?ids={rated[0]},{rated[1]}", False),
            ("/rankings", False),
            ("/runs", False),
            ("/rejects", False),
            ("/schedule", False),
            ("/api/docs", False),
        ]
        ARTIFACTS.mkdir(exist_ok=True)
        for path, charts in pages:
            page, outside, errors = _visit(browser, base, path, charts=charts)
            assert outside == [], (path, outside)
            assert errors == [], (path, errors)
            if charts:
                assert page.locator("[data-chart] svg").count() >= 1
            if path.startswith("/parks/"):
                page.screenshot(path=str(ARTIFACTS / "web-park.png"), full_page=True)
                # another indicator in the chooser redraws the chart, without an error
                page.select_option("#series-choice", index=1)
                page.wait_for_timeout(100)
                assert errors == []
            if path == "/":
                page.screenshot(path=str(ARTIFACTS / "web-overview.png"), full_page=True)
                page.click("header a.lang")
                page.wait_for_load_state()
                assert "Overview" in page.content() and "总览" not in page.content()
            page.close()


def test_the_map_page_draws_offline_and_a_marker_leads_to_its_carrier(demo_db, serve_app, browser):
    with serve_app(demo_db) as client:
        base = str(client.base_url).rstrip("/")
        page, outside, errors = _visit(browser, base, "/map")
        frame = page.frame_locator("iframe.map")
        inner = next(f for f in page.frames if f.url.endswith("/map/frame"))
        inner.wait_for_function("window.parkmon && window.parkmon.ready", timeout=20_000)
        assert inner.evaluate("typeof L") == "object"
        target = "DEMO-I004"
        # centre on the carrier and wait until the map has settled and drawn what is in view
        inner.evaluate(
            "id => new Promise(done => { var pm = window.parkmon;"
            " var m = pm.markers.find(x => x[1].id === id);"
            " pm.map.once('moveend', () => requestAnimationFrame(() => done(true)));"
            " pm.map.setView(m[0].getLatLng(), 14, {animate: false}); })",
            target,
        )
        link = frame.locator(".leaflet-popup-content a.pm-link")
        box = page.locator("iframe.map").bounding_box()
        assert box is not None
        for _ in range(5):  # a click can land while the canvas redraws: click again then
            x, y = inner.evaluate("id => window.parkmon.pointOf(id)", target)
            page.mouse.click(box["x"] + x, box["y"] + y)
            try:
                link.wait_for(timeout=3_000)
                break
            except PlaywrightTimeout:
                continue
        link.wait_for(timeout=5_000)
        assert link.get_attribute("href") == f"/parks/{target}"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web-map.png"))
        link.click()
        page.wait_for_url(f"{base}/parks/{target}", timeout=10_000)
        assert outside == [] and errors == [], (outside, errors)


def test_filters_compare_and_the_map_year_control_work_in_the_browser(demo_db, serve_app, browser):
    with serve_app(demo_db) as client:
        base = str(client.base_url).rstrip("/")
        incubators = client.get("/api/parks", params={"kind": "incubator"}).json()
        # the carrier list's filter form: kind chosen, the table shows incubators only
        page, outside, errors = _visit(browser, base, "/parks")
        page.select_option("select[name=kind]", "incubator")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**/parks?*kind=incubator*")
        kinds = page.locator("table tr td:nth-child(3)").all_inner_texts()
        assert kinds and set(kinds) == {"孵化器"}
        assert f"共 {len(incubators)} 个" in page.content()
        # from a carrier's page to its comparison with its peers
        rated = next(p for p in incubators if p["stars"] is not None)
        page.goto(f"{base}/parks/{rated['id']}")
        page.click("text=与同类对比")
        page.wait_for_url(f"**/compare?ids={rated['id']}*")
        assert page.locator("svg[aria-label=portrait]").count() == 1
        assert rated["name"] in page.content()
        assert outside == [] and errors == [], (outside, errors)
        page.close()

        # the map: the year control recolours a carrier whose stars changed; a kind unticked
        # takes its markers away
        history = {}
        for p in incubators:
            if p["stars"] is None:
                continue
            years = {
                r["year"]: r["stars"] for r in client.get(f"/api/parks/{p['id']}").json()["ratings"]
            }
            if len(set(years.values())) > 1:
                history = {"id": p["id"], "years": years}
                break
        assert history, "the demo has a carrier whose stars changed"
        page, outside, errors = _visit(browser, base, "/map")
        inner = next(f for f in page.frames if f.url.endswith("/map/frame"))
        inner.wait_for_function("window.parkmon && window.parkmon.ready", timeout=20_000)
        years = sorted(history["years"])
        early = next(y for y in years if history["years"][y] != history["years"][years[-1]])
        inner.select_option("#pm-year", str(years[-1]))
        latest_fill = inner.evaluate("id => window.parkmon.fillOf(id)", history["id"])
        inner.select_option("#pm-year", str(early))
        assert inner.evaluate("window.parkmon.year") in (early, str(early))
        assert inner.evaluate("id => window.parkmon.fillOf(id)", history["id"]) != latest_fill
        before = inner.evaluate("window.parkmon.drawn()")
        inner.uncheck("input[data-group=kinds][data-key=incubator]")
        assert 0 < inner.evaluate("window.parkmon.drawn()") < before
        assert outside == [] and errors == [], (outside, errors)
        page.close()


def test_hostile_names_stay_text_in_every_page_the_browser_draws(demo_db, serve_app, browser):
    """A carrier named with markup (as a park office could file it): every page, the chart's
    legend, the comparison's radar and the map's popup show it as text; nothing runs."""
    import sqlite3

    hostile = '<img src=x onerror="window.__pwned=1">"><script>window.__pwned=2</script>'
    with serve_app(demo_db) as client:
        incubators = client.get("/api/parks", params={"kind": "incubator"}).json()
        rated = [p["id"] for p in incubators if p["stars"] is not None]
    with sqlite3.connect(demo_db) as conn:
        conn.execute("UPDATE park SET name = ? WHERE id = ?", (hostile, rated[0]))
    conn.close()
    with serve_app(demo_db) as client:
        base = str(client.base_url).rstrip("/")
        for path, charts in [
            (f"/parks/{rated[0]}", True),
            ("/parks?kind=incubator", False),
            (f"/compare?ids={rated[0]},{rated[1]}", False),
            ("/map", False),
        ]:
            page, outside, errors = _visit(browser, base, path, charts=charts)
            if path == "/map":
                inner = next(f for f in page.frames if f.url.endswith("/map/frame"))
                inner.wait_for_function("window.parkmon && window.parkmon.ready", timeout=20_000)
                inner.evaluate(
                    "id => { var m = window.parkmon.markers.find(x => x[1].id === id);"
                    " m[0].openPopup(); }",
                    rated[0],
                )
                popup = inner.locator(".leaflet-popup-content")
                popup.wait_for(timeout=5_000)
                assert hostile in popup.inner_text()
                assert inner.evaluate("window.__pwned === undefined")
            else:
                assert hostile in page.inner_text("main")
            assert page.evaluate("window.__pwned === undefined"), path
            assert page.locator("main img[src=x]").count() == 0, path
            assert outside == [] and errors == [], (path, outside, errors)
            page.close()


def test_a_park_office_files_and_the_bureau_approves_rates_and_publishes(
    tmp_path, copy_demo, serve_app, browser, cli
):
    """The portal in the browser with the network cut: a park office signs in, downloads its
    workbook, uploads it with two defects and sees both explained, fixes and submits; the
    reviewer returns it, the office corrects it, the reviewer approves; the bureau rates and
    publishes; the carrier's page shows the published stars. A second office sees none of it."""
    import io

    import openpyxl

    from monitor import accounts, db, rounds

    demo_db = copy_demo(tmp_path)
    engine = db.make_engine(f"sqlite:///{demo_db}")
    actor = accounts.Actor("test")
    password = "a long enough password"
    for name, role, extra in [
        ("park1", "park", {"parks": ["DEMO-I001"]}),
        ("park2", "park", {"parks": ["DEMO-I002"]}),
        ("admin1", "admin", {}),
    ]:
        accounts.add_account(engine, name, role, password, actor=actor, **extra)
    engine.dispose()
    cli(
        "--db",
        str(demo_db),
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

    def filled(content: bytes, values: dict) -> Path:
        book = openpyxl.load_workbook(io.BytesIO(content))
        sheet = book["填报 Report"]
        for row in range(rounds.HEADER_ROW + 1, sheet.max_row + 1):
            code = sheet.cell(row, 2).value
            sheet.cell(row, 6).value = values.get(code, sheet.cell(row, 5).value)
        path = (
            tmp_path / f"报表-{len(values)}-{sum(hash(str(v)) % 97 for v in values.values())}.xlsx"
        )
        book.save(path)
        return path

    with serve_app(demo_db) as client:
        base = str(client.base_url).rstrip("/")

        def signed_in(name: str):
            page, outside, errors = _visit(browser, base, "/login")
            page.fill("input[name=name]", name)
            page.fill("input[name=password]", password)
            page.click("form.login button[type=submit]")
            page.wait_for_url(f"{base}/")
            return page, outside, errors

        page, outside, errors = signed_in("park1")
        page.click("header >> text=数据填报")
        with page.expect_download() as got:
            page.click("a[data-workbook]")
        blank = Path(got.value.path()).read_bytes()
        page.click("a[data-filing]")
        bad = filled(blank, {"mentors": "很多", "incubatees": 52, "financed_incubatees": 999})
        page.set_input_files("input[name=file]", str(bad))
        page.click("form.upload button[type=submit]")
        problems = page.locator("table[data-problems]").inner_text()
        assert "很多" in problems and "获投融资的在孵企业多于在孵企业总数" in problems
        assert page.locator("[data-submit]").count() == 0
        good = filled(blank, {"incubatees": 52, "financed_incubatees": 8})
        page.set_input_files("input[name=file]", str(good))
        page.click("form.upload button[type=submit]")
        page.click("[data-submit]")
        assert page.locator("[data-status=submitted]").count() == 1
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "portal-submitted.png"), full_page=True)
        assert outside == [] and errors == [], (outside, errors)
        page.close()

        other, _, _ = signed_in("park2")
        other.goto(f"{base}/portal")
        assert "DEMO-I001" not in other.inner_text("main")
        assert other.goto(f"{base}/portal/2025-annual/DEMO-I001").status == 404
        other.close()

        admin, outside, errors = signed_in("admin1")
        admin.click("header >> text=审核")
        admin.click("text=审核 →")
        admin.fill("form[action$=return] input[name=comment]", "在孵企业数与花名册不符")
        admin.click("[data-return]")
        admin.close()

        page, _, _ = signed_in("park1")
        page.goto(f"{base}/portal/2025-annual/DEMO-I001")
        assert "在孵企业数与花名册不符" in page.inner_text("[data-comment]")
        page.set_input_files("input[name=file]", str(filled(blank, {"incubatees": 50})))
        page.click("form.upload button[type=submit]")
        page.click("[data-submit]")
        page.close()

        admin, outside, errors = signed_in("admin1")
        admin.goto(f"{base}/review")
        admin.click("text=审核 →")
        admin.screenshot(path=str(ARTIFACTS / "portal-review.png"), full_page=True)
        admin.click("[data-approve]")
        cli("--db", str(demo_db), "rate", "2025", cwd=tmp_path)
        admin.goto(f"{base}/admin/publish")
        admin.fill("input[name=year]", "2025")
        admin.click("[data-publish]")
        assert "2025" in admin.inner_text("table[data-publications]")
        admin.goto(f"{base}/parks/DEMO-I001")
        published = admin.inner_text("table[data-published]")
        assert "2025" in published and "admin1" in published
        figures = admin.inner_text("main")
        assert "portal" in figures  # the approved figures, with their source
        assert outside == [] and errors == [], (outside, errors)
        admin.close()
