"""What every command module shares: the consoles, the settings in force, output formats."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.console import Console

from monitor.settings import Settings

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings
