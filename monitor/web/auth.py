"""Who is asking, and may they: sessions in signed cookies, sign-in with throttling, CSRF, and
the one place where every permission is decided (``allowed``), applied to every route by one
guard (``guard``) from the table of what each route needs (``NEEDS``).

A session cookie holds the account id, a stamp of its password (a reset ends every session),
the session's CSRF token and when it was issued; it is signed with the application's secret,
HttpOnly, SameSite=Lax, Secure over HTTPS, and expires after ``IDLE_SECONDS`` without a
request. Each request checks the account again: a disabled account is out at once.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.engine import Engine

from monitor import accounts, db, models
from monitor.tables import set_meta

SESSION_COOKIE = "parkmon_session"
LOGIN_COOKIE = "parkmon_login"  # the sign-in form's CSRF token, before there is a session
IDLE_SECONDS = 30 * 60
REFRESH_SECONDS = 60  # a session's cookie is re-issued (its idle clock reset) at most this often
WINDOW = timedelta(minutes=15)
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20

# What each route needs: (section, need). Sections are what the bureau can make public
# (``public`` setting); needs are "open" (anyone: the sign-in page), "read" (any account, or
# anyone when the section is public), "admin" (the bureau's administrators).
NEEDS: dict[str, tuple[str, str]] = {
    "/login": ("login", "open"),
    "/logout": ("login", "open"),
    "/": ("overview", "read"),
    "/map": ("map", "read"),
    "/map/frame": ("map", "read"),
    "/parks": ("parks", "read"),
    "/parks/{park_id}": ("parks", "read"),
    "/parks/{park_id}/history": ("parks", "read"),
    "/goals": ("goals", "read"),
    "/goals/{goal_id}": ("goals", "read"),
    "/rankings": ("rankings", "read"),
    "/risks": ("risks", "read"),
    "/quality": ("quality", "read"),
    "/brief": ("brief", "read"),
    "/compare": ("compare", "read"),
    "/runs": ("runs", "read"),
    "/rejects": ("rejects", "read"),
    "/schedule": ("schedule", "read"),
    "/api/docs": ("api", "read"),
    "/api/openapi.json": ("api", "read"),
    "/api/parks": ("parks", "read"),
    "/api/parks/{park_id}": ("parks", "read"),
    "/api/parks/{park_id}/history": ("parks", "read"),
    "/api/goals": ("goals", "read"),
    "/api/rankings": ("rankings", "read"),
    "/api/compare": ("compare", "read"),
    "/portal": ("portal", "file"),
    "/portal/{round_id}/{park_id}/workbook": ("portal", "file"),
    "/portal/{round_id}/missing": ("portal", "oversee"),
    "/portal/{round_id}/{park_id}": ("portal", "file"),
    "/portal/{round_id}/{park_id}/upload": ("portal", "file"),
    "/portal/{round_id}/{park_id}/form": ("portal", "file"),
    "/portal/{round_id}/{park_id}/submit": ("portal", "file"),
    "/review": ("review", "review"),
    "/review/{submission_id}": ("review", "review"),
    "/review/{submission_id}/approve": ("review", "review"),
    "/review/{submission_id}/return": ("review", "review"),
    "/admin/publish": ("admin", "admin"),
    "/admin/rounds": ("admin", "admin"),
    "/admin/users": ("admin", "admin"),
    "/admin/audit": ("admin", "admin"),
}
SECTIONS = sorted({section for section, need in NEEDS.values() if need == "read"})


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an account (with its role, carriers and district) or nobody."""

    account_id: int | None = None
    name: str = ""
    role: str | None = None
    parks: frozenset[str] = field(default_factory=frozenset)
    district: str | None = None
    csrf: str = ""
    stamp: str = ""

    @property
    def signed_in(self) -> bool:
        return self.account_id is not None


ANONYMOUS = Viewer()


def allowed(viewer: Viewer, need: str, section: str, public: frozenset[str]) -> bool:
    """The one decision: may ``viewer`` do what ``need`` names in ``section``?"""
    if need == "open":
        return True
    if need == "read":
        return viewer.signed_in or "all" in public or section in public
    if need == "admin":
        return viewer.role == models.Role.admin.value
    if need == "file":
        return viewer.role in FILERS
    if need == "review":
        return viewer.role in ("admin", "reviewer")
    if need == "oversee":  # who has not filed: the bureau, and a district office for its own
        return viewer.role in ("admin", "reviewer", "district")
    return False  # a need nobody granted: refused


FILERS = frozenset({"admin", "reviewer", "district", "park"})


def may_file(viewer: Viewer, park_id: str, districts: Sequence[str]) -> bool:
    """May ``viewer`` see and file the figures of this carrier (in these districts)? The
    bureau's administrators and reviewers: every carrier; a district office: the carriers in
    its district; a park office: its own; nobody else."""
    if viewer.role in ("admin", "reviewer"):
        return True
    if viewer.role == "park":
        return park_id in viewer.parks
    if viewer.role == "district":
        return viewer.district is not None and viewer.district in districts
    return False


def public_sections(setting: str, demo: bool) -> frozenset[str]:
    """The sections anonymous visitors may read: the ``public`` setting (``all``, ``none`` or
    sections separated by commas); unset, everything on a demo database and nothing else."""
    text = setting.strip().lower()
    if not text:
        return frozenset({"all"}) if demo else frozenset()
    chosen = frozenset(p.strip() for p in text.split(",") if p.strip())
    return frozenset() if chosen == {"none"} else chosen


def unknown_sections(setting: str) -> list[str]:
    chosen = {p.strip().lower() for p in setting.split(",") if p.strip()}
    return sorted(chosen - {*SECTIONS, "all", "none"})


# --- sessions ------------------------------------------------------------------------------------


def serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="parkmon-session")


def session_secret(engine: Engine, configured: str) -> str:
    """The key sessions are signed with: the ``secret_key`` setting, else one generated once
    and kept in the database (so every worker and host of one database agrees)."""
    if configured:
        return configured
    found = db.get_meta(engine, "session_secret")
    if found:
        return found
    with engine.begin() as conn:
        set_meta(conn, "session_secret", secrets.token_urlsafe(32))
    return str(db.get_meta(engine, "session_secret"))


def password_stamp(changed_at: Any) -> str:
    return str(changed_at)[:26]


def viewer_of(request: Request) -> Viewer:
    """The account the session cookie names, checked against the database (enabled, password
    unchanged since the session began); anonymous otherwise."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        bearer = request.headers.get("authorization", "")
        if bearer[:7].lower() == "bearer ":
            return token_viewer(request, bearer[7:].strip())
        return ANONYMOUS
    try:
        data, issued = request.app.state.sessions.loads(
            cookie, max_age=IDLE_SECONDS, return_timestamp=True
        )
        account_id = int(data["a"])
        stamp, csrf = str(data["p"]), str(data["c"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return ANONYMOUS
    account = accounts.T_ACCOUNT
    with request.app.state.engine.connect() as conn:
        row = conn.execute(
            sa.select(
                account.c.name,
                account.c.role,
                account.c.district_id,
                account.c.disabled,
                account.c.password_changed_at,
            ).where(account.c.id == account_id)
        ).first()
        parks = accounts.parks_of(conn, account_id)
    if row is None or row.disabled or password_stamp(row.password_changed_at) != stamp:
        return ANONYMOUS
    request.state.session_age = (models.utcnow() - issued).total_seconds()
    return Viewer(account_id, str(row.name), str(row.role), parks, row.district_id, csrf, stamp)


def token_viewer(request: Request, token: str) -> Viewer:
    """The account an API token acts for, with the token's role; a wrong, revoked or
    throttled token (or a disabled account) is refused with 401, every wrong one counted
    against the address like a failed sign-in."""
    address = request.client.host if request.client else ""
    writer = request.app.state.writer()
    if len(token) > 128 or throttled(writer, "", address) == "address":
        raise HTTPException(401, "token refused")
    t_token, account = accounts.T_TOKEN, accounts.T_ACCOUNT
    with request.app.state.engine.connect() as conn:
        row = conn.execute(
            sa.select(
                t_token.c.id,
                t_token.c.role,
                t_token.c.revoked_at,
                t_token.c.last_used_at,
                account.c.id.label("account_id"),
                account.c.name,
                account.c.district_id,
                account.c.disabled,
            )
            .select_from(t_token.join(account, account.c.id == t_token.c.account_id))
            .where(t_token.c.token_hash == accounts.token_digest(token))
        ).first()
        parks = accounts.parks_of(conn, row.account_id) if row is not None else frozenset()
    if row is None or row.revoked_at is not None or row.disabled:
        with writer.begin() as conn:
            failures = models.table_of(models.LoginFailure)
            conn.execute(
                sa.insert(failures).values(at=models.utcnow(), name="", address=address[:64])
            )
        raise HTTPException(401, "token refused")
    now = models.utcnow()
    last = row.last_used_at
    if last is None or (now - _aware(last)).total_seconds() > 600:  # kept to the ten minutes
        with writer.begin() as conn:
            conn.execute(sa.update(t_token).where(t_token.c.id == row.id).values(last_used_at=now))
    return Viewer(int(row.account_id), str(row.name), str(row.role), parks, row.district_id)


def _aware(moment: Any) -> Any:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def session_cookie(request: Request, viewer: Viewer) -> str:
    return str(
        request.app.state.sessions.dumps(
            {"a": viewer.account_id, "p": viewer.stamp, "c": viewer.csrf}
        )
    )


def set_session(request: Request, response: Any, viewer: Viewer) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie(request, viewer),
        max_age=IDLE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def check_csrf(request: Request, given: str | None, expected: str) -> None:
    """A form or state-changing call must carry the token of the session (or of the sign-in
    form); refused with 400 otherwise (403 stays the answer of a permission refused)."""
    if not expected or not given or not hmac.compare_digest(given, expected):
        raise StaleForm()


class StaleForm(Exception):
    """A form without the token of its session (forged, or from before a sign-in): 400."""


# --- throttling ----------------------------------------------------------------------------------


def throttled(engine: Engine, name: str, address: str) -> str | None:
    """Why a sign-in is refused before the password is even checked ("account" or "address"),
    or None: too many failures for this account or from this address within ``WINDOW``."""
    failures = models.table_of(models.LoginFailure)
    since = models.utcnow() - WINDOW
    with engine.connect() as conn:
        by_name = conn.execute(
            sa.select(sa.func.count()).where(failures.c.name == name, failures.c.at >= since)
        ).scalar_one()
        by_address = conn.execute(
            sa.select(sa.func.count()).where(failures.c.address == address, failures.c.at >= since)
        ).scalar_one()
    if by_name >= FAILURES_PER_ACCOUNT:
        return "account"
    if by_address >= FAILURES_PER_ADDRESS:
        return "address"
    return None


def sign_in(
    engine: Engine, name: str, password: str, address: str
) -> tuple[Viewer | None, str | None]:
    """Check a name and password: (the viewer, None) or (None, why: "throttled-account",
    "throttled-address" or "wrong"). Every attempt is written to the audit log; a failure also
    counts towards throttling."""
    name = name.strip()[:64]
    actor = accounts.Actor(name or "?", address)
    blocked = throttled(engine, name, address)
    if blocked is not None:
        with engine.begin() as conn:
            accounts.audit(conn, actor, "sign_in.throttled", name, {"by": blocked})
        return None, f"throttled-{blocked}"
    account = accounts.T_ACCOUNT
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(
                account.c.id,
                account.c.password_hash,
                account.c.disabled,
                account.c.password_changed_at,
            ).where(account.c.name == name)
        ).first()
    good = (
        row is not None
        and not row.disabled
        and accounts.password_matches(str(row.password_hash), password)
    )
    if row is None:  # the same work as for a real account: no timing tells which names exist
        accounts.password_matches(_decoy(), password)
    with engine.begin() as conn:
        if not good:
            failures = models.table_of(models.LoginFailure)
            conn.execute(
                sa.insert(failures).values(at=models.utcnow(), name=name, address=address[:64])
            )
            accounts.audit(conn, actor, "sign_in.failed", name)
            return None, "wrong"
        accounts.audit(conn, actor, "sign_in", name)
    assert row is not None
    return (
        Viewer(
            int(row.id),
            name,
            None,
            csrf=secrets.token_urlsafe(24),
            stamp=password_stamp(row.password_changed_at),
        ),
        None,
    )


@functools.cache
def _decoy() -> str:
    """A hash to check unknown names against (made at the first such sign-in, not at start-up)."""
    return accounts.hash_password("decoy password, never matches")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this application only (no other host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
