"""The people of the submission portal: accounts with a role, the carriers a park office files
for, the district a district office covers, passwords (Argon2 hashes, never stored or logged in
clear), and the audit log every change writes to in the same transaction.

The web application's sign-in, sessions and permission checks stand on this module; the
``parkmon users`` commands are its command-line face.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection, Engine

from monitor import models
from monitor.errors import MonitorError
from monitor.tables import table_of

T_ACCOUNT = table_of(models.Account)
T_ACCOUNT_PARK = table_of(models.AccountPark)
T_AUDIT = table_of(models.AuditEvent)

# Argon2id with the library's defaults (RFC 9106's second recommended profile: 64 MiB, 3 passes)
_HASHER = PasswordHasher()
MIN_PASSWORD = 10
MAX_PASSWORD = 256  # a password longer than this is refused before hashing (cheap to refuse)
NAME = re.compile(r"^[\w.@-]{2,64}$")  # letters (any script), digits, . _ @ -


class AccountError(MonitorError):
    """An account cannot be created or changed as asked; the message says what to give."""


@dataclass(frozen=True)
class Actor:
    """Who does something, for the audit log: an account name, or the command line's user."""

    name: str
    address: str = ""

    @classmethod
    def command_line(cls) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(f"cli:{user}", socket.gethostname())


def hash_password(password: str) -> str:
    check_password(password)
    return _HASHER.hash(password)


def password_matches(stored_hash: str, password: str) -> bool:
    """Whether ``password`` is the one hashed; False (never an exception) for anything else."""
    if not password or len(password) > MAX_PASSWORD:
        return False
    try:
        return bool(_HASHER.verify(stored_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"the password has {len(password)} characters; at least {MIN_PASSWORD} are needed"
        )
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is longer than {MAX_PASSWORD} characters")
    if len(set(password)) < 4:
        raise AccountError("the password repeats too few characters; use at least 4 different")


def generate_password() -> str:
    """A random password to hand over once: 16 letters and digits (about 95 bits), none that
    reads like another (no 0/O, 1/l/I) and none a shell or a form treats specially."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def audit(
    conn: Connection,
    actor: Actor,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """One line of the audit log, in the caller's transaction (the change and its record
    commit together or not at all)."""
    conn.execute(
        sa.insert(T_AUDIT).values(
            at=models.utcnow(),
            actor=actor.name[:128],
            action=action[:32],
            target=target[:128],
            detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            address=actor.address[:64],
        )
    )


def add_account(
    engine: Engine,
    name: str,
    role: str,
    password: str,
    *,
    parks: Sequence[str] = (),
    district: str | None = None,
    display_name: str = "",
    actor: Actor,
) -> None:
    """Create an account. A park office needs its carrier(s), a district office its district
    (an adcode known to the registry); no other role takes either."""
    if not NAME.match(name):
        raise AccountError(
            f"account name {name!r}: 2 to 64 letters, digits or . _ @ - (no spaces) expected"
        )
    chosen = _role(role)
    parks = list(dict.fromkeys(p.strip() for p in parks if p.strip()))
    if chosen is models.Role.park and not parks:
        raise AccountError(f"{name}: a park office account needs --park ID (its carrier)")
    if chosen is not models.Role.park and parks:
        raise AccountError(f"{name}: only park office accounts (--role park) take --park")
    if chosen is models.Role.district and not district:
        raise AccountError(f"{name}: a district office account needs --district CODE")
    if chosen is not models.Role.district and district:
        raise AccountError(
            f"{name}: only district office accounts (--role district) take --district"
        )
    hashed = hash_password(password)
    with engine.begin() as conn:
        if conn.execute(sa.select(T_ACCOUNT.c.id).where(T_ACCOUNT.c.name == name)).first():
            raise AccountError(f"an account named {name} exists already")
        _known_parks(conn, parks)
        if district is not None:
            district = _known_district(conn, district)
        now = models.utcnow()
        account_id = conn.execute(
            sa.insert(T_ACCOUNT)
            .values(
                name=name,
                display_name=display_name[:128],
                role=chosen.value,
                district_id=district,
                password_hash=hashed,
                disabled=False,
                created_at=now,
                password_changed_at=now,
            )
            .returning(T_ACCOUNT.c.id)
        ).scalar_one()
        for park in parks:
            conn.execute(sa.insert(T_ACCOUNT_PARK).values(account_id=account_id, park_id=park))
        audit(
            conn,
            actor,
            "user.add",
            name,
            {"role": chosen.value, "parks": parks, "district": district},
        )


def parks_of(conn: Connection, account_id: int) -> frozenset[str]:
    """The carriers an account files for (a park office's; empty for other roles)."""
    rows = conn.execute(
        sa.select(T_ACCOUNT_PARK.c.park_id).where(T_ACCOUNT_PARK.c.account_id == account_id)
    )
    return frozenset(str(park) for (park,) in rows)


def accounts_frame(engine: Engine) -> pd.DataFrame:
    """Every account: name, display name, role, carriers, district, disabled, created."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                T_ACCOUNT.c.id,
                T_ACCOUNT.c.name,
                T_ACCOUNT.c.display_name,
                T_ACCOUNT.c.role,
                T_ACCOUNT.c.district_id,
                T_ACCOUNT.c.disabled,
                T_ACCOUNT.c.created_at,
            ).order_by(T_ACCOUNT.c.name)
        ).all()
        links = conn.execute(
            sa.select(T_ACCOUNT_PARK.c.account_id, T_ACCOUNT_PARK.c.park_id).order_by(
                T_ACCOUNT_PARK.c.park_id
            )
        ).all()
    parks: dict[int, list[str]] = {}
    for account_id, park in links:
        parks.setdefault(int(account_id), []).append(str(park))
    return pd.DataFrame(
        [
            {
                "name": r.name,
                "display_name": r.display_name,
                "role": r.role,
                "parks": "|".join(parks.get(int(r.id), [])),
                "district": r.district_id or "",
                "disabled": bool(r.disabled),
                "created_at": r.created_at,
            }
            for r in rows
        ],
        columns=["name", "display_name", "role", "parks", "district", "disabled", "created_at"],
    )


def set_disabled(engine: Engine, name: str, disabled: bool, *, actor: Actor) -> None:
    with engine.begin() as conn:
        _existing(conn, name)
        conn.execute(sa.update(T_ACCOUNT).where(T_ACCOUNT.c.name == name).values(disabled=disabled))
        audit(conn, actor, "user.disable" if disabled else "user.enable", name)


def reset_password(engine: Engine, name: str, password: str, *, actor: Actor) -> None:
    hashed = hash_password(password)
    with engine.begin() as conn:
        _existing(conn, name)
        conn.execute(
            sa.update(T_ACCOUNT)
            .where(T_ACCOUNT.c.name == name)
            .values(password_hash=hashed, password_changed_at=models.utcnow())
        )
        audit(conn, actor, "user.reset_password", name)


def audit_frame(engine: Engine, limit: int = 1000) -> pd.DataFrame:
    """The latest audit events, newest first."""
    columns = ["at", "actor", "action", "target", "detail", "address"]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(*(T_AUDIT.c[c] for c in columns)).order_by(T_AUDIT.c.id.desc()).limit(limit)
        ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _role(role: str) -> models.Role:
    try:
        return models.Role(role)
    except ValueError:
        known = ", ".join(r.value for r in models.Role)
        raise AccountError(f"role {role!r}: expected one of {known}") from None


def _existing(conn: Connection, name: str) -> None:
    if conn.execute(sa.select(T_ACCOUNT.c.id).where(T_ACCOUNT.c.name == name)).first() is None:
        raise AccountError(f"no account named {name}; see `parkmon users list`")


def _known_parks(conn: Connection, parks: Sequence[str]) -> None:
    park = table_of(models.Park)
    found = {r[0] for r in conn.execute(sa.select(park.c.id).where(park.c.id.in_(list(parks))))}
    unknown = [p for p in parks if p not in found]
    if unknown:
        raise AccountError(
            f"no carrier with id {', '.join(unknown)} in the registry; see `parkmon parks list`"
        )


def _known_district(conn: Connection, district: str) -> str:
    """The district's code, given its code or its name as the registry knows it."""
    region = table_of(models.Region)
    row = conn.execute(
        sa.select(region.c.id).where(
            region.c.level == models.RegionLevel.district.value,
            sa.or_(region.c.id == district, region.c.name == district),
        )
    ).first()
    if row is None:
        raise AccountError(
            f"no district {district!r} in the registry; give its code or name as in city.toml"
        )
    return str(row[0])


# --- API tokens ----------------------------------------------------------------------------------

T_TOKEN = table_of(models.ApiToken)
TOKEN_PREFIX = "pmk_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_token(
    engine: Engine, account: str, name: str, role: str | None = None, *, actor: Actor
) -> str:
    """A new token for a machine client of ``account``; returned once, kept only as its
    SHA-256. It acts with the account's role, or as a viewer (read-only) when asked."""
    if not NAME.match(name):
        raise AccountError(f"token name {name!r}: 2 to 64 letters, digits or . _ @ - expected")
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(T_ACCOUNT.c.id, T_ACCOUNT.c.role).where(T_ACCOUNT.c.name == account)
        ).first()
        if row is None:
            raise AccountError(f"no account named {account}; see `parkmon users list`")
        scope = str(row.role) if role is None else _role(role).value
        if scope not in (str(row.role), models.Role.viewer.value):
            raise AccountError(
                f"a token of {account} ({row.role}) acts as {row.role} or as a viewer, not {scope}"
            )
        taken = conn.execute(
            sa.select(T_TOKEN.c.id).where(
                T_TOKEN.c.account_id == row.id,
                T_TOKEN.c.name == name,
                T_TOKEN.c.revoked_at.is_(None),
            )
        ).first()
        if taken:
            raise AccountError(f"{account} has a token named {name} already; revoke it first")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        conn.execute(
            sa.insert(T_TOKEN).values(
                account_id=row.id,
                name=name,
                token_hash=token_digest(token),
                role=scope,
                created_at=models.utcnow(),
            )
        )
        audit(conn, actor, "token.add", account, {"token": name, "role": scope})
    return token


def revoke_token(engine: Engine, account: str, name: str, *, actor: Actor) -> None:
    with engine.begin() as conn:
        row = conn.execute(sa.select(T_ACCOUNT.c.id).where(T_ACCOUNT.c.name == account)).first()
        if row is None:
            raise AccountError(f"no account named {account}; see `parkmon users list`")
        done = conn.execute(
            sa.update(T_TOKEN)
            .where(
                T_TOKEN.c.account_id == row.id,
                T_TOKEN.c.name == name,
                T_TOKEN.c.revoked_at.is_(None),
            )
            .values(revoked_at=models.utcnow())
        )
        if done.rowcount == 0:
            raise AccountError(f"{account} has no live token named {name}")
        audit(conn, actor, "token.revoke", account, {"token": name})


def tokens_frame(engine: Engine, account: str) -> pd.DataFrame:
    """The tokens of one account (never the tokens themselves): name, role, created, last
    used, revoked."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                T_TOKEN.c.name,
                T_TOKEN.c.role,
                T_TOKEN.c.created_at,
                T_TOKEN.c.last_used_at,
                T_TOKEN.c.revoked_at,
            )
            .select_from(T_TOKEN.join(T_ACCOUNT, T_ACCOUNT.c.id == T_TOKEN.c.account_id))
            .where(T_ACCOUNT.c.name == account)
            .order_by(T_TOKEN.c.id)
        ).all()
    columns = ["name", "role", "created_at", "last_used_at", "revoked_at"]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)
