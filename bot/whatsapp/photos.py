"""Photos sent to WhatsApp citizens: kept in the media table and offered to Twilio by a signed link.

Twilio sends a photo by fetching it from a public URL. A photo an agency answered with exists only
in the channel it came from (a Telegram file id, fetched with the bot's token, which must never
leave the bot), so it is downloaded once into the media table and served from there (bot.media).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.channels import PhotoFetcher, Undeliverable
from bot.media import MediaLinks
from handlers.clock import Clock
from handlers.events import STORED, ChannelName
from storage import media

# WhatsApp takes images up to 5 MB (Twilio refuses larger media).
MAX_PHOTO_BYTES = 5 * 1024 * 1024


def fetched_media_key(source: str, ref: str) -> str:
    """The media key another channel's photo is kept under (its ids are long; the key column holds 64)."""
    return "ch-" + hashlib.sha256(f"{source}:{ref}".encode()).hexdigest()[:48]


class PhotoLinks:
    """Turns an outbox photo payload into the public URL Twilio fetches it from."""

    def __init__(
        self,
        links: MediaLinks,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        fetch: PhotoFetcher,
    ) -> None:
        self._links = links
        self._sessions = sessions
        self._clock = clock
        self._fetch = fetch

    async def url(self, payload: Mapping[str, Any]) -> str:
        """The signed link of the photo (another channel's is stored first); Undeliverable if it cannot be."""
        source, ref = str(payload.get("source", "")), str(payload.get("ref", ""))
        if source == STORED:
            return self._links.url(ref)
        if not source or not ref:
            raise Undeliverable("a photo without its source or reference")
        key = fetched_media_key(source, ref)
        async with self._sessions() as session:
            stored = await media.has_media(session, key=key)
        if not stored:
            # Failures here are the dispatcher's to retry (network) or report (refused, too big).
            data = await self._fetch(ChannelName(source), ref)
            if len(data) > MAX_PHOTO_BYTES:
                raise Undeliverable(f"photo of {len(data)} bytes is over WhatsApp's 5 MB")
            async with self._sessions() as session, session.begin():
                await media.save_media(session, key=key, content_type="image/jpeg", data=data, now=self._clock.now())
        return self._links.url(key)
