"""`tierstock serve`: the server is the REST API and the workbench in one process."""

from __future__ import annotations

from typing import Annotated

import typer

from tierstock.cli.support import NounApp, open_runtime, out

app = NounApp()

#: What `tierstock serve` binds without --host/--port or their variables: the defaults of
#: ``Settings.host``/``Settings.port`` (tests keep them equal), spelled out here so that
#: `serve --help` shows them without importing the settings.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="bind address", envvar="TIERSTOCK_HOST", show_envvar=True)
    ] = DEFAULT_HOST,
    port: Annotated[
        int,
        typer.Option(help="TCP port", envvar="TIERSTOCK_PORT", show_envvar=True, min=1, max=65_535),
    ] = DEFAULT_PORT,
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

    open_runtime().engine.dispose()  # migrate once, before any worker starts
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
