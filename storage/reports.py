"""Read-only queries for humas: overdue lists, statistics and exports (columns, not objects)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Citizen, Complaint, ComplaintStatus, table_of

# Core tables: these queries read plain columns, so no model objects are built (or tracked).
_COMPLAINT = table_of(Complaint)
_CITIZEN = table_of(Citizen)


@dataclass(frozen=True)
class OverdueRow:
    """An unanswered complaint past its deadline."""

    id: int
    opd_code: str | None
    category: str | None
    created_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class StatsRow:
    """What the statistics need of one complaint."""

    opd_code: str | None
    status: str
    created_at: datetime
    due_at: datetime
    answered_at: datetime | None
    rating: int | None


@dataclass(frozen=True)
class ExportRow:
    """One complaint as exported to CSV (no phone numbers: the channel only)."""

    id: int
    created_at: datetime
    channel: str
    opd_code: str | None
    category: str | None
    status: str
    description: str
    location_text: str | None
    location_lat: float | None
    location_lon: float | None
    due_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    rating: int | None


async def overdue(session: AsyncSession, *, now: datetime, opd_code: str | None = None) -> list[OverdueRow]:
    """Unanswered complaints past their deadline, oldest deadline first (uses ix_complaint_status_due)."""
    c = _COMPLAINT.c
    statement = (
        select(c.id, c.opd_code, c.category, c.created_at, c.due_at)
        .where(c.status == ComplaintStatus.OPEN.value, c.due_at <= now)
        .order_by(c.due_at, c.id)
    )
    if opd_code is not None:
        statement = statement.where(c.opd_code == opd_code)
    rows = await (await session.connection()).execute(statement)
    return [OverdueRow(*row) for row in rows.all()]


async def stats_rows(session: AsyncSession, *, since: datetime | None) -> list[StatsRow]:
    """Complaints filed since `since` (all if None)."""
    c = _COMPLAINT.c
    statement = select(c.opd_code, c.status, c.created_at, c.due_at, c.answered_at, c.rating)
    if since is not None:
        statement = statement.where(c.created_at >= since)
    rows = await (await session.connection()).execute(statement)
    return [StatsRow(*row) for row in rows.all()]


async def export_rows(session: AsyncSession, *, since: datetime | None) -> list[ExportRow]:
    """Complaints filed since `since`, oldest first, with the citizen's channel."""
    c = _COMPLAINT.c
    citizen = _CITIZEN.c
    statement = (
        select(
            c.id,
            c.created_at,
            citizen.channel,
            c.opd_code,
            c.category,
            c.status,
            c.description,
            c.location_text,
            c.location_lat,
            c.location_lon,
            c.due_at,
            c.answered_at,
            c.closed_at,
            c.rating,
        )
        .join(_CITIZEN, citizen.id == c.citizen_id)
        .order_by(c.id)
    )
    if since is not None:
        statement = statement.where(c.created_at >= since)
    rows = await (await session.connection()).execute(statement)
    return [ExportRow(*row) for row in rows.all()]
