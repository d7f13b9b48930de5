"""How a send attempt can fail, in terms the outbox dispatcher acts on."""

from __future__ import annotations

from typing import Protocol

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


class Sender(Protocol):
    """Sends outbox messages over one messenger."""

    async def send(self, message: OutboxMessage) -> str | None:
        """Send one message; return the provider's message id. Raise a DeliveryError on failure."""
        ...
