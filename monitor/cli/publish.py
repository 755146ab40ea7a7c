"""``parkmon publish YEAR`` and ``parkmon publications``: the bureau's word on a year's ratings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.common import OutputFormat, err, out, reading, write_frame, writing

if TYPE_CHECKING:
    from monitor import accounts, publication
else:
    from monitor.lazy import LazyModule

    accounts = LazyModule("monitor.accounts")
    publication = LazyModule("monitor.publication")


def publish_command(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(help="The year whose stored ratings are published.")],
    reason: Annotated[
        str, typer.Option(help="Why (needed when the year was published before).")
    ] = "",
) -> None:
    """Freeze the year's stored ratings as published (who, when, why; audited)."""
    actor = accounts.Actor.command_line()
    number = writing(ctx, lambda engine: publication.publish(engine, year, reason, actor=actor))
    err.print(f"{year}: publication {number}", markup=False)


def publications_command(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """Every publication of ratings, newest first."""
    frame = reading(ctx, publication.publications_frame)
    if write_frame(frame, fmt):
        return
    if frame.empty:
        out.print("nothing published yet: `parkmon publish YEAR`")
    for row in frame.to_dict("records"):
        out.print(
            f"{row['year']} #{row['number']}  {row['ratings']} ratings  by {row['published_by']} "
            f"at {str(row['published_at'])[:16]}  {row['reason']}",
            markup=False,
        )
