"""The open-API client of each store, built from its sealed credentials on first use
and kept (with its connection pool) for the life of the worker."""

from __future__ import annotations

import threading

from tierstock.domain.channels import Channel, Platform
from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.platforms import douyin, kuaishou, taobao
from tierstock.platforms.base import AuthError, PlatformClient
from tierstock.platforms.douyin import DouyinClient
from tierstock.platforms.kuaishou import KuaishouClient
from tierstock.platforms.taobao import TaobaoClient
from tierstock.services.channels import credentials
from tierstock.services.placing.path import Database


def build(platform: Platform, values: dict[str, str], server_url: str | None) -> PlatformClient:
    """A client for one store; ``server_url`` None means the platform's own gateway."""
    if platform is Platform.KUAISHOU:
        return KuaishouClient(
            app_key=values["app_key"],
            sign_secret=values["sign_secret"],
            access_token=values["access_token"],
            server_url=server_url or kuaishou.GATEWAY,
        )
    if platform is Platform.DOUYIN:
        return DouyinClient(
            app_key=values["app_key"],
            app_secret=values["app_secret"],
            access_token=values["access_token"],
            server_url=server_url or douyin.DEFAULT_SERVER_URL,
        )
    if platform is Platform.TAOBAO:
        return TaobaoClient(
            app_key=values["app_key"],
            app_secret=values["app_secret"],
            session=values["session"],
            server_url=server_url or taobao.DEFAULT_SERVER_URL,
        )
    raise InvalidValueError("the own storefront has no open API to call", field="channel_id")


class Clients:
    """Thread-safe cache of clients by channel id."""

    def __init__(self, db: Database, key: bytes | None) -> None:
        self.db = db
        self.key = key
        self._clients: dict[int, PlatformClient] = {}
        self._lock = threading.Lock()

    def get(self, channel: Channel) -> PlatformClient:
        """The store's client. Credentials that cannot be read (another secret key) are
        an :class:`AuthError` of that store alone, as a refused token would be: its
        pushes wait for a person, and every other store is served all the same."""
        with self._lock:
            client = self._clients.get(channel.id)
            if client is None:
                with self.db.uow(readonly=True) as uow:
                    _pack, server_url, sealed = uow.channels.account(channel.id)
                try:
                    values = credentials.unseal(sealed, self.key) if sealed else {}
                except DomainError as exc:
                    raise AuthError(exc.message, code="credentials_unreadable") from None
                client = self._clients[channel.id] = build(channel.platform, values, server_url)
            return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
