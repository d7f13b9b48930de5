"""Downloading the photos of WhatsApp messages from Twilio and keeping them in the media table.

Runs as the inbox worker's prepare step: outside the processing transaction, before the desk
sees the message. A photo that cannot be fetched never stops the message; it is reported back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.whatsapp.inbound import MAX_MEDIA, is_photo, media_items, media_key
from handlers.clock import Clock
from handlers.events import STORED, Attachment
from handlers.textsafe import ascii_int
from storage import media

log = logging.getLogger(__name__)

# Telegram takes photos up to 10 MB, and WhatsApp images are far smaller (5 MB at most).
MAX_MEDIA_BYTES = 10 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 20.0


class MediaRejected(Exception):
    """A media item that is not a photo we can keep: too large, or not an image after all."""


@dataclass(frozen=True)
class FetchedMedia:
    """The photos of one message that are stored, how many could not be fetched, how many were not taken."""

    photos: tuple[Attachment, ...] = ()
    failed: int = 0
    # Photos left undownloaded: past the draft's photo cap, or all of them when the message is not
    # admitted (flood control); `admitted` tells which.
    skipped: int = 0
    admitted: bool = True


# Where Twilio serves the media of inbound messages. The account's credentials go there and nowhere else.
TWILIO_MEDIA_ORIGINS = frozenset({("https", "api.twilio.com", 443)})
_DEFAULT_PORTS = {"https": 443, "http": 80}


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL without user info; None for anything else."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    if parsed.scheme not in _DEFAULT_PORTS or not parsed.host or parsed.userinfo:
        return None
    return parsed.scheme, parsed.host.lower(), parsed.port or _DEFAULT_PORTS[parsed.scheme]


class MediaFetcher:
    """Fetches Twilio media URLs with the account's credentials (redirects to the CDN followed)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        api_base_url: str = "",
        max_bytes: int = MAX_MEDIA_BYTES,
        timeout: float = FETCH_TIMEOUT_SECONDS,
    ) -> None:
        # httpx drops the Authorization header when a redirect leaves Twilio's host, as it should.
        self._http = httpx.AsyncClient(auth=(account_sid, auth_token), follow_redirects=True, timeout=timeout)
        # A MediaUrl is only fetched (with the credentials) from Twilio's own media host, or from the
        # configured api_base_url (a local stand-in): never from wherever a form says.
        own = origin(api_base_url) if api_base_url else None
        self._origins = TWILIO_MEDIA_ORIGINS | ({own} if own else set())
        self._sessions = sessions
        self._clock = clock
        self._max_bytes = max_bytes

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    async def fetch(self, form: Mapping[str, str], *, allowance: int | None = MAX_MEDIA) -> FetchedMedia:
        """Download and store the photos of a message form (those already stored are not fetched again).

        At most `allowance` photos are taken; None: the message is not admitted and none is fetched.
        """
        message_sid = form.get("MessageSid", "")
        photos: list[Attachment] = []
        failed = skipped = 0
        for item in media_items(form):
            if not is_photo(item.content_type):
                continue
            if allowance is None or len(photos) + failed >= allowance:
                skipped += 1
                continue
            key = media_key(message_sid, item.index)
            async with self._sessions() as session:
                stored = await media.has_media(session, key=key)
            if not stored:
                try:
                    data, content_type = await self._download(item.url)
                except (httpx.HTTPError, MediaRejected) as exc:
                    log.warning("WhatsApp media %s of %s not fetched: %s", item.index, message_sid, exc)
                    failed += 1
                    continue
                async with self._sessions() as session, session.begin():
                    await media.save_media(
                        session,
                        key=key,
                        content_type=content_type or item.content_type,
                        data=data,
                        now=self._clock.now(),
                    )
            photos.append(Attachment(kind="photo", source=STORED, ref=key, content_type=item.content_type))
        return FetchedMedia(tuple(photos), failed, skipped, admitted=allowance is not None)

    async def _download(self, url: str) -> tuple[bytes, str]:
        """The bytes and content type at a media URL, refusing more than max_bytes or a host not Twilio's."""
        if origin(url) not in self._origins:
            raise MediaRejected(f"not a Twilio media URL: {(origin(url) or ('?', '?', 0))[1]}")
        async with self._http.stream("GET", url) as response:
            response.raise_for_status()
            declared = ascii_int(response.headers.get("content-length", "").strip())
            if declared is not None and declared > self._max_bytes:
                raise MediaRejected(f"{declared} bytes is too large")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self._max_bytes:
                    raise MediaRejected(f"over {self._max_bytes} bytes")
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content_type.startswith("image/"):
            raise MediaRejected(f"not an image: {content_type or 'no content type'}")
        return b"".join(chunks), content_type
