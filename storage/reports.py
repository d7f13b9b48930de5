"""Read-only queries for humas: overdue lists, statistics and exports (columns, not objects).

The statistics are counted in the database (a period may hold a hundred thousand complaints);
what each count means is decided by the handlers: the verdict of each handover is written when
its clock stops (handlers.assignments), and these queries only group and count.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, DateTime, case, func, literal, select, type_coerce, union_all
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.assignments import HUMAS_OWNER
from storage.filters import ComplaintFilter, complaint_conditions
from storage.models import Agency, Assignment, Citizen, Complaint, ComplaintEvent, ComplaintStatus, table_of

# Core tables: these queries read plain columns, so no model objects are built (or tracked).
_COMPLAINT = table_of(Complaint)
_CITIZEN = table_of(Citizen)
_HANDOVER = table_of(Assignment)
_EVENT = table_of(ComplaintEvent)
# The event kind a citizen's objection to an answer is recorded as (handlers.followup).
DISPUTED = "disputed"


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
    # How many times the citizen objected to an answer ("tidak puas", handlers.followup).
    disputes: int = 0
    # How many times the citizen said "belum" after a closing and the ticket reopened (handlers.verify).
    reopen_count: int = 0


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
            c.reopen_count,
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
    e = _EVENT.c
    objections = (
        select(e.complaint_id, func.count())
        .where(e.kind == DISPUTED, e.complaint_id >= rows[0][0], e.complaint_id <= rows[-1][0])
        .group_by(e.complaint_id)
    )
    disputes: dict[int, int] = {cid: n for cid, n in (await _run(session, objections)).all()}
    return [
        ExportRow(**row._mapping, handovers=tuple(handovers.get(row.id, ())), disputes=disputes.get(row.id, 0))
        for row in rows
    ]
