"""Shared fixtures: fresh SQLite files and fresh PostgreSQL schemas on the real server."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import Engine

from monitor import db
from monitor.settings import bundled_config_dir

PG_ENV = "PARKMON_TEST_PG_URL"

# The CLI's rich consoles take their width when monitor.cli is first imported, which depends on
# which test a worker runs first (pytest-xdist): tables read by the tests are 200 wide in every
# order.
os.environ["COLUMNS"] = "200"


# Property tests draw the same examples on every run (derandomize), so CI is reproducible: a
# failure is a bug found, not bad luck. Explore new examples, ten times as many, with
# pytest --hypothesis-profile=explore (and turn what it finds into a test, as test_rating does).
hypothesis_settings.register_profile("parkmon", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", max_examples=500)
hypothesis_settings.load_profile("parkmon")


@pytest.fixture(scope="session")
def config_dir() -> Path:
    return bundled_config_dir()


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("PARKMON_REQUIRE_PG") == "1":
            pytest.fail(f"{PG_ENV} is not set but PARKMON_REQUIRE_PG=1: PostgreSQL tests must run")
        pytest.skip(f"set {PG_ENV} to run against PostgreSQL (.ci/run starts a throwaway server)")
    return url


@pytest.fixture(scope="session")
def pg_plain_url(pg_url: str) -> str:
    """The same server's database without PostGIS (.ci/postgres.sh creates parkmon_plain)."""
    return sa.engine.make_url(pg_url).set(database="parkmon_plain").render_as_string(False)


def _pg_schema_engine(pg_url: str) -> Iterator[Engine]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = db.make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    # public stays on the path for PostGIS's types and functions (installed there)
    url = sa.engine.make_url(pg_url).update_query_dict(
        {"options": f"-csearch_path={schema},public"}
    )
    engine = db.make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database with the parkmon schema: a SQLite file, or a PG schema."""
    if request.param == "sqlite":
        eng = db.make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        db.init_schema(eng)
        yield eng
        eng.dispose()
    else:
        gen = _pg_schema_engine(request.getfixturevalue("pg_url"))
        eng = next(gen)
        db.init_schema(eng)
        yield eng
        gen.close()


@pytest.fixture
def pg_empty(pg_url: str) -> Iterator[Engine]:
    """An engine on a fresh, empty schema of the PostGIS test database (no parkmon schema)."""
    yield from _pg_schema_engine(pg_url)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = db.make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    db.init_schema(eng)
    yield eng
    eng.dispose()


TEST_CARRIERS = [
    ("T-I01", "甲孵化器", "incubator", "崇川区", "甲科技企业孵化器"),
    ("T-I02", "乙孵化器", "incubator", "海门区", ""),
    ("T-M01", "丙众创空间", "maker_space", "海门区", ""),
    ("T-M02", "丁众创空间", "maker_space", "通州区", ""),
]


def _with_test_carriers(eng: Engine, config_dir: Path) -> Engine:
    """Initialise from the bundled config and add the four test carriers."""
    from monitor import pipeline, store
    from monitor.registry import load_city

    pipeline.initialise(eng, config_dir)
    city = load_city(config_dir)
    rows = []
    for pid, name, kind, district, alias in TEST_CARRIERS:
        d = city.district(district)
        assert d is not None
        rows.append(
            {
                "id": pid,
                "name": name,
                "aliases": alias,
                "kind": kind,
                "level": "municipal",
                "district_id": d.adcode,
                "belt_role": "none",
                "lon": d.seat[0],
                "lat": d.seat[1],
                "location_quality": "approximate",
                "location_crs": "wgs84",
            }
        )
    with eng.begin() as conn:
        store.upsert_parks(conn, rows)
    return eng


@pytest.fixture
def collect_engine(tmp_path: Path, config_dir: Path) -> Iterator[Engine]:
    """A SQLite database initialised from the bundled config plus four test carriers."""
    eng = _with_test_carriers(db.make_engine(f"sqlite:///{tmp_path / 'collect.db'}"), config_dir)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_collect_engine(pg_empty: Engine, config_dir: Path) -> Engine:
    """The same on a fresh schema of the PostGIS test database."""
    return _with_test_carriers(pg_empty, config_dir)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory, config_dir: Path):
    """The demo, built once per test session (several seconds): read it, or copy it first."""
    from monitor.demo import build_demo

    return build_demo(tmp_path_factory.mktemp("demo-shared"), config_dir)


def copy_sqlite(source_path: Path, folder: Path) -> Path:
    """A private copy of a SQLite database in ``folder`` (the backup API: nothing still in the
    WAL is missed)."""
    import sqlite3

    target = folder / "parkmon.db"
    source = sqlite3.connect(source_path)
    into = sqlite3.connect(target)
    try:
        source.backup(into)
    finally:
        into.close()
        source.close()
    return target


@pytest.fixture(scope="session")
def copy_demo(demo_build):
    """copy_demo(folder) → a private copy of the shared demo database, to change freely."""

    def copy(folder: Path) -> Path:
        return copy_sqlite(demo_build.database, folder)

    return copy


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    """cli(*args, cwd=…, ok=True) runs the real entry point (``monitor.cli.main``, with its
    one-line errors and exit codes) in this process, from ``cwd``, with no PARKMON_* settings
    from outside. A subprocess proves nothing more for most commands and costs a second each."""
    import contextlib
    import io

    from monitor.cli import main
    from monitor.settings import SETTINGS

    for name in ("PARKMON_CONFIG", *(s.env for s in SETTINGS)):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str, cwd: Path, ok: bool = True) -> CliResult:
        monkeypatch.chdir(cwd)
        out, err = io.StringIO(), io.StringIO()
        code = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        result = CliResult(code, out.getvalue(), err.getvalue())
        assert "Traceback" not in result.stderr, result.stderr
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM:
        if os.environ.get("PARKMON_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is needed for the map tests (.ci/run installs it)")
        pytest.skip("browser tests need Chromium: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def serve_app():
    """serve_app(database[, config_dir]) → a context manager: the web application on a real
    HTTP server on 127.0.0.1 (a free port) and an httpx client of it (``client.base_url``)."""
    import threading
    import time
    from contextlib import contextmanager

    import httpx
    import uvicorn

    from monitor.settings import load_settings
    from monitor.web.app import create_app

    @contextmanager
    def served(database: Path, config_dir: Path | None = None) -> Iterator[httpx.Client]:
        options = {"database_url": str(database), "config_dir": config_dir and str(config_dir)}
        app = create_app(load_settings(options))
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.05)
        assert server.started, "the test server did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                yield client
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            app.state.engine.dispose()

    return served
