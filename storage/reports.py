"""Read-only queries for humas: overdue lists, statistics and exports (columns, not objects)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, func, literal, select, type_coerce, union_all
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Agency, Citizen, Complaint, ComplaintStatus, table_of

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


@dataclass(frozen=True)
class OverdueSummary:
    """Overdue complaints at a glance: how many each owner has, and each owner's most overdue ones."""

    # Owner (agency code; None: not routed yet) -> how many of its complaints are overdue.
    counts: dict[str | None, int] = field(default_factory=dict)
    # Up to `per_owner` complaints of each owner, oldest deadline first.
    top: dict[str | None, list[OverdueRow]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All overdue complaints."""
        return sum(self.counts.values())


def _overdue_columns() -> tuple[Any, ...]:
    c = _COMPLAINT.c
    return (c.id, c.opd_code, c.category, c.created_at, c.due_at)


def _overdue_where(now: datetime) -> list[Any]:
    c = _COMPLAINT.c
    return [c.status == ComplaintStatus.OPEN.value, c.due_at <= now]


async def overdue_summary(
    session: AsyncSession, *, now: datetime, opd_code: str | None = None, per_owner: int = 10
) -> OverdueSummary:
    """Counts per owner and each owner's `per_owner` most overdue complaints, aggregated in SQL.

    Two statements whatever the number of overdue rows, each a UNION ALL over the owners (the
    agencies ever configured, and none): the counts, then each owner's first `per_owner` by deadline,
    both read from ranges of ix_complaint_opd_status (owner, status, due) in order.
    """
    c = _COMPLAINT.c
    if opd_code is None:
        known = await (await session.connection()).execute(select(table_of(Agency).c.code))
        owners: list[str | None] = [None, *(str(row[0]) for row in known.all())]
    else:
        owners = [opd_code]
    # One count per owner, each a range of ix_complaint_opd_status (owner, status, due) that the
    # index alone answers, where a GROUP BY over the overdue range visits every row for its owner.
    counting = union_all(
        *(
            select(literal(index), func.count()).where(
                *_overdue_where(now), c.opd_code.is_(None) if owner is None else c.opd_code == owner
            )
            for index, owner in enumerate(owners)
        )
    )
    counts: dict[str | None, int] = {
        owners[index]: int(n) for index, n in (await (await session.connection()).execute(counting)).all() if n
    }
    if not counts or per_owner <= 0:
        return OverdueSummary(counts=counts)
    parts = []
    for owner in counts:
        mine = c.opd_code.is_(None) if owner is None else c.opd_code == owner
        parts.append(
            select(*_overdue_columns())
            .where(*_overdue_where(now), mine)
            .order_by(c.due_at, c.id)
            .limit(per_owner)
            .subquery()
        )
    statement = union_all(*(select(part) for part in parts))
    top: dict[str | None, list[OverdueRow]] = {owner: [] for owner in counts}
    for row in (await (await session.connection()).execute(statement)).all():
        top[row[1]].append(OverdueRow(*row))
    for rows in top.values():
        rows.sort(key=lambda r: (r.due_at, r.id))
    return OverdueSummary(counts=counts, top=top)


async def overdue_rows(
    session: AsyncSession, *, now: datetime, opd_code: str | None = None
) -> Sequence[tuple[int, str | None, str | None, datetime, datetime]]:
    """Every overdue complaint as plain tuples (id, owner, category, created, due), oldest deadline first.

    For the full list (the CSV /overdue attaches): no objects are built per row, and the times come
    as the driver gives them, without UTCDateTime's per-value work: naive UTC on SQLite, aware on
    PostgreSQL (the caller formats them all at once).
    """
    c = _COMPLAINT.c
    raw = DateTime()
    statement = (
        select(c.id, c.opd_code, c.category, type_coerce(c.created_at, raw), type_coerce(c.due_at, raw))
        .where(*_overdue_where(now))
        .order_by(c.due_at, c.id)
    )
    if opd_code is not None:
        statement = statement.where(c.opd_code == opd_code)
    rows = (await (await session.connection()).execute(statement)).all()
    return [(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


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
