"""The messenger interface: what every channel (Telegram, WhatsApp, ...) offers the runtime.

A messenger is one package under bot/ (bot/telegram/, bot/whatsapp/) exposing a `Messenger`: it
says whether the settings switch it on, which HTTP routes it serves and how to open its `Channel`
once the runtime's database and clock exist. The runtime never asks which messenger an event or a
message belongs to beyond looking its channel up by name. Send outcomes (retry, give up, hold)
are the dispatcher's vocabulary, shared by every sender.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from handlers.clock import Clock
from handlers.events import ChannelName, Inbound
from handlers.outgoing import Recipient
from storage.models import InboxEvent, OutboxMessage
from storage.outbox import ChatWindow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import async_sessionmaker
    from sqlmodel.ext.asyncio.session import AsyncSession
    from starlette.routing import BaseRoute

    from bot.config import Settings
    from bot.runtime.dispatcher import OutboxDispatcher


class DeliveryError(Exception):
    """A message could not be sent."""


class RetryLater(DeliveryError):
    """A temporary failure (rate limit, server error, timeout): try again later."""

    def __init__(self, reason: str, after: float | None = None, *, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.after = after
        # The messenger refused for speed (HTTP 429), as opposed to being unreachable (metrics, health).
        self.rate_limited = rate_limited


class Undeliverable(DeliveryError):
    """A permanent failure: retrying cannot help."""

    def __init__(self, reason: str, *, recipient_gone: bool = False) -> None:
        super().__init__(reason)
        # The person blocked the bot or opted out: stop writing to them.
        self.recipient_gone = recipient_gone


class HeldForWindow(DeliveryError):
    """The messenger will not take a free-form message now (WhatsApp's 24-hour window): hold it.

    `template` is the payload of a pre-approved template message that tells the citizen something
    is waiting; None when none is configured (then humas is told). The held message goes out when
    the citizen writes again. `last_heard` is when the citizen last wrote as the sender saw it: if
    they wrote after that, the window is open again and the message is sent instead of held.
    """

    def __init__(self, reason: str, *, template: dict[str, Any] | None, last_heard: datetime | None) -> None:
        super().__init__(reason)
        self.template = template
        self.last_heard = last_heard


class Sender(Protocol):
    """Sends outbox messages over one messenger."""

    async def send(self, message: OutboxMessage) -> str | None:
        """Send one message; return the provider's message id. Raise a DeliveryError on failure."""
        ...


# Downloads a photo another channel received, by that channel's name and its reference.
PhotoFetcher = Callable[[ChannelName, str], Awaitable[bytes]]
# How many photos a citizen's message (channel, chat id, received at) may bring before any is
# downloaded; None when flood control will not take the message at all (handlers.admission).
PhotoAllowance = Callable[[ChannelName, str, datetime], Awaitable[int | None]]


async def any_photos(channel: ChannelName, chat_id: str, at: datetime) -> int | None:
    """No admission step: every photo of a message (as many as its messenger sends)."""
    return 1_000


@dataclass(frozen=True)
class ChannelContext:
    """What the runtime gives a channel when it opens it."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    # Where delivery trouble is reported (the humas group).
    humas: Recipient
    # A photo received by another channel (an agency's photo answer for a WhatsApp citizen).
    fetch_photo: PhotoFetcher
    # Called after a webhook stored an event (wakes the inbox worker).
    on_stored: Callable[[], None]
    # Seconds between attempts to reach a messenger's API at start.
    connect_retry_seconds: float = 5.0
    # Decided before a photo is downloaded (flood control, the per-draft photo cap).
    photo_allowance: PhotoAllowance = any_photos


class Channel(Protocol):
    """One messenger while the app runs: it receives into the inbox and sends from the outbox."""

    name: ChannelName

    @property
    def sender(self) -> Sender:
        """What sends this channel's outbox messages."""
        ...

    async def start(self, dispatcher: OutboxDispatcher) -> None:
        """Connect (retrying until it can); the workers start once every channel has."""
        ...

    @property
    def connected(self) -> bool:
        """Whether the messenger's API was reached (for /healthz)."""
        ...

    async def prepare(self, event: InboxEvent) -> Any:
        """Network work a stored event needs before processing (idempotent), or None."""
        ...

    async def to_inbound(self, session: AsyncSession, event: InboxEvent, prepared: Any) -> Inbound | None:
        """The desk's Inbound of a stored event, or None if there is nothing for the desk to do."""
        ...

    def citizen_of(self, event: InboxEvent) -> Recipient | None:
        """The private chat that sent an event, to apologise when it cannot be processed."""
        ...

    async def fetch_photo(self, ref: str) -> bytes:
        """The bytes of a photo this channel received, by the reference it gave it."""
        ...

    async def close(self) -> None:
        """Stop and release the channel's clients."""
        ...


class Messenger(Protocol):
    """A messenger's package as the composition root sees it."""

    name: ChannelName
    # How people call it ("WhatsApp").
    label: str
    # Whether a sent message's buttons can be taken away later (Telegram edits them off; a
    # WhatsApp quick reply stays, and its late tap meets the stale-button rule instead).
    removes_buttons: bool
    # Whether it may refuse a message until the person writes again (WhatsApp's 24-hour window): the
    # outbox then holds it (HeldForWindow), and a message from that chat releases what was held.
    holds_messages: bool

    def enabled(self, settings: Settings) -> bool:
        """Whether the settings switch this messenger on."""
        ...

    def routes(self, settings: Settings, current: Callable[[], Channel]) -> list[BaseRoute]:
        """The HTTP routes it serves; `current` is the channel the running lifespan opened."""
        ...

    def chat_window(self, settings: Settings) -> ChatWindow | None:
        """A per-chat sending limit the outbox must keep for all processes together, if any."""
        ...

    def open(self, context: ChannelContext) -> Channel:
        """Open the channel inside the running event loop."""
        ...
