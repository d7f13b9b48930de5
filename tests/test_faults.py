"""Faults, in process, on both messengers: the APIs fail for a while, the database goes away,
the same message arrives five times at once. Nothing acknowledged is lost, nothing is duplicated."""

from __future__ import annotations

import asyncio
import html
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import ColumnElement
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, col, func, select

from bot.app import Tuning
from bot.standins.telegram_api import TelegramCall, TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from storage.models import Complaint, InboxEvent, OutboxMessage, OutboxStatus
from tests.channels import CHANNELS, Citizen, Desk, citizen, post_concurrently, running_desk
from tests.conftest import _admin_connection
from tests.harness import DLHK_CHAT, FAST, HUMAS_CHAT, User

# twilio's AsyncTwilioHttpClient may construct aiohttp.BasicAuth elsewhere; ours sends the header itself.
pytestmark = pytest.mark.filterwarnings("ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning")

PATIENT = Tuning(dispatch=replace(FAST.dispatch, max_attempts=7), inbox_poll_seconds=0.05, connect_retry_seconds=0.05)
# Short API timeouts so that a hanging stand-in is a timeout within the test's time.
SHORT_TIMEOUTS = {"telegram": {"timeout_seconds": 0.5}, "whatsapp": {"timeout_seconds": 0.5}}


async def outbox_rows(desk: Desk, who: Citizen) -> list[OutboxMessage]:
    async with desk.world.runtime.sessions() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.channel) == who.channel, col(OutboxMessage.chat_id) == who.address)
            # Taking buttons off old questions is housekeeping, not a message the citizen reads.
            .where(col(OutboxMessage.kind) != "clear_buttons")
            .order_by(col(OutboxMessage.id))
        )
        return list(rows.all())


async def count(desk: Desk, model: type[SQLModel], *where: ColumnElement[bool]) -> int:
    async with desk.world.runtime.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(model).where(*where))).one())


# -- the messenger APIs fail for a while -------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
async def test_429_500_and_timeouts_are_outlasted_and_a_message_that_keeps_failing_is_reported(
    channel: str, database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    async with running_desk(database_url, telegram, twilio, tuning=PATIENT, sections=SHORT_TIMEOUTS) as desk:
        who = citizen(desk, channel)
        who.fail_sends(1, 429, retry_after=1)
        who.fail_sends(2, 500)
        who.hang_sends(1, 3.0)  # longer than the client's 0.5 s timeout
        await who.send("Sampah dibakar warga tiap sore di Baruga, asapnya masuk rumah")
        [first] = await who.replies(1, timeout=15)
        assert "lokasi" in first.lower()
        await walk_to_confirm_rest(who)
        await desk.world.settled(timeout=15)
        received = who.received()
        # Each message arrived exactly once and in order, despite four failed attempts on the first.
        assert len(received) == 4 and len(set(received)) == 4, received
        assert "tercatat dengan nomor" in received[-1]
        rows = await outbox_rows(desk, who)
        assert [r.status for r in rows] == [OutboxStatus.SENT] * 4
        assert rows[0].attempts == 5

        # A message that keeps failing ends marked failed, and humas is told; later ones still go.
        who.fail_sends(None, 500)
        await who.send("/bantuan")
        alert = await desk.world.reply(HUMAS_CHAT, timeout=15)
        # The humas group learns whose message failed by name, never by number or chat id (issue 13, 3).
        assert "gagal terkirim" in alert.text and "Warga1" in alert.text and who.address not in alert.text
        who.clear_faults()
        await who.send("/status")
        [status] = await who.replies(1)
        assert "KDI-0001" in status
        await desk.world.settled()
        rows = await outbox_rows(desk, who)
        failed = [r for r in rows if r.status == OutboxStatus.FAILED]
        assert len(failed) == 1 and failed[0].attempts == PATIENT.dispatch.max_attempts
        assert "gave up" in (failed[0].last_error or "")
        assert all(r.status == OutboxStatus.SENT for r in rows if r is not failed[0])


async def walk_to_confirm_rest(who: Citizen) -> None:
    """After the first answer: skip location, skip photo, confirm."""
    for text in ("lewati", "lewati", "ya"):
        await who.send(text)
        await who.replies(1)


# -- the database is briefly unavailable -----------------------------------------------------------


@asynccontextmanager
async def database_unavailable(database_url: str) -> AsyncIterator[None]:
    """SQLite: another writer holds the lock. PostgreSQL: this database refuses connections."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        assert path
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held as a long migration or backup would
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    name = make_url(database_url).database
    admin = await _admin_connection(os.environ["TEST_DATABASE_URL"])
    try:
        # Not a restart of the shared server: only this test's database goes away, and its sessions die.
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        try:
            yield
        finally:
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()


@pytest.mark.parametrize("channel", CHANNELS)
async def test_an_unavailable_database_answers_503_and_leaves_nothing_half_written(
    channel: str, database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    async with running_desk(
        database_url, telegram, twilio, sections={"database": {"sqlite_busy_timeout_ms": 300}}
    ) as desk:
        who = citizen(desk, channel)
        await who.send("Jalan berlubang besar di depan SD 5 Poasia, bahaya untuk motor")
        await who.replies(1)
        await desk.world.settled()
        before = await count(desk, InboxEvent)

        message = who.message("lewati")
        async with database_unavailable(database_url):
            started = time.monotonic()
            refused = await who.post(message)
            waited = time.monotonic() - started
            health = await desk.world.http.get(desk.world.url + "/healthz")
        assert refused.status_code == 503, (refused.status_code, refused.text, waited)
        assert waited < 5.0
        if not database_url.startswith("sqlite"):
            assert health.status_code == 503  # (SQLite: reads may still pass while another process writes)
            # A status word for whoever asks; the driver's message (host, user, database) stays in the log.
            assert health.json() == {"ok": False, "database": "unavailable"}

        # Nothing of the refused message was kept; the messenger's retry is processed normally.
        assert await count(desk, InboxEvent) == before
        retried = await who.post(message)
        assert retried.status_code == 200, retried.text
        [answer] = await who.replies(1)
        assert "foto" in answer.lower()
        await desk.world.settled()
        assert await count(desk, InboxEvent) == before + 1
        assert await count(desk, InboxEvent, col(InboxEvent.last_error).is_not(None)) == 0


# -- duplicates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
async def test_the_same_message_five_times_at_once_is_processed_once(
    channel: str, database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    async with running_desk(database_url, telegram, twilio) as desk:
        who = citizen(desk, channel)
        first = who.message("Sampah menumpuk di TPS Wua-Wua sudah bau sekali")
        statuses = await post_concurrently(who, first, 5)
        assert statuses == [200] * 5
        await who.replies(1)
        for text in ("lewati", "lewati"):
            await who.send(text)
            await who.replies(1)
        confirm = who.message("ya")
        statuses = await post_concurrently(who, confirm, 5)
        assert statuses == [200] * 5
        [filed] = await who.replies(1)
        assert "tercatat dengan nomor KDI-0001" in filed
        await desk.world.settled()
        assert await count(desk, InboxEvent) == 4
        assert await count(desk, Complaint) == 1
        assert len(who.received()) == 4
        cards = [c for c in desk.telegram.sent_messages() if c.text and "Aduan KDI-0001" in c.text]
        assert len(cards) == 1


# -- an answer to a card whose send was never recorded ------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
async def test_an_answer_to_a_card_copy_the_bot_never_recorded_still_reaches_the_citizen(
    channel: str, database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    # A process that dies between sending a card and recording its message id sends the card again
    # after the restart; staff may answer the first copy, whose id the bot never stored.
    async with running_desk(database_url, telegram, twilio) as desk:
        who = citizen(desk, channel)
        for text in ("Sampah menumpuk di TPS Wua-Wua sudah bau sekali", "lewati", "lewati", "ya"):
            await who.send(text)
            await who.replies(1)
        card = await desk.world.reply(DLHK_CHAT)
        shown = html.unescape(re.sub(r"<[^>]+>", "", card.text or ""))  # what Telegram shows
        lost_copy = TelegramCall("sendMessage", {"chat_id": DLHK_CHAT, "text": shown}, result={"message_id": 999_999})
        staff = User(900_001, "Rahmat")
        await desk.world.send(
            desk.world.message(staff, "Besok pagi truk kami angkut.", chat_id=DLHK_CHAT, reply_to=lost_copy)
        )
        [answer] = await who.replies(1)
        assert "KDI-0001" in answer and "Besok pagi truk kami angkut." in answer
        # A reply to some other message of the bot's is still no answer.
        other = TelegramCall(
            "sendMessage", {"chat_id": DLHK_CHAT, "text": "⏰ Pengingat KDI-0001"}, result={"message_id": 999_998}
        )
        await desk.world.send(desk.world.message(staff, "ok", chat_id=DLHK_CHAT, reply_to=other))
        await desk.world.settled()
        assert len(who.received()) == 5


# -- a send slower than the lease ---------------------------------------------------------------------


async def test_a_send_slower_than_its_lease_keeps_the_lease_and_goes_out_once(
    database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    # A message waiting long (here: a slow Bot API; in life: the rate limiter) must not be taken
    # for abandoned and sent a second time when its lease runs out.
    short_lease = Tuning(
        dispatch=replace(FAST.dispatch, lease=timedelta(seconds=0.6)),
        inbox_poll_seconds=0.05,
        connect_retry_seconds=0.05,
    )
    async with running_desk(database_url, telegram, twilio, tuning=short_lease) as desk:
        who = citizen(desk, "telegram")
        telegram.slow_next(1, seconds=2.0)  # over three leases
        await who.send("Sampah menumpuk di TPS Wua-Wua sudah bau sekali")
        [answer] = await who.replies(1, timeout=10)
        assert "lokasi" in answer.lower()
        await desk.world.settled()
        assert who.received() == [answer]
        [row] = await outbox_rows(desk, who)
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)


async def test_a_message_in_flight_when_the_desk_clock_jumps_goes_out_once(
    database_url: str, telegram: TelegramStandIn, twilio: TwilioStandIn
) -> None:
    # The playground moves the desk's clock by hours to show deadlines passing. Leases count
    # physical time: a jump must not make a message being sent look abandoned and send it twice.
    async with running_desk(database_url, telegram, twilio) as desk:
        who = citizen(desk, "telegram")
        in_flight = telegram.slow_next(1, seconds=1.5)
        await who.send("Sampah menumpuk di TPS Wua-Wua sudah bau sekali")
        await asyncio.wait_for(in_flight.wait(), 10)
        desk.world.clock.advance(timedelta(hours=2))
        [answer] = await who.replies(1, timeout=10)
        await desk.world.settled()
        assert who.received() == [answer]
        [row] = await outbox_rows(desk, who)
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
