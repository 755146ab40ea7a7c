"""Credentials never live in a config file or a message: which URL parts and header names carry
one, and the URL as it may be shown (no userinfo, credential parameters masked)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit

__all__ = ["SECRET_PARAMS", "is_secret_header", "redact_url", "secret_in_url"]

# Query parameters and header names that carry credentials: never written in a config file.
SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "accesstoken",
        "key",
        "api_key",
        "apikey",
        "app_key",
        "appkey",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "pwd",
        "signature",
        "sign",
        "sig",
        "auth",
    }
)
_SECRET_HEADER_WORDS = ("auth", "token", "key", "secret", "cookie", "password", "session")


def secret_in_url(url: str) -> str | None:
    """What in a URL is a credential (userinfo, a token= or key= parameter), or None."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        return "a user name or password in the URL"
    for name, _ in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in SECRET_PARAMS:
            return f"the query parameter {name!r}"
    return None


def redact_url(url: str) -> str:
    """The URL for messages and stored errors: no userinfo, credential parameters masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = "&".join(
        f"{name}=***" if name.lower() in SECRET_PARAMS else f"{name}={value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_HEADER_WORDS)
