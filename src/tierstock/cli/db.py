"""`tierstock db …`: the database schema every other command reads and writes."""

from __future__ import annotations

from tierstock.cli.support import NounApp, open_runtime, out

app = NounApp(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create or upgrade the schema (the other commands do this on start too)."""
    open_runtime()
    out.print("database schema is up to date")
