"""SQLite's WAL checkpoint runs on a connection of its own, never inside a commit of the desk's one connection.

A checkpoint syncs the database file (20-40 ms on the benchmark VM's disk); paid by a commit, it
held up every webhook and reply queued behind that commit (docs/BENCHMARKS.md, "Replies at
Telegram's limit").
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

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
