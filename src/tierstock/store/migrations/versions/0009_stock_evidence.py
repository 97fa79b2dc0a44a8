"""stock_evidence: what a receipt or a set stock rests on (supplier and delivery note,
or the owner's flagged override), one row per ledger entry — docs/rules.md §3.5

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import tierstock.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stock_evidence",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("sku_id", ID, nullable=False),
        sa.Column("ledger_id", ID, nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=True),
        sa.Column("delivery_note", sa.String(length=100), nullable=True),
        sa.Column("during_live", sa.Boolean(), nullable=False),
        sa.Column("created_at", tierstock.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_stock_evidence_shop_id_shops")
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_stock_evidence_sku_id_skus")
        ),
        sa.ForeignKeyConstraint(
            ["ledger_id"],
            ["stock_ledger.id"],
            name=op.f("fk_stock_evidence_ledger_id_stock_ledger"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_evidence")),
        sa.UniqueConstraint("ledger_id", name="uq_stock_evidence_ledger"),
        sa.UniqueConstraint(
            "sku_id", "supplier", "delivery_note", name="uq_stock_evidence_delivery_note"
        ),
    )


def downgrade() -> None:
    op.drop_table("stock_evidence")
