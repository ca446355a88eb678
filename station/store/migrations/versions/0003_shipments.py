"""shipments: outbound orders, the codes on them (one row per code, unique), QA batch releases

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "batch_releases",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"]),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    op.create_table(
        "shipments",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("order_no", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("distributor", sa.String(length=200), nullable=False),
        sa.Column("gln", sa.String(length=13), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_no"),
        sa.UniqueConstraint("unit_id"),
    )
    op.create_index("ix_shipments_state", "shipments", ["state"])
    # One row per shipped code, unique on the code: two handhelds scanning the same pallet into
    # two orders at once cannot both win (the database refuses the second insert).
    op.create_table(
        "shipment_codes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("shipment_id", sa.BigInteger(), nullable=False),
        sa.Column("code_id", sa.BigInteger(), nullable=False),
        sa.Column("top_id", sa.BigInteger(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"]),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"]),
        sa.ForeignKeyConstraint(["top_id"], ["codes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_id", name="uq_shipment_codes_code"),
    )
    op.create_index("ix_shipment_codes_shipment_id", "shipment_codes", ["shipment_id"])
    op.create_index("ix_shipment_codes_top", "shipment_codes", ["shipment_id", "top_id"])


def downgrade() -> None:
    op.drop_index("ix_shipment_codes_top", table_name="shipment_codes")
    op.drop_index("ix_shipment_codes_shipment_id", table_name="shipment_codes")
    op.drop_table("shipment_codes")
    op.drop_index("ix_shipments_state", table_name="shipments")
    op.drop_table("shipments")
    op.drop_table("batch_releases")
