"""``parkmon quality``: a score per source and per carrier, worst first (``monitor.quality``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from monitor.cli.common import OutputFormat, out, reading, write_frame

if TYPE_CHECKING:
    from monitor import quality
else:
    from monitor.lazy import LazyModule

    quality = LazyModule("monitor.quality")


def quality_command(
    ctx: typer.Context,
    year: Annotated[
        int | None, typer.Option(help="Also score each carrier's figures of this year.")
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = (
        OutputFormat.table
    ),
) -> None:
    """Data quality: each source's reliability, validity and stability; with --year each
    incubator's and maker space's completeness, lateness and revisions. Worst first."""
    frame = reading(
        ctx,
        (lambda e: quality.carrier_quality(e, year))
        if year is not None
        else quality.source_quality,
    )
    if write_frame(frame.round(4), fmt):
        return
    table = Table(show_lines=False)
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.head(50).to_dict("records"):
        table.add_row(
            *(
                f"{v:.2f}" if isinstance(v, float) else ("—" if v is None else str(v))
                for v in row.values()
            )
        )
    out.print(table)
