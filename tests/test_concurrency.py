"""Several hosts on one PostgreSQL: two application processes writing while the scheduler runs
its jobs and ``parkmon serve --workers 2`` answers readers — every write kept, no deadlock, no
run left hanging, every page answered, and the workers' answers following the writes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from monitor import store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PARKMON = str(Path(sys.executable).with_name("parkmon"))
NAMES = ["甲孵化器", "乙孵化器", "丙众创空间", "丁众创空间"]
ROUNDS = 4

# One application process: a loop of what a web worker does to the database — take in a park
# office's figures (here through the file collector, as the portal will) and re-rate the year.
WRITER = textwrap.dedent(
    """
    import csv, sys
    from pathlib import Path
    from monitor.cli import main

    cfg, url, source = sys.argv[1:4]
    base, rounds = int(sys.argv[4]), int(sys.argv[5])
    folder = Path(cfg) / f"in-{source}"
    folder.mkdir(exist_ok=True)
    names = ["甲孵化器", "乙孵化器", "丙众创空间", "丁众创空间"]
    for r in range(1, rounds + 1):
        with (folder / "report.csv").open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["载体名称", "在孵企业数"])
            for i, name in enumerate(names):
                out.writerow([name, base + 10 * i + r])
        for args in (["collect", source], ["rate", "2024"]):
            try:
                main(["--config", cfg, "--db", url, *args])
            except SystemExit as exc:
                if exc.code:
                    sys.exit(f"round {r}, {args}: exit {exc.code}")
        print(f"round {r} done", flush=True)
    """
)


class CountingServer:
    """A statistics API whose figures change on every request (each scheduled run writes)."""

    def __init__(self) -> None:
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return

            def do_GET(self):
                outer.requests += 1
                rows = [
                    {"name": n, "year": 2024, "n": 1000 + 10 * i + outer.requests}
                    for i, n in enumerate(NAMES)
                ]
                body = json.dumps({"rows": rows}, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Readers:
    """Two clients reading pages and the API of ``parkmon serve`` in a loop while others write."""

    PATHS = ("/", "/parks", "/api/parks", "/runs", "/rejects", "/goals", "/api/goals")

    def __init__(self, base: str) -> None:
        self.base = base
        self.answers = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def wait_until_up(self, server: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/api/goals", timeout=10)
                return
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1][-3000:]
                time.sleep(0.2)
        raise AssertionError("parkmon serve did not start")

    def _loop(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self._stop.is_set():
                for path in self.PATHS:
                    answer = client.get(path)
                    self.answers += 1
                    if answer.status_code != 200:
                        self.failures.append(f"{path}: {answer.status_code} {answer.text[:300]}")

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(2)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sources(api: str) -> str:
    files = "".join(
        f"""
[[source]]
id = "{s}"
collector = "file"
location = "in-{s}/*.csv"
period = "2024"
subject = "载体名称"
[source.columns]
"在孵企业数" = "incubatees"
"""
        for s in ("office-a", "office-b")
    )
    return (
        files
        + f"""
[[source]]
id = "api"
collector = "json_api"
location = "{api}/stats"
items = "rows"
subject = {{ column = "name" }}
period_column = "year"
retries = 0
schedule = {{ interval_minutes = 0.02 }}
[source.columns]
"n" = "incubatees"
"""
    )


def test_two_app_processes_and_the_scheduler_on_one_database(
    pg_collect_engine, tmp_path, config_dir
):
    engine = pg_collect_engine
    url = engine.url.render_as_string(hide_password=False)
    api = CountingServer()
    cfg = tmp_path / "cfg"
    shutil.copytree(config_dir, cfg, ignore=shutil.ignore_patterns("samples"))
    (cfg / "sources.toml").write_text(_sources(api.url), encoding="utf-8")
    (cfg / "schedule.toml").write_text(
        '[scheduler]\ntimezone = "Asia/Shanghai"\nmissed_runs = "run_once"\n'
        "heartbeat_s = 0.3\nlock_expiry_s = 5\nmax_workers = 2\n",
        encoding="utf-8",
    )
    driver = tmp_path / "writer.py"
    driver.write_text(WRITER, encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    scheduler = subprocess.Popen(
        [PARKMON, "--config", str(cfg), "--db", url, "schedule", "start"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            PARKMON,
            "--config",
            str(cfg),
            "--db",
            url,
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PARKMON_PUBLIC": "all"},  # read without signing in
    )
    readers = Readers(f"http://127.0.0.1:{port}")
    scheduler_err = ""
    try:
        readers.wait_until_up(server)
        readers.start()
        writers = [
            subprocess.Popen(
                [sys.executable, str(driver), str(cfg), url, source, base, str(ROUNDS)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=cfg,
            )
            for source, base in (("office-a", "100"), ("office-b", "500"))
        ]
        said = [w.communicate(timeout=600) for w in writers]
        for w, (out, err) in zip(writers, said, strict=True):
            assert w.returncode == 0, err[-3000:]
            assert out.count("done") == ROUNDS, out
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _ok_runs(engine, "api") < 2:
            time.sleep(0.2)
        readers.stop()
        # what the workers answer follows the writes: the overview (computed once per data
        # version in each worker) lists the last run in every answer
        scheduler.send_signal(signal.SIGTERM)
        _, scheduler_err = scheduler.communicate(timeout=60)
        last_run = int(store.runs_frame(engine, limit=1)["id"].iloc[0])
        with httpx.Client(base_url=readers.base, timeout=60) as client:
            for _ in range(12):  # spread over both workers
                overview = client.get("/")
                assert overview.status_code == 200
                assert f'<td class="num">{last_run}</td>' in overview.text
    finally:
        readers.stop()
        server.send_signal(signal.SIGTERM)
        _, server_err = server.communicate(timeout=60)
        if scheduler.returncode is None:  # stopped early by a failure above
            scheduler.send_signal(signal.SIGTERM)
            _, scheduler_err = scheduler.communicate(timeout=60)
        api.stop()
    # the web workers read throughout: every answer a page, none an error
    assert readers.answers > 20, readers.answers
    assert readers.failures == [], readers.failures[:5]
    assert "Traceback" not in server_err, server_err[-3000:]
    assert scheduler.returncode == 0, scheduler_err[-3000:]
    assert "deadlock" not in scheduler_err.lower()
    assert _ok_runs(engine, "api") >= 2
    runs = store.runs_frame(engine, limit=1000)
    assert "running" not in set(runs["status"])
    for source in ("office-a", "office-b"):
        mine = runs[runs["source_id"] == source]
        assert list(mine["status"]) == ["ok"] * ROUNDS, mine[["status", "error"]]
    # Every value each process wrote is there, as revisions; one current value per fact.
    history = store.observations_frame(engine, history=True)
    for source, base in (("office-a", 100), ("office-b", 500)):
        mine = history[history["source_id"] == source]
        assert len(mine) == len(NAMES) * ROUNDS
        latest = mine.sort_values("revision").groupby("subject_id")["value"].last()
        assert sorted(latest.tolist()) == [float(base + 10 * i + ROUNDS) for i in range(4)]
    with engine.connect() as conn:
        doubled = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT source_id, subject_id, indicator, period "
                "FROM observation WHERE is_latest GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) x"
            )
        ).scalar_one()
    assert doubled == 0
    current = store.observations_frame(engine)
    assert current.duplicated(["subject_type", "subject_id", "indicator", "period"]).sum() == 0


def _ok_runs(engine: sa.Engine, source: str) -> int:
    runs = store.runs_frame(engine, limit=1000)
    return int(((runs["source_id"] == source) & (runs["status"] == "ok")).sum())
