"""``parkmon publish YEAR`` and ``parkmon publications``: the bureau's word on a year's ratings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.common import OutputFormat, err, out, settings_of, write_frame

if TYPE_CHECKING:
    from monitor import accounts, db, publication
else:
    from monitor.lazy import LazyModule

    accounts = LazyModule("monitor.accounts")
    db = LazyModule("monitor.db")
    publication = LazyModule("monitor.publication")


def publish_command(
    ctx: typer.Context,
    year: Annotated[int, typer.Argument(help="The year whose stored ratings are published.")],
    reason: Annotated[
        str, typer.Option(help="Why (needed when the year was published before).")
    ] = "",
) -> None:
    """Freeze the year's stored ratings as published (who, when, why; audited)."""
    engine = db.open_existing(settings_of(ctx).database_url)
    try:
        number = publication.publish(engine, year, reason, actor=accounts.Actor.command_line())
    finally:
        engine.dispose()
    err.print(f"{year}: publication {number}", markup=False)


def publications_command(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """Every publication of ratings, newest first."""
    engine = db.open_read_only(settings_of(ctx).database_url)
    try:
        frame = publication.publications_frame(engine)
    finally:
        engine.dispose()
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
