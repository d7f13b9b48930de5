"""The desk's sense of time: real UTC time, which a demo may move forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """UTC now, plus an offset that only a playground ever changes (to show deadlines passing)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC) + self._offset

    def wall(self) -> datetime:
        """Physical UTC time, never moved: for leases between workers, which a demo's jump must not expire."""
        return datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (demo and tests only)."""
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
