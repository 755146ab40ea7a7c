"""What every command module shares: the consoles, the settings in force, output formats."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console

from monitor.i18n import t
from monitor.lazy import LazyModule
from monitor.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from sqlalchemy.engine import Engine

    from monitor import db, safe_io
else:
    db = LazyModule("monitor.db")
    safe_io = LazyModule("monitor.safe_io")


T = TypeVar("T")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def reading(ctx: typer.Context, read: Callable[[Engine], T]) -> T:
    """``read(engine)`` on the settings' database opened read-only (then closed)."""
    engine = db.open_read_only(settings_of(ctx).database_url)
    try:
        return read(engine)
    finally:
        engine.dispose()


def writing(ctx: typer.Context, write: Callable[[Engine], T]) -> T:
    """``write(engine)`` on the settings' existing database (then closed)."""
    engine = db.open_existing(settings_of(ctx).database_url)
    try:
        return write(engine)
    finally:
        engine.dispose()


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def demo_notice(demo: bool, lang: str, *, machine: bool = False) -> None:
    """The demo banner: above a table, or on stderr when stdout carries CSV/JSON."""
    if demo:
        (err if machine else out).print(f"[bold yellow]{t('msg.demo_banner', lang)}[/bold yellow]")


def write_frame(frame: pd.DataFrame, fmt: OutputFormat) -> bool:
    """Write a frame to stdout as JSON records or CSV; False when ``fmt`` is a table."""
    if fmt is OutputFormat.json:
        sys.stdout.write(
            frame.to_json(orient="records", force_ascii=False, date_format="iso", indent=2) + "\n"
        )
        return True
    if fmt is OutputFormat.csv:
        sys.stdout.write(safe_io.frame_to_csv(frame))
        return True
    return False
