"""Deadline bookkeeping: claim complaints for a reminder or a reprimand exactly once."""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Complaint, ComplaintStatus, table_of

# The claim is a Core UPDATE on the table; the claimed rows are then loaded as objects.
_TABLE = table_of(Complaint)


async def _claim(
    session: AsyncSession, *, column: str, due_before: datetime, now: datetime, due_after: datetime | None = None
) -> list[Complaint]:
    """Mark open complaints due before `due_before` whose `column` is unset; return those this call marked.

    One UPDATE ... RETURNING: a second sweeper (another process, another worker) waits on the rows
    and then finds them marked, so each complaint is claimed once.
    """
    table = _TABLE
    c = table.c
    conditions = [c.status == ComplaintStatus.OPEN.value, c.due_at <= due_before, c[column].is_(None)]
    if due_after is not None:
        conditions.append(c.due_at > due_after)
    result = await session.exec(update(table).where(*conditions).values({column: now}).returning(c.id))
    ids = sorted(result.scalars().all())
    if not ids:
        return []
    rows = await session.exec(
        select(Complaint)
        .where(col(Complaint.id).in_(ids))
        .order_by(col(Complaint.due_at), col(Complaint.id))
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def claim_rating_requests(
    session: AsyncSession, *, now: datetime, after: timedelta, limit: int, within: timedelta | None = None
) -> list[Complaint]:
    """Up to `limit` answered complaints still not closed `after` their first answer and not asked for a
    rating yet, oldest answer first; each is claimed once.

    At most `limit`: a desk that has never asked (bulk-loaded, or upgraded from before 0010) may hold
    thousands, and asking them all in one transaction held SQLite's one connection for minutes. The
    caller commits a batch and comes back for the next. The candidates are chosen first, then
    claimed by an UPDATE that repeats the conditions, so that a second sweeper that chose the same
    ones finds them claimed (PostgreSQL re-checks the WHERE on the updated row; there, the choice also
    skips rows another sweeper has locked). Not one UPDATE ... WHERE id IN (SELECT ... LIMIT): on
    PostgreSQL that updated more rows than the limit. With `within`, answers older than `after` +
    `within` are no longer asked about (they stay unasked).
    """
    c = _TABLE.c
    conditions: tuple[ColumnElement[bool], ...] = (
        c.status == ComplaintStatus.ANSWERED.value,
        c.rating_requested_at.is_(None),
        c.answered_at <= now - after,
        c.rating.is_(None),
    )
    if within is not None:
        conditions = (*conditions, c.answered_at > now - after - within)
    candidates = select(c.id).where(*conditions).order_by(c.answered_at, c.id).limit(limit)
    if session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True, of=_TABLE)
    chosen = list((await session.exec(candidates)).all())
    if not chosen:
        return []
    result = await session.exec(
        update(_TABLE).where(c.id.in_(chosen), *conditions).values(rating_requested_at=now).returning(c.id)
    )
    ids = sorted(result.scalars().all())
    if not ids:
        return []
    rows = await session.exec(
        select(Complaint)
        .where(col(Complaint.id).in_(ids))
        .order_by(col(Complaint.id))
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def claim_reminders(session: AsyncSession, *, now: datetime, lead: timedelta) -> list[Complaint]:
    """Open complaints due within `lead` (not yet late) that have had no reminder yet."""
    return await _claim(session, column="reminded_at", due_before=now + lead, now=now, due_after=now)


async def claim_reprimands(session: AsyncSession, *, now: datetime) -> list[Complaint]:
    """Open complaints past their deadline that have not been reprimanded yet."""
    return await _claim(session, column="reprimanded_at", due_before=now, now=now)
