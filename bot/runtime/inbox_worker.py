"""The inbox worker: applies stored inbound events to the desk, each chat in order, each event once."""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime.doorbell import Doorbell
from bot.runtime.observer import Observer
from handlers.clock import Clock
from storage import inbox
from storage.engine import is_unavailable
from storage.models import InboxEvent, OutboxMessage

log = logging.getLogger(__name__)

# Applies one event inside the given transaction; the third argument is what Prepare returned.
Processor = Callable[[AsyncSession, InboxEvent, Any], Awaitable[None]]
# Network work an event needs first (e.g. downloading a WhatsApp photo), done OUTSIDE the
# processing transaction so that no I/O holds the database's write lock. Must be idempotent:
# a failed event is prepared again on its next attempt, and a prepare cut short at shutdown is
# run again at the next start. Prepares of different chats run concurrently.
Prepare = Callable[[InboxEvent], Awaitable[Any]]
# Called (in its own transaction) when an event is set aside after repeated failures.
GiveUp = Callable[[AsyncSession, InboxEvent], Awaitable[None]]


class HandOff(Protocol):
    """Who sends the messages an event queued (the outbox dispatcher): claimed in the event's
    transaction, handed over once it has committed."""

    async def claim_queued(self, session: AsyncSession) -> tuple[list[OutboxMessage], bool]:
        """Claim the messages queued in this transaction; also whether all of them were claimed."""
        ...

    def deliver(self, messages: list[OutboxMessage]) -> None:
        """Send the claimed messages (their transaction has committed)."""
        ...


# Prepares under way at once: enough that a slow photo download holds up only its own chat, few
# enough that a burst of photos does not open dozens of downloads (nor queue dozens of sessions).
MAX_PREPARING = 4


class InboxWorker:
    """Processes unprocessed inbox rows; a crash after the webhook's 200 loses nothing."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        process: Processor,
        clock: Clock,
        *,
        on_give_up: GiveUp | None = None,
        after_commit: Callable[[], None] | None = None,
        poll_seconds: float = 1.0,
        prepare: Prepare | None = None,
        yield_to: Callable[[], Awaitable[None]] | None = None,
        max_preparing: int = MAX_PREPARING,
        observer: Observer | None = None,
        hand_off: HandOff | None = None,
    ) -> None:
        self._sessions = sessions
        # Without it, after_commit (waking the dispatcher) is how queued messages get sent.
        self._hand_off = hand_off
        self.observer = observer or Observer()
        # Awaited before each event: intake (the webhooks' writes) goes first (bot.runtime.inbox_writer).
        self._yield_to = yield_to
        self._process = process
        self._prepare = prepare
        self._clock = clock
        self._on_give_up = on_give_up
        self._after_commit = after_commit or (lambda: None)
        self.poll_seconds = poll_seconds
        self._bell = Doorbell()
        self.ready = asyncio.Event()
        self._max_preparing = max_preparing
        # Prepare tasks by event id, from their start until their event is processed (or dropped).
        # An event of a chat is ready only once the chat's earlier one is processed, so two of
        # these are never of the same chat: each chat keeps its order.
        self._preparing: dict[int, asyncio.Task[Any]] = {}
        # Events whose prepare is done, in the order they finished: processed in that order.
        self._finished: collections.deque[int] = collections.deque()

    def close(self) -> None:
        """Finish the event at hand, then return from run(); unfinished prepares are dropped (nothing is lost)."""
        self._bell.close()

    def wake(self) -> None:
        """Look at the inbox now rather than at the next poll."""
        self._bell.ring()

    async def run(self) -> None:
        """Process events until cancelled; waits for `ready` (the messenger client) first."""
        await self.ready.wait()
        try:
            while not self._bell.closing:
                try:
                    done = await self.run_once()
                except Exception as exc:
                    if is_unavailable(exc):
                        log.warning("inbox: database unavailable (%s); retrying", exc)
                    else:
                        log.exception("inbox: unexpected error; retrying")
                    done = 0
                if done or self._bell.closing:
                    continue
                # A prepare that finishes rings the bell too: its event is processed at once.
                await self._bell.wait(self.poll_seconds)
        finally:
            await self.drop_prepares()

    async def run_once(self) -> int:
        """Process the events that are next in their chats and ready; return how many were handled.

        Without a prepare step the events are processed in the order listed. With one, their
        prepares run in the background (at most max_preparing at once) and each event is processed
        as soon as its prepare is done, in the order they finish: a slow prepare holds up only its
        own chat. A prepare still running is picked up by a later call.
        """
        async with self._sessions() as session:
            ids = await inbox.ready_event_ids(session)
        if self._prepare is None:
            for event_id in ids:
                if self._bell.closing:
                    break
                await self._one(event_id, None)
            return len(ids)
        waiting = collections.deque(i for i in ids if i not in self._preparing)
        handled = 0
        while not self._bell.closing:
            self._start_prepares(waiting)
            if not self._finished:
                break
            event_id = self._finished.popleft()
            task = self._preparing.pop(event_id, None)
            if task is None:
                continue  # dropped meanwhile
            await self._one(event_id, task)
            handled += 1
        return handled

    async def drop_prepares(self) -> None:
        """Cancel the prepares under way and wait for them to end; their events wait for the next run."""
        tasks = list(self._preparing.values())
        self._preparing.clear()
        self._finished.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            # return_exceptions: also collects the errors of prepares done but never processed.
            await asyncio.gather(*tasks, return_exceptions=True)

    def _start_prepares(self, waiting: collections.deque[int]) -> None:
        """Start the prepares of waiting events, oldest first, while fewer than max_preparing run."""
        running = sum(not task.done() for task in self._preparing.values())
        while waiting and running < self._max_preparing:
            event_id = waiting.popleft()
            if event_id in self._preparing:
                continue
            task = asyncio.create_task(self._prepared(event_id), name=f"inbox-prepare-{event_id}")
            task.add_done_callback(functools.partial(self._prepare_done, event_id))
            self._preparing[event_id] = task
            running += 1

    def _prepare_done(self, event_id: int, task: asyncio.Task[Any]) -> None:
        """Queue an event whose prepare ended (well or not) and wake the loop to process it."""
        if task.cancelled() or self._preparing.get(event_id) is not task:
            return
        self._finished.append(event_id)
        self._bell.ring()

    async def _one(self, event_id: int, prepare: asyncio.Task[Any] | None) -> None:
        """Apply one event in its own transaction (after intake's turn); a failure is counted, not raised."""
        if self._yield_to is not None:
            await self._yield_to()
        started = time.perf_counter()
        channel = "?"
        # Handed over only once the transaction that claimed them has committed.
        claimed: list[OutboxMessage] = []
        all_claimed = False
        pending: list[OutboxMessage] = []
        every = False
        try:
            # A failed prepare fails its event: counted, and prepared again at the next attempt.
            prepared = prepare.result() if prepare is not None else None
            async with self._sessions() as session, session.begin():
                event = await inbox.claim_event(session, event_id=event_id)
                if event is None:
                    return  # another worker took it
                channel = event.channel
                await self._process(session, event, prepared)
                await inbox.mark_processed(session, event=event, now=self._clock.now())
                if self._hand_off is not None:
                    pending, every = await self._hand_off.claim_queued(session)
            if self._hand_off is not None:
                claimed, all_claimed = pending, every
            self._observe(event_id, channel, "ok", started)
        except Exception as exc:
            if is_unavailable(exc):
                raise  # the database itself is in trouble: the run loop waits and retries
            log.exception("inbox event %s failed", event_id)
            self._observe(event_id, channel, "failed", started)
            async with self._sessions() as session, session.begin():
                gave_up = await inbox.record_failure(
                    session, event_id=event_id, error=f"{type(exc).__name__}: {exc}", now=self._clock.now()
                )
                if gave_up and self._on_give_up is not None:
                    event = await session.get(InboxEvent, event_id)
                    if event is not None:
                        await self._on_give_up(session, event)
        if claimed and self._hand_off is not None:
            self._hand_off.deliver(claimed)
        if not all_claimed:
            self._after_commit()

    def _observe(self, event_id: int, channel: str, outcome: str, started: float) -> None:
        """One log line and the metrics of a processed event (ids and outcome; never its content)."""
        seconds = time.perf_counter() - started
        log.info(
            "inbox event %s %s: %s in %.1f ms",
            event_id,
            channel,
            outcome,
            seconds * 1000,
            extra={
                "event_id": event_id,
                "channel": channel,
                "outcome": outcome,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
        self.observer.inbox_processed(channel, outcome, seconds)

    async def _prepared(self, event_id: int) -> Any:
        """Run the prepare step for an event still waiting; None without one."""
        if self._prepare is None:
            return None
        # Reading the event takes the database too (on SQLite, its one connection): intake first.
        if self._yield_to is not None:
            await self._yield_to()
        # The session is closed before the prepare's network work: no connection is held meanwhile.
        async with self._sessions() as session:
            event = await session.get(InboxEvent, event_id)
        if event is None or event.processed_at is not None:
            return None
        return await self._prepare(event)
