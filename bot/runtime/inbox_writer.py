"""Group commit for the webhooks: concurrent requests share one INSERT and one COMMIT.

A webhook may answer 200 only once its event is committed. Committing each request on its own
costs a transaction per request (and on SQLite, one writer at a time); under load, requests that
arrive while a commit is in progress are written together by the next one. Nothing waits on
purpose: a lone request is written at once, exactly as before, and every request is answered only
after the transaction holding its row has committed.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import inbox
from storage.engine import is_unavailable

# Rows per INSERT: enough to absorb a burst, few enough for SQLite's and PostgreSQL's parameter limits.
MAX_BATCH = 100
# Seconds without a new request after which intake counts as paused (see InboxWriter.quiet).
QUIET_GAP = 0.005

_Pending = tuple[Mapping[str, Any], "asyncio.Future[bool]"]


class InboxWriter:
    """Writes inbox rows for many concurrent requests in shared transactions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._flushing = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_arrival = float("-inf")
        # The running flush (asyncio keeps only weak references to tasks).
        self._flusher: asyncio.Future[None] | None = None
        # Told the channel of each new (not redelivered) event once it is committed (metrics).
        self.on_new: Callable[[str], None] = lambda channel: None

    async def quiet(self, max_wait: float) -> None:
        """Return once intake pauses (nothing being written or new for QUIET_GAP s), or after max_wait.

        Background work (the inbox worker before each event, the outbox dispatcher before each
        claim) calls this: its transaction holds the database (on SQLite, the only connection), and
        a webhook request arriving meanwhile waits for all of it. In a burst, background work thus
        steps aside for intake, but never stops: after max_wait it goes on. In ordinary traffic
        intake is quiet nearly always and nothing waits.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return
            if not self._idle.is_set():
                try:
                    await asyncio.wait_for(self._idle.wait(), timeout=left)
                except TimeoutError:
                    return
                continue
            gap = self._last_arrival + QUIET_GAP - loop.time()
            if gap <= 0:
                return
            await asyncio.sleep(min(gap, left))  # a request may come any moment: wait for a pause

    async def store(self, row: Mapping[str, Any]) -> bool:
        """Keep one event; True if new, False if it was a redelivery. Raises what the database raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._last_arrival = loop.time()
        self._pending.append((row, future))
        if not self._flushing:
            self._flushing = True
            self._idle.clear()
            # The first request of a quiet moment writes at once, in its own task: no timer, no delay.
            self._flusher = asyncio.ensure_future(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
                await self._write(batch)
        finally:
            self._flushing = False
            self._idle.set()

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            async with self._sessions() as session, session.begin():
                new = await inbox.store_many(session, rows=[row for row, _ in batch])
        except Exception as exc:  # noqa: BLE001 (every waiting request gets the outcome)
            if len(batch) > 1 and not is_unavailable(exc):
                # One row the database refuses must not fail the others: write them one by one.
                for item in batch:
                    await self._write([item])
                return
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for row, future in batch:
            key = (str(row["channel"]), str(row["external_id"])[:64])
            if key in new:
                self.on_new(key[0])
            if not future.done():
                future.set_result(key in new)
            new.discard(key)  # the same event twice in one batch: only the first is new


_writers: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], InboxWriter] = weakref.WeakKeyDictionary()


def writer_for(sessions: async_sessionmaker[AsyncSession]) -> InboxWriter:
    """The writer of a session factory (one per database and process)."""
    writer = _writers.get(sessions)
    if writer is None:
        writer = _writers[sessions] = InboxWriter(sessions)
    return writer
