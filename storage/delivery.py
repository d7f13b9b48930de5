"""Delivery reports: what a messenger says happened to a message after it accepted it.

Twilio posts a status callback for every change (queued, sent, delivered, read, failed,
undelivered). Callbacks may repeat and may arrive out of order; these functions make each one
count once and never move a message's delivery state backwards.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, OutboxStatus, table_of
from storage.outbox import set_fields

# The order in which a message moves forward; "failed" and "undelivered" end a send.
_PROGRESS = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5}
FAILURES = frozenset({"failed", "undelivered"})
# Taking a message back is a Core UPDATE on the table: it must not touch loaded objects.
_TABLE = table_of(OutboxMessage)


async def message_for_report(
    session: AsyncSession, *, channel: str, outbox_id: int | None, provider_message_id: str
) -> OutboxMessage | None:
    """The outbox row a report is about: by the id in the callback URL, else by the provider's id."""
    if outbox_id is not None:
        row = await session.get(OutboxMessage, outbox_id, populate_existing=True)
        if row is not None and row.channel == channel:
            return row
    statement = select(OutboxMessage).where(
        col(OutboxMessage.channel) == channel, col(OutboxMessage.provider_message_id) == provider_message_id
    )
    return (await session.exec(statement)).first()


async def record_progress(session: AsyncSession, *, outbox_id: int, status: str) -> bool:
    """Record a forward delivery state (sent, delivered, read); return False if it would go backwards."""
    row = await session.get(OutboxMessage, outbox_id)
    if row is None or status not in _PROGRESS:
        return False
    current = row.delivery_status
    # A failure ends the send it belongs to: a late "sent" of the same send must not hide it.
    if current in FAILURES or (current in _PROGRESS and _PROGRESS[current] >= _PROGRESS[status]):
        return False
    row.delivery_status = status
    session.add(row)
    return True


async def take_back_undelivered(
    session: AsyncSession,
    *,
    outbox_id: int,
    attempt: int | None,
    provider_message_id: str,
    status: str,
    error: str,
    wall: datetime,
    lease: timedelta,
    part: int | None = None,
) -> OutboxMessage | None:
    """Claim a sent message the messenger could not deliver, once; None if already handled or stale.

    The row goes back to "sending" under a lease (counted in physical time, `wall`): the caller
    retries, holds or reports it, and if the process dies first the dispatcher takes it over when
    the lease runs out. `part` (1-based) names the part of a split message that failed: a retry
    sends it and the ones after it again.
    """
    table = _TABLE
    c = table.c
    # Only the send that is current may be taken back: a repeated callback finds the row no longer
    # "sent", and one about an earlier attempt names an attempt number that has passed.
    current = (c.attempts == attempt) if attempt is not None else (c.provider_message_id == provider_message_id)
    # The report may also come before the sender has recorded its send (the row still "sending"
    # under the attempt the callback names): it counts then too, unless a failure of that attempt
    # was taken already (a repeated callback while the first one is being acted on).
    sent = c.status == OutboxStatus.SENT.value
    if attempt is not None:
        being_recorded = and_(
            c.status == OutboxStatus.SENDING.value,
            or_(c.delivery_status.is_(None), c.delivery_status.not_in(sorted(FAILURES))),
        )
        sent = or_(sent, being_recorded)
    result = await session.exec(
        update(table)
        .where(c.id == outbox_id, sent, current)
        .values(
            status=OutboxStatus.SENDING.value,
            lease_until=wall + lease,
            delivery_status=status,
            last_error=error[:2000],
            parts_sent=_resend_from(c.parts_sent, part),
        )
        .returning(c.id)
    )
    if result.scalar_one_or_none() is None:
        return None
    return await session.get(OutboxMessage, outbox_id, populate_existing=True)


def _resend_from(parts_sent: ColumnElement[Any], part: int | None) -> ColumnElement[Any] | int:
    """parts_sent after part `part` failed: the parts before it stay sent (all of them resent if unknown)."""
    if part is None or part < 1:
        return 0
    return case((parts_sent >= part, part - 1), else_=parts_sent)


async def requeue(session: AsyncSession, *, outbox_id: int, retry_at: datetime) -> None:
    """Send a taken-back message again at `retry_at`; its delivery state starts over."""
    await set_fields(
        session,
        outbox_id=outbox_id,
        status=OutboxStatus.PENDING.value,
        next_attempt_at=retry_at,
        lease_until=None,
        delivery_status=None,
    )
