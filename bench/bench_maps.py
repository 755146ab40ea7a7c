"""Benchmark: a regional map of 50,000 synthetic carriers — build time and HTML size as ratios
against ``geopandas.GeoDataFrame.explore()`` on the same points, in the same run, the time our
page takes to draw in headless Chromium (network blocked), and three zoom steps against the same
page drawing every point at every zoom (its viewport and cells switched off).

    python bench/bench_maps.py [CARRIERS]

explore()'s page loads Leaflet and its plugins from CDNs, so with no network it cannot draw at
all: its draw time is reported only when it draws.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

from maps.page import tile_choice
from maps.region import MapData, render_region_map
from monitor.registry import load_city
from monitor.settings import bundled_config_dir


def synthetic(n: int) -> tuple[MapData, gpd.GeoDataFrame]:
    rng = np.random.default_rng(3)
    lon = rng.uniform(120.3, 121.8, n)
    lat = rng.uniform(31.7, 32.6, n)
    kinds = rng.choice(["incubator", "maker_space"], n)
    stars = rng.integers(0, 6, size=(n, 3))
    parks = [
        {
            "id": f"B{i:05d}",
            "name": f"基准载体{i:05d}",
            "kind": kinds[i],
            "kind_label": kinds[i],
            "level_label": "市级",
            "district": "崇川区",
            "role": "none",
            "role_label": "—",
            "lon": float(lon[i]),
            "lat": float(lat[i]),
            "approx": False,
            "stars": {str(2023 + k): int(stars[i, k]) for k in range(3)},
            "score": {str(2023 + k): float(stars[i, k] * 18) for k in range(3)},
        }
        for i in range(n)
    ]
    data = MapData(
        parks=parks,
        districts=[],
        belt=None,
        years=[2023, 2024, 2025],
        labels={},
        kinds={"incubator": "孵化器", "maker_space": "众创空间"},
        roles={"none": "—"},
        title="bench",
    )
    frame = gpd.GeoDataFrame(
        {"name": [p["name"] for p in parks], "kind": kinds, "stars": stars[:, 2]},
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )
    return data, frame


ZOOM_STEP = """() => new Promise(resolve => {
  var m = window.parkmon.map, t = performance.now();
  m.once('moveend', () => requestAnimationFrame(() => resolve(performance.now() - t)));
  m.setZoom(m.getZoom() + 1, {animate: false});
})"""


def draw_time(path: Path) -> tuple[float, list[float]] | None:
    """Seconds until the page is drawn, and milliseconds of each of three zoom steps in."""
    chromium = shutil.which("chromium")
    if not chromium:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort(),
        )
        t0 = time.perf_counter()
        page.goto(path.as_uri())
        try:
            page.wait_for_function("window.parkmon && window.parkmon.ready", timeout=120_000)
        except Exception:
            browser.close()
            return None
        elapsed = time.perf_counter() - t0
        steps = [float(page.evaluate(ZOOM_STEP)) for _ in range(3)]
        browser.close()
    return elapsed, steps


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    data, frame = synthetic(n)
    load_city(bundled_config_dir())
    t0 = time.perf_counter()
    ours = render_region_map(data, tile_choice(None))
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = frame.explore(tiles=None).get_root().render()
    theirs_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "ours.html"
        page.write_text(ours, encoding="utf-8")
        drawn = draw_time(page)
        # the baseline: the same page drawing every carrier at every zoom (no viewport, no cells)
        every = Path(tmp) / "every.html"
        every.write_text(ours.replace("var DENSE = 4000", "var DENSE = 1e9"), encoding="utf-8")
        baseline = draw_time(every)
    print(f"{n:,} carriers")
    print(
        f"build: ours {ours_s:.2f} s, explore() {theirs_s:.2f} s → {theirs_s / ours_s:.1f}x faster"
    )
    print(
        f"size:  ours {len(ours) / 1e6:.1f} MB, explore() {len(theirs) / 1e6:.1f} MB → "
        f"{len(theirs) / len(ours):.1f}x smaller"
    )
    if drawn is None or baseline is None:
        print("draw: Chromium not available")
    else:
        print(
            f"draw in Chromium, network blocked: {drawn[0]:.2f} s "
            f"(every point: {baseline[0]:.2f} s)"
        )
        for i, (ours_ms, every_ms) in enumerate(zip(drawn[1], baseline[1], strict=True), 1):
            print(
                f"zoom step {i}: {ours_ms:.0f} ms, drawing every point {every_ms:.0f} ms "
                f"→ {every_ms / ours_ms:.1f}x"
            )
    print(
        "explore()'s page needs Leaflet and its plugins from CDNs: with no network it does "
        "not draw at all"
    )


if __name__ == "__main__":
    main()
