"""upstream units: per-pallet delivery, corrections and verdicts, and what upstream was told

Revision ID: 0006
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # The outbox key grows a suffix for a batch's units (B#P1, B#C1, B#R); SQLite ignores lengths.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("outbox", "batch_id", type_=sa.String(length=160))
    op.add_column("outbox", sa.Column("chain", sa.String(length=64), nullable=True))
    op.create_index("ix_outbox_chain", "outbox", ["chain", "id"])
    op.create_table(
        "upstream_units",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=True),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        sa.UniqueConstraint("batch_id", "seq", name="uq_upstream_units_seq"),
        sa.UniqueConstraint("kind", "subject_id", name="uq_upstream_units_subject"),
    )
    op.create_table(
        "upstream_told",
        sa.Column("code_id", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("fate", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("pair_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("code_id"),
    )
    op.create_index("ix_upstream_told_batch_id", "upstream_told", ["batch_id"])
    op.create_table(
        "upstream_marks",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id"),
    )


def downgrade() -> None:
    op.drop_table("upstream_marks")
    op.drop_index("ix_upstream_told_batch_id", table_name="upstream_told")
    op.drop_table("upstream_told")
    op.drop_table("upstream_units")
    op.drop_index("ix_outbox_chain", table_name="outbox")
    op.drop_column("outbox", "chain")
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("outbox", "batch_id", type_=sa.String(length=64))
