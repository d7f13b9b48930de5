"""Media: photo bytes received through a messenger that cannot send them again by reference (WhatsApp).

Telegram photos are re-sent by file_id; a WhatsApp photo lives at a Twilio URL that needs our
credentials, so the bytes are kept here and uploaded to the agency's Telegram group.
"""

import hashlib
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Media, table_of
from storage.upsert import insert_ignore


async def save_media(session: AsyncSession, *, key: str, content_type: str, data: bytes, now: datetime) -> None:
    """Keep photo bytes under `key`; a second save with the same key keeps the first."""
    await insert_ignore(
        session,
        table=table_of(Media),
        values={
            "key": key,
            "content_type": content_type[:100],
            "data": data,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "created_at": now,
        },
        conflict=["key"],
    )


async def load_media(session: AsyncSession, *, key: str) -> Media | None:
    """The stored media under `key`, if any."""
    return (await session.exec(select(Media).where(col(Media.key) == key))).first()


async def has_media(session: AsyncSession, *, key: str) -> bool:
    """Whether media is stored under `key` (without loading its bytes)."""
    statement = select(col(Media.id)).where(col(Media.key) == key)
    return (await session.exec(statement)).first() is not None
