"""Handovers of complaints to their owners (complaint_assignment): each owner's own clock."""

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Assignment

# The owner of a complaint no agency has taken yet (handlers.desk.HUMAS is the same word).
HUMAS_OWNER = "HUMAS"


async def start_assignment(
    session: AsyncSession,
    *,
    complaint_id: int,
    owner: str | None,
    complaint_created_at: datetime,
    now: datetime,
    due_at: datetime,
) -> Assignment:
    """Record that an owner (None: humas) has the complaint from now on, due at `due_at`."""
    row = Assignment(
        complaint_id=complaint_id,
        owner=owner or HUMAS_OWNER,
        complaint_created_at=complaint_created_at,
        started_at=now,
        due_at=due_at,
    )
    session.add(row)
    return row


async def current_assignment(session: AsyncSession, *, complaint_id: int) -> Assignment | None:
    """The handover still running for a complaint (the caller holds the complaint's lock)."""
    statement = (
        select(Assignment)
        .where(Assignment.complaint_id == complaint_id, col(Assignment.ended_at).is_(None))
        .order_by(col(Assignment.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def assignments_of(session: AsyncSession, *, complaint_id: int) -> list[Assignment]:
    """A complaint's handovers in order."""
    statement = select(Assignment).where(Assignment.complaint_id == complaint_id).order_by(col(Assignment.id))
    return list((await session.exec(statement)).all())
