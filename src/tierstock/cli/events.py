"""`tierstock events`: an event is a published change (the outbox), oldest first."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from tierstock.cli.support import NounApp, ShopOpt, local_time, new_table, open_shop, out

app = NounApp(help="Published changes (outbox events).", invoke_without_command=True)


@app.callback()
def events(
    ctx: typer.Context,
    shop: ShopOpt,
    after: Annotated[int, typer.Option(min=0, help="last event id seen")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    topic: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON per line")] = False,
) -> None:
    """Published changes after event ``--after``, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    from tierstock.services import counts

    runtime, zone = open_shop(shop)
    found = counts.read_events(
        shop, runtime.uow(readonly=True), after=after, limit=limit, topic=topic
    )
    if as_json:
        for e in found:
            print(
                json.dumps(
                    {
                        "id": e.id,
                        "topic": e.topic,
                        "payload": e.payload,
                        "created_at": e.created_at.isoformat(),
                    },
                    ensure_ascii=False,
                )
            )
        return
    table = new_table("id", "when", "topic", "what", title=f"Events of shop {shop} after {after}")
    for e in found:
        table.add_row(
            str(e.id),
            local_time(e.created_at, zone),
            e.topic,
            escape(json.dumps(e.payload, ensure_ascii=False)),
        )
    out.print(table)
