"""add shipments, ship delays, compensations and store scores

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

import tierstock.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id(name: str = "id") -> sa.Column[object]:
    return sa.Column(name, ID, nullable=False)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, tierstock.store.types.UTCDateTime(), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "shipments",
        _id(),
        _id("shop_id"),
        _id("line_id"),
        sa.Column("carrier", sa.String(length=60), nullable=False),
        sa.Column("tracking_no", sa.String(length=100), nullable=False),
        _at("shipped_at"),
        _at("deadline"),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        _at("recorded_at"),
        _fk("shipments", "shop_id", "shops"),
        _fk("shipments", "line_id", "order_lines"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("line_id", name="uq_shipments_line"),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "ship_delays",
        _id(),
        _id("shop_id"),
        _id("line_id"),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("buyer_consent", sa.Boolean(), nullable=False),
        _at("previous_ship_by"),
        _at("new_ship_by"),
        sa.Column("actor", sa.String(length=100), nullable=False),
        _at("created_at"),
        _fk("ship_delays", "shop_id", "shops"),
        _fk("ship_delays", "line_id", "order_lines"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ship_delays")),
    )
    with op.batch_alter_table("ship_delays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ship_delays_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_ship_delays_line", ["line_id"], unique=False)

    op.create_table(
        "compensations",
        _id(),
        _id("shop_id"),
        _id("line_id"),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        _at("deadline"),
        sa.Column("policy", sa.String(length=60), nullable=False),
        _at("created_at"),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_compensations_amount_not_negative")),
        _fk("compensations", "shop_id", "shops"),
        _fk("compensations", "line_id", "order_lines"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensations")),
        sa.UniqueConstraint("line_id", "kind", name="uq_compensations_line_kind"),
    )
    with op.batch_alter_table("compensations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_compensations_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "store_scores",
        _id(),
        _id("shop_id"),
        sa.Column("scored_on", sa.Date(), nullable=False),
        sa.Column("score_centi", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        _at("recorded_at"),
        _fk("store_scores", "shop_id", "shops"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_scores")),
        sa.UniqueConstraint("shop_id", "scored_on", name="uq_store_scores_day"),
    )


def downgrade() -> None:
    for table in ("store_scores", "compensations", "ship_delays", "shipments"):
        op.drop_table(table)
