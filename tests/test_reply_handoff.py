"""The replies an inbox event queues are claimed in its own transaction and handed to the dispatcher.

A lone reply then needs no claim transaction of its own (on SQLite, a wait behind whatever holds
the one connection): docs/BENCHMARKS.md, "Replies at Telegram's limit". The hand-off claims as
claim_due does, so per-chat order, the group window and the dispatcher's room still hold.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime.dispatcher import DispatchPolicy, OutboxDispatcher
from bot.runtime.inbox_worker import InboxWorker
from handlers.clock import Clock
from handlers.events import ChannelName
from handlers.outgoing import Recipient
from storage import inbox, outbox
from storage.models import InboxEvent, OutboxMessage

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TIMEOUT = 5.0


class Sender:
    """Records what it is asked to send; a test may hold the sends back."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.release = asyncio.Event()
        self.release.set()
        self.changed = asyncio.Event()

    async def send(self, message: OutboxMessage) -> str | None:
        """Send (record) one message once released."""
        await self.release.wait()
        self.sent.append(str(message.payload["text"]))
        self.changed.set()
        return f"m{message.id}"


async def process(session: AsyncSession, event: InboxEvent, _prepared: Any) -> None:
    """Queue the event's replies ((chat, text) pairs in its payload), as a handler would."""
    for chat, text in event.payload["replies"]:
        await outbox.enqueue(session, channel="telegram", chat_id=chat, payload={"text": text}, now=NOW)
    if event.payload.get("fail"):
        raise RuntimeError("handler failed after queueing")


async def store(sessions: async_sessionmaker[AsyncSession], external_id: str, **payload: Any) -> None:
    """Store one inbound event whose payload says what to queue."""
    async with sessions() as session, session.begin():
        await inbox.store_inbound(
            session, channel="telegram", external_id=external_id, chat_key="telegram:1", payload=payload, now=NOW
        )


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """Each outbox row's status, by its text."""
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return {str(row.payload["text"]): row.status for row in rows}


async def until_sent(sender: Sender, count: int) -> None:
    """Wait until the sender has sent `count` messages."""

    async def wait() -> None:
        while len(sender.sent) < count:
            sender.changed.clear()
            await sender.changed.wait()

    await asyncio.wait_for(wait(), TIMEOUT)


async def deliveries() -> int:
    """Wait for the dispatcher's deliveries under way to end (sent and recorded); how many there were."""
    tasks = [t for t in asyncio.all_tasks() if t.get_name().startswith("outbox-")]
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)
    return len(tasks)


def setup(
    sessions: async_sessionmaker[AsyncSession], sender: Sender, policy: DispatchPolicy | None = None
) -> tuple[InboxWorker, OutboxDispatcher, list[int]]:
    """A worker handing over to a dispatcher whose own claim loop never runs; the worker's wake-ups counted."""
    dispatcher = OutboxDispatcher(
        sessions,
        {"telegram": sender},
        Clock(),
        humas=Recipient(ChannelName("telegram"), "-1000"),
        ticket_prefix="KDI",
        policy=policy,
    )
    wakes: list[int] = []
    worker = InboxWorker(
        sessions, process, Clock(), hand_off=dispatcher, after_commit=lambda: wakes.append(1), poll_seconds=60.0
    )
    return worker, dispatcher, wakes


async def test_a_reply_is_sent_without_a_claim_of_the_dispatcher(sessions: async_sessionmaker[AsyncSession]) -> None:
    sender = Sender()
    worker, _dispatcher, wakes = setup(sessions, sender)
    await store(sessions, "e1", replies=[["1", "Aduan Anda tercatat"], ["-200", "kartu"]])
    assert await worker.run_once() == 1
    # The dispatcher's loop never ran: the event's own transaction claimed both (two chats).
    await deliveries()
    assert sorted(sender.sent) == ["Aduan Anda tercatat", "kartu"]
    assert await statuses(sessions) == {"Aduan Anda tercatat": "sent", "kartu": "sent"}
    assert wakes == []  # all handed over: no claim needed


async def test_a_chat_keeps_its_order_and_the_rest_is_left_to_a_claim(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    sender = Sender()
    sender.release.clear()
    worker, _dispatcher, wakes = setup(sessions, sender)
    # An earlier message to chat 2 still waits: the new one to chat 2 must not overtake it.
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, channel="telegram", chat_id="2", payload={"text": "lama"}, now=NOW)
    await store(sessions, "e1", replies=[["1", "satu"], ["1", "dua"], ["2", "baru"]])
    await worker.run_once()
    assert await statuses(sessions) == {"lama": "pending", "satu": "sending", "dua": "pending", "baru": "pending"}
    assert wakes == [1]  # the others are the dispatcher's to claim
    sender.release.set()
    assert await deliveries() == 1 and sender.sent == ["satu"]


async def test_no_room_in_the_dispatcher_no_hand_off(sessions: async_sessionmaker[AsyncSession]) -> None:
    sender = Sender()
    sender.release.clear()
    worker, _dispatcher, wakes = setup(sessions, sender, DispatchPolicy(batch=1))
    await store(sessions, "e1", replies=[["1", "satu"]])
    await store(sessions, "e2", replies=[["2", "dua"]])
    # e2 is of the same inbox chat: processed only after e1; the dispatcher's one place is taken then.
    await worker.run_once()
    await worker.run_once()
    assert await statuses(sessions) == {"satu": "sending", "dua": "pending"}
    assert wakes == [1]
    sender.release.set()
    assert await deliveries() == 1


async def test_a_group_past_its_window_is_not_handed_over(sessions: async_sessionmaker[AsyncSession]) -> None:
    sender = Sender()
    window = outbox.ChatWindow(channel="telegram", chat_prefix="-", max_sent=1, seconds=60.0)
    worker, _dispatcher, wakes = setup(sessions, sender, DispatchPolicy(chat_window=window))
    async with sessions() as session, session.begin():
        row = await outbox.enqueue(session, channel="telegram", chat_id="-200", payload={"text": "kartu 1"}, now=NOW)
        assert row is not None
        await outbox.set_fields(session, outbox_id=row, status="sent", sent_at=Clock().now() - timedelta(seconds=5))
    await store(sessions, "e1", replies=[["-200", "kartu 2"]])
    await worker.run_once()
    assert (await statuses(sessions))["kartu 2"] == "pending"
    assert wakes == [1] and sender.sent == []


async def test_a_failed_event_hands_nothing_over(sessions: async_sessionmaker[AsyncSession]) -> None:
    sender = Sender()
    worker, _dispatcher, _wakes = setup(sessions, sender)
    await store(sessions, "e1", replies=[["1", "tidak jadi"]], fail=True)
    await worker.run_once()
    # Rolled back with the event: nothing queued, nothing handed over.
    assert await statuses(sessions) == {}
    assert await deliveries() == 0 and sender.sent == []


class Claims:
    """Counts the dispatcher's own claims (each a write transaction)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = outbox.claim_due

        async def counted(session: AsyncSession, **kwargs: Any) -> list[OutboxMessage]:
            if kwargs.get("ids") is None:
                self.count += 1
            return await real(session, **kwargs)

        monkeypatch.setattr(outbox, "claim_due", counted)


async def test_a_lone_message_costs_one_claim_and_a_chats_next_follows_at_once(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = Claims(monkeypatch)
    sender = Sender()
    # Polling once a minute: only the bell moves it.
    _worker, dispatcher, _wakes = setup(sessions, sender, DispatchPolicy(poll_seconds=60.0))
    async with sessions() as session, session.begin():
        await outbox.enqueue(session, channel="telegram", chat_id="1", payload={"text": "satu"}, now=NOW)
    task = asyncio.create_task(dispatcher.run())  # its first claim finds the message
    try:
        await until_sent(sender, 1)
        await deliveries()
        # Sending it and recording it made nothing else due: no claim after it (each an empty write).
        assert claims.count == 1
        async with sessions() as session, session.begin():
            for text in ("dua", "tiga"):
                await outbox.enqueue(session, channel="telegram", chat_id="2", payload={"text": text}, now=NOW)
        dispatcher.wake()
        # "tiga" waits for "dua" to be recorded, then is claimed at once (not at the next poll).
        await until_sent(sender, 3)
        assert sender.sent == ["satu", "dua", "tiga"]
    finally:
        dispatcher.close()
        await asyncio.wait_for(task, TIMEOUT)
