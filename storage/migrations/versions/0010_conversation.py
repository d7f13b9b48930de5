"""complaint.rating_requested_at: the rating request goes out once, also for tickets never closed

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rating_requested_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    # Tickets closed before this migration were asked on /selesai already.
    op.execute("UPDATE complaint SET rating_requested_at = closed_at WHERE closed_at IS NOT NULL")


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_column("rating_requested_at")
