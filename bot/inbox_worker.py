"""The inbox worker: applies stored inbound events to the desk, each chat in order, each event once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.doorbell import Doorbell
from handlers.clock import Clock
from storage import inbox
from storage.engine import is_unavailable
from storage.models import InboxEvent

log = logging.getLogger(__name__)

# Applies one event inside the given transaction; the third argument is what Prepare returned.
Processor = Callable[[AsyncSession, InboxEvent, Any], Awaitable[None]]
# Network work an event needs first (e.g. downloading a WhatsApp photo), done OUTSIDE the
# processing transaction so that no I/O holds the database's write lock. Must be idempotent:
# a failed event is prepared again on its next attempt.
Prepare = Callable[[InboxEvent], Awaitable[Any]]
# Called (in its own transaction) when an event is set aside after repeated failures.
GiveUp = Callable[[AsyncSession, InboxEvent], Awaitable[None]]


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
    ) -> None:
        self._sessions = sessions
        # Awaited before each event: intake (the webhooks' writes) goes first (bot.inbox_writer).
        self._yield_to = yield_to
        self._process = process
        self._prepare = prepare
        self._clock = clock
        self._on_give_up = on_give_up
        self._after_commit = after_commit or (lambda: None)
        self.poll_seconds = poll_seconds
        self._bell = Doorbell()
        self.ready = asyncio.Event()

    def close(self) -> None:
        """Finish the batch at hand, then return from run() (a clean shutdown loses no receipt)."""
        self._bell.close()

    def wake(self) -> None:
        """Look at the inbox now rather than at the next poll."""
        self._bell.ring()

    async def run(self) -> None:
        """Process events until cancelled; waits for `ready` (the messenger client) first."""
        await self.ready.wait()
        while not self._bell.closing:
            try:
                done = await self.run_once()
            except Exception as exc:  # noqa: BLE001 (the loop must outlive any one failure)
                if is_unavailable(exc):
                    log.warning("inbox: database unavailable (%s); retrying", exc)
                else:
                    log.exception("inbox: unexpected error; retrying")
                done = 0
            if done or self._bell.closing:
                continue
            await self._bell.wait(self.poll_seconds)

    async def run_once(self) -> int:
        """Process the events that are next in their chats; return how many were looked at."""
        async with self._sessions() as session:
            ids = await inbox.ready_event_ids(session)
        for event_id in ids:
            if self._bell.closing:
                break
            if self._yield_to is not None:
                await self._yield_to()
            await self._one(event_id)
        return len(ids)

    async def _one(self, event_id: int) -> None:
        try:
            prepared = await self._prepared(event_id)
            async with self._sessions() as session, session.begin():
                event = await inbox.claim_event(session, event_id=event_id)
                if event is None:
                    return  # another worker took it
                await self._process(session, event, prepared)
                await inbox.mark_processed(session, event=event, now=self._clock.now())
        except Exception as exc:  # noqa: BLE001 (one bad event must not stop the desk)
            if is_unavailable(exc):
                raise  # the database itself is in trouble: the run loop waits and retries
            log.exception("inbox event %s failed", event_id)
            async with self._sessions() as session, session.begin():
                gave_up = await inbox.record_failure(
                    session, event_id=event_id, error=f"{type(exc).__name__}: {exc}", now=self._clock.now()
                )
                if gave_up and self._on_give_up is not None:
                    event = await session.get(InboxEvent, event_id)
                    if event is not None:
                        await self._on_give_up(session, event)
        self._after_commit()

    async def _prepared(self, event_id: int) -> Any:
        """Run the prepare step for an event still waiting; None without one."""
        if self._prepare is None:
            return None
        async with self._sessions() as session:
            event = await session.get(InboxEvent, event_id)
        if event is None or event.processed_at is not None:
            return None
        return await self._prepare(event)
