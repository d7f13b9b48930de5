"""Per-citizen flood control: 100 messages in a minute are slowed, the citizen is told once, and
everyone else is served as usual."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from bot.standins.telegram_api import TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from handlers import flood, texts
from storage.models import InboxEvent
from tests.channels import CHANNELS, citizen, running_desk

pytestmark = pytest.mark.filterwarnings("ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning")

LIMIT = 20


def test_the_verdict() -> None:
    assert flood.judge(LIMIT, limit=LIMIT, told_in_window=False) == flood.Verdict(allow=True)
    assert flood.judge(LIMIT + 1, limit=LIMIT, told_in_window=False) == flood.Verdict(allow=False, notify=True)
    assert flood.judge(LIMIT + 50, limit=LIMIT, told_in_window=True) == flood.Verdict(allow=False, notify=False)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_flooding_citizen_is_slowed_and_told_once_and_nobody_else_waits(
    channel: str, database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    sections = {"flood": {"max_messages": LIMIT, "window_seconds": 60.0}}
    async with running_desk(database_url, telegram, twilio, sections=sections) as desk:
        flooder, neighbour = citizen(desk, channel, 1), citizen(desk, channel, 2)
        for i in range(100):
            await flooder.send(f"x{i}")  # every one is acknowledged and stored: only processing is limited
        # Meanwhile a neighbour files a whole complaint, at the usual pace.
        for text, expect in (
            ("Jalan berlubang besar di lorong mawar dekat pasar", "okasi"),
            ("lewati", "foto"),
            ("lewati", "Mohon periksa"),
            ("ya", "tercatat dengan nomor"),
        ):
            await neighbour.send(text)
            [answer] = await neighbour.replies(1)
            assert expect in answer
        received = await flooder.replies(LIMIT + 1)
        await desk.world.settled()
        assert received[-1] == texts.FLOOD_NOTICE
        assert texts.FLOOD_NOTICE not in received[:-1]
        assert flooder.received() == received  # 20 answers and one notice, nothing for the other 80
        async with desk.world.runtime.sessions() as session:
            stored = (await session.exec(select(func.count()).select_from(InboxEvent))).one()
            failed = (
                await session.exec(
                    select(func.count()).select_from(InboxEvent).where(col(InboxEvent.last_error).is_not(None))
                )
            ).one()
        assert (stored, failed) == (104, 0)

        # A minute later the citizen is heard again.
        desk.world.clock.advance(timedelta(seconds=61))
        await flooder.send("/status")
        [status] = await flooder.replies(1)
        assert status == texts.STATUS_NONE
