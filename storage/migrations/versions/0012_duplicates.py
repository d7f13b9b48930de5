"""duplicates: followers of a complaint, merged tickets, reopen counts, the nearby-search indexes (issue 17)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    # On SQLite, ALTER TABLE ... ADD COLUMN with its REFERENCES clause, no batch rebuild: a rebuild of
    # `complaint` would drop a table that other tables' rows refer to.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE complaint ADD COLUMN merged_into INTEGER REFERENCES complaint (id)")
    else:
        op.add_column("complaint", sa.Column("merged_into", sa.Integer(), nullable=True))
        op.create_foreign_key(None, "complaint", "complaint", ["merged_into"], ["id"])
    op.add_column("complaint", sa.Column("reopen_count", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "complaint", sa.Column("verify_requested_at", storage.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.create_index(
        "ix_complaint_point",
        "complaint",
        ["opd_code", "location_lat", "location_lon", "status", "created_at"],
        unique=False,
    )
    op.create_index("ix_complaint_opd_created", "complaint", ["opd_code", "created_at", "status"], unique=False)
    op.create_table(
        "complaint_follower",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("chat_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("joined_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("merged_from", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"]),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizen.id"]),
        sa.ForeignKeyConstraint(["merged_from"], ["complaint.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("complaint_id", "citizen_id", name="uq_follower_complaint_citizen"),
    )
    op.create_index("ix_follower_citizen", "complaint_follower", ["citizen_id", "complaint_id"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_follower_citizen", table_name="complaint_follower")
    op.drop_table("complaint_follower")
    op.drop_index("ix_complaint_opd_created", table_name="complaint")
    op.drop_index("ix_complaint_point", table_name="complaint")
    with op.batch_alter_table("complaint") as batch:
        batch.drop_column("verify_requested_at")
        batch.drop_column("reopen_count")
        batch.drop_column("merged_into")
