"""``parkmon users …``: the accounts of the submission portal (who may sign in, as what)."""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from monitor.cli.common import OutputFormat, err, out, reading, write_frame, writing

if TYPE_CHECKING:
    from monitor import accounts
else:
    from monitor.lazy import LazyModule

    accounts = LazyModule("monitor.accounts")

users_app = typer.Typer(
    help="Accounts of the submission portal: add, list, disable, reset a password.",
    no_args_is_help=True,
)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input (otherwise one is "
        "generated and printed once).",
    ),
]


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password to set and whether it was generated (then it is printed once)."""
    if from_stdin:
        line = sys.stdin.readline(accounts.MAX_PASSWORD + 2)
        return line.rstrip("\r\n"), False
    return accounts.generate_password(), True


def _hand_over(name: str, password: str) -> None:
    out.print(f"password for {name} (shown once; pass it on privately):", markup=False)
    out.print(password, markup=False, highlight=False)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name, e.g. chongchuan-office.")],
    role: Annotated[
        str, typer.Option(help="admin, reviewer, district, park or viewer.", show_default=False)
    ],
    park: Annotated[
        list[str] | None,
        typer.Option("--park", help="A carrier the park office files for (repeatable)."),
    ] = None,
    district: Annotated[
        str | None, typer.Option(help="The district a district office covers (code or name).")
    ] = None,
    display_name: Annotated[str, typer.Option(help="Name shown in the portal.")] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account (its creation is written to the audit log)."""
    password, generated = _password(password_stdin)
    writing(
        ctx,
        lambda engine: accounts.add_account(
            engine,
            name,
            role,
            password,
            parks=park or [],
            district=district,
            display_name=display_name,
            actor=accounts.Actor.command_line(),
        ),
    )
    err.print(f"added {name} ({role})", markup=False)
    if generated:
        _hand_over(name, password)


@users_app.command("list")
def users_list(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """Every account with its role, carriers, district and whether it is disabled."""
    frame = reading(ctx, accounts.accounts_frame)
    if write_frame(frame, fmt):
        return
    if frame.empty:
        out.print("no accounts yet: `parkmon users add NAME --role ROLE`")
        return
    table = Table(show_lines=False)
    for column in ("name", "display_name", "role", "parks", "district", "disabled", "created_at"):
        table.add_column(column)
    for row in frame.to_dict("records"):
        table.add_row(
            str(row["name"]),
            str(row["display_name"]),
            str(row["role"]),
            str(row["parks"]).replace("|", ", "),
            str(row["district"]),
            "disabled" if row["disabled"] else "",
            str(row["created_at"])[:16],
        )
    out.print(table)


@users_app.command("disable")
def users_disable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Login name.")]
) -> None:
    """Stop an account from signing in (nothing it did is removed)."""
    _switch(ctx, name, True)


@users_app.command("enable")
def users_enable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Login name.")]
) -> None:
    """Let a disabled account sign in again."""
    _switch(ctx, name, False)


def _switch(ctx: typer.Context, name: str, disabled: bool) -> None:
    actor = accounts.Actor.command_line()
    writing(ctx, lambda engine: accounts.set_disabled(engine, name, disabled, actor=actor))
    err.print(f"{name}: {'disabled' if disabled else 'enabled'}", markup=False)


@users_app.command("reset-password")
def users_reset_password(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Give an account a new password (generated and printed once, or read from stdin)."""
    password, generated = _password(password_stdin)
    actor = accounts.Actor.command_line()
    writing(ctx, lambda engine: accounts.reset_password(engine, name, password, actor=actor))
    err.print(f"{name}: password changed", markup=False)
    if generated:
        _hand_over(name, password)


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The account the token belongs to.")],
    token_name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    role: Annotated[
        str | None, typer.Option(help="viewer for a read-only token (default: the account's).")
    ] = None,
) -> None:
    """Make an API token for a machine client (printed once; send it as
    ``Authorization: Bearer TOKEN``)."""
    actor = accounts.Actor.command_line()
    token = writing(
        ctx, lambda engine: accounts.add_token(engine, name, token_name, role, actor=actor)
    )
    err.print(f"token {token_name} for {name} (shown once; keep it secret):", markup=False)
    out.print(token, markup=False, highlight=False)


@users_app.command("revoke-token")
def users_revoke_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The account the token belongs to.")],
    token_name: Annotated[str, typer.Option("--name", help="The token's name.")],
) -> None:
    """Stop a token from working at once."""
    actor = accounts.Actor.command_line()
    writing(ctx, lambda engine: accounts.revoke_token(engine, name, token_name, actor=actor))
    err.print(f"token {token_name} of {name}: revoked", markup=False)


@users_app.command("tokens")
def users_tokens(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """An account's tokens: name, role, created, last used, revoked (never the token)."""
    frame = reading(ctx, lambda engine: accounts.tokens_frame(engine, name))
    if write_frame(frame, fmt):
        return
    table = Table(show_lines=False)
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.to_dict("records"):
        table.add_row(*("" if _missing(v) else str(v)[:16] for v in row.values()))
    out.print(table)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "NaT"
