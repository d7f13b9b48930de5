"""The per-second limits hold however late a busy process writes its requests (Telegram, WhatsApp)."""

from __future__ import annotations

import asyncio
import time

from bot.runtime.pacing import Pacer
from bot.standins.server import busiest
from bot.telegram.ratelimit import WindowRateLimiter

LIMIT = 20


async def test_requests_written_late_never_reach_telegram_faster_than_the_limit() -> None:
    limiter = WindowRateLimiter(per_second=LIMIT, per_group_per_minute=20)
    arrivals: list[float] = []
    started = time.monotonic()

    async def send_late() -> bool:
        # A process busy every other second: what the limiter lets go then reaches Telegram 0.45 s
        # later; in the seconds between, at once. Telegram counts a request when it arrives.
        if int(time.monotonic() - started) % 2 == 0:
            await asyncio.sleep(0.45)
        arrivals.append(time.monotonic())
        await asyncio.sleep(0.005)  # the answer's way back
        return True

    async def one(i: int) -> None:
        await limiter.process_request(send_late, (), {}, "sendMessage", {"chat_id": 1000 + i}, None)

    await asyncio.gather(*(one(i) for i in range(3 * LIMIT)))
    elapsed = time.monotonic() - started
    assert busiest(arrivals, 1.0) <= LIMIT
    # And not much slower than the limit: three seconds' worth in under five.
    assert elapsed < 5.0, elapsed


async def test_whatsapp_s_pacer_holds_its_rate_however_late_requests_are_written() -> None:
    """The pacer WhatsApp's sender uses (bot.runtime.pacing): each send counts until its answer."""
    pacer = Pacer(LIMIT)
    arrivals: list[float] = []
    started = time.monotonic()

    async def one() -> None:
        async with pacer.turn():
            # A process busy every other second, as above: Twilio counts a request when it arrives.
            if int(time.monotonic() - started) % 2 == 0:
                await asyncio.sleep(0.45)
            arrivals.append(time.monotonic())
            await asyncio.sleep(0.005)

    await asyncio.gather(*(one() for _ in range(3 * LIMIT)))
    assert busiest(arrivals, 1.0) <= LIMIT
    assert time.monotonic() - started < 5.0
