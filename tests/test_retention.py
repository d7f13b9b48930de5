"""Retention (issue 13, point 14): what is removed when, once a day across processes; the records stay."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime.retention import purge_once
from bot.standins.telegram_api import TelegramStandIn
from handlers import retention
from handlers.clock import Clock
from storage import audit, citizens, complaints, inbox, media, outbox
from storage import reports as report_queries
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade_async
from storage.models import AuditLog, Citizen, Complaint, ComplaintStatus, InboxEvent, Media, OutboxMessage, OutboxStatus
from tests.conftest import ROOT
from tests.harness import User, example_data, running_bot, settings_for
from tests.test_config import _dump

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = retention.RetentionPolicy()


async def statistics_of(session: AsyncSession) -> tuple[object, ...]:
    """What the desk's statistics read: each agency's verdicts, the ratings, the categories."""
    return (
        await report_queries.verdict_counts(session, since=None),
        await report_queries.rating_sums(session, since=None),
        await report_queries.category_counts(session, since=None),
    )


async def _complaint(
    session: AsyncSession, *, status: str, closed_days: int | None, photos: list[dict[str, str]]
) -> int:
    citizen = await citizens.touch_citizen(
        session,
        channel="whatsapp",
        address=f"whatsapp:+62812{len(photos)}{status}",
        display_name="Ani",
        handle="ani_kdi",
        now=NOW,
    )
    assert citizen.id is not None
    complaint = await complaints.create_complaint(
        session,
        citizen_id=citizen.id,
        description="sampah menumpuk",
        opd_code=None,
        category=None,
        confidence=0.0,
        now=NOW - 500 * DAY,
        due_at=NOW - 499 * DAY,
        media=photos,
    )
    complaint.status = status
    complaint.closed_at = None if closed_days is None else NOW - closed_days * DAY
    session.add(complaint)
    assert complaint.id is not None
    return complaint.id


def _photo(key: str) -> dict[str, str]:
    return {"kind": "photo", "source": "media", "ref": key, "content_type": "image/jpeg"}


async def _store(session: AsyncSession, key: str, age_days: int) -> None:
    await media.save_media(
        session, key=key, content_type="image/jpeg", data=b"\xff\xd8" + key.encode(), now=NOW - age_days * DAY
    )


async def _inbox(session: AsyncSession, external_id: str, age_days: int, *, processed: bool = True) -> None:
    event_id = await inbox.store_inbound(
        session,
        channel="whatsapp",
        external_id=external_id,
        chat_key="whatsapp:whatsapp:+6281234567890",
        payload={"From": "whatsapp:+6281234567890", "Body": "nama saya Ani", "ProfileName": "Ani"},
        now=NOW - age_days * DAY,
    )
    event = await session.get(InboxEvent, event_id)
    assert event is not None
    if processed:
        event.processed_at = NOW - age_days * DAY
    event.last_error = "whatsapp:+6281234567890 failed once" if processed else None
    session.add(event)


async def _outbox(session: AsyncSession, age_days: int, status: str, purpose: str = "answer") -> None:
    row_id = await outbox.enqueue(
        session,
        channel="whatsapp",
        chat_id="whatsapp:+6281234567890",
        payload={"text": "hai Ani"},
        now=NOW - age_days * DAY,
        purpose=purpose,
    )
    row = await session.get(OutboxMessage, row_id)
    assert row is not None
    row.status = status
    session.add(row)


async def _world(session: AsyncSession) -> dict[str, int]:
    ids = {
        "closed_old": await _complaint(
            session,
            status=ComplaintStatus.CLOSED,
            closed_days=400,
            photos=[_photo("closed-old"), {"kind": "photo", "source": "telegram", "ref": "AgAD-file-id"}],
        ),
        "closed_recent": await _complaint(
            session, status=ComplaintStatus.CLOSED, closed_days=30, photos=[_photo("closed-new")]
        ),
        "open_old": await _complaint(
            session, status=ComplaintStatus.OPEN, closed_days=None, photos=[_photo("open-old")]
        ),
    }
    for key, age in (
        ("closed-old", 400),
        ("closed-new", 400),
        ("open-old", 400),
        ("orphan-old", 400),
        ("orphan-new", 5),
    ):
        await _store(session, key, age)
    for external_id, age, processed in (
        ("old", 40, True),
        ("new", 5, True),
        ("waiting", 40, False),
        ("ancient", 400, True),
    ):
        await _inbox(session, external_id, age, processed=processed)
    for age, status, purpose in (
        (100, OutboxStatus.SENT, "answer"),
        (100, OutboxStatus.FAILED, "answer"),
        (10, OutboxStatus.SENT, "answer"),
        (100, OutboxStatus.PENDING, "answer"),
        (100, OutboxStatus.HELD, "answer"),
        (0, OutboxStatus.SENT, retention.FORGOTTEN_PURPOSE),
        (0, OutboxStatus.PENDING, retention.FORGOTTEN_PURPOSE),
    ):
        await _outbox(session, age, status, purpose)
    await audit.log_action(session, actor="humas", action="view", target="KDI-0001", now=NOW - 800 * DAY)
    await audit.log_action(session, actor="humas", action="view", target="KDI-0002", now=NOW - 10 * DAY)
    return ids


async def _snapshot(session: AsyncSession) -> dict[str, Any]:
    events = {e.external_id: e for e in (await session.exec(select(InboxEvent))).all()}
    return {
        "inbox": {k: (e.payload, e.chat_key, e.last_error) for k, e in sorted(events.items())},
        "outbox": sorted(
            (r.created_at, r.status, r.purpose) for r in (await session.exec(select(OutboxMessage))).all()
        ),
        "media": sorted((await session.exec(select(Media.key))).all()),
        "complaints": sorted((c.id, c.status, len(c.media)) for c in (await session.exec(select(Complaint))).all()),
        "audit": sorted((await session.exec(select(AuditLog.target))).all()),
    }


async def test_14_old_data_goes_the_records_and_statistics_stay(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        ids = await _world(session)
    async with sessions() as session:
        before = await _snapshot(session)
        stats_before = sorted(map(repr, await statistics_of(session)))

    # A dry run counts and changes nothing.
    async with sessions() as session, session.begin():
        dry = await retention.purge(session, POLICY, now=NOW, dry_run=True)
    async with sessions() as session:
        assert await _snapshot(session) == before

    async with sessions() as session, session.begin():
        report = await retention.purge(session, POLICY, now=NOW)
    assert report == dry
    assert report == retention.PurgeReport(
        inbox_payloads_stripped=2,  # "old" and "ancient" (processed, past 30 days)
        inbox_rows_deleted=1,  # "ancient" (past 365 days)
        outbox_rows_deleted=3,  # sent and failed past 90 days, and the sent "forgotten" notice
        complaints_photos_dropped=1,
        stored_photos_deleted=2,  # the closed complaint's and the old orphan
        audit_rows_deleted=1,
    )
    async with sessions() as session:
        after = await _snapshot(session)
        assert sorted(map(repr, await statistics_of(session))) == stats_before
        closed = await complaints.get_complaint(session, complaint_id=ids["closed_old"])
    assert after["inbox"] == {
        "new": before["inbox"]["new"],
        "old": ({}, "whatsapp:-", None),
        "waiting": before["inbox"]["waiting"],  # not processed yet: untouched
    }
    assert after["media"] == ["closed-new", "open-old", "orphan-new"]
    assert closed is not None and closed.media == [] and closed.description == "sampah menumpuk"
    assert len(after["outbox"]) == 4 and all(
        s != OutboxStatus.SENT or age > NOW - 90 * DAY for age, s, _ in after["outbox"]
    )
    assert after["audit"] == ["KDI-0002"]

    # Again: nothing more to do.
    async with sessions() as session, session.begin():
        assert (await retention.purge(session, POLICY, now=NOW)).total == 0


async def test_14_the_daily_purge_runs_once_a_day_whoever_asks(sessions: async_sessionmaker[AsyncSession]) -> None:
    async def daily(now: datetime) -> retention.PurgeReport | None:
        async with sessions() as session, session.begin():
            return await retention.daily(session, POLICY, now=now)

    first = await asyncio.gather(*(daily(NOW) for _ in range(4)))
    assert sum(r is not None for r in first) == 1
    assert await daily(NOW + timedelta(hours=23)) is None
    assert await daily(NOW + DAY) is not None


async def test_14_a_redelivery_after_the_payload_is_stripped_changes_nothing(
    database_url: str, telegram: TelegramStandIn
) -> None:
    async with running_bot(settings_for(database_url, telegram), telegram) as world:
        budi = User(434343, "Budi")
        update = world.message(budi, "/start")
        await world.send(update)
        await world.reply(budi.id)
        await world.settled()
        # Telegram redelivers after the reply went out: the processed event is not opened again.
        await world.send(update)
        await world.settled()
        assert len(world.telegram.sent_messages(budi.id)) == 1
        # Nor once retention has emptied it.
        async with world.runtime.sessions() as session, session.begin():
            report = await retention.purge(session, POLICY, now=world.clock.now() + 31 * DAY)
        assert report.inbox_payloads_stripped == 1
        await world.send(update)
        await world.settled()
        assert len(world.telegram.sent_messages(budi.id)) == 1
        async with world.runtime.sessions() as session:
            assert int((await session.exec(select(func.count()).select_from(InboxEvent))).one()) == 1


def test_14_ehumas_purge_from_the_shell(tmp_path: Path) -> None:
    data = example_data()
    data["database"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'purge.db'}"
    path = tmp_path / "config.toml"
    path.write_text(_dump(data), encoding="utf-8")

    def ehumas(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
        )

    assert ehumas("db", "upgrade", "--config", str(path)).returncode == 0
    dry = ehumas("purge", "--config", str(path), "--dry-run")
    assert dry.returncode == 0 and "dry run" in dry.stdout and "inbox payloads stripped: 0" in dry.stdout, dry.stderr
    done = ehumas("purge", "--config", str(path))
    assert done.returncode == 0 and "Removed:" in done.stdout


def test_14_the_retention_settings_are_documented_with_their_defaults() -> None:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    policy = retention.RetentionPolicy()
    for name in ("inbox_payload_days", "inbox_days", "outbox_days", "photo_days", "audit_days"):
        assert f"{name} = {getattr(policy, name)}\n" in example
    with pytest.raises(ValueError, match="inbox_payload_days"):
        from bot.config import RetentionSection

        RetentionSection(inbox_payload_days=400, inbox_days=365)


async def test_15_ehumas_forget_from_the_shell(tmp_path: Path) -> None:
    data = example_data()
    url = f"sqlite+aiosqlite:///{tmp_path / 'forget.db'}"
    data["database"]["url"] = url
    path = tmp_path / "config.toml"
    path.write_text(_dump(data), encoding="utf-8")
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            complaint_id = await _complaint(
                session, status=ComplaintStatus.OPEN, closed_days=None, photos=[_photo("k")]
            )
            await _store(session, "k", 1)

        def ehumas(*args: str) -> subprocess.CompletedProcess[str]:
            command = [sys.executable, "-m", "bot", "forget", "--config", str(path), *args]
            return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)

        asked = await asyncio.to_thread(ehumas, "--citizen", f"KDI-{complaint_id:04d}")
        assert asked.returncode == 0 and "--yes" in asked.stdout, asked.stderr
        async with sessions() as session:
            assert len((await session.exec(select(Media))).all()) == 1
        done = await asyncio.to_thread(ehumas, "--citizen", "whatsapp:+628121open", "--yes")
        assert done.returncode == 0 and "Forgotten" in done.stdout, (done.stdout, done.stderr)
        async with sessions() as session:
            citizen = (await session.exec(select(Citizen))).one()
            notice = (await session.exec(select(OutboxMessage))).one()
            entry = (await session.exec(select(AuditLog))).one()
            assert (await session.exec(select(Media))).all() == []
        assert citizen.address.startswith("forgotten:") and citizen.display_name == "" and citizen.handle == ""
        # Queued for the running bot to send, to the address it had.
        assert notice.chat_id == "whatsapp:+628121open" and notice.purpose == retention.FORGOTTEN_PURPOSE
        assert entry.action == "forget" and entry.actor.startswith("shell (")
        again = await asyncio.to_thread(ehumas, "--citizen", f"KDI-{complaint_id:04d}", "--yes")
        assert "forgotten already" in again.stdout
    finally:
        await engine.dispose()


async def test_14_the_runtime_loop_step_purges_once_a_day(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = Clock()
    reports = await asyncio.gather(*(purge_once(sessions, POLICY, clock) for _ in range(3)))
    assert sum(r is not None for r in reports) == 1
    clock.advance(DAY)
    assert await purge_once(sessions, POLICY, clock) is not None
