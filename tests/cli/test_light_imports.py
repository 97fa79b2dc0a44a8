"""`tierstock --help` must not wait for the database layer (issue #14): every call imports
every command module, so those modules import the services, the store, the settings and
the web stack only inside the commands that use them.

Run in a fresh interpreter: importing the CLI and rendering help loads none of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

#: Command modules whose heavy imports are still at module level (issue #14: their owners
#: make them lazy); stood in for by an empty sub-app here. Drop a name once it is light.
PENDING = ("channels", "demo")

#: What `--help` must not load: the store and services layers and the libraries behind them.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "httpx",
    "redis",
    "openpyxl",
    "cryptography",
    "pydantic_settings",
    "tierstock.api",
    "tierstock.web",
    "tierstock.store",
    "tierstock.services",
    "tierstock.platforms",
    "tierstock.config",
    "tierstock.policies",
)

SCRIPT = textwrap.dedent(
    """
    import json, sys, types
    import typer
    from typer.testing import CliRunner

    pending, heavy = json.loads(sys.argv[1]), tuple(json.loads(sys.argv[2]))
    heavy_packages = tuple(f"{h}." for h in heavy)
    for name in pending:
        stand_in = types.ModuleType(f"tierstock.cli.{name}")
        stand_in.app = typer.Typer()
        stand_in.app.command(name)(lambda: None)
        sys.modules[stand_in.__name__] = stand_in

    import tierstock.cli

    runner = CliRunner()
    for args in (["--help"], ["serve", "--help"], ["verify", "--help"], ["plan", "--help"],
                 ["count", "import", "--help"], ["front", "fold", "--help"]):
        assert runner.invoke(tierstock.cli.app, args).exit_code == 0, args
    loaded = sorted(m for m in sys.modules if m in heavy or m.startswith(heavy_packages))
    print(json.dumps(loaded))
    """
)


def test_importing_the_cli_and_showing_help_loads_no_heavy_module() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(PENDING), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded == [], f"imported at start: {loaded[:20]}"
