"""channels: stores, links, quota rules, live sessions' SKUs, the push queue, order
cursors, platform orders and oversell incidents (store/channel_tables.py explains each)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import tierstock.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_channel_marks")),
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("pack", sa.String(length=40), nullable=False),
        sa.Column("server_url", sa.String(length=300), nullable=True),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column("live_since", tierstock.store.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", tierstock.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_channels_shop_id_shops")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channels")),
        sa.UniqueConstraint("shop_id", "name", name="shop_name"),
    )
    op.create_table(
        "channel_cursors",
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("synced_until", tierstock.store.types.UTCDateTime(), nullable=False),
        sa.Column("window_end", tierstock.store.types.UTCDateTime(), nullable=True),
        sa.Column("page_cursor", sa.String(length=200), nullable=True),
        sa.Column("updated_at", tierstock.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_cursors_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_channel_cursors_shop_id_shops")
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_cursors")),
    )
    op.create_table(
        "channel_orders",
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("platform_order_id", sa.String(length=100), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", tierstock.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_orders_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_channel_orders_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_channel_orders_shop_id_shops")
        ),
        sa.PrimaryKeyConstraint("channel_id", "platform_order_id", name=op.f("pk_channel_orders")),
    )
    op.create_table(
        "channel_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform_item_id", sa.String(length=100), nullable=False),
        sa.Column("platform_sku_id", sa.String(length=100), nullable=False),
        sa.Column("pushed_figure", sa.BigInteger(), nullable=True),
        sa.Column("pushed_at", tierstock.store.types.UTCDateTime(), nullable=True),
        sa.Column("seen_figure", sa.BigInteger(), nullable=True),
        sa.Column("seen_at", tierstock.store.types.UTCDateTime(), nullable=True),
        sa.Column("ingested_units", sa.BigInteger(), nullable=False),
        sa.Column("ingested_at_push", sa.BigInteger(), nullable=False),
        sa.Column("uncertain_since", tierstock.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_links_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_channel_links_shop_id_shops")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_channel_links_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_links")),
        sa.UniqueConstraint(
            "channel_id", "platform_item_id", "platform_sku_id", name="channel_platform_sku"
        ),
        sa.UniqueConstraint("channel_id", "sku_id", name="channel_sku"),
    )
    with op.batch_alter_table("channel_links", schema=None) as batch_op:
        batch_op.create_index("ix_channel_links_sku_id", ["sku_id"], unique=False)

    op.create_table(
        "channel_live_skus",
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_live_skus_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_channel_live_skus_shop_id_shops")
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_channel_live_skus_sku_id_skus")
        ),
        sa.PrimaryKeyConstraint("channel_id", "sku_id", name=op.f("pk_channel_live_skus")),
    )
    op.create_table(
        "channel_rules",
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_channel_rules_value_not_negative")),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_rules_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_channel_rules_shop_id_shops")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_channel_rules_sku_id_skus")),
        sa.PrimaryKeyConstraint("sku_id", "channel_id", name=op.f("pk_channel_rules")),
    )
    op.create_table(
        "channel_safety",
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("units >= 0", name=op.f("ck_channel_safety_units_not_negative")),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_channel_safety_shop_id_shops")
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_channel_safety_sku_id_skus")
        ),
        sa.PrimaryKeyConstraint("sku_id", name=op.f("pk_channel_safety")),
    )
    op.create_table(
        "oversell_incidents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("platform_order_id", sa.String(length=100), nullable=False),
        sa.Column("sku_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("exposure_fen", sa.BigInteger(), nullable=False),
        sa.Column("promised_ship_by", tierstock.store.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", tierstock.store.types.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", tierstock.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_oversell_incidents_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_oversell_incidents_shop_id_shops")
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_oversell_incidents_sku_id_skus")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oversell_incidents")),
        sa.UniqueConstraint("channel_id", "platform_order_id", "sku_id", name="once"),
    )
    with op.batch_alter_table("oversell_incidents", schema=None) as batch_op:
        batch_op.create_index("ix_oversell_incidents_shop_id_id", ["shop_id", "id"], unique=False)

    op.create_table(
        "channel_pushes",
        sa.Column("link_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("due_at", tierstock.store.types.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_pushes_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["link_id"], ["channel_links.id"], name=op.f("fk_channel_pushes_link_id_channel_links")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_channel_pushes_shop_id_shops")
        ),
        sa.PrimaryKeyConstraint("link_id", name=op.f("pk_channel_pushes")),
    )
    with op.batch_alter_table("channel_pushes", schema=None) as batch_op:
        batch_op.create_index("ix_channel_pushes_due", ["live", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("channel_pushes", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_pushes_due")

    op.drop_table("channel_pushes")
    with op.batch_alter_table("oversell_incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_oversell_incidents_shop_id_id")

    op.drop_table("oversell_incidents")
    op.drop_table("channel_safety")
    op.drop_table("channel_rules")
    op.drop_table("channel_live_skus")
    with op.batch_alter_table("channel_links", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_links_sku_id")

    op.drop_table("channel_links")
    op.drop_table("channel_orders")
    op.drop_table("channel_cursors")
    op.drop_table("channels")
    op.drop_table("channel_marks")
