"""A small HTTP server on 127.0.0.1 that plays the statistics API and the notice page of the demo.

It serves ``config/samples/api/stats-page-N.json`` as ``/api/stats?page=N`` and the recognition
notice as ``/notices/recognitions-<year>.html``, with ETags so a second collection gets
304 Not Modified. It binds to the loopback address only and stops with the demo.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def _handler(samples: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the demo prints its own summary

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            path: Path | None = None
            ctype = "application/json; charset=utf-8"
            if parts.path == "/api/stats":
                page = query.get("page", ["1"])[0]
                path = samples / "api" / f"stats-page-{int(page) if page.isdigit() else 0}.json"
                if not path.exists():
                    path = None
                    body = b'{"code": 0, "data": {"items": []}}'
                    self._send(200, body, ctype, None)
                    return
            elif parts.path.startswith("/notices/recognitions-") and parts.path.endswith(".html"):
                year = parts.path.removeprefix("/notices/recognitions-").removesuffix(".html")
                found = sorted((samples / "html").glob(f"{year}年度*.html"))
                path = found[0] if found and year.isdigit() else None
                ctype = "text/html; charset=utf-8"
            if path is None:
                self._send(404, b"not found", "text/plain", None)
                return
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", ctype, etag)
                return
            self._send(200, body, ctype, etag)

        def _send(self, status: int, body: bytes, ctype: str, etag: str | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

    return Handler


@contextmanager
def serve_samples(samples: Path) -> Iterator[str]:
    """Serve the samples on a free loopback port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(samples))
    thread = threading.Thread(target=server.serve_forever, name="parkmon-demo-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
