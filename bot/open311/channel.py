"""The Open311 channel: complaints filed by partner apps have no messenger to answer on.

What the desk says to such a filer (the ticket number, the agency's answer, a rating request) is
written to the outbox like any message; this channel's sender records it as sent and goes no
further. The partner app reads the answer back from the API (status_notes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.channels import Channel, ChannelContext
from handlers.events import ChannelName, Inbound
from handlers.outgoing import Recipient
from storage.models import InboxEvent, OutboxMessage
from storage.outbox import ChatWindow

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession
    from starlette.routing import BaseRoute

    from bot.config import Settings
    from bot.runtime.dispatcher import OutboxDispatcher

log = logging.getLogger(__name__)

CHANNEL = ChannelName("open311")


class RecordingSink:
    """Takes a citizen-bound message of an Open311 filer: counted, and marked sent (nowhere to send it)."""

    def __init__(self) -> None:
        self.recorded = 0

    async def send(self, message: OutboxMessage) -> str | None:
        """Record one message; its "provider id" names the outbox row."""
        self.recorded += 1
        log.debug("open311: outbox %s (%s) recorded, not sent", message.id, message.purpose)
        return f"open311-{message.id}"


class Open311Channel:
    """A channel that receives nothing through webhooks and sends into a sink."""

    name: ChannelName = CHANNEL

    def __init__(self, context: ChannelContext) -> None:
        self.context = context
        self._sink = RecordingSink()
        self.dispatcher: OutboxDispatcher | None = None

    @property
    def sender(self) -> RecordingSink:
        """The sink."""
        return self._sink

    async def start(self, dispatcher: OutboxDispatcher) -> None:
        """Nothing to reach; keeps the dispatcher to wake after a filing."""
        self.dispatcher = dispatcher

    @property
    def connected(self) -> bool:
        """Always: there is nothing to connect to."""
        return True

    async def prepare(self, event: InboxEvent) -> Any:
        """No inbox events come from this channel."""
        return None

    async def to_inbound(self, session: AsyncSession, event: InboxEvent, prepared: Any) -> Inbound | None:
        """No inbox events come from this channel."""
        return None

    def citizen_of(self, event: InboxEvent) -> Recipient | None:
        """No inbox events come from this channel."""
        return None

    async def fetch_photo(self, ref: str) -> bytes:
        """Partner apps send photo links (in the description), never photos to fetch."""
        raise LookupError("the Open311 channel keeps no photos")

    async def close(self) -> None:
        """Nothing to release."""


class Open311Messenger:
    """The Open311 channel as the composition root sees it: on with [open311] enabled; its routes are
    bot.open311.routes (they need the runtime's desk, see bot.app)."""

    name: ChannelName = CHANNEL
    label = "Open311"
    removes_buttons = False
    holds_messages = False

    def enabled(self, settings: Settings) -> bool:
        """Whether [open311] is on."""
        return settings.open311.enabled

    def routes(self, settings: Settings, current: Callable[[], Channel]) -> list[BaseRoute]:
        """None here: the API's routes need the desk (bot.open311.routes.open311_routes)."""
        return []

    def chat_window(self, settings: Settings) -> ChatWindow | None:
        """No sending limit: nothing is sent."""
        return None

    def open(self, context: ChannelContext) -> Open311Channel:
        """Build the channel."""
        return Open311Channel(context)


MESSENGER = Open311Messenger()
