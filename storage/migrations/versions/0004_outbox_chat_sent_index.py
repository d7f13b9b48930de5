"""outbox: index (channel, chat_id, sent_at) for the per-group window counted at each claim

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    # Telegram allows 20 messages a minute to a group; the dispatcher counts a group's recent sends
    # in the shared table so that the limit holds for all bot processes together.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_chat_sent", ["channel", "chat_id", "sent_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_chat_sent")
