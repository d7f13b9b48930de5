"""How a send attempt can fail, in terms the outbox dispatcher acts on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from storage.models import OutboxMessage


class DeliveryError(Exception):
    """A message could not be sent."""


class RetryLater(DeliveryError):
    """A temporary failure (rate limit, server error, timeout): try again later."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


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

    def __init__(
        self, reason: str, *, template: dict[str, Any] | None, last_heard: datetime | None
    ) -> None:
        super().__init__(reason)
        self.template = template
        self.last_heard = last_heard


class Sender(Protocol):
    """Sends outbox messages over one messenger."""

    async def send(self, message: OutboxMessage) -> str | None:
        """Send one message; return the provider's message id. Raise a DeliveryError on failure."""
        ...
