"""The main job as a newcomer meets it: `parkmon demo` in an empty folder, then the site in a
browser with the network blocked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor import db, models, store

pytestmark = pytest.mark.slow  # a real browser / the whole demo as a user runs it

PARKMON = str(Path(sys.executable).with_name("parkmon"))


def test_parkmon_demo_end_to_end(tmp_path, request):
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path), "COLUMNS": "200"}
    proc = subprocess.run(
        [PARKMON, "demo"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    database = tmp_path / "parkmon-demo" / "parkmon.db"
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        # the summary's numbers are the database's
        n_obs = store.count_rows(engine, models.Observation)
        assert f"观测值: {n_obs}" in proc.stdout
        n_rej = store.count_rows(engine, models.Rejection)
        assert n_rej == 9
        assert f"拒收: {n_rej}" in proc.stdout
        assert store.count_rows(engine, models.Park) > 200
        assert store.count_rows(engine, models.Region) == 9
        # everything generated is labelled demo data, in the parks and the sources alike
        assert db.get_meta(engine, "contains_demo_data") == "true"
        with engine.connect() as conn:
            demo_parks = conn.execute(
                sa.select(sa.func.count())
                .select_from(store.T_PARK)
                .where(store.T_PARK.c.is_demo.is_(True))
            ).scalar_one()
            flags = conn.execute(sa.select(store.T_SOURCE.c.is_demo)).scalars().all()
        assert demo_parks > 137 and flags and all(flags)
        with engine.connect() as conn:
            years = set(conn.execute(sa.select(store.table_of(models.Rating).c.year)).scalars())
            sources = conn.execute(sa.select(store.T_RUN.c.source_id, store.T_RUN.c.status)).all()
        assert years == {2020, 2021, 2022, 2023, 2024, 2025}
        assert {s for s, _ in sources} >= {
            "demo-torch-2025",
            "demo-haimen-office-2024",
            "demo-stats-api",
            "demo-recognitions-2025",
        }
    finally:
        engine.dispose()
    # Running it again rebuilds from scratch: the same figures, nothing duplicated.
    again = subprocess.run(
        [PARKMON, "demo"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    assert again.returncode == 0, again.stderr
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        assert store.count_rows(engine, models.Observation) == n_obs
    finally:
        engine.dispose()
    site = tmp_path / "parkmon-demo" / "site"
    assert str(site / "index.html") in proc.stdout
    pages = re.findall(r'href="([^"]+\.html)"', (site / "index.html").read_text(encoding="utf-8"))
    assert set(pages) == {"region.html", "progress.html", "report-2025.html"}
    # the session's browser (one Playwright per process: a second sync_playwright() beside the
    # session's, in the same worker, is refused); asked for here, after the demo has run
    browser = request.getfixturevalue("browser")
    for name in ("region.html", "progress.html"):
        page = browser.new_page()
        outside: list[str] = []
        page.route(
            "**/*",
            lambda r, outside=outside: (
                r.continue_()
                if r.request.url.startswith(("file:", "data:"))
                else (outside.append(r.request.url), r.abort())
            ),
        )
        page.goto((site / name).as_uri())
        page.wait_for_function("window.parkmon && window.parkmon.ready", timeout=20_000)
        assert outside == []
        assert page.evaluate("document.querySelectorAll('canvas, svg').length") > 0
        page.close()
    page = browser.new_page()
    page.goto((site / "report-2025.html").as_uri())
    assert "科技企业孵化器运营绩效星级评定" in page.inner_text("body")
    page.close()
