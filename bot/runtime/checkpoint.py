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
    try:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(checkpointer.checkpoint)
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed (%s); trying again in %.0f s", exc, interval)
    finally:
        # If cancelled mid-checkpoint, the thread still runs it: close() waits for it (a PASSIVE
        # checkpoint waits for nobody, so that is at most one checkpoint's time).
        checkpointer.close()
