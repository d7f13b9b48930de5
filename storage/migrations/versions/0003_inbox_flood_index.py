"""inbox: index (chat_key, received_at) for per-citizen flood control

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    # Flood control counts a chat's events of the last minute on every private message.
    with op.batch_alter_table("inbox_event", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_chat_received", ["chat_key", "received_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("inbox_event", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_chat_received")
