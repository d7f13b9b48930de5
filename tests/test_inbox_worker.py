"""The inbox worker: a slow prepare step holds up only its own chat; each chat keeps its order."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime.inbox_worker import InboxWorker
from handlers.clock import Clock
from storage import inbox
from storage.models import InboxEvent

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TIMEOUT = 5.0


class Desk:
    """A prepare step and a processor that record what they saw; a test may hold or fail a prepare."""

    def __init__(self) -> None:
        self.prepared: list[str] = []  # external ids whose prepare started, in order
        self.cancelled: list[str] = []
        self.processed: list[str] = []
        self.failing: dict[str, int] = {}  # external id -> prepares that fail first
        self._holds: dict[str, asyncio.Event] = {}
        self._started: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._done: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def hold(self, external_id: str) -> asyncio.Event:
        """Make the event's prepare wait until the returned event is set."""
        return self._holds.setdefault(external_id, asyncio.Event())

    async def prepare(self, event: InboxEvent) -> str:
        """The prepare step (a stand-in for a photo download)."""
        self.prepared.append(event.external_id)
        self._started[event.external_id].set()
        try:
            if (release := self._holds.get(event.external_id)) is not None:
                await release.wait()
        except asyncio.CancelledError:
            self.cancelled.append(event.external_id)
            raise
        if self.failing.get(event.external_id, 0) > 0:
            self.failing[event.external_id] -= 1
            raise RuntimeError("download failed")
        return f"prepared {event.external_id}"

    async def process(self, session: AsyncSession, event: InboxEvent, prepared: Any) -> None:
        """The processor: requires the event's own prepare result."""
        assert prepared == f"prepared {event.external_id}"
        self.processed.append(event.external_id)
        self._done[event.external_id].set()

    async def started(self, external_id: str) -> None:
        """Wait until the event's prepare has started."""
        await asyncio.wait_for(self._started[external_id].wait(), TIMEOUT)

    async def done(self, external_id: str) -> None:
        """Wait until the event has been processed."""
        await asyncio.wait_for(self._done[external_id].wait(), TIMEOUT)


def worker_for(sessions: async_sessionmaker[AsyncSession], desk: Desk, **kwargs: Any) -> InboxWorker:
    # A poll far longer than any test: whatever happens must be driven by wake-ups, not by the timer.
    return InboxWorker(sessions, desk.process, Clock(), prepare=desk.prepare, poll_seconds=60.0, **kwargs)


async def store(sessions: async_sessionmaker[AsyncSession], *events: tuple[str, str]) -> list[int]:
    """Store (external id, chat) events in order; return their ids."""
    ids = []
    async with sessions() as session, session.begin():
        for external_id, chat in events:
            event_id = await inbox.store_inbound(
                session, channel="telegram", external_id=external_id, chat_key=f"telegram:{chat}", payload={}, now=NOW
            )
            assert event_id is not None
            ids.append(event_id)
    return ids


def prepare_tasks() -> list[asyncio.Task[Any]]:
    """The worker's prepare tasks still running."""
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("inbox-prepare-") and not t.done()]


@asynccontextmanager
async def running(worker: InboxWorker) -> AsyncIterator[None]:
    """Run the worker's loop; on leaving, close it and require a clean end."""
    worker.ready.set()
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        worker.close()
        await asyncio.wait_for(task, TIMEOUT)
    assert prepare_tasks() == []  # nothing left running behind the worker


async def test_a_slow_prepare_holds_up_only_its_own_chat_which_keeps_its_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    desk = Desk()
    release = desk.hold("a1")
    await store(sessions, ("a1", "a"), ("a2", "a"), ("b1", "b"))
    worker = worker_for(sessions, desk)
    async with running(worker):
        await desk.done("b1")
        # A chat that writes later goes through as well, so the worker has looked at the inbox again:
        # a2 is still not even prepared, since it is not ready before a1 is processed.
        await store(sessions, ("c1", "c"))
        worker.wake()
        await desk.done("c1")
        assert desk.processed == ["b1", "c1"] and "a2" not in desk.prepared
        release.set()
        await desk.done("a2")
    assert desk.processed == ["b1", "c1", "a1", "a2"]


async def test_closing_cancels_a_hanging_prepare_and_the_event_waits_for_the_next_start(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    desk = Desk()
    desk.hold("a1")  # never released
    await store(sessions, ("a1", "a"))
    async with running(worker_for(sessions, desk)):
        await desk.started("a1")
    assert desk.cancelled == ["a1"] and desk.processed == []
    async with sessions() as session:
        assert await inbox.count_unprocessed(session) == 1

    restarted = Desk()
    async with running(worker_for(sessions, restarted)):
        await restarted.done("a1")


async def test_a_failed_prepare_fails_its_event_which_is_tried_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    desk = Desk()
    desk.failing["a1"] = 1
    [event_id] = await store(sessions, ("a1", "a"))
    async with running(worker_for(sessions, desk)):
        await desk.done("a1")
    assert desk.prepared == ["a1", "a1"]
    async with sessions() as session:
        event = await session.get(InboxEvent, event_id)
        assert event is not None and event.processed_at is not None
        assert event.attempts == 2 and event.last_error == "RuntimeError: download failed"


async def test_only_a_few_prepares_run_at_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    desk = Desk()
    releases = [desk.hold(name) for name in ("a1", "b1", "c1")]
    ids = await store(sessions, ("a1", "a"), ("b1", "b"), ("c1", "c"))
    worker = worker_for(sessions, desk, max_preparing=2)
    try:
        assert await worker.run_once() == 0  # both prepares still running: nothing processed yet
        assert sorted(t.get_name() for t in prepare_tasks()) == [f"inbox-prepare-{i}" for i in ids[:2]]
        # The oldest finishes: its event is processed and its slot goes to the third.
        releases[0].set()
        [first] = [t for t in prepare_tasks() if t.get_name() == f"inbox-prepare-{ids[0]}"]
        await asyncio.wait_for(first, TIMEOUT)
        assert await worker.run_once() == 1
        assert desk.processed == ["a1"]
        assert sorted(t.get_name() for t in prepare_tasks()) == [f"inbox-prepare-{i}" for i in ids[1:]]
    finally:
        await worker.drop_prepares()
    assert prepare_tasks() == []
