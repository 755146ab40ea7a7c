"""``parkmon rounds …``: the reporting rounds of the submission portal."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.common import OutputFormat, err, out, reading, write_frame, writing

if TYPE_CHECKING:
    from monitor import accounts, rounds
else:
    from monitor.lazy import LazyModule

    accounts = LazyModule("monitor.accounts")
    rounds = LazyModule("monitor.rounds")

rounds_app = typer.Typer(
    help="Reporting rounds: which carriers report which figures of which year, by when.",
    no_args_is_help=True,
)


@rounds_app.command("add")
def rounds_add(
    ctx: typer.Context,
    round_id: Annotated[str, typer.Argument(help="Short id, e.g. 2025-annual.")],
    title: Annotated[str, typer.Option(help="Title shown to the offices.", show_default=False)],
    year: Annotated[int, typer.Option(help="The year reported.", show_default=False)],
    deadline: Annotated[
        str, typer.Option(help="Last day of filing, YYYY-MM-DD.", show_default=False)
    ],
    kind: Annotated[
        list[str], typer.Option("--kind", help="Kind of carrier that reports (repeatable).")
    ],
    indicator: Annotated[
        list[str] | None,
        typer.Option("--indicator", help="Figure asked (repeatable; default: all of the kinds)."),
    ] = None,
) -> None:
    """Open a reporting round (written to the audit log)."""
    try:
        day = date.fromisoformat(deadline)
    except ValueError:
        raise rounds.RoundError(
            f"--deadline {deadline!r}: a date YYYY-MM-DD expected",
            f"--deadline “{deadline}”：应为 YYYY-MM-DD 格式的日期",
        ) from None
    actor = accounts.Actor.command_line()
    asked = writing(
        ctx,
        lambda engine: rounds.add_round(
            engine, round_id, title, year, day, kind, indicator or [], actor=actor
        ),
    )
    err.print(f"round {round_id} opened: {len(asked)} figure(s) asked", markup=False)


@rounds_app.command("list")
def rounds_list(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """The rounds, newest deadline first."""
    frame = reading(ctx, rounds.rounds_frame)
    if write_frame(frame, fmt):
        return
    if frame.empty:
        out.print("no rounds yet: `parkmon rounds add ID --title … --year … --deadline … --kind …`")
        return
    for row in frame.to_dict("records"):
        state = "closed" if row["closed"] else "open"
        count = len(str(row["indicators"]).split("|"))
        out.print(
            f"{row['id']}  {row['title']}  {row['period']}  deadline {row['deadline']}  "
            f"{row['kinds']}  {count} figure(s)  {state}",
            markup=False,
        )


@rounds_app.command("close")
def rounds_close(
    ctx: typer.Context, round_id: Annotated[str, typer.Argument(help="The round's id.")]
) -> None:
    """Close a round: no more uploads or submissions (review goes on; audited)."""
    actor = accounts.Actor.command_line()
    writing(ctx, lambda engine: rounds.close_round(engine, round_id, actor=actor))
    err.print(f"round {round_id} closed", markup=False)
