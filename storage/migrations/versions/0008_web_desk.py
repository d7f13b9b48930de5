"""web desk: each complaint's handovers with their own deadlines and verdicts; desk logins and sessions

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The figures read these indexes alone (storage.reports; docs/BENCHMARKS.md, "Web desk").
ASSIGNMENT_INDEXES = {
    "ix_assignment_verdicts": ["owner", "verdict", "complaint_created_at", "answer_seconds"],
    "ix_assignment_period": ["complaint_created_at", "owner", "verdict", "answer_seconds"],
    "ix_assignment_answers": ["owner", "answer_seconds", "complaint_created_at"],
    "ix_assignment_answer_times": ["answer_seconds", "complaint_created_at"],
    "ix_assignment_started": ["started_at", "owner"],
    "ix_assignment_complaint": ["complaint_id", "ended_at"],
}
COMPLAINT_INDEXES = {
    "ix_complaint_category": ["category", "created_at", "opd_code"],
    "ix_complaint_rating": ["rating", "created_at", "opd_code"],
}


def _aware(value: Any) -> datetime | None:
    """A timestamp read through plain SQL: SQLite gives naive UTC text, PostgreSQL aware datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upgrade() -> None:
    """Apply this migration."""
    assignment = op.create_table(
        "complaint_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=20), nullable=False),
        sa.Column("complaint_created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer_seconds", sa.Float(), nullable=True),
        sa.Column("ended_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("complaint_assignment", schema=None) as batch_op:
        for name, indexed in ASSIGNMENT_INDEXES.items():
            batch_op.create_index(name, indexed, unique=False)
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        for name, indexed in COMPLAINT_INDEXES.items():
            batch_op.create_index(name, indexed, unique=False)

    for table in ("desk_login", "desk_session"):
        columns: list[sa.schema.SchemaItem] = [
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("user_id", sa.String(length=64), nullable=False),
            sa.Column("user_name", sa.String(length=200), nullable=False),
            sa.Column("role", sa.String(length=16), nullable=False),
            sa.Column("opd_code", sa.String(length=20), nullable=True),
            sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
            sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        ]
        last = "used_at" if table == "desk_login" else "ended_at"
        columns.append(sa.Column(last, storage.types.UTCDateTime(timezone=True), nullable=True))
        op.create_table(table, *columns, sa.PrimaryKeyConstraint("id"), sa.UniqueConstraint("token_hash"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_expires_at"), ["expires_at"], unique=False)

    _backfill(assignment)


def _backfill(assignment: sa.Table) -> None:
    """One handover per existing complaint, as it stands: its current owner, deadline and answer.

    Earlier handovers were not recorded before this revision; the current one starts at the last
    reroute (or at filing).
    """
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT c.id, c.opd_code, c.status, c.created_at, c.due_at, c.answered_at, c.closed_at, "
            "(SELECT MAX(e.at) FROM complaint_event e WHERE e.complaint_id = c.id AND e.kind = 'rerouted') "
            "FROM complaint c ORDER BY c.id"
        )
    ).all()
    values = []
    for complaint_id, opd_code, status, created_raw, due_raw, answered_raw, closed_raw, rerouted_raw in rows:
        created, due, answered = _aware(created_raw), _aware(due_raw), _aware(answered_raw)
        closed, rerouted = _aware(closed_raw), _aware(rerouted_raw)
        assert created is not None and due is not None
        started = rerouted or created
        ended = closed if status == "rejected" and answered is None else None
        if answered is not None:
            verdict: str | None = "on_time" if answered <= due else "late"
        elif ended is not None:
            verdict = "missed" if ended > due else "moved"
        else:
            verdict = None
        values.append(
            {
                "complaint_id": complaint_id,
                "owner": opd_code or "HUMAS",
                "complaint_created_at": created,
                "started_at": started,
                "due_at": due,
                "answered_at": answered,
                "answer_seconds": None if answered is None else max(0.0, (answered - started).total_seconds()),
                "ended_at": ended,
                "end_reason": "rejected" if ended is not None else None,
                "verdict": verdict,
            }
        )
    if values:
        op.bulk_insert(assignment, values)


def downgrade() -> None:
    """Revert this migration."""
    for table in ("desk_session", "desk_login"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_expires_at"))
        op.drop_table(table)
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        for name in COMPLAINT_INDEXES:
            batch_op.drop_index(name)
    with op.batch_alter_table("complaint_assignment", schema=None) as batch_op:
        for name in ASSIGNMENT_INDEXES:
            batch_op.drop_index(name)
    op.drop_table("complaint_assignment")
