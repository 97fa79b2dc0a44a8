"""Claim an Idempotency-Key inside the write's own transaction; keep its answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Insert, bindparam, select, update

from tierstock.store.audit_tables import idempotency_keys
from tierstock.store.sql import UPSERT_INSERTS

_k = idempotency_keys.c

# Built once per dialect: every keyed write claims its key.
CLAIM: dict[str, Insert] = {
    name: insert(idempotency_keys)
    .on_conflict_do_nothing(index_elements=["shop_id", "key"])
    .returning(_k.id)
    for name, insert in UPSERT_INSERTS.items()
}


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int | None  # None: the write committed, its answer is not stored yet
    body: str | None


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, shop_id: int, key: str, request_hash: str, at: datetime) -> bool:
        """True if this transaction now owns the key (the first request with it)."""
        row = self.conn.execute(
            CLAIM[self.conn.dialect.name],
            {"shop_id": shop_id, "key": key, "request_hash": request_hash, "created_at": at},
        ).first()
        return row is not None

    def answer(self, shop_id: int, key: str) -> StoredAnswer | None:
        row = self.conn.execute(
            select(_k.request_hash, _k.status_code, _k.response_body).where(
                _k.shop_id == shop_id, _k.key == key
            )
        ).first()
        return StoredAnswer(row.request_hash, row.status_code, row.response_body) if row else None

    def store_answer(self, shop_id: int, key: str, status_code: int, body: str) -> None:
        self.conn.execute(
            update(idempotency_keys)
            .where(_k.shop_id == bindparam("b_shop"), _k.key == bindparam("b_key"))
            .values(status_code=status_code, response_body=body),
            {"b_shop": shop_id, "b_key": key},
        )
