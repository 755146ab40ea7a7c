"""Accounts of the submission portal on the demo database: ``parkmon users`` adds, lists,
disables and resets; passwords only as Argon2 hashes; every change in the audit log; wrong
input refused with what was expected."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest

from monitor import accounts, db


@pytest.fixture
def demo_db(tmp_path, copy_demo):
    return copy_demo(tmp_path)


def _users(cli, demo_db, *args, ok=True, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli("--db", str(demo_db), "users", *args, cwd=demo_db.parent, ok=ok)


def test_accounts_are_added_listed_disabled_and_reset(cli, demo_db, monkeypatch):
    # a park office files for its carrier; the password comes from stdin
    _users(
        cli,
        demo_db,
        "add",
        "i001-office",
        "--role",
        "park",
        "--park",
        "DEMO-I001",
        "--password-stdin",
        stdin="correct horse battery\n",
        monkeypatch=monkeypatch,
    )
    # a district office by the district's name; the password generated and shown once
    made = _users(cli, demo_db, "add", "rugao", "--role", "district", "--district", "如皋市")
    generated = made.stdout.strip().splitlines()[-1]
    assert len(generated) >= 16 and "shown once" in made.stdout
    _users(cli, demo_db, "add", "bureau-admin", "--role", "admin", "--display-name", "科技局")
    listed = json.loads(_users(cli, demo_db, "list", "--format", "json").stdout)
    by_name = {a["name"]: a for a in listed}
    assert by_name["i001-office"]["parks"] == "DEMO-I001"
    assert by_name["rugao"]["district"] == "320682" and by_name["rugao"]["role"] == "district"
    assert by_name["bureau-admin"]["display_name"] == "科技局"
    # only hashes are stored: the password appears nowhere in the file's tables
    with sqlite3.connect(demo_db) as conn:
        hashes = dict(conn.execute("SELECT name, password_hash FROM account").fetchall())
    conn.close()
    assert all(h.startswith("$argon2id$") for h in hashes.values())
    assert accounts.password_matches(hashes["i001-office"], "correct horse battery")
    assert accounts.password_matches(hashes["rugao"], generated)
    assert not accounts.password_matches(hashes["rugao"], "correct horse battery")
    assert b"correct horse battery" not in demo_db.read_bytes()
    # disable, enable, reset
    _users(cli, demo_db, "disable", "rugao")
    listed = json.loads(_users(cli, demo_db, "list", "--format", "json").stdout)
    assert [a["name"] for a in listed if a["disabled"]] == ["rugao"]
    _users(cli, demo_db, "enable", "rugao")
    _users(
        cli,
        demo_db,
        "reset-password",
        "i001-office",
        "--password-stdin",
        stdin="a new passphrase\n",
        monkeypatch=monkeypatch,
    )
    engine = db.make_engine(f"sqlite:///{demo_db}")
    with sqlite3.connect(demo_db) as conn:
        new_hash = conn.execute(
            "SELECT password_hash FROM account WHERE name = 'i001-office'"
        ).fetchone()[0]
    conn.close()
    assert accounts.password_matches(new_hash, "a new passphrase")
    assert not accounts.password_matches(new_hash, "correct horse battery")
    # every change in the audit log, by whom, never with a password
    log = accounts.audit_frame(engine)
    engine.dispose()
    assert list(log["action"])[::-1] == [
        "user.add",
        "user.add",
        "user.add",
        "user.disable",
        "user.enable",
        "user.reset_password",
    ]
    assert all(a.startswith("cli:") for a in log["actor"])
    assert not log["detail"].str.contains("horse|passphrase").any()
    assert generated not in "".join(log["detail"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["add", "x-office", "--role", "park"], "needs --park ID"),
        (["add", "x-office", "--role", "park", "--park", "NOPE"], "no carrier with id NOPE"),
        (["add", "x-office", "--role", "district"], "needs --district CODE"),
        (["add", "x-office", "--role", "district", "--district", "火星"], "no district '火星'"),
        (["add", "x-office", "--role", "viewer", "--park", "DEMO-I001"], "only park office"),
        (["add", "x-office", "--role", "mayor"], "expected one of admin, reviewer"),
        (["add", "bad name", "--role", "viewer"], "no spaces"),
        (["disable", "nobody"], "no account named nobody"),
        (["reset-password", "nobody"], "no account named nobody"),
    ],
)
def test_wrong_input_is_refused_with_what_was_expected(cli, demo_db, args, expected):
    result = _users(cli, demo_db, *args, ok=False)
    assert result.returncode == 1
    assert expected in result.stderr
    assert json.loads(_users(cli, demo_db, "list", "--format", "json").stdout) == []


def test_weak_and_duplicate_accounts_are_refused(cli, demo_db, monkeypatch):
    short = _users(
        cli,
        demo_db,
        "add",
        "v1",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="short\n",
        monkeypatch=monkeypatch,
        ok=False,
    )
    assert "the password has 5 characters; at least 10 are needed" in short.stderr
    _users(cli, demo_db, "add", "v1", "--role", "viewer")
    again = _users(cli, demo_db, "add", "v1", "--role", "viewer", ok=False)
    assert "an account named v1 exists already" in again.stderr


def test_a_password_check_never_raises_and_refuses_the_huge_cheaply():
    stored = accounts.hash_password("a good long password")
    assert accounts.password_matches(stored, "a good long password")
    assert not accounts.password_matches(stored, "")
    assert not accounts.password_matches(stored, "x" * 10_000)  # refused before hashing
    assert not accounts.password_matches("not a hash", "a good long password")
