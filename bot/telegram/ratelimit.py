"""Telegram's flood limits as written: so many sends in any second, so many per group in any minute.

python-telegram-bot's AIORateLimiter is a leaky bucket. With a burst as large as the limit it lets
twice the limit through in one window (the burst, then the rate: 59 sends in one second against
the stand-in, docs/BENCHMARKS.md); with a burst of one it paces a group's messages three seconds
apart, so a ticket card, its map point and its photo trickle in. This limiter keeps the times of
the last sends instead: a burst goes out at once, and no window ever holds more than the limit.

Requests leave here in order but reach Telegram with some jitter (a burst queues in the HTTP
client, the network, the server): the limiter counts one below each limit, over a slightly longer
window than Telegram's.
On a 429 Telegram asks the whole bot to wait, so every send waits; the outbox retries the one
that was refused.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]


class _Window:
    """The times of the sends within a sliding window of `seconds`; its waiters queue on `turn`."""

    def __init__(self, capacity: int, seconds: float) -> None:
        self.capacity = capacity
        self.seconds = seconds
        self.times: collections.deque[float] = collections.deque()
        # First come, first served; only the head of the queue watches the clock (no herd of
        # sleepers waking at every expiry).
        self.turn = asyncio.Lock()

    def wait(self, now: float) -> float:
        """Seconds until one more send fits (0 or less: now)."""
        while self.times and now - self.times[0] >= self.seconds:
            self.times.popleft()
        return 0.0 if len(self.times) < self.capacity else self.times[0] + self.seconds - now

    def take(self, now: float) -> None:
        self.times.append(now)


# Seconds added to Telegram's windows, for the jitter between leaving here and arriving there.
SECOND_MARGIN = 0.15
MINUTE_MARGIN = 1.0


def capacity(limit: float) -> int:
    """Sends allowed per window: one below Telegram's limit (jitter), at least one."""
    return max(1, int(limit) - 1)


class WindowRateLimiter(BaseRateLimiter[int]):
    """At most `per_second` sends in any second and `per_group_per_minute` to a group in any minute."""

    def __init__(self, *, per_second: float, per_group_per_minute: float) -> None:
        self._overall = _Window(capacity(per_second), 1.0 + SECOND_MARGIN)
        self._group_capacity = capacity(per_group_per_minute)
        self._groups: dict[int | str, _Window] = {}
        self._paused_until = 0.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _group(self, data: dict[str, Any]) -> _Window | None:
        """The window of the group a request goes to; None for a private chat."""
        raw = data.get("chat_id")
        chat_id: int | str | None = raw if isinstance(raw, int | str) else None
        if isinstance(chat_id, str):
            try:
                chat_id = int(chat_id)
            except ValueError:  # an @username
                pass
        # Groups and channels have negative ids (or an @username); private chats positive ones.
        if not ((isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)):
            return None
        if chat_id not in self._groups:
            self._groups[chat_id] = _Window(self._group_capacity, 60.0 + MINUTE_MARGIN)
        return self._groups[chat_id]

    async def _slot(self, group: _Window | None) -> None:
        """Wait for a free place in the group's window (if any), then in the overall one; take both."""
        if group is not None:
            # A group waiting for its minute holds up only its own messages, not the others'.
            async with group.turn:
                # Sleeps exactly until the window frees a place: a timed wait, not a poll.
                while (wait := group.wait(time.monotonic())) > 0:  # noqa: ASYNC110
                    await asyncio.sleep(wait)
                await self._overall_slot()
                group.take(time.monotonic())
        else:
            await self._overall_slot()

    async def _overall_slot(self) -> None:
        async with self._overall.turn:
            while True:
                # The real clock, not loop.time(): uvloop's is the time its current iteration began.
                now = time.monotonic()
                wait = max(self._paused_until - now, self._overall.wait(now))
                if wait <= 0:
                    self._overall.take(now)
                    return
                await asyncio.sleep(wait)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Wait until the request fits in its windows, then make it."""
        if data.get("chat_id") is not None:  # getMe, setWebhook, answerCallbackQuery...: not messages
            await self._slot(self._group(data))
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                after = exc.retry_after
            seconds = after.total_seconds() if isinstance(after, timedelta) else float(after)
            log.warning("Telegram flood control: every send waits %.0f s", seconds)
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            raise
