"""`tierstock policy …`: a policy pack holds a platform's rule numbers, with sources."""

from __future__ import annotations

from typing import Annotated

import typer

from tierstock.cli.support import NounApp, out

app = NounApp(help="Policy packs (every rule number lives there).", no_args_is_help=True)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="pack name")] = "kuaishou",
) -> None:
    """Print a policy pack with the comments that say where each number comes from."""
    from tierstock.policies import pack_text

    out.print(pack_text(name), highlight=False, markup=False)


@app.command("list")
def list_() -> None:
    """Names of the shipped policy packs."""
    from tierstock.policies import available_packs, load_pack

    for name in available_packs():
        out.print(f"{name}  (version {load_pack(name).version})")
