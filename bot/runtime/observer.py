"""What the runtime reports as it works (events processed, sends and their outcomes, sweeps).

The workers call an Observer at each step; bot.metrics turns the calls into Prometheus counters.
The base class records only whether each messenger answered its last send (for /healthz), so the
workers run the same with or without metrics.
"""

from __future__ import annotations

import time
from enum import StrEnum

# How long a send that found nobody answering marks its messenger as unreachable, unless a send
# succeeds sooner. (While the messenger stays down, the outbox's retries renew the mark; after a
# last failure and silence, nothing is known, and the mark lapses.)
UNREACHABLE_SECONDS = 120.0


class SendOutcome(StrEnum):
    """How one attempt to send an outbox row ended."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    HELD = "held"
    EXPIRED = "expired"


class Observer:
    """Receives the runtime's events; this base keeps only each messenger's reachability."""

    def __init__(self) -> None:
        # Channels whose latest send failed for want of an answer (network, 5xx), and when.
        self._unreachable_at: dict[str, float] = {}

    def unreachable(self, channel: str) -> bool:
        """Whether the channel's latest send found nobody answering, within UNREACHABLE_SECONDS."""
        at = self._unreachable_at.get(channel)
        return at is not None and time.monotonic() - at < UNREACHABLE_SECONDS

    def inbox_received(self, channel: str) -> None:
        """A new (not redelivered) inbound event was stored."""

    def inbox_processed(self, channel: str, outcome: str, seconds: float) -> None:
        """An inbound event was applied ("ok") or failed ("failed")."""

    def send(
        self, channel: str, outcome: SendOutcome, seconds: float, *, rate_limited: bool, unreachable: bool
    ) -> None:
        """One send attempt ended; `rate_limited`: the messenger answered 429."""
        if outcome is SendOutcome.SENT:
            self._unreachable_at.pop(channel, None)
        elif unreachable:
            self._unreachable_at[channel] = time.monotonic()

    def swept(self, seconds: float) -> None:
        """A deadline sweep ran."""
