"""The outbox: messages to send, written in the same transaction as the change that caused them.

Dispatchers claim due rows with a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so two workers never
take the same row), send them, and record the provider's message id for reply mapping. Messages to
one chat go out in order: a row waits while an earlier one to the same chat is still unsent.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, and_, bindparam, exists, func, or_, update
from sqlalchemy.sql.dml import ReturningUpdate
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, OutboxStatus, table_of
from storage.types import UTCDateTime
from storage.upsert import insert_ignore

# Marks a message's payload once it was held for the messenger's window: it goes out later than
# asked, and a sender may choose a plainer form for it then (WhatsApp: text rather than buttons).
HELD = "held"
_UNSENT = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)
# Claims and bulk changes are Core statements on the table: they must not touch loaded objects.
_TABLE = table_of(OutboxMessage)
# Where enqueue notes the rows a session queued: whoever commits the session may claim them in the
# same transaction and send them at once (the inbox worker), without a claim of its own.
_QUEUED = "outbox.queued"
_RELEASED = "outbox.released"


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str | int,
    payload: dict[str, Any],
    now: datetime,
    kind: str = "text",
    complaint_id: int | None = None,
    purpose: str = "",
    dedup_key: str | None = None,
) -> int | None:
    """Add a message to send; with a dedup_key already used, add nothing and return None."""
    values: dict[str, Any] = {
        "channel": channel,
        "chat_id": str(chat_id),
        "kind": kind,
        "payload": payload,
        "complaint_id": complaint_id,
        "purpose": purpose,
        "dedup_key": dedup_key,
        "status": OutboxStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    if dedup_key is None:
        row = OutboxMessage(**values)
        session.add(row)
        await session.flush()
        new_id = row.id
    else:
        new_id = await insert_ignore(session, table=_TABLE, values=values, conflict=["dedup_key"])
    if new_id is not None:
        session.info.setdefault(_QUEUED, []).append(new_id)
    return new_id


def take_queued(session: AsyncSession) -> tuple[list[int], bool]:
    """The ids of the messages queued in this session since the last call (claim_due's `ids`), and
    whether other messages were made due meanwhile (release_held): those are left to a claim."""
    queued: list[int] = session.info.pop(_QUEUED, [])
    return queued, bool(session.info.pop(_RELEASED, False))


@dataclass(frozen=True)
class ChatWindow:
    """At most `max_sent` messages to one chat in any `seconds`, for the chats of a channel whose id
    starts with `chat_prefix` (Telegram: 20 a minute to a group, whose ids are negative)."""

    channel: str
    chat_prefix: str
    max_sent: int
    seconds: float


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    lease: timedelta,
    limit: int = 50,
    window: ChatWindow | None = None,
    wall: datetime | None = None,
    ids: Sequence[int] | None = None,
) -> list[OutboxMessage]:
    """Take up to `limit` due messages, the first unsent one of each chat, for `lease`.

    `now` is the desk's time (due dates, the chat window); `wall` the physical time leases are
    counted in (default `now`), so that a demo moving the desk's clock does not expire them.

    With a `window`, a chat it covers that already had its share of messages recently waits:
    counted here, in the shared table, the limit holds for all workers together. (One message per
    chat is in flight at a time, so the count of those sent is exact when the next is claimed.)

    With `ids`, only those messages are candidates (under the same conditions): the ones a
    transaction has just queued, claimed before it commits.
    """
    if ids is not None and not ids:
        return []
    wall = wall or now
    params: dict[str, Any] = {"now": now, "wall": wall, "lease_end": wall + lease, "limit": limit}
    if ids is not None:
        params["ids"] = list(ids)
    if window is not None:
        params.update(
            window_channel=window.channel,
            window_prefix=window.chat_prefix,
            window_since=now - timedelta(seconds=window.seconds),
            window_max=window.max_sent,
        )
    statement = _claim_statement(
        postgresql=session.bind.dialect.name == "postgresql", windowed=window is not None, only_ids=ids is not None
    )
    claimed = await session.exec(statement, params=params)
    claimed_ids = sorted(claimed.scalars().all())
    if not claimed_ids:
        return []
    rows = await session.exec(_CLAIMED_ROWS, params={"ids": claimed_ids})
    return list(rows.all())


@functools.cache
def _claim_statement(*, postgresql: bool, windowed: bool, only_ids: bool) -> ReturningUpdate[tuple[int]]:
    """claim_due's UPDATE for one shape, built once: building it (two aliases and their columns) cost
    more than running it on SQLite, on every claim, in the event loop."""
    table = _TABLE
    c = table.c
    earlier = table.alias("earlier")
    due = or_(
        and_(c.status == OutboxStatus.PENDING.value, c.next_attempt_at <= bindparam("now", type_=UTCDateTime())),
        # A worker that died while sending: its lease ran out, someone else takes over.
        and_(c.status == OutboxStatus.SENDING.value, c.lease_until < bindparam("wall", type_=UTCDateTime())),
    )
    waiting_behind = exists().where(
        and_(
            earlier.c.channel == c.channel,
            earlier.c.chat_id == c.chat_id,
            earlier.c.id < c.id,
            earlier.c.status.in_(_UNSENT),
        )
    )
    conditions = [due, ~waiting_behind]
    if only_ids:
        conditions.append(c.id.in_(bindparam("ids", expanding=True)))
    if windowed:
        recent = table.alias("recent")
        sent_recently = (
            select(func.count())
            .where(
                recent.c.channel == c.channel,
                recent.c.chat_id == c.chat_id,
                recent.c.sent_at > bindparam("window_since", type_=UTCDateTime()),
            )
            .scalar_subquery()
        )
        conditions.append(
            or_(
                c.channel != bindparam("window_channel", type_=String()),
                ~c.chat_id.startswith(bindparam("window_prefix", type_=String())),
                sent_recently < bindparam("window_max", type_=Integer()),
            )
        )
    candidates = select(c.id).where(*conditions).order_by(c.id).limit(bindparam("limit", type_=Integer()))
    if postgresql:
        candidates = candidates.with_for_update(skip_locked=True, of=table)
    return (
        update(table)
        .where(c.id.in_(candidates.scalar_subquery()))
        .values(
            status=OutboxStatus.SENDING.value,
            lease_until=bindparam("lease_end", type_=UTCDateTime()),
            attempts=c.attempts + 1,
        )
        .returning(c.id)
    )


# The claimed rows, loaded afresh (a session may hold them from before the claim).
_CLAIMED_ROWS = (
    select(OutboxMessage)
    .where(col(OutboxMessage.id).in_(bindparam("ids", expanding=True)))
    .order_by(col(OutboxMessage.id))
    .execution_options(populate_existing=True)
)


async def renew_lease(
    session: AsyncSession, *, outbox_id: int, held_until: datetime | None, until: datetime
) -> datetime | None:
    """Extend the lease of a message still being sent under `held_until`; the new end, or None if lost."""
    table = _TABLE
    c = table.c
    result = await session.exec(
        update(table)
        .where(c.id == outbox_id, c.status == OutboxStatus.SENDING.value, c.lease_until == held_until)
        .values(lease_until=until)
        .returning(c.lease_until)
    )
    return result.scalar_one_or_none()


async def set_fields(session: AsyncSession, *, outbox_id: int, **values: Any) -> OutboxMessage | None:
    """Change some fields of one outbox row; the row, or None if there is none."""
    row = await session.get(OutboxMessage, outbox_id)
    if row is None:
        return None
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)
    return row


async def mark_sent(
    session: AsyncSession, *, outbox_id: int, attempt: int, provider_message_id: str | None, now: datetime
) -> bool:
    """Record a successful send of attempt `attempt` and the provider's id; False if it was acted on already.

    A messenger may report a failure of the send before the sender has recorded it (a status
    callback racing the sender's own write): the report takes the row back first, and this late
    "sent" must not hide it. So only the attempt still being sent is recorded.
    """
    params = {"outbox_id": outbox_id, "attempt": attempt, "message_id": provider_message_id, "now": now}
    result = await session.exec(_MARK_SENT, params=params)
    return result.scalar_one_or_none() is not None


# The statements every sent message runs are built once, with bound parameters: building one (and
# its cache key) took 0.2-0.4 ms each time, more than SQLite took to run it.
def _mark_sent_statement() -> ReturningUpdate[tuple[int]]:
    c = _TABLE.c
    return (
        update(_TABLE)
        .where(
            c.id == bindparam("outbox_id"), c.status == OutboxStatus.SENDING.value, c.attempts == bindparam("attempt")
        )
        .values(
            status=OutboxStatus.SENT.value,
            provider_message_id=bindparam("message_id", type_=c.provider_message_id.type),
            sent_at=bindparam("now", type_=c.sent_at.type),
            lease_until=None,
            last_error=None,
        )
        .returning(c.id)
    )


_MARK_SENT = _mark_sent_statement()
_HAS_UNSENT = (
    select(_TABLE.c.id)
    .where(
        _TABLE.c.channel == bindparam("channel"),
        _TABLE.c.chat_id == bindparam("chat_id"),
        _TABLE.c.status.in_(_UNSENT),
    )
    .limit(1)
)


async def has_unsent(session: AsyncSession, *, channel: str, chat_id: str | int) -> bool:
    """Whether a message to the chat still waits to be sent (or is being sent)."""
    return (await session.exec(_HAS_UNSENT, params={"channel": channel, "chat_id": str(chat_id)})).first() is not None


async def mark_retry(session: AsyncSession, *, outbox_id: int, error: str, retry_at: datetime) -> None:
    """Put a message back in the queue after a temporary failure."""
    await set_fields(
        session,
        outbox_id=outbox_id,
        status=OutboxStatus.PENDING.value,
        next_attempt_at=retry_at,
        lease_until=None,
        last_error=error[:2000],
    )


async def mark_failed(session: AsyncSession, *, outbox_id: int, error: str) -> OutboxMessage | None:
    """Give up on a message (permanent error, or too many tries)."""
    return await set_fields(
        session, outbox_id=outbox_id, status=OutboxStatus.FAILED.value, lease_until=None, last_error=error[:2000]
    )


async def mark_expired(session: AsyncSession, *, outbox_id: int, reason: str) -> None:
    """Drop a message that can no longer go out in time (payload "send_before" passed)."""
    await set_fields(
        session, outbox_id=outbox_id, status=OutboxStatus.EXPIRED.value, lease_until=None, last_error=reason[:2000]
    )


async def hold(session: AsyncSession, *, outbox_id: int, reason: str) -> None:
    """Park a message until its chat may be written to again (WhatsApp's 24-hour window); its payload says so."""
    row = await set_fields(
        session, outbox_id=outbox_id, status=OutboxStatus.HELD.value, lease_until=None, last_error=reason[:2000]
    )
    if row is not None and not row.payload.get(HELD):
        row.payload = {**row.payload, HELD: True}
        session.add(row)


# Run for every private message (built once, like _MARK_SENT).
_RELEASE_HELD = (
    update(_TABLE)
    .where(
        # Not named after their columns: an UPDATE reserves those names for its SET clause.
        _TABLE.c.channel == bindparam("b_channel"),
        _TABLE.c.chat_id == bindparam("b_chat_id"),
        _TABLE.c.status == OutboxStatus.HELD.value,
    )
    .values(
        status=OutboxStatus.PENDING.value,
        next_attempt_at=bindparam("now", type_=_TABLE.c.next_attempt_at.type),
        lease_until=None,
    )
    .returning(_TABLE.c.id, _TABLE.c.purpose, _TABLE.c.complaint_id)
)


async def release_held(
    session: AsyncSession, *, channel: str, chat_id: str | int, now: datetime
) -> list[tuple[str, int | None]]:
    """Queue a chat's held messages again (they keep their ids, hence their order).

    Returns (purpose, complaint id) of each released message, oldest first.
    """
    result = await session.exec(_RELEASE_HELD, params={"b_channel": channel, "b_chat_id": str(chat_id), "now": now})
    released = sorted(result.all())
    if released:
        session.info[_RELEASED] = True
    return [(purpose, complaint_id) for _, purpose, complaint_id in released]


async def record_parts_sent(session: AsyncSession, *, outbox_id: int, attempt: int, parts: int) -> None:
    """Note that the first `parts` parts of a split message went out: a retry resumes after them.

    Only while attempt `attempt` is still being sent: once a failure report took the row back, the
    count it set (the parts before the failed one) stands.
    """
    table = _TABLE
    c = table.c
    await session.exec(
        update(table)
        .where(c.id == outbox_id, c.status == OutboxStatus.SENDING.value, c.attempts == attempt)
        .values(parts_sent=parts)
    )


async def complaint_for_sent_message(
    session: AsyncSession, *, channel: str, chat_id: str | int, provider_message_id: str
) -> int | None:
    """The complaint a sent message (e.g. a ticket card in an agency group) was about."""
    statement = select(col(OutboxMessage.complaint_id)).where(
        col(OutboxMessage.channel) == channel,
        col(OutboxMessage.chat_id) == str(chat_id),
        col(OutboxMessage.provider_message_id) == provider_message_id,
    )
    return (await session.exec(statement)).first()


async def provider_id_of(session: AsyncSession, *, outbox_id: int) -> str | None:
    """The messenger's id of the message an outbox row sent (None until it is sent)."""
    row = await session.get(OutboxMessage, outbox_id)
    return row.provider_message_id if row is not None else None


async def queued_since(
    session: AsyncSession, *, channel: str, chat_id: str | int, purpose: str, since: datetime
) -> bool:
    """Whether a message for this purpose was queued to the chat after `since`."""
    statement = (
        select(col(OutboxMessage.id))
        .where(
            col(OutboxMessage.channel) == channel,
            col(OutboxMessage.chat_id) == str(chat_id),
            col(OutboxMessage.purpose) == purpose,
            col(OutboxMessage.created_at) > since,
        )
        .limit(1)
    )
    return (await session.exec(statement)).first() is not None


async def pending_count(session: AsyncSession) -> int:
    """How many messages still wait to be sent."""
    statement = select(func.count()).where(col(OutboxMessage.status).in_(_UNSENT))
    return int((await session.exec(statement)).one())


async def latest_sent_id(
    session: AsyncSession, *, channel: str, chat_id: str | int, complaint_id: int, purposes: tuple[str, ...]
) -> str | None:
    """The provider's id of the latest message about a complaint sent to a chat for one of `purposes`.

    (E.g. the ticket card a note should reply to; None while it is not sent yet.)
    """
    statement = (
        select(OutboxMessage.provider_message_id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id == str(chat_id),
            OutboxMessage.complaint_id == complaint_id,
            col(OutboxMessage.purpose).in_(purposes),
            col(OutboxMessage.provider_message_id).is_not(None),
        )
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    )
    return (await session.exec(statement)).first()
