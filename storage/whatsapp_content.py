"""The WhatsApp content templates the bot created: claimed by friendly name, then their SIDs stored.

The unique friendly name makes creating a template a claim: whichever process inserts the name
first creates it at Twilio; every other process (and every restart) reads the stored SID.
"""

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import WhatsAppContent, table_of
from storage.upsert import insert_ignore

_TABLE = table_of(WhatsAppContent)


async def find(session: AsyncSession, *, friendly_name: str) -> WhatsAppContent | None:
    """The row of a template by its friendly name (its SID None while it is being created)."""
    statement = select(WhatsAppContent).where(col(WhatsAppContent.friendly_name) == friendly_name)
    return (await session.exec(statement.execution_options(populate_existing=True))).first()


async def claim(session: AsyncSession, *, friendly_name: str, now: datetime) -> bool:
    """Claim the creation of a template; False if another process holds the name already."""
    values = {"friendly_name": friendly_name, "content_sid": None, "claimed_at": now}
    return await insert_ignore(session, table=_TABLE, values=values, conflict=["friendly_name"]) is not None


async def take_over(session: AsyncSession, *, friendly_name: str, claimed_before: datetime, now: datetime) -> bool:
    """Take over a creation claimed before `claimed_before` and never finished (its process died)."""
    c = _TABLE.c
    result = await session.exec(
        update(_TABLE)
        .where(c.friendly_name == friendly_name, c.content_sid.is_(None), c.claimed_at < claimed_before)
        .values(claimed_at=now)
        .returning(c.id)
    )
    return result.first() is not None


async def record(session: AsyncSession, *, friendly_name: str, content_sid: str) -> None:
    """Store the SID of a template created (or found) for a claimed name."""
    c = _TABLE.c
    await session.exec(update(_TABLE).where(c.friendly_name == friendly_name).values(content_sid=content_sid))


async def forget(session: AsyncSession, *, friendly_name: str, content_sid: str | None) -> None:
    """Drop a name: an unfinished claim (`content_sid` None), or a SID Twilio no longer knows.

    Only the row as the caller knew it goes: a template created anew meanwhile is kept.
    """
    c = _TABLE.c
    same = c.content_sid.is_(None) if content_sid is None else c.content_sid == content_sid
    await session.exec(delete(_TABLE).where(c.friendly_name == friendly_name, same))
