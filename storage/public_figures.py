"""What the public page and the Open311 API read (columns, never citizens): answered complaints, one
complaint, pages of requests, and the first answers and names needed to mask texts.

The per-agency figures themselves are /stats's (storage.reports through handlers.reports.load_stats):
this module adds no second definition of "received", "answered" or "on time".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.complaints import OPEN_STATES
from storage.models import Citizen, Complaint, ComplaintMessage, table_of

_COMPLAINT = table_of(Complaint)
_CITIZEN = table_of(Citizen)
_MESSAGE = table_of(ComplaintMessage)
# Who answers a citizen: the agency, or humas for a complaint no agency has.
ANSWER_AUTHORS = ("opd", "humas")


@dataclass(frozen=True)
class PublicRow:
    """A complaint as the public may know it (its text only for masking and show_text)."""

    id: int
    opd_code: str | None
    category: str | None
    status: str
    description: str
    location_text: str | None
    location_lat: float | None
    location_lon: float | None
    created_at: datetime
    due_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    # The citizen's display name: never shown, only masked out of texts.
    citizen_name: str


@dataclass(frozen=True)
class Answer:
    """A complaint's first answer to the citizen, and who wrote it (a name to mask, never shown)."""

    text: str
    author_label: str
    at: datetime


def _columns() -> tuple[Any, ...]:
    c = _COMPLAINT.c
    return (
        c.id,
        c.opd_code,
        c.category,
        c.status,
        c.description,
        c.location_text,
        c.location_lat,
        c.location_lon,
        c.created_at,
        c.due_at,
        c.answered_at,
        c.closed_at,
        _CITIZEN.c.display_name,
    )


async def _run(session: AsyncSession, statement: Any) -> Any:
    """Run a Core statement in the session's transaction."""
    return await (await session.connection()).execute(statement)


def _select() -> Any:
    return select(*_columns()).join(_CITIZEN, _CITIZEN.c.id == _COMPLAINT.c.citizen_id)


async def latest_answered(session: AsyncSession, *, limit: int) -> list[PublicRow]:
    """The newest complaints that have had an answer, newest first (along the primary key: no sort)."""
    c = _COMPLAINT.c
    statement = _select().where(c.answered_at.is_not(None)).order_by(c.id.desc()).limit(limit)
    return [PublicRow(*row) for row in (await _run(session, statement)).all()]


async def public_complaint(session: AsyncSession, *, complaint_id: int) -> PublicRow | None:
    """One complaint by ticket number, or None."""
    statement = _select().where(_COMPLAINT.c.id == complaint_id)
    row = (await _run(session, statement)).first()
    return None if row is None else PublicRow(*row)


async def first_answers(session: AsyncSession, *, complaint_ids: Sequence[int]) -> dict[int, Answer]:
    """The first answer (agency or humas, towards the citizen) of each complaint that has one."""
    if not complaint_ids:
        return {}
    m = _MESSAGE.c
    statement = (
        select(m.complaint_id, m.text, m.author_label, m.at)
        .where(m.complaint_id.in_(list(complaint_ids)), m.direction == "out", m.author.in_(ANSWER_AUTHORS))
        .order_by(m.complaint_id, m.at, m.id)
    )
    answers: dict[int, Answer] = {}
    for complaint_id, text, label, at in (await _run(session, statement)).all():
        answers.setdefault(complaint_id, Answer(text, label, at))
    return answers


@dataclass(frozen=True)
class RequestQuery:
    """Which complaints an Open311 requests listing shows; empty fields mean "any"."""

    ids: tuple[int, ...] = ()
    # (agency code or None for unrouted, category or None for "any category of that agency").
    services: tuple[tuple[str | None, str | None], ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    # "open" (open or answered) and/or "closed" (closed or rejected).
    statuses: tuple[str, ...] = ()


CLOSED_STATES = ("closed", "rejected")


async def find_requests(session: AsyncSession, *, query: RequestQuery, offset: int, limit: int) -> list[PublicRow]:
    """Complaints an Open311 query finds, newest first, one page of them."""
    c = _COMPLAINT.c
    conditions: list[Any] = []
    if query.ids:
        conditions.append(c.id.in_(list(query.ids)))
    if query.services:
        either = []
        for opd_code, category in query.services:
            owner = c.opd_code.is_(None) if opd_code is None else c.opd_code == opd_code
            either.append(owner if category is None else and_(owner, c.category == category))
        conditions.append(or_(*either))
    if query.start is not None:
        conditions.append(c.created_at >= query.start)
    if query.end is not None:
        conditions.append(c.created_at <= query.end)
    if query.statuses:
        states = [
            *(OPEN_STATES if "open" in query.statuses else ()),
            *(CLOSED_STATES if "closed" in query.statuses else ()),
        ]
        conditions.append(c.status.in_(states))
    statement = _select().where(*conditions).order_by(c.id.desc()).offset(offset).limit(limit)
    return [PublicRow(*row) for row in (await _run(session, statement)).all()]
