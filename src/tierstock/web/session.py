"""Sign-in with the shop's API key, kept in a signed cookie.

The cookie holds only the shop id, the role and the SHA-256 digest of the key (never the
key itself), signed with the workbench secret and valid for 12 hours. Every request
looks the digest up again, so a revoked key signs the page out at once, and every
query a page runs is scoped to the shop id that lookup returns.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic_settings import BaseSettings, SettingsConfigDict

from tierstock.domain.access import Permission, ensure_allowed
from tierstock.domain.errors import DomainError, UnauthorizedError
from tierstock.policies import load_pack
from tierstock.services import shops
from tierstock.services.key_material import hash_key
from tierstock.services.runtime import Runtime

COOKIE = "tierstock_web"
LANG_COOKIE = "tierstock_lang"
MAX_AGE_S = 12 * 3600


class WebSettings(BaseSettings):
    """``TIERSTOCK_WEB_SECRET`` signs the cookie; without it a random secret is made at
    start-up (sessions then end when the server restarts)."""

    model_config = SettingsConfigDict(env_prefix="TIERSTOCK_WEB_")

    secret: str = ""
    secure_cookie: bool = False


@dataclass(frozen=True)
class Merchant:
    """The signed-in shop; every page reads and writes only this shop's data."""

    shop_id: int
    role: str
    key_id: int
    zone: ZoneInfo

    @property
    def actor(self) -> str:
        """Who, for the ledger: as the API writes it, marked as done on the workbench."""
        return f"shop{self.shop_id}:{self.role}#key{self.key_id}:web"

    def require(self, permission: Permission) -> None:
        """The same role table the API enforces (refused with 403 ``forbidden``)."""
        ensure_allowed(self.role, permission)

    def may(self, permission: Permission) -> bool:
        """Whether :meth:`require` would let this through (a page hides what it would refuse)."""
        try:
            self.require(permission)
        except DomainError:
            return False
        return True


class SignInRequiredError(Exception):
    """No valid session: the page sends the browser to the sign-in form."""


class Sessions:
    def __init__(self, runtime: Runtime, settings: WebSettings) -> None:
        self.runtime = runtime
        self.secure = settings.secure_cookie
        secret = settings.secret or secrets.token_urlsafe(32)
        self._signer = URLSafeTimedSerializer(secret, salt="tierstock-web-session")

    def sign_in(self, api_key: str) -> tuple[str, Merchant]:
        """Check the key; return the cookie value and who signed in."""
        owner = shops.authenticate(api_key.strip(), self.runtime.uow(readonly=True))
        digest = hash_key(api_key.strip())
        token = self._signer.dumps({"s": owner.shop_id, "r": owner.role, "k": digest})
        merchant = Merchant(
            owner.shop_id,
            owner.role,
            owner.key_id,
            ZoneInfo(load_pack(owner.policy).display_timezone),
        )
        merchant.require(Permission.READ)
        return token, merchant

    def merchant(self, token: str | None) -> Merchant:
        if not token:
            raise SignInRequiredError
        try:
            data: dict[str, Any] = self._signer.loads(token, max_age=MAX_AGE_S)
        except BadSignature as exc:
            raise SignInRequiredError from exc
        try:
            owner = shops.authenticate_digest(
                str(data.get("k", "")), self.runtime.uow(readonly=True)
            )
        except UnauthorizedError as exc:  # revoked since: sign in again
            raise SignInRequiredError from exc
        if owner.shop_id != data.get("s"):
            raise SignInRequiredError
        return Merchant(
            owner.shop_id,
            owner.role,
            owner.key_id,
            ZoneInfo(load_pack(owner.policy).display_timezone),
        )
