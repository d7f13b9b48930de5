"""whatsapp_content: the Content API templates the bot created for WhatsApp buttons (issue 19)

Revision ID: 0011
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "whatsapp_content",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("friendly_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("friendly_name"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("whatsapp_content")
