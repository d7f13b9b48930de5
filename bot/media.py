"""Stored photos: reading them back for sending, their signed public addresses, and the route serving them.

Twilio sends a WhatsApp photo by fetching it from a public URL given with the message. A photo an
agency answered with lives in the database (bot.whatsapp.outbound stores it there first); the
address carries the photo's key signed with itsdangerous, so that only links the bot made are
served, and only for a day. Everything else gets a 404 that tells nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.channels import Undeliverable
from storage import media, outbox
from storage.engine import is_unavailable

log = logging.getLogger(__name__)

MEDIA_PATH = "/media"
# Twilio fetches the photo when the message is created; a day leaves room for its retries.
LINK_LIFETIME_SECONDS = 24 * 3600


class MediaLinks:
    """Makes and checks the signed addresses of stored media."""

    def __init__(self, *, secret: str, public_url: str, max_age: int = LINK_LIFETIME_SECONDS) -> None:
        # The salt keeps these signatures apart from any other use of the same secret.
        self._signer = URLSafeTimedSerializer(secret, salt="ehumas-media-link")
        self._base = public_url.rstrip("/") + MEDIA_PATH + "/"
        self._max_age = max_age

    def url(self, key: str) -> str:
        """The public address of the media stored under `key`."""
        return self._base + str(self._signer.dumps(key))

    def key(self, token: str) -> str | None:
        """The media key a token was signed for; None if forged, altered or expired."""
        try:
            value = self._signer.loads(token, max_age=self._max_age)
        except BadData:
            return None
        return value if isinstance(value, str) else None


async def serve_media(request: Request, *, links: MediaLinks, sessions: async_sessionmaker[AsyncSession]) -> Response:
    """GET /media/<token>: the stored photo's bytes, for whoever holds a valid link."""
    key = links.key(request.path_params.get("token", ""))
    if key is None:
        return PlainTextResponse("not found", status_code=404)
    try:
        async with sessions() as session:
            stored = await media.load_media(session, key=key)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning("media %s not served, database unavailable: %s", key, exc)
        return PlainTextResponse("storage unavailable, retry later", status_code=503)
    if stored is None:
        return PlainTextResponse("not found", status_code=404)
    return Response(
        stored.data,
        media_type=stored.content_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def media_loader(sessions: async_sessionmaker[AsyncSession]) -> Callable[[str], Awaitable[bytes]]:
    """A function returning the bytes stored under a media key (Undeliverable if there are none)."""

    async def load(key: str) -> bytes:
        async with sessions() as session:
            stored = await media.load_media(session, key=key)
        if stored is None:
            raise Undeliverable(f"stored photo {key!r} not found")
        return stored.data

    return load


def sent_id_lookup(sessions: async_sessionmaker[AsyncSession]) -> Callable[[int], Awaitable[str | None]]:
    """A function returning the messenger's id of the message an outbox row sent (None if not sent)."""

    async def lookup(outbox_id: int) -> str | None:
        async with sessions() as session:
            return await outbox.provider_id_of(session, outbox_id=outbox_id)

    return lookup
