"""`tierstock serve`: the server is the REST API and the workbench in one process."""

from __future__ import annotations

from typing import Annotated

import typer

from tierstock.cli.support import NounApp, open_runtime, out
from tierstock.config import Settings

app = NounApp()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="server processes; more than 1 is for PostgreSQL (SQLite has one writer)",
        ),
    ] = 1,
) -> None:
    """Run the REST API (OpenAPI at /docs) and the workbench (/web/)."""
    import uvicorn

    settings = Settings()
    open_runtime().engine.dispose()  # migrate once, before any worker starts
    host, port = host or settings.host, port or settings.port
    out.print(f"tierstock API on http://{host}:{port}/docs, workbench on http://{host}:{port}/web/")
    uvicorn.run(
        "tierstock.api.main:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
