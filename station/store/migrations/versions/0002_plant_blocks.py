"""plant blocks: codes held by a line, claimed in blocks from the plant pool

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FREE = sa.text("holder IS NULL AND state = 'available'")
AVAILABLE = sa.text("state = 'available'")


def upgrade() -> None:
    op.create_table(
        "code_blocks",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=True),
        sa.Column("last_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # One audit chain per station on a plant database (NULL: the station's single chain).
    op.add_column("audit", sa.Column("chain", sa.String(length=64), nullable=True))
    op.create_index("ix_code_blocks_holder", "code_blocks", ["holder", "level"])
    # Plain ALTER TABLE ADD COLUMN on both engines (nullable, no default): O(1) on a big store.
    op.add_column("codes", sa.Column("holder", sa.String(length=64), nullable=True))
    op.add_column("codes", sa.Column("block_id", sa.BigInteger(), nullable=True))
    # A line draws from its own block; the plant claims from codes nobody holds (partial index,
    # so a claim never walks past the codes other lines already hold).
    # Partial indexes on available codes only: a state change out of available adds no entry,
    # which matters with two state changes per code on the hot path.
    op.create_index(
        "ix_codes_holder", "codes", ["holder", "level", "id"], postgresql_where=AVAILABLE,
        sqlite_where=AVAILABLE,
    )  # fmt: skip
    op.create_index(
        "ix_codes_free", "codes", ["level", "id"], postgresql_where=FREE, sqlite_where=FREE
    )


def downgrade() -> None:
    op.drop_index("ix_codes_free", table_name="codes")
    op.drop_index("ix_codes_holder", table_name="codes")
    with op.batch_alter_table("codes") as batch_op:
        batch_op.drop_column("block_id")
        batch_op.drop_column("holder")
    with op.batch_alter_table("audit") as batch_op:
        batch_op.drop_column("chain")
    op.drop_index("ix_code_blocks_holder", table_name="code_blocks")
    op.drop_table("code_blocks")
