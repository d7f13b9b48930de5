"""citizen.handle: the person's public messenger handle (a Telegram @username), for humas only

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0014"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("citizen", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=""),
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("citizen", schema=None) as batch_op:
        batch_op.drop_column("handle")
