"""Telegram's flood limits as written: so many sends in any second, so many per group in any minute.

python-telegram-bot's AIORateLimiter is a leaky bucket. With a burst as large as the limit it lets
twice the limit through in one window (the burst, then the rate: 59 sends in one second against
the stand-in, docs/BENCHMARKS.md); with a burst of one it paces a group's messages three seconds
apart, so a ticket card, its map point and its photo trickle in. This limiter keeps the times of
the last sends instead: a burst goes out at once, and no window ever holds more than the limit.

Per second, it is a bot.runtime.pacing.Pacer: each send counts from the moment it is let go until
a second after its answer, and sends are spaced evenly (why, there). Per group, the limiter counts
one below the limit over a minute and a second (a group's messages are few; they can spare the
margin; a group's send counts from when it was let go).
On a 429 Telegram asks the whole bot to wait, so every send waits; the outbox retries the one
that was refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.runtime.pacing import Pacer, Window

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]


# Seconds added to a group's minute: its send counts from when it was let go, so a second for the
# jitter between leaving here and arriving there.
MINUTE_MARGIN = 1.0


def capacity(limit: float) -> int:
    """Sends allowed per window: one below Telegram's limit (jitter), at least one."""
    return max(1, int(limit) - 1)


class WindowRateLimiter(BaseRateLimiter[int]):
    """At most `per_second` sends in any second and `per_group_per_minute` to a group in any minute."""

    def __init__(
        self, *, per_second: float, per_group_per_minute: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        # The real clock, not loop.time(): uvloop's is the time its current iteration began.
        self._clock = clock
        # The full limit, each send counted from its start until a second after its answer; paced evenly.
        self._overall = Pacer(per_second, clock=clock)
        self._group_capacity = capacity(per_group_per_minute)
        self._groups: dict[int | str, Window] = {}
        # Anyone can add the bot to new groups: a group's window is forgotten once a minute without
        # sends has passed, so memory holds the groups of the last two minutes, not of the process's life.
        self._pruned_at = clock()

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def _group(self, data: dict[str, Any]) -> Window | None:
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
            if self._clock() - self._pruned_at > 60.0 + MINUTE_MARGIN:
                self._prune()
            self._groups[chat_id] = Window(self._group_capacity, 60.0 + MINUTE_MARGIN)
        return self._groups[chat_id]

    def _prune(self) -> None:
        """Forget the windows of groups with no send in their last minute (a new send starts afresh)."""
        now = self._pruned_at = self._clock()
        for chat_id in [chat for chat, window in self._groups.items() if window.idle(now)]:
            del self._groups[chat_id]

    @property
    def groups_tracked(self) -> int:
        """How many groups' windows are in memory."""
        return len(self._groups)

    async def _slot(self, group: Window | None) -> None:
        """Wait for a free place in the group's window (if any), then in the overall one; take both."""
        if group is not None:
            # A group waiting for its minute holds up only its own messages, not the others'.
            async with group.turn:
                # Sleeps exactly until the window frees a place: a timed wait, not a poll.
                while (wait := group.wait(self._clock()) or 0.0) > 0:  # noqa: ASYNC110
                    await asyncio.sleep(wait)
                await self._overall.start()
                group.take(self._clock())
        else:
            await self._overall.start()

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
        if data.get("chat_id") is None:  # getMe, setWebhook, answerCallbackQuery...: not messages
            return await callback(*args, **kwargs)
        await self._slot(self._group(data))
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                after = exc.retry_after
            seconds = after.total_seconds() if isinstance(after, timedelta) else float(after)
            log.warning("Telegram flood control: every send waits %.0f s", seconds)
            self._overall.pause(seconds)
            raise
        finally:
            # Telegram received it by now (or never will): it counts until a second from now.
            self._overall.finish()
