"""front_leases, front_releases: units handed to the optional Redis reservation front

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

import tierstock.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "front_leases",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("sku_id", ID, nullable=False),
        sa.Column("tier", sa.String(length=10), nullable=False),
        sa.Column("first_unit", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("sold", sa.BigInteger(), nullable=False),
        sa.Column("returned", sa.BigInteger(), nullable=False),
        sa.Column("leased_at", tierstock.store.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("units > 0", name=op.f("ck_front_leases_units_positive")),
        sa.CheckConstraint(
            "sold >= 0 AND returned >= 0 AND sold + returned <= units",
            name=op.f("ck_front_leases_never_past_units"),
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_front_leases_shop_id_shops")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_front_leases_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_front_leases")),
    )
    op.create_index(op.f("ix_front_leases_shop_id"), "front_leases", ["shop_id"])
    op.create_index("ix_front_leases_sku_tier", "front_leases", ["sku_id", "tier"])
    op.create_table(
        "front_releases",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("at", tierstock.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_front_releases")),
    )


def downgrade() -> None:
    op.drop_table("front_releases")
    op.drop_table("front_leases")
