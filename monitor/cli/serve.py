"""``parkmon serve``: the web application (FastAPI under uvicorn) on the configured database."""

from __future__ import annotations

import ipaddress
import os
from typing import Annotated

import typer

from monitor.cli.common import err, settings_of


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on (default: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (PostgreSQL for more than one).")
    ] = 1,
) -> None:
    """Serve the web application: overview, carriers, runs and rejections, read-only."""
    import uvicorn  # noqa: PLC0415  (only this command needs the server)

    from monitor import db  # noqa: PLC0415
    from monitor.web.app import create_app  # noqa: PLC0415

    settings = settings_of(ctx)
    engine = db.open_read_only(settings.database_url)  # refuses a missing or older database
    if workers > 1 and engine.dialect.name == "sqlite":
        err.print(
            "[yellow]several workers on a SQLite file: each reads it on its own; use "
            "PostgreSQL when many people use parkmon at once[/yellow]"
        )
    if not _loopback(host):
        err.print(
            f"[yellow]listening on {host}:{port}: every page is readable by anyone who can reach "
            "this address (no logins yet); put it behind the bureau's HTTPS proxy[/yellow]"
        )
    err.print(f"parkmon serve: http://{host}:{port}/ on {db.describe(engine)}", markup=False)
    if workers == 1:
        uvicorn.run(create_app(settings, engine), host=host, port=port, log_level="warning")
        return
    engine.dispose()
    # each worker process builds the app from the same settings, passed in its environment
    os.environ["PARKMON_DATABASE_URL"] = settings.database_url
    os.environ["PARKMON_CONFIG"] = str(settings.config_dir)
    os.environ["PARKMON_LANG"] = settings.lang
    uvicorn.run(
        "monitor.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
