"""Complaints, their messages and their status history."""

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.assignments import start_assignment
from storage.models import Complaint, ComplaintEvent, ComplaintMessage, ComplaintStatus

OPEN_STATES = (ComplaintStatus.OPEN.value, ComplaintStatus.ANSWERED.value)


async def create_complaint(
    session: AsyncSession,
    *,
    citizen_id: int,
    description: str,
    opd_code: str | None,
    category: str | None,
    confidence: float,
    now: datetime,
    due_at: datetime,
    location_lat: float | None = None,
    location_lon: float | None = None,
    location_text: str | None = None,
    media: list[dict[str, Any]] | None = None,
) -> Complaint:
    """Store a new complaint and its first handover; its id (the ticket number) is assigned by the database."""
    complaint = Complaint(
        citizen_id=citizen_id,
        description=description,
        opd_code=opd_code,
        category=category,
        confidence=confidence,
        location_lat=location_lat,
        location_lon=location_lon,
        location_text=location_text,
        media=list(media or []),
        status=ComplaintStatus.OPEN.value,
        created_at=now,
        due_at=due_at,
    )
    session.add(complaint)
    await session.flush()
    assert complaint.id is not None
    await start_assignment(
        session, complaint_id=complaint.id, owner=opd_code, complaint_created_at=now, now=now, due_at=due_at
    )
    return complaint


async def get_complaint(session: AsyncSession, *, complaint_id: int, lock: bool = False) -> Complaint | None:
    """One complaint by id; `lock` holds it for this transaction (PostgreSQL)."""
    return await session.get(Complaint, complaint_id, with_for_update=lock or None)


async def complaints_of_citizen(
    session: AsyncSession, *, citizen_id: int, open_only: bool = True, limit: int = 20
) -> list[Complaint]:
    """A citizen's complaints, newest first."""
    statement = _OPEN_OF_CITIZEN if open_only else _ALL_OF_CITIZEN
    return list((await session.exec(statement, params={"citizen_id": citizen_id, "limit": limit})).all())


def _of_citizen(*, open_only: bool) -> SelectOfScalar[Complaint]:
    """complaints_of_citizen's query, built once (every private message runs it; building it took
    longer than running it)."""
    statement = select(Complaint).where(col(Complaint.citizen_id) == bindparam("citizen_id"))
    if open_only:
        statement = statement.where(col(Complaint.status).in_(OPEN_STATES))
    return statement.order_by(col(Complaint.id).desc()).limit(bindparam("limit", type_=Integer()))


_OPEN_OF_CITIZEN = _of_citizen(open_only=True)
_ALL_OF_CITIZEN = _of_citizen(open_only=False)


async def add_message(
    session: AsyncSession,
    *,
    complaint_id: int,
    direction: str,
    author: str,
    text: str,
    now: datetime,
    author_label: str = "",
) -> ComplaintMessage:
    """Keep a message exchanged about a complaint."""
    message = ComplaintMessage(
        complaint_id=complaint_id,
        at=now,
        direction=direction,
        author=author,
        author_label=author_label[:200],
        text=text,
    )
    session.add(message)
    return message


async def add_event(
    session: AsyncSession, *, complaint_id: int, kind: str, now: datetime, actor: str = "", detail: str = ""
) -> ComplaintEvent:
    """Record a step in a complaint's life (filed, answered, rerouted, closed...)."""
    event = ComplaintEvent(complaint_id=complaint_id, at=now, kind=kind, actor=actor[:200], detail=detail)
    session.add(event)
    return event


async def messages_of(session: AsyncSession, *, complaint_id: int) -> list[ComplaintMessage]:
    """A complaint's messages in order."""
    statement = (
        select(ComplaintMessage)
        .where(col(ComplaintMessage.complaint_id) == complaint_id)
        .order_by(col(ComplaintMessage.id))
    )
    return list((await session.exec(statement)).all())


async def events_of(session: AsyncSession, *, complaint_id: int) -> list[ComplaintEvent]:
    """A complaint's status history in order."""
    statement = (
        select(ComplaintEvent).where(col(ComplaintEvent.complaint_id) == complaint_id).order_by(col(ComplaintEvent.id))
    )
    return list((await session.exec(statement)).all())
