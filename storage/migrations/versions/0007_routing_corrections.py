"""routing_correction: complaints whose route humas or an agency corrected, kept as labelled examples

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "routing_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("said_opd", sa.String(length=20), nullable=True),
        sa.Column("said_confidence", sa.Float(), nullable=False),
        sa.Column("truth_opd", sa.String(length=20), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("refused_by", sa.String(length=20), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("complaint_id"),
    )
    with op.batch_alter_table("routing_correction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_routing_correction_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("routing_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_routing_correction_created_at"))
    op.drop_table("routing_correction")
