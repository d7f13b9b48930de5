"""An owner's open tickets, as its group lists them (/daftar): the most urgent first, and counts."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Complaint, ComplaintStatus

# How much of a description the list shows (the card has it all).
SNIPPET_CHARS = 90


@dataclass(frozen=True)
class QueueRow:
    """An open ticket waiting for its first answer."""

    id: int
    category: str | None
    snippet: str
    due_at: datetime


@dataclass(frozen=True)
class OpenQueue:
    """An owner's open tickets: those still to answer (the most urgent), and those answered, not closed."""

    waiting: list[QueueRow]
    waiting_count: int
    answered: list[int]
    answered_count: int


async def open_queue(
    session: AsyncSession, *, opd_code: str | None, waiting_limit: int, answered_limit: int
) -> OpenQueue:
    """The open tickets of an agency (None: the unrouted ones, humas's), read from ix_complaint_opd_status."""
    c = Complaint.__table__.c  # type: ignore[attr-defined]
    mine = c.opd_code.is_(None) if opd_code is None else c.opd_code == opd_code
    waiting_where = (mine, c.status == ComplaintStatus.OPEN.value)
    answered_where = (mine, c.status == ComplaintStatus.ANSWERED.value)
    waiting = await session.exec(  # type: ignore[call-overload]
        select(c.id, c.category, func.substr(c.description, 1, SNIPPET_CHARS + 1), c.due_at)
        .where(*waiting_where)
        .order_by(c.due_at, c.id)
        .limit(waiting_limit)
    )
    rows = [QueueRow(*row) for row in waiting.all()]
    answered = await session.exec(  # type: ignore[call-overload]
        select(c.id).where(*answered_where).order_by(c.due_at, c.id).limit(answered_limit)
    )
    answered_ids = [int(number) for number in answered.scalars().all()]
    counts = await session.exec(  # type: ignore[call-overload]
        select(
            select(func.count()).where(*waiting_where).scalar_subquery(),
            select(func.count()).where(*answered_where).scalar_subquery(),
        )
    )
    waiting_count, answered_count = counts.one()
    return OpenQueue(rows, int(waiting_count), answered_ids, int(answered_count))
