"""Policy packs: one TOML file per platform, parsed once into a frozen PolicyPack.

The files are the only place a rule number may appear. Parsing goes through pydantic so
that a malformed pack fails at start-up with the section and key named.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tierstock.domain.errors import NotFoundError
from tierstock.domain.policy import PolicyPack

_ADAPTER = TypeAdapter(PolicyPack)


def available_packs() -> list[str]:
    """Names of the packs shipped with tierstock (file stems)."""
    folder = resources.files(__name__)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def pack_text(name: str) -> str:
    """The pack's TOML source, comments included (they cite where numbers come from)."""
    if name not in available_packs():
        raise NotFoundError(
            f"no policy pack named {name!r}; available: {', '.join(available_packs())}",
            field="policy",
        )
    return resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")


def parse_pack(raw: dict[str, Any]) -> PolicyPack:
    """Build a PolicyPack from parsed TOML (``[pack]`` keys flattened to the top)."""
    data = dict(raw)
    head = data.pop("pack", {})
    data.update(head)
    return _ADAPTER.validate_python(data)


@cache
def load_pack(name: str) -> PolicyPack:
    """The named pack, parsed and validated once per process."""
    try:
        return parse_pack(tomllib.loads(pack_text(name)))
    except ValidationError as exc:  # a broken pack file is a deployment error
        raise RuntimeError(f"policy pack {name!r} is invalid: {exc}") from exc
