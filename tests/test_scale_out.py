"""Two `ehumas run` processes on one PostgreSQL database, the webhooks posted to both in turn:
conversations continue whichever process gets the next message, every message goes out once,
the deadline sweep sends each reminder and teguran once."""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.standins.telegram_api import SEND_METHODS, RateLimits, TelegramCall, TelegramStandIn
from bot.standins.twilio_api import TwilioStandIn
from storage import agencies
from storage.agencies import AgencyConfig
from storage.engine import create_engine, create_session_factory
from storage.migrate import current_head
from storage.models import Complaint, InboxEvent, OutboxMessage, OutboxStatus
from tests.harness import DLHK_CHAT, HUMAS_CHAT, User
from tests.harness_whatsapp import Phone
from tests.procs import BOT_NUMBER, BotProcess, Updates, fleet, send_counts, text_deliveries

pytestmark = pytest.mark.filterwarnings("ignore:.*(BasicAuth|'auth' parameter) is deprecated:DeprecationWarning")

SWEEP_SECONDS = 0.2
ANSWER_WITHIN_SECONDS = 5.0
# The Bot API stand-in enforces flood limits (Telegram's 30 a second; 120 a minute per group
# instead of 20, to keep the test short). Each of the two processes gets half of the per-second
# limit, as the README advises; the per-group one is counted in the shared database. Together they
# must never be answered 429.
LIMITS = RateLimits(per_second=30, per_group_per_minute=120)
SECTIONS = {
    # A deadline of seconds, swept five times a second by each process.
    "sla": {
        "answer_within_hours": ANSWER_WITHIN_SECONDS / 3600,
        "remind_before_hours": 2.5 / 3600,
        "sweep_seconds": SWEEP_SECONDS,
    },
    "telegram": {
        "max_messages_per_second": LIMITS.per_second / 2,
        "max_group_messages_per_minute": float(LIMITS.per_group_per_minute),
    },
}
TELEGRAM_CITIZENS = [
    (User(620_001, "Ani"), "Sampah menumpuk di depan pasar Mandonga sudah tiga hari"),
    (User(620_002, "Budi"), "Jalan berlubang besar di lorong Kancil dekat masjid raya"),
    (User(620_003, "Citra"), "KTP elektronik saya belum jadi sejak empat bulan lalu"),
    (User(620_004, "Dedi"), "Tolong dibantu pak, saya bingung harus lapor kemana soal tetangga"),
]
WHATSAPP_CITIZENS = [
    (Phone("+6281377700001", "Eka"), "Sampah dibuang sembarangan di pinggir kali Wanggu"),
    (Phone("+6281377700002", "Fajar"), "Got mampet di jalan Ahmad Yani tiap hujan banjir"),
]
STAFF = User(900_001, "Rahmat")


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn(rate_limits=LIMITS) as standin:
        yield standin


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioStandIn]:
    async with TwilioStandIn() as standin:
        yield standin


async def test_workers_started_together_prepare_the_database_once(empty_database_url: str) -> None:
    if empty_database_url.startswith("sqlite"):
        pytest.skip("several bot processes need PostgreSQL; SQLite serves one process (README)")
    # Every worker migrates at start-up: three at once on an empty database, as separate processes.
    script = "import sys; from storage.migrate import upgrade; upgrade(sys.argv[1])"
    migrations = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, empty_database_url, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(3)
    ]
    results = await asyncio.gather(*(process.communicate() for process in migrations))
    assert [p.returncode for p in migrations] == [0, 0, 0], [err.decode()[-500:] for _, err in results]
    # Then each syncs the agencies from its settings; the first inserts, the others find the rows.
    configured = [AgencyConfig("DLHK", "Dinas LH", -1), AgencyConfig("PUPR", "Dinas PU", -2)]
    engines = [create_engine(empty_database_url) for _ in range(4)]
    try:

        async def start(engine: AsyncEngine) -> None:
            async with create_session_factory(engine)() as session, session.begin():
                await agencies.sync_agencies(session, agencies=configured)

        await asyncio.gather(*(start(engine) for engine in engines))
        async with create_session_factory(engines[0])() as session:
            rows = await agencies.list_agencies(session)
            connection = await session.connection()
            versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        for engine in engines:
            await engine.dispose()
    assert [(a.code, a.telegram_chat_id) for a in rows] == [("DLHK", -1), ("PUPR", -2)]
    assert [tuple(v) for v in versions] == [(current_head(),)]


def whatsapp_form(phone: Phone, body: str, n: int) -> dict[str, str]:
    sid = f"SM{n:032x}"
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": phone.address,
        "To": BOT_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "ProfileName": phone.name,
        "WaId": phone.number.lstrip("+"),
        "ApiVersion": "2010-04-01",
    }


async def test_two_processes_share_the_desk_and_send_everything_once(
    tmp_path: Path,
    database_url: str,
    telegram: TelegramStandIn,
    twilio: TwilioStandIn,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("several bot processes need PostgreSQL; SQLite serves one process (README)")
    updates = Updates(telegram)
    turn = itertools.count()
    sids = itertools.count(1)

    async with fleet(tmp_path, database_url, telegram, twilio) as bots:
        processes = await bots.start(2, SECTIONS)

        def next_process() -> BotProcess:
            """The reverse proxy's round robin: each post goes to the other process."""
            return processes[next(turn) % len(processes)]

        async def telegram_citizen(user: User, description: str) -> None:
            # Paced like a person: each message after the answer to the previous one.
            for step, text in enumerate((description, "lewati", "lewati", "ya"), start=1):
                response = await next_process().post_telegram(updates.message(user, text))
                assert response.status_code == 200, response.text
                await telegram.wait_for_count(step, chat_id=user.id, timeout=20)

        async def whatsapp_citizen(phone: Phone, description: str) -> None:
            # All at once: the second process must wait for the first to finish the earlier message.
            for text in (description, "lewati", "lewati", "ya"):
                response = await next_process().post_whatsapp(whatsapp_form(phone, text, next(sids)))
                assert response.status_code == 200, response.text
            await twilio.wait_for_count(4, to=phone.address, timeout=20)

        await asyncio.gather(
            *(telegram_citizen(u, d) for u, d in TELEGRAM_CITIZENS),
            *(whatsapp_citizen(p, d) for p, d in WHATSAPP_CITIZENS),
        )
        for user, _ in TELEGRAM_CITIZENS:
            assert "tercatat dengan nomor" in (telegram.sent_messages(user.id)[-1].text or "")
        for phone, _ in WHATSAPP_CITIZENS:
            bodies = [c.body or "" for c in twilio.sent_messages(phone.address)]
            assert "lokasi" in bodies[0].lower() and "tercatat dengan nomor" in bodies[3], bodies

        # DLHK answers Ani's ticket in time, through whichever process gets the reply.
        ani = TELEGRAM_CITIZENS[0][0]
        ticket = (telegram.sent_messages(ani.id)[-1].text or "").split("nomor ", 1)[1].split(".", 1)[0]

        def ani_card(call: TelegramCall) -> bool:
            return call.chat_id == DLHK_CHAT and call.ok and f"Aduan {ticket}</b>" in (call.text or "")

        card = await telegram.wait_for(ani_card, timeout=10)
        response = await next_process().post_telegram(
            updates.message(
                STAFF,
                "Sudah kami jadwalkan, besok diangkut.",
                chat_id=DLHK_CHAT,
                reply_to=(DLHK_CHAT, int(card.message_id or 0), card.text or ""),
            )
        )
        assert response.status_code == 200
        answer = await telegram.wait_for_count(5, chat_id=ani.id, timeout=10)
        assert "besok diangkut" in (answer[-1].text or "")

        # Every other complaint runs late: humas hears of each one, once.
        async with sessions() as session:
            complaints = list((await session.exec(select(Complaint))).all())
        assert len(complaints) == len(TELEGRAM_CITIZENS) + len(WHATSAPP_CITIZENS)
        late = [c for c in complaints if f"-{c.id:04d}" != ticket[-5:]]
        for complaint in late:
            number = f"KDI-{complaint.id:04d}"

            def alert(call: TelegramCall, number: str = number) -> bool:
                return call.chat_id == HUMAS_CHAT and "🚨" in (call.text or "") and number in (call.text or "")

            await telegram.wait_for(alert, timeout=20)
        await bots.settled(timeout=20)
        # Both processes keep sweeping: give them several rounds to (wrongly) send anything again.
        # Absence cannot be awaited; the wait is a few sweep intervals.
        await asyncio.sleep(5 * SWEEP_SECONDS)
        await bots.settled(timeout=20)

        async with sessions() as session:
            rows = list((await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())
            events = list((await session.exec(select(InboxEvent))).all())

    assert all(e.processed_at is not None and e.last_error is None for e in events)
    assert [str(c) for c in telegram.calls if c.method in SEND_METHODS and c.status == 429] == []
    assert all(row.status == OutboxStatus.SENT for row in rows), [(r.id, r.status, r.last_error) for r in rows]
    purposes = [row.purpose for row in rows]
    assert purposes.count("teguran") == sum(1 for c in late if c.opd_code is not None)
    # Humas hears of each late ticket once, in the summary of the sweep that claimed it.
    alerts = [row.payload["text"] for row in rows if row.purpose == "overdue_alert"]
    assert 1 <= len(alerts) <= len(late)
    named = sorted(number for text in alerts for number in re.findall(r"• (KDI-\d{4}) ·", text))
    assert named == sorted(f"KDI-{c.id:04d}" for c in late)
    assert purposes.count("reminder") >= 1
    # Telegram: the Bot API saw each outbox row exactly once, and nothing that is not an outbox row.
    counts = send_counts(telegram)
    deliveries = text_deliveries(rows)
    assert {(d.chat_id, d.text): 1 for d in deliveries} == counts
    # WhatsApp: the same for Twilio.
    sent = [(c.to, c.body) for c in twilio.sent_messages()]
    expected = [(row.chat_id, row.payload["text"]) for row in rows if row.channel == "whatsapp" and row.kind == "text"]
    assert sorted(sent) == sorted(expected)
