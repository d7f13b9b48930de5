"""Retention: what is deleted or stripped once it is old enough. The complaint records stay.

Each function takes the cut-off and a dry_run flag; a dry run counts what would change and
changes nothing. The caller owns the transaction.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditLog, Complaint, ComplaintStatus, InboxEvent, Media, OutboxMessage, OutboxStatus

# An inbox row whose payload is gone keeps its (channel, external_id), so that a late redelivery
# is still recognised; its chat key (a phone number on WhatsApp) becomes "<channel>:-".
STRIPPED_CHAT = "-"
# Outbox rows that are done: sent (whatever the delivery report said) or given up.
_DONE = (OutboxStatus.SENT.value, OutboxStatus.DELIVERED.value, OutboxStatus.READ.value, OutboxStatus.FAILED.value)
# Where photos come from that the media table holds.
STORED = "media"


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int((await session.exec(select(func.count()).select_from(model).where(*where))).one())


async def strip_inbox_payloads(session: AsyncSession, *, before: datetime, dry_run: bool = False) -> int:
    """Empty the raw payloads (and errors, chat keys) of processed inbox events received before `before`."""
    where = (
        col(InboxEvent.processed_at).is_not(None),
        col(InboxEvent.received_at) < before,
        ~col(InboxEvent.chat_key).endswith(":" + STRIPPED_CHAT),
    )
    if dry_run:
        return await _count(session, InboxEvent, *where)
    result = await session.exec(
        update(InboxEvent)
        .where(*where)
        .values(payload={}, last_error=None, chat_key=InboxEvent.channel + ":" + STRIPPED_CHAT)
    )
    return int(result.rowcount or 0)


async def delete_inbox(session: AsyncSession, *, before: datetime, dry_run: bool = False) -> int:
    """Delete processed inbox events received before `before` (long past any redelivery)."""
    where = (col(InboxEvent.processed_at).is_not(None), col(InboxEvent.received_at) < before)
    if dry_run:
        return await _count(session, InboxEvent, *where)
    result = await session.exec(delete(InboxEvent).where(*where))
    return int(result.rowcount or 0)


async def delete_outbox(
    session: AsyncSession, *, before: datetime | None, purposes_any_age: tuple[str, ...] = (), dry_run: bool = False
) -> int:
    """Delete sent or failed outbox rows created before `before` (None: none by age), and those of
    `purposes_any_age` as soon as they are done."""
    old: ColumnElement[bool] = col(OutboxMessage.purpose).in_(purposes_any_age)
    if before is not None:
        old = old | (col(OutboxMessage.created_at) < before)
    where = (col(OutboxMessage.status).in_(_DONE), old)
    if dry_run:
        return await _count(session, OutboxMessage, *where)
    result = await session.exec(delete(OutboxMessage).where(*where))
    return int(result.rowcount or 0)


async def delete_audit(session: AsyncSession, *, before: datetime, dry_run: bool = False) -> int:
    """Delete audit log entries older than `before`."""
    where = (col(AuditLog.at) < before,)
    if dry_run:
        return await _count(session, AuditLog, *where)
    result = await session.exec(delete(AuditLog).where(*where))
    return int(result.rowcount or 0)


def stored_keys(media: list[dict[str, Any]]) -> set[str]:
    """The media-table keys among a complaint's photos."""
    return {str(item.get("ref")) for item in media if item.get("source") == STORED}


async def delete_media(session: AsyncSession, *, keys: set[str], dry_run: bool = False) -> int:
    """Delete stored photos by key."""
    if not keys:
        return 0
    where = (col(Media.key).in_(sorted(keys)),)
    if dry_run:
        return await _count(session, Media, *where)
    result = await session.exec(delete(Media).where(*where))
    return int(result.rowcount or 0)


async def purge_closed_photos(session: AsyncSession, *, before: datetime, dry_run: bool = False) -> tuple[int, int]:
    """Drop the photos of complaints closed or rejected before `before`; return (complaints, stored photos).

    Photos kept by reference (a Telegram file id) lose the reference; stored ones are deleted. Stored
    photos that no remaining complaint uses and that are older than `before` (an agency's photo answer
    fetched for a WhatsApp citizen) go too.
    """
    ended = (ComplaintStatus.CLOSED.value, ComplaintStatus.REJECTED.value)
    with_photos = (
        await session.exec(select(Complaint).where(func.length(cast(Complaint.media, Text)) > 2))  # not "[]"
    ).all()
    keys: set[str] = set()
    in_use: set[str] = set()
    dropped = 0
    for complaint in with_photos:
        if complaint.status in ended and complaint.closed_at is not None and complaint.closed_at < before:
            dropped += 1
            keys |= stored_keys(complaint.media)
            if not dry_run:
                complaint.media = []
                session.add(complaint)
        else:
            in_use |= stored_keys(complaint.media)
    stale = await session.exec(select(Media.key).where(col(Media.created_at) < before))
    keys |= set(stale.all()) - in_use
    return dropped, await delete_media(session, keys=keys, dry_run=dry_run)
