"""What the web desk lists: complaint pages, map pins, the categories in use (columns, not objects)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.complaints import OPEN_STATES
from storage.filters import ComplaintFilter, complaint_conditions
from storage.models import Citizen, Complaint, table_of

_COMPLAINT = table_of(Complaint)
_CITIZEN = table_of(Citizen)


async def _run(session: AsyncSession, statement: Any) -> Any:
    """Run a Core statement in the session's transaction."""
    return await (await session.connection()).execute(statement)


@dataclass(frozen=True)
class ListRow:
    """One line of the complaint list."""

    id: int
    created_at: datetime
    channel: str
    opd_code: str | None
    category: str | None
    status: str
    description: str
    location_text: str | None
    due_at: datetime
    answered_at: datetime | None
    rating: int | None
    has_point: bool


@dataclass(frozen=True)
class MapPin:
    """A complaint not yet closed, with a location."""

    id: int
    opd_code: str | None
    category: str | None
    status: str
    lat: float
    lon: float
    due_at: datetime
    description: str


async def list_complaints(
    session: AsyncSession, *, found: ComplaintFilter, now: datetime, offset: int, limit: int
) -> tuple[list[ListRow], int]:
    """One page of the complaints a filter finds, newest first, and how many it finds in all."""
    c = _COMPLAINT.c
    conditions = complaint_conditions(found, now=now)
    total = (await _run(session, select(func.count()).select_from(_COMPLAINT).where(*conditions))).scalar_one()
    # The description is cut in the database: a page never carries 50 full texts.
    statement = (
        select(
            c.id,
            c.created_at,
            _CITIZEN.c.channel,
            c.opd_code,
            c.category,
            c.status,
            func.substr(c.description, 1, 240),
            c.location_text,
            c.due_at,
            c.answered_at,
            c.rating,
            c.location_lat.is_not(None),
        )
        .join(_CITIZEN, _CITIZEN.c.id == c.citizen_id)
        .where(*conditions)
        .order_by(c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = await _run(session, statement)
    return [ListRow(*row) for row in rows.all()], int(total)


async def map_pins(session: AsyncSession, *, owner_filter: ComplaintFilter, now: datetime, limit: int) -> list[MapPin]:
    """Complaints not yet closed (open or answered) that have a location, newest first."""
    c = _COMPLAINT.c
    statement = (
        select(
            c.id,
            c.opd_code,
            c.category,
            c.status,
            c.location_lat,
            c.location_lon,
            c.due_at,
            func.substr(c.description, 1, 140),
        )
        .where(
            *complaint_conditions(owner_filter, now=now),
            c.status.in_(OPEN_STATES),
            c.location_lat.is_not(None),
            c.location_lon.is_not(None),
        )
        .order_by(c.id.desc())
        .limit(limit)
    )
    rows = await _run(session, statement)
    return [MapPin(*row) for row in rows.all()]


async def categories_in_use(session: AsyncSession, *, owner: str | None = None) -> list[str]:
    """The categories complaints have (for the list's filter), alphabetically."""
    c = _COMPLAINT.c
    statement = select(c.category).where(c.category.is_not(None)).group_by(c.category).order_by(c.category)
    if owner is not None:
        statement = statement.where(c.opd_code == owner)
    rows = await _run(session, statement)
    return [row[0] for row in rows.all()]


async def merged_copies(session: AsyncSession, *, complaint_id: int) -> list[int]:
    """The complaints merged into this one (/gabung), oldest first."""
    c = table_of(Complaint).c
    rows = await _run(session, select(c.id).where(c.merged_into == complaint_id).order_by(c.id))
    return [int(n) for (n,) in rows.all()]
