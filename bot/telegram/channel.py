"""The Telegram channel: python-telegram-bot's Application, its webhook or polling, and its sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden, TelegramError
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
from handlers import desk_login
from handlers.events import ChannelName, Inbound
from handlers.outgoing import Recipient
from handlers.textsafe import ascii_int
from storage.models import InboxEvent
from storage.outbox import ChatWindow

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "callback_query", "my_chat_member"]

# python-telegram-bot's Application is generic over its context types; the defaults are ours.
TelegramApp = Application[Any, Any, Any, Any, Any, Any]

# Who counts as an agency's staff: getChatMember's answer for a member of its group.
STAFF_STATUSES = frozenset({ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})


@dataclass(frozen=True)
class Membership:
    """The agencies whose groups a user belongs to, as Telegram said when the event was prepared."""

    agencies: frozenset[str]


def _membership_question(payload: dict[str, Any], admins: frozenset[int]) -> int | None:
    """The user whose group memberships an update needs looked up (/masuk in a private chat), or None."""
    message = payload.get("message")
    if not isinstance(message, dict):
        return None
    chat, sender, text = message.get("chat"), message.get("from"), message.get("text")
    if not (isinstance(chat, dict) and chat.get("type") == "private" and isinstance(sender, dict)):
        return None
    user = sender.get("id")
    if not isinstance(text, str) or not isinstance(user, int) or isinstance(user, bool) or user in admins:
        return None  # humas admins need no lookup: the settings name them
    return user if desk_login.wants_membership(text) else None


async def group_memberships(bot: Bot, user_id: int, groups: dict[str, int]) -> frozenset[str]:
    """The agencies (code -> group chat id) whose group Telegram reports the user a member of.

    A user Telegram does not know there, or a group the bot is not in, is no membership; a network
    trouble raises (the event is prepared again at its next attempt).
    """

    async def member(code: str, chat_id: int) -> str | None:
        try:
            found = await bot.get_chat_member(chat_id=chat_id, user_id=user_id)
        except (BadRequest, Forbidden) as exc:
            log.info("membership of %s in %s's group not confirmed: %s", user_id, code, exc.message)
            return None
        return code if found.status in STAFF_STATUSES else None

    answers = await asyncio.gather(*(member(code, chat_id) for code, chat_id in groups.items()))
    return frozenset(code for code in answers if code is not None)


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

    async def prepare(self, event: InboxEvent) -> Membership | None:
        """Look up the sender's agency groups for /masuk; other updates need no network work (photos are file ids)."""
        user = _membership_question(event.payload, frozenset(self.settings.humas.admin_user_ids))
        if user is None:
            return None
        groups = {opd.code: opd.telegram_chat_id for opd in self.settings.opd}
        return Membership(await group_memberships(self.application.bot, user, groups))

    async def to_inbound(self, session: AsyncSession, event: InboxEvent, prepared: Any) -> Inbound | None:
        """The Inbound of a stored update (with the memberships prepare looked up)."""
        inbound = decode(event.payload, self.application.bot, received_at=event.received_at)
        if inbound is not None and isinstance(prepared, Membership):
            inbound = replace(inbound, staff_of=prepared.agencies)
        return inbound

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
    removes_buttons = True
    holds_messages = False

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
