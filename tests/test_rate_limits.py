"""Rate limits: the stand-ins enforce Telegram's flood limits and a WhatsApp rate, the bot keeps within them."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import RetryAfter
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from bot.app import Tuning
from bot.standins.server import busiest
from bot.standins.telegram_api import RateLimits, TelegramStandIn
from bot.standins.twilio_api import TwilioCall, TwilioStandIn
from bot.telegram.channel import TelegramApp, build_application
from bot.whatsapp.http import TwilioHttpClient
from storage import outbox
from storage.models import OutboxMessage, OutboxStatus
from tests.channels import Desk, citizen, running_desk
from tests.harness import FAST, HUMAS_CHAT, settings_for
from tests.harness_whatsapp import BOT_NUMBER

# twilio's AsyncTwilioHttpClient may construct aiohttp.BasicAuth elsewhere; ours sends the header itself.
pytestmark = pytest.mark.filterwarnings("ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning")

GROUP = -1001000000001
LIMITS = RateLimits(per_second=10, per_group_per_minute=5)
WHATSAPP_PER_SECOND = 10


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn(rate_limits=LIMITS) as standin:
        yield standin


@pytest.fixture
async def limited(telegram: TelegramStandIn) -> AsyncIterator[TelegramApp]:
    """The bot's own PTB application (its rate limiter included), set to the stand-in's limits."""
    settings = settings_for(
        "sqlite+aiosqlite:///unused.db",
        telegram,
        telegram={
            "max_messages_per_second": float(LIMITS.per_second),
            "max_group_messages_per_minute": float(LIMITS.per_group_per_minute),
        },
    )
    application = build_application(settings)
    await application.initialize()
    yield application
    await application.shutdown()


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
    telegram: TelegramStandIn,
    limited: TelegramApp,
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
    telegram: TelegramStandIn,
    limited: TelegramApp,
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
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    window = outbox.ChatWindow(channel="telegram", chat_prefix="-", max_sent=3, seconds=60.0)
    async with sessions() as session, session.begin():
        for minutes_ago in (0.2, 0.5, 0.9, 5.0):  # three within the minute, one long ago
            sent = await outbox.enqueue(
                session,
                channel="telegram",
                chat_id=GROUP,
                payload={"text": "lama"},
                now=now - timedelta(minutes=minutes_ago),
            )
            assert sent is not None
            await outbox.set_fields(
                session,
                outbox_id=sent,
                status=OutboxStatus.SENT.value,
                provider_message_id="1",
                sent_at=now - timedelta(minutes=minutes_ago),
            )
        waiting = await outbox.enqueue(session, channel="telegram", chat_id=GROUP, payload={"text": "baru"}, now=now)
        private = await outbox.enqueue(session, channel="telegram", chat_id=100, payload={"text": "warga"}, now=now)
        other_channel = await outbox.enqueue(session, channel="whatsapp", chat_id="-1", payload={"text": "x"}, now=now)
    async with sessions() as session, session.begin():
        claimed = await outbox.claim_due(session, now=now, lease=timedelta(seconds=60), window=window)
    assert {m.id for m in claimed} == {private, other_channel}  # the group has had its three
    async with sessions() as session, session.begin():
        later = await outbox.claim_due(
            session, now=now + timedelta(seconds=20), lease=timedelta(seconds=60), window=window
        )
    assert [m.id for m in later] == [waiting]  # the oldest of the three left the window


# -- WhatsApp (Twilio) ------------------------------------------------------------------------------------


@pytest.fixture
async def paced_twilio() -> AsyncIterator[TwilioStandIn]:
    """A Twilio stand-in refusing (429, error 20429) more than WHATSAPP_PER_SECOND messages in any second."""
    async with TwilioStandIn(messages_per_second=WHATSAPP_PER_SECOND) as standin:
        yield standin


def desk_sections(whatsapp_per_second: float) -> dict[str, dict[str, object]]:
    """Config overrides: the bot's WhatsApp rate, and Telegram's kept within the stand-in's limits."""
    return {
        "whatsapp": {"max_messages_per_second": whatsapp_per_second},
        "telegram": {"max_messages_per_second": float(LIMITS.per_second)},
    }


def creates(twilio: TwilioStandIn) -> list[TwilioCall]:
    """Every Messages.create that reached the stand-in, accepted or refused."""
    return [c for c in twilio.calls if c.method == "Messages.create"]


def outbox_id(call: TwilioCall) -> int:
    """The outbox row a send carried (the bot names it in the status callback URL)."""
    return int(parse_qs(urlsplit(call.params["StatusCallback"]).query)["outbox"][0])


async def whatsapp_rows(desk: Desk) -> list[OutboxMessage]:
    """Every WhatsApp outbox row of the running desk."""
    async with desk.world.runtime.sessions() as session:
        rows = await session.exec(select(OutboxMessage).where(OutboxMessage.channel == "whatsapp"))
        return list(rows.all())


async def test_the_twilio_stand_in_answers_429_over_its_rate(paced_twilio: TwilioStandIn) -> None:
    http = TwilioHttpClient(base_url=paced_twilio.base_url)
    try:
        client = Client(paced_twilio.account_sid, paced_twilio.auth_token, http_client=http)
        results = await asyncio.gather(
            *(
                client.messages.create_async(to=f"whatsapp:+6281200000{i:03d}", from_=BOT_NUMBER, body=f"pesan {i}")
                for i in range(WHATSAPP_PER_SECOND + 3)
            ),
            return_exceptions=True,
        )
    finally:
        await http.close()
    refused = [r for r in results if isinstance(r, TwilioRestException)]
    assert len(refused) == 3 and {(r.status, r.code) for r in refused} == {(429, 20429)}, results
    assert len(creates(paced_twilio)) == WHATSAPP_PER_SECOND + 3


async def test_a_burst_of_whatsapp_answers_is_paced_within_the_rate_and_each_sent_once(
    database_url: str, telegram: TelegramStandIn, paced_twilio: TwilioStandIn
) -> None:
    twilio = paced_twilio
    async with running_desk(database_url, telegram, twilio, sections=desk_sections(float(WHATSAPP_PER_SECOND))) as desk:
        people = [citizen(desk, "whatsapp", n) for n in range(30)]
        # Thirty citizens write at once: thirty greetings are due at once, three times the rate.
        await asyncio.gather(*(who.send("Halo") for who in people))
        await desk.world.settled(timeout=20)
        rows = await whatsapp_rows(desk)
    calls = creates(twilio)
    # The stand-in refuses whatever exceeds its rate: nothing was refused, so nothing exceeded it.
    assert all(c.ok for c in calls), [str(c) for c in calls if not c.ok]
    assert busiest([c.at.timestamp() for c in calls], 1.0) <= WHATSAPP_PER_SECOND
    assert {c.to for c in calls} == {who.address for who in people}
    # Each outbox row went out exactly once.
    assert rows and all(r.status == OutboxStatus.SENT for r in rows), [(r.id, r.status) for r in rows]
    assert Counter(outbox_id(c) for c in calls) == Counter({r.id: 1 for r in rows})


async def test_twilio_answering_429_for_a_while_delays_whatsapp_answers_but_loses_and_repeats_none(
    database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    # Enough attempts that the first citizens' messages outlast the wait for the last ones' refusals.
    patient = Tuning(
        dispatch=replace(FAST.dispatch, max_attempts=20), inbox_poll_seconds=0.05, connect_retry_seconds=0.05
    )
    async with running_desk(database_url, telegram, twilio, tuning=patient, sections=desk_sections(50.0)) as desk:
        people = [citizen(desk, "whatsapp", n) for n in range(10)]
        twilio.fail_next(None, 429)  # Too Many Requests (20429), until cleared
        await asyncio.gather(*(who.send("Halo") for who in people))
        # Every citizen's greeting is refused at least twice; then Twilio recovers.
        refusals = await asyncio.gather(
            *(twilio.wait_for_count(2, to=who.address, include_failed=True, timeout=10) for who in people)
        )
        twilio.clear_faults()
        refused = [call for calls in refusals for call in calls]
        await desk.world.settled(timeout=15)
        rows = await whatsapp_rows(desk)
    assert {(c.status, c.result["code"]) for c in refused} == {(429, 20429)}
    accepted = [c for c in creates(twilio) if c.ok]
    assert {c.to for c in accepted} == {who.address for who in people}
    # One greeting each: none failed, none went twice, each was refused twice on the way.
    assert len(rows) == len(people)
    assert all(r.status == OutboxStatus.SENT for r in rows), [(r.id, r.status, r.last_error) for r in rows]
    assert Counter(outbox_id(c) for c in accepted) == Counter({r.id: 1 for r in rows})
    assert all(r.attempts >= 3 for r in rows), [(r.id, r.attempts) for r in rows]
    assert not [c for c in telegram.sent_messages(HUMAS_CHAT) if "gagal terkirim" in (c.text or "")]
