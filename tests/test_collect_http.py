"""The HTTP collectors against a real server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from collectors.http import HttpFetcher
from collectors.run import collect
from collectors.sources import parse_source
from monitor import models, store
from monitor.errors import FetchError

ITEMS = [
    {"name": n, "year": 2024, "stats": {"incubatees": i * 10, "employees": i * 100}}
    for i, n in enumerate(["甲孵化器", "乙孵化器", "丙众创空间", "丁众创空间", "戊孵化器"], start=1)
]


class Server:
    """Paths behave as their names say; ``hits`` counts requests per path."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = defaultdict(int)
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                return

            def do_GET(self):
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                outer.hits[parts.path] += 1
                outer.headers.append(dict(self.headers))
                n = outer.hits[parts.path]
                route = getattr(outer, "route_" + parts.path.strip("/").replace("-", "_"), None)
                if route is None:
                    return self.reply(404, b"no")
                return route(self, q, n)

            def reply(self, status, body=b"", headers=None, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda request, address: None  # dropped connections on purpose
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def json_body(doc) -> bytes:
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def route_pages(self, h, q, n):
        page, size = int(q.get("page", 1)), int(q.get("size", 2))
        items = ITEMS[(page - 1) * size : page * size]
        h.reply(200, self.json_body({"data": {"total": len(ITEMS), "rows": items}}))

    def route_offset(self, h, q, n):
        start, size = int(q.get("offset", 0)), int(q.get("limit", 2))
        h.reply(200, self.json_body({"rows": ITEMS[start : start + size], "total": len(ITEMS)}))

    def route_cursor(self, h, q, n):
        start = int(q.get("cursor", 0))
        nxt = start + 2 if start + 2 < len(ITEMS) else None
        h.reply(200, self.json_body({"rows": ITEMS[start : start + 2], "next": nxt}))

    def route_throttled(self, h, q, n):
        if n == 1:
            return h.reply(429, b"slow down", {"Retry-After": "2"})
        return h.reply(200, self.json_body({"rows": ITEMS}))

    def route_flaky(self, h, q, n):
        if n == 1:
            return h.reply(500, b"oops")
        return h.reply(200, self.json_body({"rows": ITEMS}))

    def route_broken(self, h, q, n):
        h.reply(503, b"down")

    def route_slow(self, h, q, n):
        time.sleep(1.5)
        h.reply(200, self.json_body({"rows": ITEMS}))

    def route_drop(self, h, q, n):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        h.wfile.write(b'{"rows": [')
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(2)

    def route_etag(self, h, q, n):
        if h.headers.get("If-None-Match") == '"v1"':
            return h.reply(304, b"", {"ETag": '"v1"'})
        return h.reply(200, self.json_body({"rows": ITEMS}), {"ETag": '"v1"'})

    def route_big(self, h, q, n):
        h.reply(200, b"[" + b" " * 200_000 + b"]")

    def route_away(self, h, q, n):
        port = self.httpd.server_address[1]
        h.reply(302, b"", {"Location": f"http://localhost:{port}/pages"})

    def route_secret(self, h, q, n):
        if h.headers.get("Authorization") != "Bearer s3cret":
            return h.reply(401, b"who are you")
        return h.reply(200, self.json_body({"rows": ITEMS}))

    def route_notice(self, h, q, n):
        page = (
            "<html><head><meta charset='gbk'></head><body><table><tr><th>序号</th>"
            "<th>名称</th><th>级别</th></tr><tr><td>1</td><td>乙孵化器</td><td>省级</td></tr>"
            "<tr><td>2</td><td>丙众创空间</td><td>国家级</td></tr>"
            "<tr><td>3</td><td>己孵化器</td><td>省级</td></tr></table></body></html>"
        )
        h.reply(200, page.encode("gbk"), ctype="text/html")


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.stop()


def _spec(url: str, tmp_path, **overrides):
    item = {
        "id": "api",
        "collector": "json_api",
        "location": url,
        "items": "rows",
        "subject": {"column": "name"},
        "period_column": "year",
        "retries": 2,
        "backoff_s": 0.01,
        "timeout_s": 5,
        "columns": {"stats.incubatees": "incubatees", "stats.employees": "incubatee_employees"},
    }
    item.update(overrides)
    return parse_source(item, 1, tmp_path / "sources.toml")


def _waits():
    waits: list[float] = []
    return waits, waits.append


@pytest.mark.parametrize(
    ("path", "pagination", "items"),
    [
        (
            "/pages",
            {
                "style": "page",
                "param": "page",
                "size_param": "size",
                "size": 2,
                "total": "data.total",
            },
            "data.rows",
        ),
        (
            "/offset",
            {
                "style": "offset",
                "param": "offset",
                "size_param": "limit",
                "size": 2,
                "start": 0,
                "total": "total",
            },
            "rows",
        ),
        ("/cursor", {"style": "cursor", "param": "cursor", "next": "next"}, "rows"),
    ],
)
def test_pagination(collect_engine, server, tmp_path, path, pagination, items):
    spec = _spec(server.url + path, tmp_path, pagination=pagination, items=items)
    result = collect(collect_engine, spec)
    assert result.read == 5
    assert result.requests == 3
    assert result.rejected == 1  # 戊孵化器 is not in the registry
    frame = store.observations_frame(collect_engine)
    assert len(frame) == 8
    assert server.hits[path] == 3


def test_429_honours_retry_after(collect_engine, server, tmp_path):
    waits, sleep = _waits()
    result = collect(collect_engine, _spec(server.url + "/throttled", tmp_path), sleep=sleep)
    assert result.status is models.RunStatus.partial
    assert waits == [2.0]
    assert server.hits["/throttled"] == 2


def test_500_then_success_backs_off(collect_engine, server, tmp_path):
    waits, sleep = _waits()
    result = collect(collect_engine, _spec(server.url + "/flaky", tmp_path), sleep=sleep)
    assert result.accepted == 8
    assert len(waits) == 1
    assert 0.005 <= waits[0] < 0.015  # base 0.01 s × jitter in [0.5, 1.5)


def test_persistent_5xx_gives_up_and_marks_the_run_failed(collect_engine, server, tmp_path):
    waits, sleep = _waits()
    result = collect(collect_engine, _spec(server.url + "/broken", tmp_path), sleep=sleep)
    assert result.status is models.RunStatus.failed
    assert "gave up after 3 attempt(s); last error: HTTP 503" in result.error
    assert len(waits) == 2
    assert waits[1] > waits[0] * 0.6  # exponential: 2nd base is twice the first
    assert store.runs_frame(collect_engine)["status"].tolist() == ["failed"]


def test_timeout(collect_engine, server, tmp_path):
    _, sleep = _waits()
    spec = _spec(server.url + "/slow", tmp_path, timeout_s=0.3, retries=1)
    result = collect(collect_engine, spec, sleep=sleep)
    assert result.status is models.RunStatus.failed
    assert "ReadTimeout" in result.error


def test_connection_dropped_mid_body(collect_engine, server, tmp_path):
    _, sleep = _waits()
    result = collect(collect_engine, _spec(server.url + "/drop", tmp_path), sleep=sleep)
    assert result.status is models.RunStatus.failed
    assert "RemoteProtocolError" in result.error or "ReadError" in result.error
    assert server.hits["/drop"] == 3  # retried
    assert store.count_rows(collect_engine, models.Observation) == 0


def test_304_costs_one_request_and_writes_nothing(collect_engine, server, tmp_path):
    spec = _spec(server.url + "/etag", tmp_path)
    first = collect(collect_engine, spec)
    count = store.count_rows(collect_engine, models.Observation)
    second = collect(collect_engine, spec)
    assert first.accepted == 8
    assert second.not_modified
    assert second.requests == 1
    assert (second.accepted, second.rejected) == (0, 0)
    assert server.headers[-1].get("If-None-Match") == '"v1"'
    assert store.count_rows(collect_engine, models.Observation) == count
    assert store.count_rows(collect_engine, models.Rejection) == 1  # only the first run's


def test_response_over_the_size_limit(collect_engine, server, tmp_path):
    result = collect(collect_engine, _spec(server.url + "/big", tmp_path, max_bytes=10_000))
    assert result.status is models.RunStatus.failed
    assert "exceeds the limit of 10,000" in result.error


def test_redirect_to_an_undeclared_host_is_refused(collect_engine, server, tmp_path):
    result = collect(collect_engine, _spec(server.url + "/away", tmp_path))
    assert result.status is models.RunStatus.failed
    assert "host 'localhost' is not among the source's allowed_hosts" in result.error
    assert server.hits["/pages"] == 0


def test_bearer_token_from_the_environment(collect_engine, server, tmp_path, monkeypatch):
    spec = _spec(server.url + "/secret", tmp_path, token={"$env": "TEST_API_TOKEN"})
    monkeypatch.delenv("TEST_API_TOKEN", raising=False)
    missing = collect(collect_engine, spec)
    assert "TEST_API_TOKEN" in missing.error
    assert server.hits["/secret"] == 0
    monkeypatch.setenv("TEST_API_TOKEN", "wrong")
    refused = collect(collect_engine, spec)
    assert "HTTP 401" in refused.error
    monkeypatch.setenv("TEST_API_TOKEN", "s3cret")
    assert collect(collect_engine, spec).accepted == 8


def test_html_table_of_recognitions(collect_engine, server, tmp_path):
    spec = parse_source(
        {
            "id": "notice",
            "collector": "html_table",
            "location": server.url + "/notice",
            "records": "recognitions",
            "fields": {"name": "名称", "level": "级别"},
            "year": 2025,
            "issuer": "省科技厅",
        },
        1,
        tmp_path / "sources.toml",
    )
    result = collect(collect_engine, spec)
    assert (result.accepted, result.rejected) == (2, 1)
    with collect_engine.connect() as conn:
        rows = conn.execute(models.table_of(models.Recognition).select()).mappings().all()
    got = sorted((r["park_id"], r["level"], r["year"]) for r in rows)
    assert got == [("T-I02", "provincial", 2025), ("T-M01", "national", 2025)]
    assert "unknown carrier '己孵化器'" in store.rejections_frame(collect_engine)["reason"][0]


@pytest.mark.parametrize(
    "path", ["/broken", "/slow", "/drop", "/big", "/away", "/secret", "/nowhere"]
)
def test_no_httpx_exception_escapes(server, tmp_path, path):
    spec = _spec(server.url + path, tmp_path, timeout_s=0.3, retries=1, max_bytes=10_000)
    fetcher = HttpFetcher(spec, sleep=lambda s: None)
    try:
        with pytest.raises(FetchError):
            fetcher.get(spec.location)
    finally:
        fetcher.close()


def test_unreachable_port_is_a_fetch_error(tmp_path):
    spec = _spec("http://127.0.0.1:9/x", tmp_path, retries=1)
    fetcher = HttpFetcher(spec, sleep=lambda s: None)
    with pytest.raises(FetchError, match="ConnectError"):
        fetcher.get(spec.location)
    assert not isinstance(FetchError("x"), httpx.HTTPError)
