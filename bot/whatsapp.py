"""The WhatsApp channel (Twilio) built from the settings: routes, sender, media step, shutdown.

bot/app.py opens it in the lifespan when [whatsapp] is configured; everything Twilio-specific
stays behind this module and the whatsapp_* modules it assembles.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.config import Settings
from bot.dispatcher import OutboxDispatcher
from bot.media_links import MEDIA_PATH, MediaLinks, serve_media
from bot.twilio_http import TwilioHttpClient
from bot.whatsapp_inbound import CHANNEL, to_inbound
from bot.whatsapp_media import FetchedMedia, MediaFetcher
from bot.whatsapp_outbound import WhatsAppSender
from bot.whatsapp_photos import PhotoLinks
from bot.whatsapp_status import StatusRecorder
from bot.whatsapp_webhooks import STATUS_PATH, WEBHOOK_PATH, Endpoint, inbound_endpoint, status_endpoint
from handlers.clock import Clock
from handlers.events import Inbound
from handlers.outgoing import Recipient, send_text
from storage.models import InboxEvent

log = logging.getLogger(__name__)

# Adapter-level notice for the citizen (the desk never saw the photo).
PHOTO_NOT_RECEIVED = "Maaf, foto Anda tidak berhasil kami terima. Mohon kirim ulang fotonya."


class WhatsAppChannel:
    """Everything WhatsApp needs while the app runs. Open it inside the running event loop."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        fetch_telegram_photo: Callable[[str], Awaitable[bytes]] | None = None,
    ) -> None:
        wa = settings.whatsapp
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        # The async HTTP clients open aiohttp/httpx sessions: they must be born in the running loop.
        self._http = TwilioHttpClient(base_url=wa.api_base_url, timeout=wa.timeout_seconds)
        # Links to photos the bot sends, signed with the auth token (which only the bot and Twilio know).
        self.links = MediaLinks(secret=wa.auth_token, public_url=settings.server.public_url)
        self.sender = WhatsAppSender(
            Client(wa.account_sid, wa.auth_token, http_client=self._http),
            from_number=wa.from_number,
            template_sid=wa.reply_template_sid,
            status_url=settings.server.public_url + STATUS_PATH,
            ticket_prefix=settings.bot.ticket_prefix,
            sessions=sessions,
            clock=clock,
            # Its limiter, too, belongs to the running loop.
            max_per_second=wa.max_messages_per_second,
            photos=PhotoLinks(self.links, sessions=sessions, clock=clock, fetch_telegram=fetch_telegram_photo),
        )
        self._fetcher = MediaFetcher(account_sid=wa.account_sid, auth_token=wa.auth_token, sessions=sessions,
                                     clock=clock)
        self._recorder: StatusRecorder | None = None

    def attach(self, dispatcher: OutboxDispatcher, *, humas_chat_id: str) -> None:
        """Let status callbacks retry, hold and report through the dispatcher's policy."""
        self._recorder = StatusRecorder(
            sessions=self.sessions, clock=self.clock, dispatcher=dispatcher, sender=self.sender,
            humas_chat_id=humas_chat_id, ticket_prefix=self.settings.bot.ticket_prefix,
        )

    @property
    def recorder(self) -> StatusRecorder:
        """The status callback recorder (after attach())."""
        if self._recorder is None:
            raise RuntimeError("WhatsApp channel used before attach()")
        return self._recorder

    async def prepare(self, event: InboxEvent) -> FetchedMedia | None:
        """The inbox worker's prepare step: fetch a WhatsApp message's photos (other events: nothing)."""
        if event.channel != CHANNEL:
            return None
        return await self._fetcher.fetch(event.payload)

    async def inbound(self, session: AsyncSession, event: InboxEvent, prepared: Any) -> Inbound | None:
        """The Inbound of a stored WhatsApp event; tells the citizen first if a photo was lost."""
        fetched = prepared if isinstance(prepared, FetchedMedia) else FetchedMedia()
        inbound = to_inbound(event.payload, photos=fetched.photos, received_at=event.received_at)
        if inbound is not None and fetched.failed:
            await send_text(session, Recipient(CHANNEL, inbound.chat_id), PHOTO_NOT_RECEIVED, now=self.clock.now())
        return inbound

    @staticmethod
    def citizen_of(event: InboxEvent) -> Recipient | None:
        """Who wrote a stored WhatsApp event (to apologise when it cannot be processed)."""
        sender = str(event.payload.get("From", ""))
        return Recipient(CHANNEL, sender) if sender.startswith("whatsapp:") else None

    async def close(self) -> None:
        """Close the HTTP clients."""
        await self._http.close()
        await self._fetcher.close()


def whatsapp_routes(
    settings: Settings, channel: Callable[[], WhatsAppChannel | None], *, on_stored: Callable[[], None]
) -> list[Route]:
    """POST /whatsapp/webhook, POST /whatsapp/status, GET /media/<token>; the channel (opened by the lifespan) per request."""
    validator = RequestValidator(settings.whatsapp.auth_token)
    public_url = settings.server.public_url
    max_body = settings.server.max_body_bytes

    def opened() -> WhatsAppChannel:
        wa = channel()
        if wa is None:
            raise RuntimeError("WhatsApp routes served without an open WhatsApp channel")
        return wa

    # Built once per opened channel, not per request (a restarted app opens a new channel).
    built: list[tuple[WhatsAppChannel, Endpoint]] = []

    async def webhook(request: Request) -> Response:
        wa = opened()
        if not built or built[0][0] is not wa:
            built[:] = [(wa, inbound_endpoint(validator=validator, public_url=public_url, sessions=wa.sessions,
                                              clock=wa.clock, max_body=max_body, on_stored=on_stored))]
        return await built[0][1](request)

    status = status_endpoint(validator=validator, public_url=public_url, recorder=lambda: opened().recorder,
                             max_body=max_body)

    async def photo(request: Request) -> Response:
        wa = opened()
        return await serve_media(request, links=wa.links, sessions=wa.sessions)

    return [
        Route(WEBHOOK_PATH, webhook, methods=["POST"]),
        Route(STATUS_PATH, status, methods=["POST"]),
        # Where Twilio fetches the photos the bot sends (GET; HEAD too).
        Route(MEDIA_PATH + "/{token}", photo, methods=["GET"]),
    ]
