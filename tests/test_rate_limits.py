"""Telegram's flood limits: the stand-in enforces them like Telegram, the bot's limiter keeps within them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import Application

from bot.app import build_telegram
from bot.standins.telegram_api import RateLimits, TelegramStandIn
from storage import outbox
from tests.harness import settings_for

GROUP = -1001000000001
LIMITS = RateLimits(per_second=10, per_group_per_minute=5)


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn(rate_limits=LIMITS) as standin:
        yield standin


@pytest.fixture
async def limited(telegram: TelegramStandIn) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The bot's own PTB application (its rate limiter included), set to the stand-in's limits."""
    settings = settings_for("sqlite+aiosqlite:///unused.db", telegram, telegram={
        "max_messages_per_second": float(LIMITS.per_second),
        "max_group_messages_per_minute": float(LIMITS.per_group_per_minute),
    })
    application = build_telegram(settings)
    await application.initialize()
    yield application
    await application.shutdown()


def busiest(times: list[float], window: float) -> int:
    times = sorted(times)
    best = start = 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_the_stand_in_answers_429_over_the_limits(telegram: TelegramStandIn) -> None:
    async with Bot(telegram.token, base_url=telegram.base_url) as bot:  # no rate limiter
        for i in range(LIMITS.per_group_per_minute):
            await bot.send_message(GROUP, f"kartu {i}")
        with pytest.raises(RetryAfter):
            await bot.send_message(GROUP, "satu lagi")
        # The group's limit does not hold up other chats, until the overall one is reached.
        sent = LIMITS.per_group_per_minute
        refused = 0
        for i in range(LIMITS.per_second):
            try:
                await bot.send_message(200 + i, f"pesan {i}")
                sent += 1
            except RetryAfter:
                refused += 1
        assert (sent, refused) == (LIMITS.per_second, LIMITS.per_group_per_minute)


async def test_the_bots_limiter_lets_bursts_through_and_never_exceeds_a_window(
    telegram: TelegramStandIn, limited: Application  # type: ignore[type-arg]
) -> None:
    bot = limited.bot
    started = time.monotonic()
    await asyncio.gather(*(bot.send_message(100 + i, f"pesan {i}") for i in range(25)))
    await asyncio.gather(*(bot.send_message(GROUP, f"kartu {i}") for i in range(LIMITS.per_group_per_minute - 1)))
    elapsed = time.monotonic() - started
    calls = [c for c in telegram.calls if c.method == "sendMessage"]
    assert all(c.ok for c in calls), [str(c) for c in calls if not c.ok]
    assert busiest([c.at.timestamp() for c in calls], 1.0) <= LIMITS.per_second
    assert elapsed < 5.0  # 29 messages at about 8 a second: bursts, not one at a time
    # The group's window is full (one below its limit): the next message waits for the minute.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(bot.send_message(GROUP, "tunggu"), timeout=0.5)


async def test_after_a_429_every_send_waits_as_telegram_asked(
    telegram: TelegramStandIn, limited: Application  # type: ignore[type-arg]
) -> None:
    telegram.fail_next(1, status=429, retry_after=1)
    with pytest.raises(RetryAfter):
        await limited.bot.send_message(100, "ditolak")
    started = time.monotonic()
    await limited.bot.send_message(101, "menunggu")
    assert time.monotonic() - started >= 0.9


async def test_a_groups_window_is_counted_in_the_database_for_all_workers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    window = outbox.ChatWindow(channel="telegram", chat_prefix="-", max_sent=3, seconds=60.0)
    async with sessions() as session, session.begin():
        for minutes_ago in (0.2, 0.5, 0.9, 5.0):  # three within the minute, one long ago
            sent = await outbox.enqueue(session, channel="telegram", chat_id=GROUP, payload={"text": "lama"},
                                        now=now - timedelta(minutes=minutes_ago))
            assert sent is not None
            await outbox.mark_sent(session, outbox_id=sent, provider_message_id="1",
                                   now=now - timedelta(minutes=minutes_ago))
        waiting = await outbox.enqueue(session, channel="telegram", chat_id=GROUP, payload={"text": "baru"}, now=now)
        private = await outbox.enqueue(session, channel="telegram", chat_id=100, payload={"text": "warga"}, now=now)
        other_channel = await outbox.enqueue(session, channel="whatsapp", chat_id="-1", payload={"text": "x"}, now=now)
    async with sessions() as session, session.begin():
        claimed = await outbox.claim_due(session, now=now, lease=timedelta(seconds=60), window=window)
    assert {m.id for m in claimed} == {private, other_channel}  # the group has had its three
    async with sessions() as session, session.begin():
        later = await outbox.claim_due(session, now=now + timedelta(seconds=20), lease=timedelta(seconds=60),
                                       window=window)
    assert [m.id for m in later] == [waiting]  # the oldest of the three left the window
