"""Maps in a real browser (Debian's Chromium, driven by Playwright), network blocked, plus checks
on the HTML for each tile system."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from geo.crs import wgs84_to_gcj02
from geo.errors import GeoError
from maps.page import tile_choice
from maps.payload import MapData
from maps.region import render_region_map
from monitor import db, publish, store, views

pytestmark = pytest.mark.slow  # a real browser / the whole demo as a user runs it

ARTIFACTS = Path(__file__).parent / "artifacts"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, config_dir, demo_build, copy_demo):
    folder = tmp_path_factory.mktemp("mapdemo")
    summary = dataclasses.replace(demo_build, database=copy_demo(folder))
    engine = db.make_engine(f"sqlite:///{summary.database}")
    with engine.begin() as conn:  # a hostile name, as a collector might bring one in
        conn.execute(store.T_PARK.update().where(store.T_PARK.c.id == "DEMO-I004").values(name=XSS))
    data = views.map_data(engine, config_dir)
    progress = publish.progress_map_html(engine, config_dir, "zh", tile_choice(None))
    engine.dispose()
    region = folder / "region.html"
    region.write_text(render_region_map(data, tile_choice(None)), encoding="utf-8")
    (folder / "progress.html").write_text(progress, encoding="utf-8")
    return folder, data, summary


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    outside: list[str] = []
    dialogs: list[str] = []
    errors: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "requestfailed",
        lambda r: (
            errors.append(f"failed: {r.url}") if not r.url.startswith(("file:", "data:")) else None
        ),
    )
    page.goto(path.as_uri())
    page.wait_for_function("window.parkmon && window.parkmon.ready", timeout=20_000)
    return page, outside, dialogs, errors


def _centre_and_click(page, pid: str, shows: str = "") -> None:
    """Centre the map on a carrier (no animation), wait until it has settled and drawn, and
    click its marker until its popup (holding ``shows``) is open: a click that lands while the
    canvas redraws under load is simply made again."""
    page.evaluate(
        "id => new Promise(done => { var pm = window.parkmon;"
        " var m = pm.markers.find(x => x[1].id === id);"
        " pm.map.once('moveend', () => requestAnimationFrame(() => done(true)));"
        " pm.map.setView(m[0].getLatLng(), 14, {animate: false}); })",
        pid,
    )
    check = (
        "text => { var p = document.querySelector('.leaflet-popup-content');"
        " return !!p && p.innerText.includes(text); }"
    )
    for _ in range(5):
        x, y = page.evaluate("id => window.parkmon.pointOf(id)", pid)
        page.mouse.click(x, y)
        try:
            page.wait_for_function(check, arg=shows, timeout=3_000)
            return
        except PlaywrightTimeout:
            continue
    page.wait_for_function(check, arg=shows, timeout=5_000)


def test_region_map_draws_offline(demo, browser):
    folder, data, _ = demo
    page, outside, dialogs, errors = _open(browser, folder / "region.html")
    assert page.evaluate("typeof L") == "object"
    assert page.evaluate("L.version") == "1.9.4"
    assert page.evaluate("window.parkmon.drawn()") == len(data.parks)
    assert outside == []
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "region-map.png"))
    # switching the year changes the colours of carriers whose stars changed
    ids = [p["id"] for p in data.parks if len(set(p["stars"].values())) > 1]
    before = [page.evaluate("id => window.parkmon.fillOf(id)", i) for i in ids]
    page.select_option("#pm-year", str(data.years[0]))
    after = [page.evaluate("id => window.parkmon.fillOf(id)", i) for i in ids]
    assert ids
    assert sum(a != b for a, b in zip(before, after, strict=True)) > len(ids) // 2
    # the filter by kind hides a layer
    incubators = sum(p["kind"] == "incubator" for p in data.parks)
    page.uncheck("input[data-group=kinds][data-key=incubator]")
    assert page.evaluate("window.parkmon.drawn()") == len(data.parks) - incubators
    page.check("input[data-group=kinds][data-key=incubator]")
    page.close()


def test_clicking_a_marker_opens_its_popup_and_names_stay_text(demo, browser):
    folder, data, _ = demo
    page, outside, dialogs, errors = _open(browser, folder / "region.html")
    target = next(p for p in data.parks if p["id"] == "DEMO-I004")
    _centre_and_click(page, target["id"])
    popup = page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
    text = popup.inner_text()
    assert XSS in text  # shown literally, as text
    assert page.query_selector(".leaflet-popup-content img") is None
    assert dialogs == []  # no script ran
    assert outside == []  # and the <img src=x> requested nothing
    assert "★" in text or "—" in text
    page.screenshot(path=str(ARTIFACTS / "region-popup.png"))
    # a real carrier's popup in a database holding demo data says its figures are demo data
    _centre_and_click(page, "NT-Z01", shows="南通高新区")
    real = page.query_selector(".leaflet-popup-content").inner_text()
    assert "演示数据" in real, real
    page.close()


def test_progress_map(demo, browser):
    folder, _, _ = demo
    page, outside, dialogs, errors = _open(browser, folder / "progress.html")
    colours = page.evaluate("['320613','320623'].map(c => window.parkmon.colourOf(c))")
    assert all(colours)
    assert outside == []
    assert errors == []
    assert page.inner_text(".pm-panel").count("\n") > 5  # the panel of the city's goals
    page.screenshot(path=str(ARTIFACTS / "progress-map.png"))
    page.close()


def test_the_site_pages_exist_and_link(demo):
    folder, _, summary = demo
    index = summary.site.read_text(encoding="utf-8")
    for name in ("region.html", "progress.html", "report-2025.html"):
        assert f'href="{name}"' in index
        assert (summary.site.parent / name).exists()
    assert "演示数据" in index


def _payload(html: str) -> dict:
    match = re.search(r"var DATA = (\{.*?\});\n", html, re.S)
    assert match
    return json.loads(match.group(1))


def test_geometry_is_drawn_in_the_tile_system(demo):
    _, data, _ = demo
    plain = _payload(render_region_map(data, tile_choice(None)))
    gaode = _payload(render_region_map(data, tile_choice("gaode")))
    osm = _payload(render_region_map(data, tile_choice("osm")))
    lon = np.array([p["lon"] for p in data.parks])
    lat = np.array([p["lat"] for p in data.parks])
    glon, glat = wgs84_to_gcj02(lon, lat)

    # carriers travel as integer steps of 1e-5° (about 1 m) from an origin
    def coords(payload):
        c = payload["parks"]
        return (c["lon0"] + np.array(c["x"]) / 1e5, c["lat0"] + np.array(c["y"]) / 1e5)

    assert np.allclose(coords(gaode)[0], glon, atol=6e-6)
    assert np.allclose(coords(gaode)[1], glat, atol=6e-6)
    assert np.allclose(coords(osm)[0], lon, atol=6e-6)
    assert plain["parks"]["x"] == osm["parks"]["x"]
    assert len(gaode["parks"]["id"]) == len(data.parks)
    assert gaode["crs"] == "gcj02"
    # the district outlines move with the points
    g0 = gaode["districts"]["features"][0]["geometry"]["coordinates"]
    p0 = plain["districts"]["features"][0]["geometry"]["coordinates"]
    assert g0 != p0
    html = render_region_map(data, tile_choice(None))
    assert not re.search(r"""<(?:script|link)[^>]+(?:src|href)=["']https?:""", html)
    assert XSS not in html  # escaped inside the JSON payload
    with pytest.raises(GeoError, match="PARKMON_TIANDITU_KEY"):
        tile_choice("tianditu", None)


def test_comparison_map(demo, browser, config_dir, tmp_path):
    folder, _, summary = demo
    engine = db.make_engine(f"sqlite:///{summary.database}")
    try:
        page_html = publish.comparison_map_html(
            engine, config_dir, ["DEMO-I006", "DEMO-I004"], 2025, "zh", tile_choice(None)
        )
    finally:
        engine.dispose()
    path = tmp_path / "compare.html"
    path.write_text(page_html, encoding="utf-8")
    page, outside, dialogs, errors = _open(browser, path)
    tooltips = page.inner_text(".leaflet-tooltip-pane")
    assert "示例孵化器-06（演示）" in tooltips  # highlighted carriers are labelled
    assert XSS in tooltips  # the hostile name, as text
    assert page.query_selector(".pm-panel svg polygon") is not None  # the radar portrait
    assert dialogs == []
    assert outside == []
    assert errors == []
    page.screenshot(path=str(ARTIFACTS / "compare-map.png"))
    page.close()


def _dense_map(n: int) -> MapData:
    """n synthetic carriers over Nantong (a province-sized registry drawn on one map)."""
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(120.3, 121.8, n), rng.uniform(31.7, 32.6, n)
    parks = [
        {
            "id": f"S{i:05d}",
            "name": f"示例载体{i:05d}",
            "kind": "incubator" if i % 2 else "maker_space",
            "kind_label": "孵化器" if i % 2 else "众创空间",
            "level_label": "市级",
            "district": "崇川区",
            "role": "none",
            "role_label": "—",
            "lon": float(lon[i]),
            "lat": float(lat[i]),
            "approx": False,
            "stars": {"2025": int(i % 6)},
            "score": {"2025": float(i % 100)},
        }
        for i in range(n)
    ]
    return MapData(
        parks=parks,
        districts=[],
        belt=None,
        years=[2025],
        labels={"cluster": "个载体（放大查看）"},
        kinds={"incubator": "孵化器", "maker_space": "众创空间"},
        roles={"none": "—"},
        title="dense",
    )


def test_a_dense_map_draws_what_is_in_view(browser, tmp_path):
    """At a national scale the map aggregates what is in view into cells and, zoomed in, draws
    only the carriers in view — every carrier still counted, the popups still there."""
    n = 12_000
    path = tmp_path / "dense.html"
    path.write_text(render_region_map(_dense_map(n), tile_choice(None)), encoding="utf-8")
    page, outside, _dialogs, errors = _open(browser, path)
    cells, counted = page.evaluate("window.parkmon.cells()")
    assert page.evaluate("window.parkmon.drawn()") == 0
    assert 0 < cells < n and counted == n  # aggregated, nobody lost
    page.uncheck("input[data-group=kinds][data-key=incubator]")
    assert page.evaluate("window.parkmon.cells()")[1] == n // 2  # the filters apply to cells
    page.check("input[data-group=kinds][data-key=incubator]")
    _centre_and_click(page, "S00077", shows="示例载体00077")
    drawn = page.evaluate("window.parkmon.drawn()")
    assert 0 < drawn < n // 10 and page.evaluate("window.parkmon.cells()")[0] == 0
    popup = page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
    assert "示例载体00077" in popup.inner_text()
    assert outside == [] and errors == []
    page.close()
