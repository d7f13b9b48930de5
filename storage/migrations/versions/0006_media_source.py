"""complaint.media: each photo names its source (the channel that can resend it, or the media table)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rows() -> list[tuple[int, str, Any]]:
    bind = op.get_bind()
    query = sa.text(
        "SELECT complaint.id, citizen.channel, complaint.media FROM complaint "
        "JOIN citizen ON citizen.id = complaint.citizen_id"
    )
    return [(row[0], row[1], row[2]) for row in bind.execute(query)]


def _save(complaint_id: int, media: list[dict[str, Any]]) -> None:
    statement = sa.text("UPDATE complaint SET media = :media WHERE id = :id").bindparams(
        sa.bindparam("media", type_=sa.JSON)
    )
    op.get_bind().execute(statement, {"media": media, "id": complaint_id})


def upgrade() -> None:
    """Apply this migration."""
    # Until now the source was guessed from the citizen's messenger: Telegram photos are file ids,
    # every other messenger's photos were stored in the media table.
    for complaint_id, channel, raw in _rows():
        media = json.loads(raw) if isinstance(raw, str) else list(raw or [])
        if not media or all("source" in item for item in media):
            continue
        source = "telegram" if channel == "telegram" else "media"
        _save(complaint_id, [{**item, "source": item.get("source", source)} for item in media])


def downgrade() -> None:
    """Revert this migration."""
    for complaint_id, _channel, raw in _rows():
        media = json.loads(raw) if isinstance(raw, str) else list(raw or [])
        if any("source" in item for item in media):
            _save(complaint_id, [{k: v for k, v in item.items() if k != "source"} for item in media])
