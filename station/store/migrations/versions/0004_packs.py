"""packs: a supplier's code file (码包) imported as one unit; each code's pack

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IN_PACK = sa.text("pack_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "packs",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pool_id", sa.BigInteger(), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=64), nullable=True),
        sa.Column("withdraw_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["pool_id"], ["pools.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_packs_name"),
        sa.UniqueConstraint("sha256", name="uq_packs_sha256"),
    )
    # Plain ALTER TABLE ADD COLUMN (nullable, no default): O(1) on a big store. SQLite cannot add
    # a constraint to an existing table; PostgreSQL gets the foreign key.
    op.add_column("codes", sa.Column("pack_id", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key("fk_codes_pack_id", "codes", "packs", ["pack_id"], ["id"])
    # Partial: generated and plain imported codes (no pack) add no entry. Only pack_id is indexed,
    # so a state change of a pack's code leaves this index alone on SQLite.
    op.create_index(
        "ix_codes_pack", "codes", ["pack_id"], postgresql_where=IN_PACK, sqlite_where=IN_PACK
    )


def downgrade() -> None:
    op.drop_index("ix_codes_pack", table_name="codes")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_codes_pack_id", "codes", type_="foreignkey")
    with op.batch_alter_table("codes") as batch_op:
        batch_op.drop_column("pack_id")
    op.drop_table("packs")
