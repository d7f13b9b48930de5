"""The periods humas looks at (/stats, /export, the web desk): the same words and boundaries everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# In the order they are offered; "bulan" is the calendar month so far, in the city's time zone.
PERIODS = ("7d", "30d", "bulan", "all")
DEFAULT = "30d"
_SPANS = {"7d": timedelta(days=7), "30d": timedelta(days=30)}


def since(period: str, *, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The first moment of a period (None for "all"); ValueError for an unknown period."""
    if period == "all":
        return None
    if period in _SPANS:
        return now - _SPANS[period]
    if period == "bulan":
        local = now.astimezone(zone)
        return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    raise ValueError(f"unknown period {period!r}")


def week_starts(now: datetime, *, zone: ZoneInfo, weeks: int) -> list[datetime]:
    """The Mondays 00:00 (city time) of the last `weeks` weeks, this week's last, as UTC moments."""
    local = now.astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    # Arithmetic on an aware local time is wall-clock arithmetic: midnight stays midnight.
    return [(monday - timedelta(weeks=weeks - 1 - n)).astimezone(UTC) for n in range(weeks)]
