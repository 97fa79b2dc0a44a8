"""Dependencies every router shares: the runtime, the calling shop and its zone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Header, Request

from tierstock.domain.errors import UnauthorizedError
from tierstock.policies import load_pack
from tierstock.services import shops
from tierstock.services.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


@dataclass(frozen=True)
class Caller:
    """The shop (and role) an API key speaks for; every query is scoped to it."""

    shop_id: int
    role: str
    zone: ZoneInfo

    @property
    def actor(self) -> str:
        return f"shop{self.shop_id}:{self.role}"


def get_caller(
    runtime: RuntimeDep,
    x_api_key: Annotated[str | None, Header(description="the shop's API key")] = None,
) -> Caller:
    if not x_api_key:
        raise UnauthorizedError("send the shop's API key in the X-API-Key header",
                                field="X-API-Key")
    owner = shops.authenticate(x_api_key, runtime.uow(readonly=True))
    zone = ZoneInfo(load_pack(owner.policy).display_timezone)
    return Caller(owner.shop_id, owner.role, zone)


CallerDep = Annotated[Caller, Depends(get_caller)]
