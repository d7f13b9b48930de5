"""The inbox: raw inbound webhook payloads, stored before the webhook answers 200.

A redelivered update hits the unique (channel, external_id) key and changes nothing. Each chat's
events are processed in arrival order, one at a time, by whichever worker claims them.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboxEvent
from storage.upsert import insert_ignore

# After this many failed attempts an event is set aside (processed, with its error kept).
MAX_ATTEMPTS = 5


async def store_inbound(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    chat_key: str,
    payload: dict[str, Any],
    now: datetime,
) -> int | None:
    """Keep a raw inbound event; return its id, or None if it was already stored (a redelivery)."""
    return await insert_ignore(
        session,
        table=InboxEvent.__table__,  # type: ignore[arg-type]
        values={
            "channel": channel,
            "external_id": external_id[:64],
            "chat_key": chat_key[:96],
            "payload": payload,
            "received_at": now,
            "attempts": 0,
        },
        conflict=["channel", "external_id"],
    )


async def ready_event_ids(session: AsyncSession, *, limit: int = 50) -> list[int]:
    """Unprocessed events that are first in their chat's queue, oldest first."""
    table = InboxEvent.__table__
    earlier = table.alias("earlier")  # type: ignore[attr-defined]
    waiting_behind = exists().where(
        and_(
            earlier.c.chat_key == table.c.chat_key,  # type: ignore[attr-defined]
            earlier.c.processed_at.is_(None),
            earlier.c.id < table.c.id,  # type: ignore[attr-defined]
        )
    )
    statement = (
        select(table.c.id)  # type: ignore[attr-defined]
        .where(table.c.processed_at.is_(None), ~waiting_behind)  # type: ignore[attr-defined]
        .order_by(table.c.id)  # type: ignore[attr-defined]
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def claim_event(session: AsyncSession, *, event_id: int) -> InboxEvent | None:
    """Take an event for processing in this transaction, or None if another worker already did.

    The UPDATE comes first so that the transaction holds the row (PostgreSQL) or the write lock
    (SQLite) until it commits: a second worker waits, then finds the event processed.
    """
    table = InboxEvent.__table__
    result = await session.exec(
        update(table)  # type: ignore[arg-type]
        .where(table.c.id == event_id, table.c.processed_at.is_(None))  # type: ignore[attr-defined]
        .values(attempts=table.c.attempts + 1)  # type: ignore[attr-defined]
        .returning(table.c.id)  # type: ignore[attr-defined]
    )
    if result.scalar_one_or_none() is None:
        return None
    return await session.get(InboxEvent, event_id, populate_existing=True)


async def mark_processed(session: AsyncSession, *, event: InboxEvent, now: datetime) -> None:
    """Record that the event's effects are stored (same transaction as those effects)."""
    event.processed_at = now
    session.add(event)


async def record_failure(session: AsyncSession, *, event_id: int, error: str, now: datetime) -> bool:
    """Count a failed attempt; set the event aside after MAX_ATTEMPTS. Return True if set aside."""
    event = await session.get(InboxEvent, event_id)
    if event is None or event.processed_at is not None:
        return False
    event.attempts += 1
    event.last_error = error[:2000]
    gave_up = event.attempts >= MAX_ATTEMPTS
    if gave_up:
        event.processed_at = now
    session.add(event)
    return gave_up


async def count_unprocessed(session: AsyncSession) -> int:
    """How many events still wait (for health checks)."""
    statement = select(func.count()).where(InboxEvent.processed_at.is_(None))  # type: ignore[union-attr]
    return int((await session.exec(statement)).one())
