"""HTTP for collectors (httpx): timeouts, retries with backoff and jitter, Retry-After,
conditional requests, a response size limit and a host allow-list.

No httpx exception leaves this module: every failure becomes a ``FetchError`` naming the URL.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from collectors.sources import SourceSpec
from monitor import __version__
from monitor.errors import ConfigError, FetchError

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
        headers = dict(self.spec.headers)
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
        attempts = self.spec.retries + 1
        last_error = ""
        for attempt in range(attempts):
            wait: float | None = None
            try:
                response = self._once(url, params, headers)
            except FetchError:
                raise
            except (httpx.TransportError, httpx.DecodingError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            except httpx.HTTPError as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
            else:
                if response.status not in RETRY_STATUS:
                    if response.status >= 400:
                        raise FetchError(
                            f"{url}: HTTP {response.status}; not retried "
                            "(a client error: check the URL and credentials)"
                        )
                    return response
                last_error = f"HTTP {response.status}"
                wait = retry_after(response.headers.get("retry-after"))
            if attempt + 1 < attempts:
                delay = wait if wait is not None else self.backoff(attempt)
                log.info(
                    "%s: %s; retry %d/%d in %.2f s",
                    url,
                    last_error,
                    attempt + 1,
                    attempts - 1,
                    delay,
                )
                self.sleep(delay)
        raise FetchError(f"{url}: gave up after {attempts} attempt(s); last error: {last_error}")

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0.5, 1.5) × base × 2^attempt."""
        return float(self.spec.backoff_s * (2**attempt) * (0.5 + self.rng.random()))

    def _once(
        self, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None
    ) -> Response:
        self.requests += 1
        limit = self.spec.max_bytes
        with self._client().stream(
            "GET", url, params=dict(params or {}), headers=self._headers(headers)
        ) as r:
            final = str(r.url)
            if r.status_code == 304 or r.status_code >= 400:
                return Response(final, r.status_code, dict(r.headers))
            declared = r.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise FetchError(
                    f"{final}: response of {int(declared):,} bytes exceeds the "
                    f"limit of {limit:,} (max_bytes)"
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(
                        f"{final}: response exceeds the limit of {limit:,} bytes "
                        "(max_bytes); stopped reading"
                    )
                chunks.append(chunk)
            return Response(final, r.status_code, dict(r.headers), b"".join(chunks))


def check_url(url: str, spec: SourceSpec) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http and https URLs are fetched")
    if (parts.hostname or "") not in spec.allowed_hosts:
        raise FetchError(
            f"{url}: host {parts.hostname!r} is not among the source's allowed_hosts "
            f"{list(spec.allowed_hosts)}"
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
