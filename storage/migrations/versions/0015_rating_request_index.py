"""rating request index: the sweep finds answered complaints not yet asked for a rating from an index

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index(
        "ix_complaint_rating_request", "complaint", ["status", "rating_requested_at", "answered_at"], unique=False
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_complaint_rating_request", table_name="complaint")
