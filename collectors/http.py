"""HTTP for collectors (httpx): timeouts, retries with backoff and jitter, Retry-After,
conditional requests, a response size limit and a host allow-list.

httpx's timeouts bound each network read, so a server that drips a byte a second would hold a
request forever; every request therefore also has an overall deadline (``deadline_s``), and every
run one (``run_deadline_s``): the request runs in a worker thread, and when the deadline passes its
connection is closed and the run goes on with a clear error.

No httpx exception leaves this module: every failure becomes a ``FetchError`` naming the URL,
with credentials redacted from it.
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from collectors.secrets import redact_url
from collectors.sources import SourceSpec
from monitor import __version__
from monitor.errors import ConfigError, FetchError
from monitor.messages import Msg, msg

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 120.0


@dataclass
class Response:
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class HttpFetcher:
    """Fetches URLs for one source under its limits; ``requests`` counts what was sent."""

    spec: SourceSpec
    client: httpx.Client | None = None
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    requests: int = 0
    started: float = field(default_factory=time.monotonic)

    def _client(self) -> httpx.Client:
        if self.client is None:
            self.client = httpx.Client(
                timeout=httpx.Timeout(self.spec.timeout_s, connect=min(10.0, self.spec.timeout_s)),
                follow_redirects=True,
                max_redirects=5,
                headers={"User-Agent": f"parkmon/{__version__}"},
                event_hooks={"request": [self._check_request]},
            )
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _check_request(self, request: httpx.Request) -> None:
        # Also runs for redirects, so a redirect cannot lead to an undeclared host.
        check_url(str(request.url), self.spec)

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = self.spec.request_headers()
        token = self.spec.token()
        if token:
            if self.spec.auth == "bearer":
                headers["Authorization"] = f"Bearer {token}"
            else:
                headers[self.spec.auth] = token
        headers.update(extra or {})
        return headers

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """GET with retries; 304 comes back as a Response with ``not_modified``."""
        check_url(url, self.spec)
        shown = redact_url(url)
        attempts = self.spec.retries + 1
        last_error: Msg | str = ""
        for attempt in range(attempts):
            wait: float | None = None
            try:
                response = self._once(url, params, headers)
            except FetchError:
                raise
            except (httpx.TransportError, httpx.DecodingError) as exc:
                last_error = msg("http.error", kind=type(exc).__name__, detail=_redacted(exc))
            except httpx.HTTPError as exc:
                raise FetchError(
                    msg("http.error", kind=type(exc).__name__, detail=_redacted(exc)), shown
                ) from exc
            else:
                if response.status not in RETRY_STATUS:
                    if response.status >= 400:
                        raise FetchError(msg("http.client_error", status=response.status), shown)
                    return response
                last_error = msg("text", text=f"HTTP {response.status}")
                wait = retry_after(response.headers.get("retry-after"))
            if attempt + 1 < attempts:
                delay = wait if wait is not None else self.backoff(attempt)
                if delay >= self.run_time_left():
                    break
                log.info(
                    "%s: %s; retry %d/%d in %.2f s",
                    shown,
                    last_error,
                    attempt + 1,
                    attempts - 1,
                    delay,
                )
                self.sleep(delay)
        raise FetchError(msg("http.gave_up", attempts=attempt + 1, detail=last_error), shown)

    def run_time_left(self) -> float:
        return self.spec.run_deadline_s - (time.monotonic() - self.started)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0.5, 1.5) × base × 2^attempt."""
        return float(self.spec.backoff_s * (2**attempt) * (0.5 + self.rng.random()))

    def _once(
        self, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None
    ) -> Response:
        """One request under an overall deadline (the request's, or what is left of the run's)."""
        left = self.run_time_left()
        if left <= 0:
            raise FetchError(
                msg("http.run_deadline", seconds=float(self.spec.run_deadline_s)), redact_url(url)
            )
        deadline = min(self.spec.deadline_s, left)
        self.requests += 1
        client = self._client()
        cancelled = threading.Event()
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="parkmon-http")
        future = pool.submit(self._transfer, client, url, params, headers, cancelled)
        try:
            return future.result(timeout=deadline)
        except concurrent.futures.TimeoutError:
            cancelled.set()
            # Closing the client closes its sockets, so the worker's next read fails at once.
            self.client = None
            client.close()
            which = "deadline_s" if deadline == self.spec.deadline_s else "run_deadline_s"
            raise FetchError(
                msg("http.slow", seconds=float(deadline), which=which), redact_url(url)
            ) from None
        finally:
            pool.shutdown(wait=False)

    def _transfer(
        self,
        client: httpx.Client,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        cancelled: threading.Event,
    ) -> Response:
        limit = self.spec.max_bytes
        with client.stream(
            "GET", url, params=dict(params or {}), headers=self._headers(headers)
        ) as r:
            final = str(r.url)
            if r.status_code == 304 or r.status_code >= 400:
                return Response(final, r.status_code, dict(r.headers))
            declared = r.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise FetchError(
                    msg("http.declared_too_large", size=f"{int(declared):,}", limit=f"{limit:,}"),
                    redact_url(final),
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in r.iter_bytes():
                if cancelled.is_set():
                    raise FetchError(msg("http.cancelled"), redact_url(final))
                size += len(chunk)
                if size > limit:
                    raise FetchError(msg("http.too_large", limit=f"{limit:,}"), redact_url(final))
                chunks.append(chunk)
            return Response(final, r.status_code, dict(r.headers), b"".join(chunks))


def _redacted(exc: BaseException) -> str:
    """An httpx error's text with any URL in it redacted."""
    text = str(exc)
    request = getattr(exc, "_request", None)
    if request is not None:
        text = text.replace(str(request.url), redact_url(str(request.url)))
    return text


def check_url(url: str, spec: SourceSpec) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(msg("http.scheme"), redact_url(url))
    if (parts.hostname or "") not in spec.allowed_hosts:
        raise FetchError(
            msg("http.host", host=parts.hostname or "", allowed=str(list(spec.allowed_hosts))),
            redact_url(url),
        )


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - datetime.now(UTC)).total_seconds(), MAX_RETRY_AFTER_S))


def conditional_headers(state: Mapping[str, str]) -> dict[str, str]:
    headers = {}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    return headers


def validators(response: Response) -> dict[str, str]:
    """ETag / Last-Modified to remember for the next conditional request."""
    out = {}
    lowered = {k.lower(): v for k, v in response.headers.items()}
    if lowered.get("etag"):
        out["etag"] = lowered["etag"]
    if lowered.get("last-modified"):
        out["last_modified"] = lowered["last-modified"]
    return out


def require_http(spec: SourceSpec) -> None:
    if not spec.is_http:
        raise ConfigError(f"source '{spec.id}': location {spec.location!r} is not an http(s) URL")
