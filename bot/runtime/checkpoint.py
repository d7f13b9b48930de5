"""The SQLite WAL checkpoint, off the process's one connection: commits never wait for it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from storage.engine import SqliteCheckpointer

log = logging.getLogger(__name__)

# Often enough that the WAL stays a few MB even in a burst (a reply writes some tens of pages).
CHECKPOINT_SECONDS = 1.0


async def checkpoint_forever(checkpointer: SqliteCheckpointer, interval: float = CHECKPOINT_SECONDS) -> None:
    """Checkpoint the WAL every `interval` seconds, in a worker thread, until cancelled."""
    running: asyncio.Future[tuple[int, int]] | None = None
    try:
        while True:
            await asyncio.sleep(interval)
            running = asyncio.ensure_future(asyncio.to_thread(checkpointer.checkpoint))
            try:
                # Shielded: a cancelled await must not close the connection under the thread's feet.
                await asyncio.shield(running)
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed (%s); trying again in %.0f s", exc, interval)
    finally:
        if running is not None and not running.done():
            running.add_done_callback(lambda _: checkpointer.close())
        else:
            checkpointer.close()
