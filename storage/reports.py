"""Read-only queries for humas: overdue lists, statistics and exports (columns, not objects).

The statistics are counted in the database (a period may hold a hundred thousand complaints);
what each count means is decided by the handlers: the verdict of each handover is written when
its clock stops (handlers.assignments), and these queries only group and count.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select, union_all
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.assignments import HUMAS_OWNER
from storage.filters import ComplaintFilter, complaint_conditions
from storage.models import Assignment, Citizen, Complaint, ComplaintStatus, table_of

# Core tables: these queries read plain columns, so no model objects are built (or tracked).
_COMPLAINT = table_of(Complaint)
_CITIZEN = table_of(Citizen)
_HANDOVER = table_of(Assignment)


def _complaints() -> Any:
    return _COMPLAINT.c


def _handovers() -> Any:
    return _HANDOVER.c


@dataclass(frozen=True)
class OverdueRow:
    """An unanswered complaint past its deadline."""

    id: int
    opd_code: str | None
    category: str | None
    created_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class VerdictCount:
    """How many handovers of one owner ended (or run) with one verdict; how many of them were answered."""

    owner: str
    verdict: str | None
    handovers: int
    answered: int


@dataclass(frozen=True)
class OpenCount:
    """An owner's complaints still waiting for an answer, and how many of them are past the deadline now."""

    owner: str
    still_open: int
    overdue: int


@dataclass(frozen=True)
class RatingSum:
    """The ratings of an owner's closed complaints (summed, so that totals stay exact)."""

    owner: str
    total: int
    count: int


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
    # The complaint's handovers in order: (owner, verdict or None while running).
    handovers: tuple[tuple[str, str | None], ...] = ()


async def overdue(
    session: AsyncSession, *, now: datetime, opd_code: str | None = None, limit: int | None = None
) -> list[OverdueRow]:
    """Unanswered complaints past their deadline, oldest deadline first (uses ix_complaint_status_due)."""
    c = _complaints()
    statement = (
        select(c.id, c.opd_code, c.category, c.created_at, c.due_at)
        .where(c.status == ComplaintStatus.OPEN.value, c.due_at <= now)
        .order_by(c.due_at, c.id)
    )
    if opd_code == HUMAS_OWNER:
        statement = statement.where(c.opd_code.is_(None))
    elif opd_code is not None:
        statement = statement.where(c.opd_code == opd_code)
    if limit is not None:
        statement = statement.limit(limit)
    rows = await _run(session, statement)
    return [OverdueRow(*row) for row in rows.all()]


async def _run(session: AsyncSession, statement: Any) -> Any:
    """Run a Core statement in the session's transaction."""
    return await (await session.connection()).execute(statement)


def _owner_of_complaint() -> ColumnElement[str]:
    return func.coalesce(_complaints().opd_code, HUMAS_OWNER)


async def verdict_counts(
    session: AsyncSession, *, since: datetime | None, owner: str | None = None
) -> list[VerdictCount]:
    """Handovers of complaints filed since `since` (all if None), by owner and verdict."""
    a = _handovers()
    # Along ix_assignment_verdicts (owner, verdict, complaint_created_at, answer_seconds): no table reads.
    statement = select(a.owner, a.verdict, func.count(), func.count(a.answer_seconds)).group_by(a.owner, a.verdict)
    if since is not None:
        statement = statement.where(a.complaint_created_at >= since)
    if owner is not None:
        statement = statement.where(a.owner == owner)
    rows = await _run(session, statement)
    return [VerdictCount(*row) for row in rows.all()]


async def open_counts(
    session: AsyncSession, *, since: datetime | None, now: datetime, owner: str | None = None
) -> list[OpenCount]:
    """Complaints filed since `since` still waiting for their owner's answer, by owner (ix_complaint_status_due)."""
    c = _complaints()
    who = _owner_of_complaint()
    statement = (
        select(who, func.count(), func.sum(case((c.due_at <= now, 1), else_=0)))
        .where(c.status == ComplaintStatus.OPEN.value)
        .group_by(who)
    )
    if since is not None:
        statement = statement.where(c.created_at >= since)
    if owner is not None:
        statement = statement.where(who == owner)
    rows = await _run(session, statement)
    return [OpenCount(row[0], row[1], int(row[2] or 0)) for row in rows.all()]


async def answer_medians(
    session: AsyncSession, *, since: datetime | None, answered: Mapping[str, int], owner: str | None = None
) -> tuple[dict[str, float], float | None]:
    """The median seconds to a handover's first answer, per owner and over all of them.

    `answered` is how many answered handovers each owner has under the same filter (verdict_counts
    counts them). The middle one or two values are read in answer-time order with OFFSET, along
    ix_assignment_answers (per owner) and ix_assignment_answer_times (all owners): the database
    walks an index, it neither sorts nor sends every answer time (SQLite and PostgreSQL alike).
    """
    a = _handovers()

    async def middle(n: int, *conditions: Any) -> float | None:
        if n <= 0:
            return None
        statement = (
            select(a.answer_seconds)
            .where(a.answer_seconds.is_not(None), *conditions)
            .order_by(a.answer_seconds)
            .offset((n - 1) // 2)
            .limit(1 if n % 2 else 2)
        )
        if since is not None:
            statement = statement.where(a.complaint_created_at >= since)
        values = [float(row[0]) for row in (await _run(session, statement)).all()]
        return sum(values) / len(values) if values else None

    medians: dict[str, float] = {}
    for who, n in sorted(answered.items()):
        if owner is not None and who != owner:
            continue
        value = await middle(n, a.owner == who)
        if value is not None:
            medians[who] = value
    if owner is not None:
        return medians, medians.get(owner)
    return medians, await middle(sum(answered.values()))


async def rating_sums(session: AsyncSession, *, since: datetime | None, owner: str | None = None) -> list[RatingSum]:
    """Ratings of complaints filed since `since`, by the owner that closed them."""
    c = _complaints()
    who = _owner_of_complaint()
    statement = select(who, func.sum(c.rating), func.count(c.rating)).where(c.rating.is_not(None)).group_by(who)
    if since is not None:
        statement = statement.where(c.created_at >= since)
    if owner is not None:
        statement = statement.where(who == owner)
    rows = await _run(session, statement)
    return [RatingSum(row[0], int(row[1] or 0), int(row[2])) for row in rows.all()]


async def weekly_handovers(
    session: AsyncSession, *, week_starts: list[datetime], owner: str | None = None
) -> dict[str, list[int]]:
    """Handovers started in each week (the Mondays in week_starts, ascending), by owner.

    One SELECT per week, glued with UNION ALL: each is a closed range over ix_assignment_started
    (started_at, owner), which holds all it needs. (An open-ended range, "since Monday", makes
    SQLite's planner guess it large and walk another index instead.)
    """
    a = _handovers()
    if not week_starts:
        return {}
    weeks = []
    for index, start in enumerate(week_starts):
        end = week_starts[index + 1] if index + 1 < len(week_starts) else start + timedelta(days=7)
        conditions = [a.started_at >= start, a.started_at < end]
        if owner is not None:
            conditions.append(a.owner == owner)
        weeks.append(select(literal(index), a.owner, func.count()).where(*conditions).group_by(a.owner))
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(week_starts))
    for index, who, count in (await _run(session, union_all(*weeks))).all():
        series[who][index] = count
    return dict(series)


async def category_counts(
    session: AsyncSession, *, since: datetime | None, owner: str | None = None
) -> list[tuple[str | None, int]]:
    """Complaints filed since `since` by category, most frequent first."""
    c = _complaints()
    statement = select(c.category, func.count().label("n")).group_by(c.category).order_by(func.count().desc())
    if since is not None:
        statement = statement.where(c.created_at >= since)
    if owner is not None:
        statement = statement.where(_owner_of_complaint() == owner)
    rows = await _run(session, statement)
    return [(row[0], row[1]) for row in rows.all()]


async def export_rows(
    session: AsyncSession, *, found: ComplaintFilter, now: datetime, limit: int | None = None
) -> list[ExportRow]:
    """Complaints a filter finds, oldest first, with the citizen's channel and the complaint's handovers."""
    c = _complaints()
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
        .where(*complaint_conditions(found, now=now))
        .order_by(c.id)
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = (await _run(session, statement)).all()
    if not rows:
        return []
    a = _handovers()
    handovers: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    history = (
        select(a.complaint_id, a.owner, a.verdict)
        .where(a.complaint_id >= rows[0][0], a.complaint_id <= rows[-1][0])
        .order_by(a.complaint_id, a.id)
    )
    for complaint_id, who, verdict in (await _run(session, history)).all():
        handovers[complaint_id].append((who, verdict))
    return [ExportRow(**row._mapping, handovers=tuple(handovers.get(row.id, ()))) for row in rows]
