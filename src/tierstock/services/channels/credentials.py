"""A store's open-API credentials: checked when given, encrypted at rest, never shown.

They are sealed with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under the
key from settings (``TIERSTOCK_SECRET_KEY``, or one generated into the data folder), so
a copy of the database alone reveals no app secret or access token. Nothing outside
this module and the client factory ever holds them in clear; the API, the CLI, the audit
trail and the logs only ever say which fields are set.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken

from tierstock.domain.channels import Platform
from tierstock.domain.errors import InvalidValueError

FIELDS: dict[Platform, tuple[str, ...]] = {
    Platform.OWN: (),
    Platform.KUAISHOU: ("app_key", "sign_secret", "access_token"),
    Platform.DOUYIN: ("app_key", "app_secret", "access_token"),
    Platform.TAOBAO: ("app_key", "app_secret", "session"),
}


def check(platform: Platform, values: dict[str, str]) -> dict[str, str]:
    """The credentials a store of ``platform`` needs, each a non-empty string."""
    wanted = FIELDS[platform]
    unknown = sorted(set(values) - set(wanted))
    if unknown:
        raise InvalidValueError(
            f"{platform.value} credentials have no field {unknown[0]!r}; "
            f"they are {', '.join(wanted) or 'none'}",
            field=f"credentials.{unknown[0]}",
        )
    for name in wanted:
        value = values.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 500:
            raise InvalidValueError(
                f"{platform.value} credentials need {name} (1 to 500 characters)",
                field=f"credentials.{name}",
            )
    return {name: values[name].strip() for name in wanted}


def _fernet(key: bytes | None) -> Fernet:
    if not key:
        raise InvalidValueError(
            "no key to encrypt channel credentials with", field="TIERSTOCK_SECRET_KEY"
        )
    try:
        return Fernet(key)
    except ValueError:
        raise InvalidValueError(
            "TIERSTOCK_SECRET_KEY must be 32 url-safe base64-encoded bytes (a Fernet key)",
            field="TIERSTOCK_SECRET_KEY",
        ) from None


def seal(values: dict[str, str], key: bytes | None) -> str:
    return _fernet(key).encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def unseal(token: str, key: bytes | None) -> dict[str, str]:
    try:
        values: dict[str, str] = json.loads(_fernet(key).decrypt(token.encode()))
    except InvalidToken:
        raise InvalidValueError(
            "the channel's credentials cannot be read with this TIERSTOCK_SECRET_KEY",
            field="TIERSTOCK_SECRET_KEY",
        ) from None
    return values
