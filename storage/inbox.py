"""The inbox: raw inbound webhook payloads, stored before the webhook answers 200.

A redelivered update hits the unique (channel, external_id) key and changes nothing. Each chat's
events are processed in arrival order, one at a time, by whichever worker claims them.
"""

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, exists, func, text, update
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.sql.elements import TextClause
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import InboxEvent, table_of
from storage.upsert import insert_ignore

# After this many failed attempts an event is set aside (processed, with its error kept).
MAX_ATTEMPTS = 5
# Claims and bulk inserts are Core statements on the table: they must not touch loaded objects.
_TABLE = table_of(InboxEvent)


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
        table=_TABLE,
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


# Multi-row INSERT ... ON CONFLICT DO NOTHING statements, one per batch size (built once, then cached).
_MANY: dict[int, TextClause] = {}
_COLUMNS = ("channel", "external_id", "chat_key", "payload", "received_at")


def _insert_many(n: int) -> TextClause:
    statement = _MANY.get(n)
    if statement is None:
        rows = ", ".join("(" + ", ".join(f":{column}_{i}" for column in _COLUMNS) + ", 0)" for i in range(n))
        statement = text(
            "INSERT INTO inbox_event (channel, external_id, chat_key, payload, received_at, attempts) "
            f"VALUES {rows} ON CONFLICT (channel, external_id) DO NOTHING RETURNING channel, external_id"
        ).bindparams(
            *(bindparam(f"{column}_{i}", type_=_TABLE.c[column].type) for i in range(n) for column in _COLUMNS)
        )
        _MANY[n] = statement
    return statement


async def store_many(session: AsyncSession, *, rows: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """Keep several raw inbound events in one statement; return the (channel, external_id) newly stored.

    Each row has channel, external_id, chat_key, payload and received_at; redeliveries (and repeats
    within `rows`) change nothing.
    """
    params: dict[str, Any] = {}
    for i, row in enumerate(rows):
        params.update(
            {
                f"channel_{i}": row["channel"],
                f"external_id_{i}": str(row["external_id"])[:64],
                f"chat_key_{i}": str(row["chat_key"])[:96],
                f"payload_{i}": row["payload"],
                f"received_at_{i}": row["received_at"],
            }
        )
    # A text() statement: run on the session's connection (same transaction; SQLModel's exec takes selects).
    result = await (await session.connection()).execute(_insert_many(len(rows)), params)
    return {(str(channel), str(external_id)) for channel, external_id in result.all()}


async def ready_event_ids(session: AsyncSession, *, limit: int = 50) -> list[int]:
    """Unprocessed events that are first in their chat's queue, oldest first."""
    return list((await session.exec(_READY, params={"limit": limit})).all())


def _ready_statement() -> SelectOfScalar[int]:
    """ready_event_ids' query, built once (building its alias costs more than running it on SQLite)."""
    table = _TABLE
    earlier = table.alias("earlier")
    waiting_behind = exists().where(
        and_(
            earlier.c.chat_key == table.c.chat_key,
            earlier.c.processed_at.is_(None),
            earlier.c.id < table.c.id,
        )
    )
    return (
        select(table.c.id)
        .where(table.c.processed_at.is_(None), ~waiting_behind)
        .order_by(table.c.id)
        .limit(bindparam("limit", type_=Integer()))
    )


_READY = _ready_statement()


async def claim_event(session: AsyncSession, *, event_id: int) -> InboxEvent | None:
    """Take an event for processing in this transaction, or None if another worker has it or had it.

    The UPDATE comes first so that the transaction holds the row (PostgreSQL) or the write lock
    (SQLite) until it commits. On PostgreSQL a row another worker holds is skipped at once
    (SKIP LOCKED) rather than waited for: workers listing the same ready events would otherwise
    walk through them in lockstep, one working and the other waiting.
    """
    statement = _claim_statement(postgresql=session.bind.dialect.name == "postgresql")
    event: InboxEvent | None = (await session.exec(statement, params={"event_id": event_id})).scalar_one_or_none()
    return event


@functools.cache
def _claim_statement(*, postgresql: bool) -> ReturningUpdate[tuple[InboxEvent]]:
    """claim_event's statement, built once per backend (building it took longer than running it).

    The claimed row comes back as the event itself (one statement, not an UPDATE and a SELECT),
    fresh from the database even if the session had it loaded.
    """
    c = _TABLE.c
    target = c.id == bindparam("event_id")
    if postgresql:
        free = select(c.id).where(c.id == bindparam("event_id")).with_for_update(skip_locked=True)
        target = c.id.in_(free.scalar_subquery())
    return (
        update(InboxEvent)
        .where(target, c.processed_at.is_(None))
        .values(attempts=c.attempts + 1)
        .returning(InboxEvent)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


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
    statement = select(func.count()).where(col(InboxEvent.processed_at).is_(None))
    return int((await session.exec(statement)).one())


def chat_key(channel: str, chat_id: str) -> str:
    """The inbox's per-chat key; the messenger adapters store it as "<channel>:<chat id>"."""
    return f"{channel}:{chat_id}"


async def count_recent(session: AsyncSession, *, chat_key: str, since: datetime, until: datetime) -> int:
    """How many events a chat sent in (since, until], redeliveries excluded (flood control)."""
    params = {"chat_key": chat_key, "since": since, "until": until}
    return int((await session.exec(_COUNT_RECENT, params=params)).one())


# Run for every event (flood control): built once, as building it took longer than running it.
_COUNT_RECENT = select(func.count()).where(
    _TABLE.c.chat_key == bindparam("chat_key"),
    _TABLE.c.received_at > bindparam("since", type_=_TABLE.c.received_at.type),
    _TABLE.c.received_at <= bindparam("until", type_=_TABLE.c.received_at.type),
)
