"""Storage: migrations, tickets, dedup, the outbox queue and time handling, on each backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, bindparam, event, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import agencies, citizens, complaints, conversations, delivery, inbox, outbox
from storage.agencies import AgencyConfig
from storage.engine import create_engine, create_session_factory
from storage.migrate import current_head, upgrade_async
from storage.models import Complaint, InboxEvent, OutboxMessage, OutboxStatus
from storage.tickets import format_ticket, parse_ticket

T0 = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
EXPECTED_TABLES = {
    "agency",
    "audit_log",
    "citizen",
    "complaint",
    "complaint_event",
    "complaint_message",
    "conversation",
    "inbox_event",
    "media",
    "outbox",
    "routing_correction",
}


async def test_migrations_create_the_schema_from_empty(empty_database_url: str) -> None:
    await upgrade_async(empty_database_url)
    # Running them again on an up-to-date database is harmless (every `make run` does it).
    await upgrade_async(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            indexes = await conn.run_sync(lambda c: {i["name"] for i in inspect(c).get_indexes("complaint")})
    finally:
        await engine.dispose()
    assert EXPECTED_TABLES <= tables
    assert version == current_head()
    assert {"ix_complaint_status_due", "ix_complaint_opd_status", "ix_complaint_citizen_status"} <= indexes


async def test_the_migrations_build_exactly_what_the_models_describe(database_url: str) -> None:
    # A column added to a model without a migration would work in no deployed database.
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), SQLModel.metadata
                )
            )
    finally:
        await engine.dispose()
    assert differences == []


def test_ticket_numbers_are_padded_and_parsed() -> None:
    assert format_ticket("KDI", 42) == "KDI-0042"
    assert format_ticket("KDI", 123456) == "KDI-123456"
    assert parse_ticket("KDI", "KDI-0042") == 42
    assert parse_ticket("KDI", "#kdi-42") == 42
    assert parse_ticket("KDI", "ABC-0042") is None
    assert parse_ticket("KDI", "KDI-0000") is None
    assert parse_ticket("KDI", "KDI-") is None


async def _citizen(session: AsyncSession, address: str = "1001") -> int:
    citizen = await citizens.touch_citizen(session, channel="telegram", address=address, display_name="Budi", now=T0)
    await session.flush()
    assert citizen.id is not None
    return citizen.id


async def test_ticket_numbers_come_from_the_database(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await agencies.sync_agencies(session, agencies=[AgencyConfig("DLHK", "Dinas LH", -100)])
        citizen_id = await _citizen(session)
        first = await complaints.create_complaint(
            session,
            citizen_id=citizen_id,
            description="sampah",
            opd_code="DLHK",
            category="sampah",
            confidence=0.9,
            now=T0,
            due_at=T0 + timedelta(hours=24),
        )
        second = await complaints.create_complaint(
            session,
            citizen_id=citizen_id,
            description="lagi",
            opd_code=None,
            category=None,
            confidence=0.0,
            now=T0,
            due_at=T0 + timedelta(hours=24),
        )
    assert first.id is not None and second.id == first.id + 1
    async with sessions() as session:
        loaded = await complaints.get_complaint(session, complaint_id=first.id)
        assert loaded is not None
        # Times come back timezone-aware UTC on both backends.
        assert loaded.due_at == T0 + timedelta(hours=24)
        assert loaded.due_at.tzinfo is not None
        mine = await complaints.complaints_of_citizen(session, citizen_id=citizen_id)
        assert [c.id for c in mine] == [second.id, first.id]


async def test_naive_datetimes_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    # The column type's own ValueError, as SQLAlchemy reports a bind parameter it could not process:
    # not any exception (a typo in the test would pass as well).
    with pytest.raises(StatementError, match="naive datetime") as refused:
        async with sessions() as session, session.begin():
            citizen_id = await _citizen(session)
            session.add(Complaint(citizen_id=citizen_id, description="x", created_at=datetime(2026, 1, 1), due_at=T0))
            await session.flush()
    assert isinstance(refused.value.orig, ValueError)


async def test_an_unknown_agency_code_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            citizen_id = await _citizen(session)
            await complaints.create_complaint(
                session,
                citizen_id=citizen_id,
                description="x",
                opd_code="NOPE",
                category=None,
                confidence=0.0,
                now=T0,
                due_at=T0,
            )


async def test_agency_sync_follows_the_settings(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await agencies.sync_agencies(
            session, agencies=[AgencyConfig("DLHK", "Dinas LH", -1), AgencyConfig("PUPR", "Dinas PU", -2)]
        )
    # Two agencies swap groups and one leaves: a single sync applies it.
    async with sessions() as session, session.begin():
        await agencies.sync_agencies(session, agencies=[AgencyConfig("PUPR", "Dinas PUPR", -1)])
    async with sessions() as session:
        active = await agencies.list_agencies(session)
        everything = await agencies.list_agencies(session, active_only=False)
    assert [(a.code, a.name, a.telegram_chat_id) for a in active] == [("PUPR", "Dinas PUPR", -1)]
    assert {a.code for a in everything} == {"DLHK", "PUPR"}


async def test_a_citizen_is_one_row_per_address(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        first = await _citizen(session, "777")
        again = await _citizen(session, "777")
        other = await _citizen(session, "778")
    assert first == again != other


async def test_touching_a_citizen_is_one_statement_that_keeps_what_it_should(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    t1 = T0 + timedelta(hours=1)
    async with sessions() as session, session.begin():
        made = await citizens.touch_citizen(
            session, channel="telegram", address="900", display_name="Budi", handle="budi", now=T0
        )
        made.reachable = False  # blocked us meanwhile (flushed before the next touch)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    async with sessions() as session, session.begin():
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            # No name this time (a name is kept), no handle (the handle is gone), writing again.
            again = await citizens.touch_citizen(
                session, channel="telegram", address="900", display_name="", handle="", now=t1
            )
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert again.id == made.id and again.created_at == T0
    assert (again.display_name, again.handle, again.reachable, again.last_inbound_at) == ("Budi", "", True, t1)
    async with sessions() as session:
        stored = await citizens.find_citizen(session, channel="telegram", address="900")
        assert stored is not None and (stored.display_name, stored.reachable, stored.last_inbound_at) == (
            "Budi",
            True,
            t1,
        )


async def test_a_redelivered_inbound_is_stored_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        first = await inbox.store_inbound(
            session, channel="telegram", external_id="500", chat_key="telegram:1", payload={"a": 1}, now=T0
        )
        again = await inbox.store_inbound(
            session, channel="telegram", external_id="500", chat_key="telegram:1", payload={"a": 2}, now=T0
        )
        other_channel = await inbox.store_inbound(
            session, channel="whatsapp", external_id="500", chat_key="whatsapp:1", payload={}, now=T0
        )
    assert first is not None and again is None and other_channel is not None


async def test_inbox_events_of_one_chat_wait_for_the_earlier_one(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        stored = [
            await inbox.store_inbound(session, channel="telegram", external_id=str(n), chat_key=key, payload={}, now=T0)
            for n, key in enumerate(["a", "a", "b"])
        ]
    ids = [event_id for event_id in stored if event_id is not None]
    assert len(ids) == 3
    async with sessions() as session:
        assert await inbox.ready_event_ids(session) == [ids[0], ids[2]]
    async with sessions() as session, session.begin():
        event = await inbox.claim_event(session, event_id=ids[0])
        assert event is not None
        await inbox.mark_processed(session, event=event, now=T0)
    async with sessions() as session, session.begin():
        # Already processed: a second worker gets nothing.
        assert await inbox.claim_event(session, event_id=ids[0]) is None
        assert await inbox.ready_event_ids(session) == [ids[1], ids[2]]


async def test_claiming_an_event_is_one_statement_that_returns_it_fresh(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        event_id = await inbox.store_inbound(
            session, channel="telegram", external_id="7", chat_key="a", payload={"update_id": 7}, now=T0
        )
    assert event_id is not None
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    async with sessions() as session, session.begin():
        loaded = await session.get(InboxEvent, event_id)  # the session already holds it, unclaimed
        assert loaded is not None and loaded.attempts == 0
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            claimed = await inbox.claim_event(session, event_id=event_id)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert claimed is loaded and claimed.attempts == 1 and claimed.payload == {"update_id": 7}


async def test_a_failing_inbox_event_is_set_aside_after_a_few_tries(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        event_id = await inbox.store_inbound(
            session, channel="telegram", external_id="9", chat_key="a", payload={}, now=T0
        )
    assert event_id is not None
    outcomes = []
    for _ in range(inbox.MAX_ATTEMPTS):
        async with sessions() as session, session.begin():
            outcomes.append(await inbox.record_failure(session, event_id=event_id, error="boom", now=T0))
    assert outcomes == [False] * (inbox.MAX_ATTEMPTS - 1) + [True]
    async with sessions() as session:
        assert await inbox.ready_event_ids(session) == []


async def test_outbox_sends_each_chat_in_order_and_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        a1 = await outbox.enqueue(session, channel="telegram", chat_id=1, payload={"text": "a1"}, now=T0)
        a2 = await outbox.enqueue(session, channel="telegram", chat_id=1, payload={"text": "a2"}, now=T0)
        b1 = await outbox.enqueue(session, channel="telegram", chat_id=2, payload={"text": "b1"}, now=T0)
    assert a1 is not None and b1 is not None
    lease = timedelta(seconds=30)
    async with sessions() as session, session.begin():
        first = await outbox.claim_due(session, now=T0, lease=lease)
    assert [m.id for m in first] == [a1, b1]
    async with sessions() as session, session.begin():
        # Claimed rows are leased: nothing more is due yet (a2 waits behind a1).
        assert await outbox.claim_due(session, now=T0, lease=lease) == []
        assert await outbox.mark_sent(session, outbox_id=a1, attempt=1, provider_message_id="77", now=T0)
        await outbox.mark_retry(session, outbox_id=b1, error="429", retry_at=T0 + timedelta(seconds=5))
    async with sessions() as session, session.begin():
        assert [m.id for m in await outbox.claim_due(session, now=T0, lease=lease)] == [a2]
    async with sessions() as session, session.begin():
        later = await outbox.claim_due(session, now=T0 + timedelta(seconds=6), lease=lease)
        assert [(m.id, m.attempts) for m in later] == [(b1, 2)]
        assert (
            await outbox.complaint_for_sent_message(session, channel="telegram", chat_id=1, provider_message_id="77")
            is None
        )


async def test_a_failure_reported_before_the_send_is_recorded_is_not_hidden_by_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        row = await outbox.enqueue(session, channel="whatsapp", chat_id="w:1", payload={"text": "x"}, now=T0)
        assert row is not None
        (claimed,) = await outbox.claim_due(session, now=T0, lease=timedelta(seconds=30))
    # The messenger accepted part 1 and reports it undelivered while the sender is still at work.
    async with sessions() as session, session.begin():
        await outbox.record_parts_sent(session, outbox_id=row, attempt=claimed.attempts, parts=1)

        async def report() -> OutboxMessage | None:
            return await delivery.take_back_undelivered(
                session,
                outbox_id=row,
                attempt=claimed.attempts,
                provider_message_id="SM1",
                status="undelivered",
                error="63005",
                wall=T0,
                lease=timedelta(seconds=30),
                part=1,
            )

        assert await report() is not None
        # The same report again, while the first is being acted on, is not taken twice.
        assert await report() is None
        await delivery.requeue(session, outbox_id=row, retry_at=T0 + timedelta(seconds=5))
    # The sender's late bookkeeping of that attempt changes nothing: the retry resends part 1.
    async with sessions() as session, session.begin():
        await outbox.record_parts_sent(session, outbox_id=row, attempt=claimed.attempts, parts=2)
        assert not await outbox.mark_sent(
            session, outbox_id=row, attempt=claimed.attempts, provider_message_id="SM2", now=T0
        )
    async with sessions() as session:
        stored = await session.get(OutboxMessage, row)
        assert stored is not None
        assert (stored.status, stored.parts_sent, stored.provider_message_id) == (OutboxStatus.PENDING, 0, None)
    async with sessions() as session, session.begin():
        (retry,) = await outbox.claim_due(session, now=T0 + timedelta(seconds=5), lease=timedelta(seconds=30))
        assert retry.attempts == claimed.attempts + 1


async def test_an_abandoned_lease_is_taken_over(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        row = await outbox.enqueue(session, channel="telegram", chat_id=1, payload={"text": "x"}, now=T0)
        assert [m.id for m in await outbox.claim_due(session, now=T0, lease=timedelta(seconds=30))] == [row]
    async with sessions() as session, session.begin():
        retaken = await outbox.claim_due(session, now=T0 + timedelta(seconds=31), lease=timedelta(seconds=30))
    assert [m.id for m in retaken] == [row]


async def test_a_dedup_key_makes_a_message_once_only(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        first = await outbox.enqueue(session, channel="telegram", chat_id=1, payload={}, now=T0, dedup_key="reminder:1")
        second = await outbox.enqueue(
            session, channel="telegram", chat_id=1, payload={}, now=T0, dedup_key="reminder:1"
        )
    assert first is not None and second is None
    async with sessions() as session:
        assert await outbox.pending_count(session) == 1


async def test_two_dispatchers_never_claim_the_same_row(engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    async with sessions() as session, session.begin():
        for chat in range(40):
            await outbox.enqueue(session, channel="telegram", chat_id=chat, payload={}, now=T0)

    async def claim() -> list[int]:
        taken: list[int] = []
        while True:
            async with sessions() as session, session.begin():
                rows = await outbox.claim_due(session, now=T0, lease=timedelta(minutes=1), limit=3)
            if not rows:
                return taken
            taken.extend(m.id for m in rows if m.id is not None)

    first, second = await asyncio.gather(claim(), claim())
    assert not set(first) & set(second)
    assert len(first) + len(second) == 40


async def test_conversations_expire(sessions: async_sessionmaker[AsyncSession]) -> None:
    ttl = timedelta(minutes=10)
    async with sessions() as session, session.begin():
        await conversations.save_conversation(
            session, channel="telegram", chat_id="5", step="location", data={"d": "x"}, now=T0, ttl=ttl
        )
    async with sessions() as session, session.begin():
        live = await conversations.load_conversation(session, channel="telegram", chat_id="5", now=T0 + ttl / 2)
        assert live is not None and live.step == "location" and live.data == {"d": "x"}
    async with sessions() as session, session.begin():
        gone = await conversations.load_conversation(session, channel="telegram", chat_id="5", now=T0 + ttl)
        assert gone is None


async def test_photos_filed_before_0006_learn_their_source(empty_database_url: str) -> None:
    # Cards and /lihat resend a complaint's photos by their source; older rows had none.
    await upgrade_async(empty_database_url, "0005")
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as conn:
            for n, channel in ((1, "telegram"), (2, "whatsapp")):
                await conn.execute(
                    text(
                        "INSERT INTO citizen (id, channel, address, display_name, created_at, reachable) "
                        "VALUES (:n, :channel, :address, 'Ani', :at, true)"
                    ),
                    {"n": n, "channel": channel, "address": f"chat-{n}", "at": T0},
                )
                await conn.execute(
                    text(
                        "INSERT INTO complaint (id, citizen_id, description, media, status, confidence, reroute_count, "
                        "created_at, due_at) "
                        "VALUES (:n, :n, 'x', :media, 'open', 0.0, 0, :at, :at)"
                    ).bindparams(bindparam("media", type_=JSON)),
                    {"n": n, "media": [{"kind": "photo", "ref": f"ref-{n}"}], "at": T0},
                )
    finally:
        await engine.dispose()
    await upgrade_async(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with create_session_factory(engine)() as session:
            rows = {c.id: c.media for c in (await session.exec(select(Complaint))).all()}
    finally:
        await engine.dispose()
    assert rows == {
        1: [{"kind": "photo", "ref": "ref-1", "source": "telegram"}],
        2: [{"kind": "photo", "ref": "ref-2", "source": "media"}],
    }
