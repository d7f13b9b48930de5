"""The WhatsApp channel (Twilio) built from the settings: routes, sender, media step, shutdown.

bot/app.py opens it in the lifespan when [whatsapp] is configured; everything Twilio-specific
stays behind this package.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels import Channel, ChannelContext
from bot.config import Settings
from bot.media import MEDIA_PATH, MediaLinks, serve_media
from bot.runtime.dispatcher import OutboxDispatcher
from bot.whatsapp.content import ContentTemplates
from bot.whatsapp.http import TwilioHttpClient
from bot.whatsapp.inbound import CHANNEL, is_photo, media_items, to_inbound
from bot.whatsapp.media import FetchedMedia, MediaFetcher
from bot.whatsapp.outbound import WhatsAppSender
from bot.whatsapp.photos import PhotoLinks
from bot.whatsapp.status import StatusRecorder
from bot.whatsapp.webhooks import STATUS_PATH, WEBHOOK_PATH, Endpoint, inbound_endpoint, status_endpoint
from handlers import texts
from handlers.events import ChannelName, Inbound
from handlers.intake import MAX_PHOTOS
from handlers.outgoing import Recipient, send_text
from storage.models import InboxEvent
from storage.outbox import ChatWindow

log = logging.getLogger(__name__)


class WhatsAppChannel:
    """Everything WhatsApp needs while the app runs. Open it inside the running event loop."""

    name: ChannelName = CHANNEL

    def __init__(self, context: ChannelContext) -> None:
        settings = context.settings
        sessions, clock = context.sessions, context.clock
        wa = settings.whatsapp
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.humas = context.humas
        # The async HTTP clients open aiohttp/httpx sessions: they must be born in the running loop.
        self._http = TwilioHttpClient(base_url=wa.api_base_url, timeout=wa.timeout_seconds)
        # Links to photos the bot sends, signed with the auth token (which only the bot and Twilio know).
        self.links = MediaLinks(secret=wa.auth_token, public_url=settings.server.public_url)
        client = Client(wa.account_sid, wa.auth_token, http_client=self._http)
        self.sender = WhatsAppSender(
            client,
            from_number=wa.from_number,
            template_sid=wa.reply_template_sid,
            status_url=settings.server.public_url + STATUS_PATH,
            ticket_prefix=settings.bot.ticket_prefix,
            sessions=sessions,
            clock=clock,
            # Its limiter, too, belongs to the running loop.
            max_per_second=wa.max_messages_per_second,
            photos=PhotoLinks(self.links, sessions=sessions, clock=clock, fetch=context.fetch_photo),
            templates=ContentTemplates(client, sessions=sessions, clock=clock) if wa.interactive else None,
        )
        self._fetcher = MediaFetcher(
            account_sid=wa.account_sid,
            auth_token=wa.auth_token,
            sessions=sessions,
            clock=clock,
            api_base_url=wa.api_base_url,
        )
        self._photo_allowance = context.photo_allowance
        self._recorder: StatusRecorder | None = None
        validator = RequestValidator(wa.auth_token)
        public_url = settings.server.public_url
        max_body = settings.server.max_body_bytes
        self.webhook: Endpoint = inbound_endpoint(
            validator=validator,
            public_url=public_url,
            sessions=sessions,
            clock=clock,
            max_body=max_body,
            on_stored=context.on_stored,
        )
        self.status: Endpoint = status_endpoint(
            validator=validator, public_url=public_url, recorder=lambda: self.recorder, max_body=max_body
        )

    @property
    def connected(self) -> bool:
        """Twilio is reached per message; the channel counts as connected once open."""
        return True

    async def start(self, dispatcher: OutboxDispatcher) -> None:
        """Let status callbacks retry, hold and report through the dispatcher's policy."""
        self._recorder = StatusRecorder(
            sessions=self.sessions,
            clock=self.clock,
            dispatcher=dispatcher,
            sender=self.sender,
            humas=self.humas,
            ticket_prefix=self.settings.bot.ticket_prefix,
        )

    @property
    def recorder(self) -> StatusRecorder:
        """The status callback recorder (once started)."""
        if self._recorder is None:
            raise RuntimeError("WhatsApp status callback before the channel started")
        return self._recorder

    async def prepare(self, event: InboxEvent) -> FetchedMedia | None:
        """The inbox worker's prepare step: fetch a WhatsApp message's photos (other events: nothing).

        Admission comes first: a message flood control will not take, or photos past the draft's
        cap, are never downloaded.
        """
        if not any(is_photo(item.content_type) for item in media_items(event.payload)):
            return None
        sender = str(event.payload.get("From", ""))
        allowance = await self._photo_allowance(CHANNEL, sender, event.received_at)
        return await self._fetcher.fetch(event.payload, allowance=allowance)

    async def to_inbound(self, session: AsyncSession, event: InboxEvent, prepared: Any) -> Inbound | None:
        """The Inbound of a stored WhatsApp event; tells the citizen first if a photo was lost or not taken."""
        fetched = prepared if isinstance(prepared, FetchedMedia) else FetchedMedia()
        inbound = to_inbound(event.payload, photos=fetched.photos, received_at=event.received_at)
        if inbound is None:
            return None
        me = Recipient(CHANNEL, inbound.chat_id)
        if fetched.failed:
            await send_text(session, me, texts.PHOTO_NOT_RECEIVED, now=self.clock.now())
        if fetched.skipped and fetched.admitted:
            await send_text(session, me, texts.TOO_MANY_PHOTOS.format(max=MAX_PHOTOS), now=self.clock.now())
            if not (inbound.text.strip() or inbound.media or inbound.location):
                return None  # only photos the draft has no room for: nothing more to say
        return inbound

    @staticmethod
    def citizen_of(event: InboxEvent) -> Recipient | None:
        """Who wrote a stored WhatsApp event (to apologise when it cannot be processed)."""
        sender = str(event.payload.get("From", ""))
        return Recipient(CHANNEL, sender) if sender.startswith("whatsapp:") else None

    async def fetch_photo(self, ref: str) -> bytes:
        """WhatsApp photos are stored when they arrive; nothing is fetched by reference later."""
        raise LookupError(f"WhatsApp keeps no photos by reference ({ref[:20]!r})")

    async def close(self) -> None:
        """Close the HTTP clients."""
        await self._http.close()
        await self._fetcher.close()


class WhatsAppMessenger:
    """WhatsApp (Twilio) as the composition root sees it: on when [whatsapp] is configured."""

    name: ChannelName = CHANNEL
    label = "WhatsApp"
    removes_buttons = False
    holds_messages = True

    def enabled(self, settings: Settings) -> bool:
        """On when the Twilio account is configured."""
        return settings.whatsapp.enabled

    def routes(self, settings: Settings, current: Callable[[], Channel]) -> list[BaseRoute]:
        """POST /whatsapp/webhook, POST /whatsapp/status, GET /media/<token>, served by the open channel."""

        def opened() -> WhatsAppChannel:
            channel = current()
            assert isinstance(channel, WhatsAppChannel)
            return channel

        async def webhook(request: Request) -> Response:
            return await opened().webhook(request)

        async def status(request: Request) -> Response:
            return await opened().status(request)

        async def photo(request: Request) -> Response:
            channel = opened()
            return await serve_media(request, links=channel.links, sessions=channel.sessions)

        return [
            Route(WEBHOOK_PATH, webhook, methods=["POST"]),
            Route(STATUS_PATH, status, methods=["POST"]),
            # Where Twilio fetches the photos the bot sends (GET; HEAD too).
            Route(MEDIA_PATH + "/{token}", photo, methods=["GET"]),
        ]

    def chat_window(self, settings: Settings) -> ChatWindow | None:
        """Twilio paces WhatsApp per sender, not per chat (bot.whatsapp.outbound)."""
        return None

    def open(self, context: ChannelContext) -> WhatsAppChannel:
        """Open the Twilio clients (inside the running loop)."""
        return WhatsAppChannel(context)


MESSENGER = WhatsAppMessenger()
