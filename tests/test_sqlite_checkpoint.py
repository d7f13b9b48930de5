"""SQLite's WAL checkpoint runs on a connection of its own, never inside a commit of the desk's one connection.

A checkpoint syncs the database file (20-40 ms on the benchmark VM's disk); paid by a commit, it
held up every webhook and reply queued behind that commit (docs/BENCHMARKS.md, "Replies at
Telegram's limit").
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from bot.runtime.checkpoint import checkpoint_forever
from storage.engine import SqliteCheckpointer, create_engine

ROWS = 3000  # a few MB of WAL: past the 1000 pages at which a commit would checkpoint by default


async def wal_after_writes(url: str, *, checkpoint_elsewhere: bool) -> tuple[int, int]:
    """Commit many small transactions (the writer's connection stays open), then checkpoint on a
    connection of its own: the WAL's frames and how many of them it copied."""
    engine = create_engine(url, sqlite_checkpoint_elsewhere=checkpoint_elsewhere)
    checkpointer = SqliteCheckpointer(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        for _ in range(ROWS // 100):
            async with engine.begin() as connection:
                for _ in range(100):
                    await connection.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": "x" * 2000})
        return await asyncio.to_thread(checkpointer.checkpoint)
    finally:
        checkpointer.close()
        await engine.dispose()


async def test_commits_leave_the_checkpoint_to_the_checkpointer(tmp_path: Path) -> None:
    # By default a commit past 1000 pages checkpoints and the WAL starts over: it never holds more.
    frames, _ = await wal_after_writes(f"sqlite+aiosqlite:///{tmp_path / 'plain.db'}", checkpoint_elsewhere=False)
    assert frames < 1000
    # Checkpointed elsewhere, no commit did it; the checkpointer copies it all, beside the open writer.
    frames, done = await wal_after_writes(f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}", checkpoint_elsewhere=True)
    assert frames > 1000 and done == frames


class SlowCheckpointer(SqliteCheckpointer):
    """A checkpointer whose checkpoint is under way (in its thread) when the desk stops."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.started = threading.Event()
        self.go_on = threading.Event()
        self.log: list[str] = []

    def _run(self, connection: sqlite3.Connection) -> tuple[int, int]:
        self.started.set()
        self.go_on.wait(30)
        result = super()._run(connection)
        self.log.append("checkpoint done")
        return result

    def close(self) -> None:
        self.log.append("close asked")
        self.go_on.set()
        super().close()
        self.log.append("closed")


async def test_stopping_mid_checkpoint_closes_the_connection_only_after_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"
    engine = create_engine(url, sqlite_checkpoint_elsewhere=True)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    checkpointer = SlowCheckpointer(url)
    task = asyncio.create_task(checkpoint_forever(checkpointer, interval=0))
    await asyncio.to_thread(checkpointer.started.wait, 30)
    # The desk stops while the thread is inside a checkpoint: closing its connection then would
    # crash the process (it did: a segmentation fault at the end of a test run).
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert checkpointer.log == ["close asked", "checkpoint done", "closed"]
    assert checkpointer.closed and checkpointer.checkpoint() == (0, 0)
    await engine.dispose()
