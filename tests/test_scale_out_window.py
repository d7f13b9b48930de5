"""Two `ehumas run` processes on one PostgreSQL database keep Telegram's per-group limit together.

Each process's own limiter counts only its own sends; the per-group window is counted in the
shared outbox, so the two together never send a group more than its minute allows. Here the limit
is lowered to 6 a minute (the stand-in answers 429 past it) and ten answers are asked for in one
group, through both processes in turn: five go out in the first minute, none is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.standins.telegram_api import SEND_METHODS, RateLimits, TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from tests.harness import DLHK_CHAT, User
from tests.procs import Updates, fleet

LIMITS = RateLimits(per_second=30, per_group_per_minute=6)
SECTIONS = {"telegram": {"max_messages_per_second": 15.0, "max_group_messages_per_minute": 6.0}}
STAFF = User(900_001, "Rahmat")


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn(rate_limits=LIMITS) as standin:
        yield standin


async def test_the_per_group_window_holds_for_both_processes_together(
    tmp_path: Path, database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("several bot processes need PostgreSQL; SQLite serves one process (README)")
    updates = Updates(telegram)
    async with fleet(tmp_path, database_url, telegram) as bots:
        processes = await bots.start(2, SECTIONS)
        for n in range(10):
            response = await processes[n % 2].post_telegram(updates.message(STAFF, "/id", chat_id=DLHK_CHAT))
            assert response.status_code == 200, response.text
        await telegram.wait_for_count(5, chat_id=DLHK_CHAT, timeout=20)
        # Absence cannot be awaited: a few seconds for a process that would (wrongly) send more.
        await asyncio.sleep(3)
        sends = [c for c in telegram.calls if c.method in SEND_METHODS and c.chat_id == DLHK_CHAT]
    assert [c for c in sends if c.status == 429] == []
    assert len([c for c in sends if c.ok]) == 5  # one below Telegram's 6, for both processes together
