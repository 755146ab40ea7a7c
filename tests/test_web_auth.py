"""Signing in to the web application on a real server: sessions, CSRF, throttling, what an
anonymous visitor may read, and every route for every role (permissions decided in one place:
``monitor.web.auth.allowed`` through the guard, checked here route by route)."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date
from pathlib import Path

import httpx
import pytest
from conftest import copy_sqlite

from monitor import accounts, db, rounds
from monitor.web.auth import NEEDS

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def real_template(tmp_path_factory, copy_demo) -> Path:
    """The demo database made to look like a real one (not public by default) with one account
    of each role and a round, built once for the module; each test gets its own copy."""
    path = copy_demo(tmp_path_factory.mktemp("auth-template"))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE parkmon_meta SET value = 'false' WHERE key = 'contains_demo_data'")
    conn.close()
    engine = db.make_engine(f"sqlite:///{path}")
    actor = accounts.Actor("test")
    for name, role, extra in [
        ("admin1", "admin", {}),
        ("reviewer1", "reviewer", {}),
        ("district1", "district", {"district": "320682"}),
        ("park1", "park", {"parks": ["DEMO-I001"]}),
        ("viewer1", "viewer", {}),
    ]:
        accounts.add_account(engine, name, role, PASSWORD, actor=actor, **extra)
    rounds.add_round(
        engine, "2025-annual", "2025 年度报表", 2025, date(2026, 3, 31), ["incubator"], actor=actor
    )
    engine.dispose()
    return path


@pytest.fixture
def real_db(tmp_path, real_template) -> Path:
    return copy_sqlite(real_template, tmp_path)


def _sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/login")
    login_form = form.text.split('class="login"')[1]  # not the sign-out form of a session
    token = re.search(r'name="csrf" value="([^"]+)"', login_form)
    assert token, form.text[:500]
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf": token.group(1), "next": "/parks"},
    )


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def test_anonymous_visitors_see_only_the_sign_in_page_of_a_real_database(real_db, serve_app):
    with serve_app(real_db) as client:
        page = client.get("/parks")
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fparks"
        assert client.get("/api/parks").status_code == 401
        assert client.get("/login").status_code == 200
        assert client.get("/static/parkmon.css").status_code == 200


def test_signing_in_and_out(real_db, serve_app):
    with serve_app(real_db) as client:
        before = client.cookies.get("parkmon_session")
        answer = _sign_in(client, "viewer1")
        assert answer.status_code == 303 and answer.headers["location"] == "/parks"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert client.cookies.get("parkmon_session") not in (None, before)
        page = client.get("/parks")
        assert page.status_code == 200 and "viewer1" in page.text
        # signing out needs the session's CSRF token
        refused = client.post("/logout", data={"csrf": "forged"})
        assert refused.status_code == 400 and "CSRF 校验未通过" in refused.text
        out = client.post("/logout", data={"csrf": _csrf(page.text)})
        assert out.status_code == 303
        assert client.get("/parks").status_code == 303
    engine = db.make_engine(f"sqlite:///{real_db}")
    actions = list(accounts.audit_frame(engine)["action"])
    engine.dispose()
    assert actions[:2] == ["sign_out", "sign_in"]


def test_a_sign_in_without_the_forms_token_is_refused(real_db, serve_app):
    with serve_app(real_db) as client:
        client.get("/login")
        answer = client.post("/login", data={"name": "viewer1", "password": PASSWORD})
        assert answer.status_code == 400
        other = httpx.Client(base_url=client.base_url)
        forged = other.post(
            "/login", data={"name": "viewer1", "password": PASSWORD, "csrf": "x" * 32}
        )
        other.close()
        assert forged.status_code == 400


def test_wrong_passwords_are_throttled_per_account(real_db, serve_app):
    with serve_app(real_db) as client:
        for _ in range(5):
            wrong = _sign_in(client, "viewer1", "not the password")
            assert wrong.status_code == 401 and "账号或密码不正确" in wrong.text
        # now even the right password is refused for a while, with a clear message
        blocked = _sign_in(client, "viewer1")
        assert blocked.status_code == 429 and "15 分钟后再试" in blocked.text
        # another account from the same address is not blocked by this account's failures
        assert _sign_in(client, "reviewer1").status_code == 303


def test_a_disabled_account_or_a_reset_password_ends_the_session(real_db, serve_app):
    with serve_app(real_db) as client:
        assert _sign_in(client, "viewer1").status_code == 303
        assert client.get("/parks").status_code == 200
        engine = db.make_engine(f"sqlite:///{real_db}")
        accounts.reset_password(
            engine, "viewer1", "another long password", actor=accounts.Actor("t")
        )
        assert client.get("/parks").status_code == 303
        assert _sign_in(client, "viewer1", "another long password").status_code == 303
        accounts.set_disabled(engine, "viewer1", True, actor=accounts.Actor("t"))
        engine.dispose()
        assert client.get("/parks").status_code == 303
        assert _sign_in(client, "viewer1", "another long password").status_code == 401


def test_a_forged_or_foreign_session_cookie_is_nobody(real_db, serve_app):
    with serve_app(real_db) as client:
        _sign_in(client, "admin1")
        good = client.cookies.get("parkmon_session")
        assert good
        client.cookies.clear()
        client.cookies.set("parkmon_session", good[:-3] + "abc")
        assert client.get("/parks").status_code == 303


ROLES = ["anonymous", "viewer1", "park1", "district1", "reviewer1", "admin1"]


def _concrete(path: str) -> str:
    if path in ("/compare", "/api/compare"):
        return path + "?ids=DEMO-I001"
    return (
        path.replace("{park_id}", "DEMO-I001")
        .replace("{goal_id}", "new-provincial-carriers")
        .replace("{round_id}", "2025-annual")
        .replace("{submission_id}", "1")
    )


def test_every_route_for_every_role(real_db, serve_app):
    """The table of needs, route by route: read routes for any account, admin routes for the
    administrator only, the sign-in page for everyone; nothing outside the table."""
    with serve_app(real_db) as server:
        for who in ROLES:
            _routes_for(server, who)


def _routes_for(server: httpx.Client, who: str) -> None:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        if who != "anonymous":
            assert _sign_in(client, who).status_code == 303
        for path, (_section, need) in NEEDS.items():
            if path in ("/logout",):
                continue
            posted = path.endswith(("/upload", "/submit", "/approve", "/return"))
            if posted:  # with a bogus CSRF token: 400 once past the permission, 403 before it
                answer = client.post(_concrete(path), data={"csrf": "bogus"})
            else:
                answer = client.get(_concrete(path))
            granted = {
                "open": True,
                "read": who != "anonymous",
                "admin": who == "admin1",
                # DEMO-I001 lies in 如皋市 (320682): its park office and that district's office
                "file": who in ("admin1", "reviewer1", "district1", "park1"),
                "review": who in ("admin1", "reviewer1"),
                "oversee": who in ("admin1", "reviewer1", "district1"),
            }
            if granted[need] and posted:
                expected = {400}
            elif granted[need] and path == "/review/{submission_id}":
                expected = {404}  # allowed, and there is no submission 1 yet
            elif granted[need]:
                expected = {200}
            elif who == "anonymous":
                expected = {303, 401}
            else:
                expected = {403}
            assert answer.status_code in expected, (who, path, answer.status_code)


def test_every_route_of_the_application_is_in_the_table_of_needs(real_db, serve_app):
    from fastapi.routing import APIRoute

    from monitor.settings import load_settings
    from monitor.web.app import create_app

    app = create_app(load_settings({"database_url": str(real_db)}))
    routes = {r.path for r in app.routes if isinstance(r, APIRoute)}
    app.state.engine.dispose()
    assert routes == set(NEEDS), routes ^ set(NEEDS)


def test_the_bureau_chooses_what_is_public(real_db, serve_app, monkeypatch):
    monkeypatch.setenv("PARKMON_PUBLIC", "overview,goals")
    with serve_app(real_db) as client:
        assert client.get("/").status_code == 200
        assert client.get("/goals").status_code == 200
        assert client.get("/parks").status_code == 303
        assert client.get("/api/parks").status_code == 401


def test_api_tokens_for_machine_clients(real_db, serve_app, cli):
    made = cli(
        "--db", str(real_db), "users", "token", "admin1", "--name", "etl", cwd=real_db.parent
    )
    token = made.stdout.strip()
    assert token.startswith("pmk_") and "shown once" in made.stderr
    reader = cli(
        "--db",
        str(real_db),
        "users",
        "token",
        "admin1",
        "--name",
        "dash",
        "--role",
        "viewer",
        cwd=real_db.parent,
    ).stdout.strip()
    refused = cli(
        "--db",
        str(real_db),
        "users",
        "token",
        "viewer1",
        "--name",
        "xx",
        "--role",
        "admin",
        cwd=real_db.parent,
        ok=False,
    )
    assert "acts as viewer or as a viewer, not admin" in refused.stderr
    with sqlite3.connect(real_db) as conn:
        stored = [r[0] for r in conn.execute("SELECT token_hash FROM api_token")]
    conn.close()
    assert token not in stored and len(stored) == 2  # only digests are kept
    with serve_app(real_db) as client:

        def get(path, tok):
            return client.get(path, headers={"Authorization": f"Bearer {tok}"})

        assert get("/api/parks", token).status_code == 200
        assert get("/admin/audit", token).status_code == 200
        assert get("/api/parks", reader).status_code == 200
        assert get("/admin/audit", reader).status_code == 403  # the viewer token stays a viewer
        assert get("/api/parks", "pmk_" + "x" * 43).status_code == 401
        cli(
            "--db",
            str(real_db),
            "users",
            "revoke-token",
            "admin1",
            "--name",
            "etl",
            cwd=real_db.parent,
        )
        assert get("/api/parks", token).status_code == 401
        cli("--db", str(real_db), "users", "disable", "admin1", cwd=real_db.parent)
        assert get("/api/parks", reader).status_code == 401
    listed = json.loads(
        cli(
            "--db",
            str(real_db),
            "users",
            "tokens",
            "admin1",
            "--format",
            "json",
            cwd=real_db.parent,
        ).stdout
    )
    assert [(t["name"], t["role"], t["revoked_at"] is not None) for t in listed] == [
        ("etl", "admin", True),
        ("dash", "viewer", False),
    ]
    assert listed[1]["last_used_at"] is not None


def test_a_session_idle_longer_than_the_limit_is_over(real_db, serve_app):
    """A session cookie signed more than IDLE_SECONDS ago (a backdated signature, not a wait)
    no longer signs anyone in; one signed just now does."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from monitor.web import auth

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - auth.IDLE_SECONDS - 5

    with serve_app(real_db) as client:
        assert _sign_in(client, "viewer1").status_code == 303
        good = client.cookies.get("parkmon_session")
        engine = db.make_engine(f"sqlite:///{real_db}")
        secret = db.get_meta(engine, "session_secret")
        engine.dispose()
        payload = auth.serializer(secret).loads(good)
        old = URLSafeTimedSerializer(secret, salt="parkmon-session", signer=Backdated).dumps(
            payload
        )
        fresh = auth.serializer(secret).dumps(payload)
        client.cookies.clear()
        client.cookies.set("parkmon_session", old)
        assert client.get("/parks").status_code == 303
        client.cookies.clear()
        client.cookies.set("parkmon_session", fresh)
        assert client.get("/parks").status_code == 200


def test_signing_in_replaces_any_session_the_browser_brought(real_db, serve_app):
    """Session fixation: a session cookie planted before signing in (here a real one of
    another account) is replaced by a new session of the account that signed in."""
    with serve_app(real_db) as attacker:
        _sign_in(attacker, "viewer1")
        planted = attacker.cookies.get("parkmon_session")
    with serve_app(real_db) as victim:
        victim.cookies.set("parkmon_session", planted)
        answer = _sign_in(victim, "admin1")
        assert answer.status_code == 303
        issued = answer.headers["set-cookie"].split("parkmon_session=")[1].split(";")[0]
        assert issued != planted
        victim.cookies.clear()
        victim.cookies.set("parkmon_session", issued)
        assert "admin1" in victim.get("/admin/users").text  # signed in as who signed in
