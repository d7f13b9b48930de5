"""A messenger's rate limit as written: at most so many sends in any second, none ever refused.

Requests leave here in order but reach the service with some jitter: a busy process writes a
request a while after it was let go, and the network adds its own. Counting a send at the moment
it was let go therefore needs a margin as wide as the worst delay, and a busy process exceeded any
fixed margin (429s in docs/BENCHMARKS.md, "Replies at Telegram's limit"). Per second, a `Pacer`
counts each send instead from the moment it is let go until one second after its answer came
back: the service received it somewhere in between, so no second of the service's can hold more
than the limit, however late requests are written; the price is one round trip per second
(limit/(1 + RTT) a second: 28-29 of Telegram's 30 against a local stand-in). Sends are also spaced
evenly (one per 1/limit s), so that no burst queues in the HTTP client and lengthens the round
trip. Used by both messengers (bot.telegram.ratelimit, bot.whatsapp.outbound); written here
rather than taken from a rate-limit library because those count a send when it is let go.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

# Seconds added to the one-second window: a send already counts until its answer; 10 ms only for rounding.
SECOND_MARGIN = 0.01


class Window:
    """The times of the sends within a sliding window of `seconds`; its waiters queue on `turn`."""

    def __init__(self, capacity: int, seconds: float) -> None:
        self.capacity = capacity
        self.seconds = seconds
        self.times: collections.deque[float] = collections.deque()
        # Sends let go and not yet answered (a Pacer's window counts them until their answer).
        self.in_flight = 0
        self.answered = asyncio.Event()
        # First come, first served; only the head of the queue watches the clock (no herd of
        # sleepers waking at every expiry).
        self.turn = asyncio.Lock()

    def wait(self, now: float) -> float | None:
        """Seconds until one more send fits (0 or less: now); None: when a send in flight is answered."""
        while self.times and now - self.times[0] >= self.seconds:
            self.times.popleft()
        if len(self.times) + self.in_flight < self.capacity:
            return 0.0
        return self.times[0] + self.seconds - now if self.times else None

    def take(self, now: float) -> None:
        """Count a send let go now."""
        self.times.append(now)

    def finish(self, now: float) -> None:
        """A send in flight was answered (or failed): it counts for `seconds` from now."""
        self.in_flight -= 1
        self.times.append(now)
        self.answered.set()

    def idle(self, now: float) -> bool:
        """Whether the window holds no recent send and nobody waits on it: it can be forgotten."""
        self.wait(now)  # drops the sends that left the window
        return not self.times and not self.turn.locked()


class Pacer:
    """At most `per_second` sends in any second, each counted until a second after its answer, spaced evenly."""

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        # The real clock, not loop.time(): uvloop's is the time its current iteration began.
        self._clock = clock
        self._window = Window(max(1, int(per_second)), 1.0 + SECOND_MARGIN)
        self._spacing = 1.0 / per_second
        self._last_send = float("-inf")
        self._paused_until = 0.0

    async def start(self) -> None:
        """Wait for a place in the window and the spacing (and any pause); the send is then in flight."""
        window = self._window
        async with window.turn:
            while True:
                now = self._clock()
                fits = window.wait(now)
                if fits is None:
                    # Every place is held by a send not yet answered: its answer frees one a second later.
                    window.answered.clear()
                    await window.answered.wait()
                    continue
                wait = max(self._paused_until - now, fits, self._last_send + self._spacing - now)
                if wait <= 0:
                    window.in_flight += 1
                    self._last_send = now
                    return
                await asyncio.sleep(wait)

    def finish(self) -> None:
        """The send started last is answered, or failed: it counts until a second from now."""
        self._window.finish(self._clock())

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` from now (the service asked the whole sender to wait)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """A send's turn: wait for it, send in the block, and it counts until a second after."""
        await self.start()
        try:
            yield
        finally:
            self.finish()
