"""The two bases every API model derives from: ``Strict`` for requests, ``Public`` for responses."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A request body or part of one: no unknown fields, no type coercion. Models live
    in the module of their resource and are imported from there (the package
    re-exports nothing, so each has one import path).

    ``true`` is not a quantity and ``"1"`` is not an id: strict mode refuses them (422)
    where lax mode would convert them. FastAPI validates a body in pydantic's Python
    mode (after ``json.loads``), where strict mode would also refuse an ISO string for
    a date and a string for an enum — such fields use the types of
    :mod:`tierstock.api.schemas.fields` (``IsoDate``, ``IsoDateTime``, ``TierValue`` …)
    that take their JSON spelling.
    """

    model_config = ConfigDict(strict=True, extra="forbid")


class Public(BaseModel):
    """A response body or part of one; plain pydantic, deliberately not strict. Never
    an ORM row: times go out in the shop's display zone as ISO 8601 with offset, money
    as integer fen plus a yuan string for people.

    Responses are built by the routers from domain values already checked on the way
    in, never parsed from a client: strict mode would guard nothing, and would turn a
    harmless difference in the routers' own code (a plain ``"spot"`` where a ``Tier``
    is declared, say) into a 500. ``extra="forbid"`` likewise only guards input.
    """
