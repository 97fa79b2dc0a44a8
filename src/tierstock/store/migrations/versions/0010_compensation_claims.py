"""compensation as a claim: a state per record (owed, claimed, paid, waived, agreed), the
base it was taken of (line or order, unique per order and kind), and the carrier's pickup
time on shipments (docs/rules.md §7)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import tierstock.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, tierstock.store.types.UTCDateTime(), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("compensations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("base", sa.String(length=8), server_default="line", nullable=False)
        )
        batch_op.add_column(sa.Column("order_key", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("state", sa.String(length=10), server_default="owed", nullable=False)
        )
        batch_op.add_column(sa.Column("agreed_fen", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("agreed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("settled_fen", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("state_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("state_note", sa.String(length=500), nullable=True))
        batch_op.add_column(_at("state_at"))
        batch_op.create_unique_constraint("uq_compensations_order_kind", ["order_key", "kind"])
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(_at("picked_up_at"))


def downgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_column("picked_up_at")
    with op.batch_alter_table("compensations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_compensations_order_kind", type_="unique")
        for column in (
            "state_at",
            "state_note",
            "state_by",
            "settled_fen",
            "agreed_by",
            "agreed_fen",
            "state",
            "order_key",
            "base",
        ):
            batch_op.drop_column(column)
