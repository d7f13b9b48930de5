"""Reading stored media back for sending (e.g. a WhatsApp citizen's photo on the agency's card)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery import Undeliverable
from storage import media


def media_loader(sessions: async_sessionmaker[AsyncSession]) -> Callable[[str], Awaitable[bytes]]:
    """A function returning the bytes stored under a media key (Undeliverable if there are none)."""

    async def load(key: str) -> bytes:
        async with sessions() as session:
            stored = await media.load_media(session, key=key)
        if stored is None:
            raise Undeliverable(f"stored photo {key!r} not found")
        return stored.data

    return load
