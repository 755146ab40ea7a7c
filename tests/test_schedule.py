"""The scheduler in real processes: kill -9 mid-run, restart, a second scheduler, a failing job."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor import db, freshness, models, schedule, scheduler_lock, store
from monitor.settings import load_settings

PARKMON = str(Path(sys.executable).with_name("parkmon"))
ITEMS = [
    {"name": n, "year": 2024, "n": i * 10, "staff": i * 100}
    for i, n in enumerate(["甲孵化器", "乙孵化器", "丙众创空间", "丁众创空间"], start=1)
]


class SlowServer:
    """Answers /stats; while ``slow`` is set it keeps each request open for ``delay`` seconds."""

    def __init__(self, delay: float = 30.0) -> None:
        self.slow = threading.Event()
        self.started = threading.Event()
        self.delay = delay
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return

            def do_GET(self):
                outer.started.set()
                if outer.slow.is_set():
                    time.sleep(outer.delay)
                body = json.dumps({"rows": ITEMS}, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda *a: None
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = SlowServer()
    yield s
    s.stop()


def _config(tmp_path: Path, config_dir: Path, sources: str) -> Path:
    cfg = tmp_path / "cfg"
    shutil.copytree(config_dir, cfg, ignore=shutil.ignore_patterns("samples"))
    (cfg / "sources.toml").write_text(sources, encoding="utf-8")
    (cfg / "schedule.toml").write_text(
        '[scheduler]\ntimezone = "Asia/Shanghai"\nmissed_runs = "run_once"\n'
        "heartbeat_s = 0.3\nlock_expiry_s = 3\nmax_workers = 2\n",
        encoding="utf-8",
    )
    return cfg


def _api_source(url: str, seconds: float = 1.2) -> str:
    return f"""
[[source]]
id = "api"
collector = "json_api"
location = "{url}/stats"
items = "rows"
subject = {{ column = "name" }}
period_column = "year"
retries = 0
timeout_s = 60
schedule = {{ interval_minutes = {seconds / 60} }}
[source.columns]
"n" = "incubatees"
"staff" = "incubatee_employees"
"""


def _start(cfg: Path, database: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PARKMON, "--config", str(cfg), "--db", str(database), "schedule", "start"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait(predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _runs(engine) -> list[dict]:
    return store.runs_frame(engine, limit=1000).to_dict("records")


@pytest.mark.slow
def test_kill_9_mid_run_then_restart(collect_engine, tmp_path, config_dir, server):
    database = Path(collect_engine.url.database)
    cfg = _config(tmp_path, config_dir, _api_source(server.url))
    server.slow.set()
    first = _start(cfg, database)
    try:
        _wait(server.started.is_set, what="the first request of the scheduled run")
        _wait(
            lambda: any(r["status"] == "running" for r in _runs(collect_engine)),
            what="a run recorded as running",
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
    assert store.count_rows(collect_engine, models.Observation) == 0
    assert [r["status"] for r in _runs(collect_engine)] == ["running"]
    with collect_engine.connect() as conn:
        jobs = conn.execute(sa.text("SELECT id FROM apscheduler_jobs")).scalars().all()
    assert jobs == ["source:api"]  # the schedule survived the kill

    server.slow.clear()
    second = _start(cfg, database)  # the killed holder is dead: its lock is taken over at once
    try:
        _wait(
            lambda: any(r["status"] == "ok" for r in _runs(collect_engine)),
            timeout=40,
            what="a successful run after the restart",
        )
    except AssertionError as exc:
        second.kill()
        raise AssertionError(f"{exc}; the scheduler said: {second.communicate()[1]}") from exc
    second.send_signal(signal.SIGTERM)
    _, stderr = second.communicate(timeout=30)
    assert second.returncode == 0, stderr
    assert "marked 1 run(s) interrupted" in stderr
    assert "scheduler stopped" in stderr
    statuses = [r["status"] for r in _runs(collect_engine)]
    assert statuses[-1] == "interrupted"  # the oldest run: the one killed mid-flight
    assert "ok" in statuses
    frame = store.observations_frame(collect_engine, history=True)
    assert len(frame) == 8  # four carriers × two indicators, written exactly once
    assert not frame.duplicated([*store.FACT_KEY, "source_id"]).any()
    settings = load_settings({"config_dir": str(cfg), "database_url": str(database)})
    jobs = schedule.jobs_frame(settings)
    assert jobs.set_index("job").loc["source:api", "state"] == "scheduled"


@pytest.mark.slow
def test_a_second_scheduler_refuses_and_names_the_holder(
    collect_engine, tmp_path, config_dir, server
):
    database = Path(collect_engine.url.database)
    cfg = _config(tmp_path, config_dir, _api_source(server.url, seconds=60))
    first = _start(cfg, database)
    try:
        with collect_engine.connect() as conn:
            _wait(
                lambda: (
                    sa.inspect(collect_engine).has_table("scheduler_lock")
                    and conn.execute(sa.text("SELECT count(*) FROM scheduler_lock")).scalar() == 1
                ),
                what="the first scheduler's lock",
            )
        second = subprocess.run(
            [PARKMON, "--config", str(cfg), "--db", str(database), "schedule", "start"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert "a scheduler is already running on this database: held by" in second.stderr
        assert f":{first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert first.returncode == 0


@pytest.mark.slow
def test_a_failing_source_does_not_stop_the_others(collect_engine, tmp_path, config_dir, server):
    database = Path(collect_engine.url.database)
    sources = (
        _api_source(server.url, seconds=1.0)
        + """
[[source]]
id = "down"
collector = "json_api"
location = "http://127.0.0.1:9/stats"
items = "rows"
subject = { column = "name" }
period = "2024"
retries = 0
schedule = { interval_minutes = 0.0167 }
[source.columns]
"n" = "incubatees"
"""
    )
    cfg = _config(tmp_path, config_dir, sources)
    proc = _start(cfg, database)
    try:

        def enough():
            runs = _runs(collect_engine)
            return (
                sum(r["source_id"] == "down" for r in runs) >= 2
                and sum(r["source_id"] == "api" for r in runs) >= 2
            )

        _wait(enough, timeout=40, what="two runs of each source")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    status = subprocess.run(
        [PARKMON, "--config", str(cfg), "--db", str(database), "status", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    rows = {r["source"]: r for r in json.loads(status.stdout)}
    table = subprocess.run(
        [PARKMON, "--config", str(cfg), "--db", str(database), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert table.returncode == 0, table.stderr
    assert "down" in table.stdout and "nan" not in table.stdout  # never succeeded: blank age
    assert rows["down"]["state"] == "failing"
    assert rows["down"]["consecutive_failures"] >= 2
    assert "ConnectError" in rows["down"]["last_error"]
    # The good source kept running beside the failing one.
    assert rows["api"]["last_status"] == "ok"
    assert rows["api"]["consecutive_failures"] == 0
    # Freshness on an injected clock, never the wall clock: within 1.5 periods of its last
    # success the source is ok, after that stale.
    settings = load_settings({"config_dir": str(cfg), "database_url": str(database)})
    last = freshness.status_frame(settings).set_index("source").loc["api", "last_success"]
    at = {
        delay: freshness.status_frame(settings, now=last + timedelta(seconds=delay))
        .set_index("source")
        .loc["api", "state"]
        for delay in (0.5, 10)
    }
    assert at == {0.5: "ok", 10: "stale"}


def test_cron_triggers_carry_the_time_zone():
    trigger = schedule.make_trigger("0 3 * * *", None, "Asia/Shanghai", "test")
    after = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    fire = trigger.get_next_fire_time(None, after)
    assert fire.astimezone(UTC) == datetime(2026, 11, 29, 19, 0, tzinfo=UTC)  # 03:00 in Shanghai


@pytest.mark.parametrize(("policy", "moved"), [("skip", True), ("run_once", False)])
def test_missed_runs_policy(sqlite_engine, policy, moved):
    config = schedule.SchedulerConfig()
    scheduler = schedule.build_scheduler(sqlite_engine, config)
    scheduler.start(paused=True)
    try:
        past = datetime.now(UTC) - timedelta(days=2)
        scheduler.add_job(
            "monitor.schedule:run_pipeline_job",
            args=["x"],
            id="job:x",
            trigger=schedule.make_trigger("0 3 * * *", None, "Asia/Shanghai", "t"),
            next_run_time=past,
        )
        notes = schedule.handle_missed(scheduler, policy, datetime.now(UTC))
        job = scheduler.get_job("job:x")
        assert (job.next_run_time > datetime.now(UTC)) is moved
        assert ("skipped" in notes[0]) is moved
    finally:
        scheduler.shutdown(wait=False)


def test_pipeline_jobs_must_be_importable(tmp_path):
    from monitor.errors import ConfigError

    (tmp_path / "schedule.toml").write_text(
        '[[job]]\nid = "x"\nfunc = "__main__:nowhere"\ncron = "0 1 * * *"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="not an importable 'module:function'"):
        schedule.load_schedule_config(tmp_path)


def test_stale_lock_is_taken_over(sqlite_engine):
    lock = schedule.SchedulerLock(sqlite_engine, expiry_s=60)
    lock.acquire()
    other = schedule.SchedulerLock(sqlite_engine, expiry_s=60)
    other.holder = "elsewhere:1"
    with pytest.raises(schedule.LockHeldError, match="held by"):
        other.acquire()
    with sqlite_engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE scheduler_lock SET heartbeat_at = :t"),
            {"t": datetime.now(UTC) - timedelta(minutes=5)},
        )
    other.acquire()  # the first holder stopped beating: taken over
    with pytest.raises(schedule.LockHeldError, match="lost the scheduler lock"):
        lock.heartbeat()
    other.release()
    assert db.schema_exists(sqlite_engine)


def test_lock_and_job_store_on_both_databases(engine):
    """SQLite: a heartbeat row; PostgreSQL: an advisory lock as well. Jobs persist in either."""
    first = schedule.SchedulerLock(engine, expiry_s=60)
    first.acquire()
    second = schedule.SchedulerLock(engine, expiry_s=60)
    second.holder = "another-host:42"
    with pytest.raises(schedule.LockHeldError, match=f"held by {first.holder}"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()
    if engine.dialect.name == "postgresql":  # released means no session holds it, pooled or not
        with engine.connect() as conn:
            held = conn.execute(
                sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k"),
                {"k": scheduler_lock.ADVISORY_KEY},
            ).scalar_one()
        assert held == 0

    config = schedule.SchedulerConfig()
    for round_ in range(2):
        scheduler = schedule.build_scheduler(engine, config)
        scheduler.start(paused=True)
        if round_ == 0:
            scheduler.add_job(
                "monitor.schedule:run_source_job",
                args=["x"],
                id="source:x",
                trigger=schedule.make_trigger(None, 60, "Asia/Shanghai", "t"),
            )
            scheduler.get_job("source:x").pause()
        else:
            job = scheduler.get_job("source:x")
            assert job is not None
            assert job.next_run_time is None  # paused state survived the restart
        scheduler.shutdown(wait=False)


def test_the_web_schedule_page_reads_jobs_and_the_running_scheduler(
    collect_engine, tmp_path, config_dir, server, serve_app, monkeypatch
):
    """/schedule before any scheduler ran (nothing created by reading), while one runs (its
    holder, the job scheduled with a next run) and after it stopped."""
    database = Path(collect_engine.url.database)
    cfg = _config(tmp_path, config_dir, _api_source(server.url, seconds=600))
    monkeypatch.setenv("PARKMON_PUBLIC", "schedule")  # this page, without signing in
    with serve_app(database, cfg) as client:
        before = client.get("/schedule")
        assert before.status_code == 200
        assert "调度程序未运行" in before.text and "尚未排程" in before.text
        assert not sa.inspect(collect_engine).has_table("apscheduler_jobs")
        first = _start(cfg, database)
        try:
            _wait(
                lambda: "调度程序运行中" in client.get("/schedule").text,
                what="the page to see the running scheduler",
            )
            page = client.get("/schedule", params={"lang": "en"}).text
            assert f":{first.pid}" in page and "source:api" in page
            row = page.split("source:api")[1].split("</tr>")[0]
            assert "<td>scheduled</td>" in row and "every 0:10:00" in row
            assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>", row)  # its next run
        finally:
            first.send_signal(signal.SIGTERM)
            first.communicate(timeout=30)
        assert "调度程序未运行" in client.get("/schedule").text
