"""The Telegram channel: python-telegram-bot's Application, its webhook or polling, and its sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.channels import Channel, ChannelContext, Sender
from bot.config import Settings
from bot.media import media_loader, sent_id_lookup
from bot.runtime.dispatcher import OutboxDispatcher
from bot.telegram.inbound import CHANNEL, decode
from bot.telegram.outbound import TelegramSender, photo_fetcher
from bot.telegram.polling import poll_updates
from bot.telegram.ratelimit import MINUTE_MARGIN, WindowRateLimiter, capacity
from bot.telegram.webhook import WEBHOOK_PATH, Endpoint, telegram_endpoint
from handlers.events import ChannelName, Inbound
from handlers.outgoing import Recipient
from handlers.textsafe import ascii_int
from storage.models import InboxEvent
from storage.outbox import ChatWindow

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "callback_query", "my_chat_member"]

# python-telegram-bot's Application is generic over its context types; the defaults are ours.
TelegramApp = Application[Any, Any, Any, Any, Any, Any]


def build_application(settings: Settings) -> TelegramApp:
    """The python-telegram-bot Application: no Updater (we own webhooks and polling), rate-limited."""
    tg = settings.telegram
    builder = ApplicationBuilder().token(tg.token).updater(None)
    builder = builder.connect_timeout(tg.timeout_seconds).read_timeout(tg.timeout_seconds)
    builder = builder.write_timeout(tg.timeout_seconds)
    base = settings.telegram.api_base_url.rstrip("/")
    if base:
        builder = builder.base_url(base).base_file_url(
            base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file"
        )
    # Telegram allows ~30 messages/s overall and 20 per minute per group, in any window
    # (bot.telegram.ratelimit). Retries are the outbox's job (it knows retry_after and keeps the
    # message), so the limiter itself never retries. Set last: it changes the builder's bot type.
    limiter = WindowRateLimiter(
        per_second=tg.max_messages_per_second, per_group_per_minute=tg.max_group_messages_per_minute
    )
    return builder.rate_limiter(limiter).build()


def group_window(settings: Settings) -> ChatWindow:
    """Telegram's per-group limit as the outbox claims enforce it (group chat ids are negative)."""
    return ChatWindow(
        channel=CHANNEL,
        chat_prefix="-",
        max_sent=capacity(settings.telegram.max_group_messages_per_minute),
        seconds=60.0 + MINUTE_MARGIN,
    )


class TelegramChannel:
    """Telegram while the app runs. Open it inside the running event loop."""

    name: ChannelName = CHANNEL

    def __init__(self, context: ChannelContext) -> None:
        self.settings = context.settings
        self.context = context
        self.application = build_application(context.settings)
        # Photos that came through another messenger are kept in the media table and uploaded from there.
        self.sender: Sender = TelegramSender(
            self.application.bot, load_media=media_loader(context.sessions), sent_id=sent_id_lookup(context.sessions)
        )
        self._fetch = photo_fetcher(self.application.bot)
        self._connected = asyncio.Event()
        self._connect_retry_seconds = context.connect_retry_seconds
        self._polling: asyncio.Task[None] | None = None
        self.endpoint: Endpoint = telegram_endpoint(
            secret=self.settings.telegram.webhook_secret,
            sessions=context.sessions,
            clock=context.clock,
            max_body=self.settings.server.max_body_bytes,
            on_stored=context.on_stored,
        )

    @property
    def connected(self) -> bool:
        """Whether getMe succeeded and the webhook is set (or polling runs)."""
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        """Return once Telegram was reached."""
        await self._connected.wait()

    async def start(self, dispatcher: OutboxDispatcher) -> None:
        """Reach Telegram (getMe), register the webhook or start polling; retry until it works."""
        settings = self.settings
        telegram = self.application
        while True:
            try:
                await telegram.initialize()
                if settings.telegram.mode == "webhook":
                    await telegram.bot.set_webhook(
                        url=settings.server.public_url + WEBHOOK_PATH,
                        secret_token=settings.telegram.webhook_secret,
                        allowed_updates=ALLOWED_UPDATES,
                    )
                else:
                    await telegram.bot.delete_webhook()
                await telegram.start()
                break
            except TelegramError as exc:
                log.warning("cannot reach Telegram yet (%s); retrying in %.0f s", exc, self._connect_retry_seconds)
                await asyncio.sleep(self._connect_retry_seconds)
        log.info("connected to Telegram as @%s", telegram.bot.username)
        self._connected.set()
        if settings.telegram.mode == "polling":
            self._polling = asyncio.create_task(
                poll_updates(
                    telegram.bot,
                    self.context.sessions,
                    self.context.clock,
                    ALLOWED_UPDATES,
                    on_stored=self.context.on_stored,
                ),
                name="telegram-polling",
            )

    async def prepare(self, event: InboxEvent) -> None:
        """Telegram updates need no network work before processing (photos travel as file ids)."""
        return None

    async def to_inbound(self, session: AsyncSession, event: InboxEvent, prepared: Any) -> Inbound | None:
        """The Inbound of a stored update."""
        return decode(event.payload, self.application.bot, received_at=event.received_at)

    def citizen_of(self, event: InboxEvent) -> Recipient | None:
        """The private chat an update came from (private chat ids are positive), if any."""
        _, _, chat = event.chat_key.partition(":")
        if (number := ascii_int(chat)) is not None and number > 0:
            return Recipient(CHANNEL, chat)
        return None

    async def fetch_photo(self, ref: str) -> bytes:
        """Download a photo by its Telegram file id."""
        return await self._fetch(ref)

    async def close(self) -> None:
        """Stop polling and python-telegram-bot."""
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._polling
        with contextlib.suppress(Exception):
            if self.application.running:
                await self.application.stop()
        with contextlib.suppress(Exception):
            await self.application.shutdown()


class TelegramMessenger:
    """Telegram as the composition root sees it: always on (staff work in Telegram groups)."""

    name: ChannelName = CHANNEL
    label = "Telegram"

    def enabled(self, settings: Settings) -> bool:
        """Telegram is the staff's messenger: always on."""
        return True

    def routes(self, settings: Settings, current: Callable[[], Channel]) -> list[BaseRoute]:
        """POST /telegram/webhook in webhook mode; nothing in polling mode."""
        if settings.telegram.mode != "webhook":
            return []

        async def webhook(request: Request) -> Response:
            channel = current()
            assert isinstance(channel, TelegramChannel)
            return await channel.endpoint(request)

        return [Route(WEBHOOK_PATH, webhook, methods=["POST"])]

    def chat_window(self, settings: Settings) -> ChatWindow | None:
        """Telegram's 20 messages a minute per group."""
        return group_window(settings)

    def open(self, context: ChannelContext) -> TelegramChannel:
        """Build the Telegram channel (python-telegram-bot connects in start())."""
        return TelegramChannel(context)


MESSENGER = TelegramMessenger()
