"""The SQLite engine crosses to aiosqlite's thread once per statement, and behaves as before.

Each crossing cost the process more CPU than SQLite's own work on the desk's small statements
(docs/BENCHMARKS.md, "Replies at Telegram's limit": CPU per first message of a citizen).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine


async def crossings(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A list that receives every function the engine's connection runs on its thread from now on."""
    seen: list[Any] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(fn)
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_a_statement_with_rows_is_one_crossing(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    async with engine.connect() as connection:
        seen = await crossings(engine, monkeypatch)
        rows = (await connection.execute(text("SELECT 1, 'a' UNION ALL SELECT 2, 'b'"))).all()
        assert [tuple(row) for row in rows] == [(1, "a"), (2, "b")]
        # aiosqlite's own cursor takes four: open, execute, fetch, close.
        assert len(seen) == 1
        await connection.execute(text("INSERT INTO t (body) VALUES ('x')"))
        assert len(seen) == 2


async def test_counts_ids_returning_and_many(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t (body) VALUES ('a')"))
        assert inserted.lastrowid == 1 and inserted.rowcount == 1
        many = await connection.execute(text("INSERT INTO t (body) VALUES (:b)"), [{"b": "b"}, {"b": "c"}])
        assert many.rowcount == 2
        updated = await connection.execute(text("UPDATE t SET body = body || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        returned = await connection.execute(text("UPDATE t SET body = 'z' WHERE id = 1 RETURNING id, body"))
        assert [tuple(row) for row in returned] == [(1, "z")]
        empty = await connection.execute(text("SELECT id FROM t WHERE id > 99"))
        assert empty.all() == []
        streamed = await connection.execute(text("SELECT id FROM t ORDER BY id"))
        assert streamed.fetchone() == (1,)
        assert [tuple(row) for row in streamed.fetchmany(5)] == [(2,), (3,)]


async def test_errors_and_rollback_as_before(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (body) VALUES ('same')"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (body) VALUES ('kept back')"))
            await connection.execute(text("INSERT INTO t (body) VALUES ('same')"))
    async with engine.connect() as connection:
        bodies = (await connection.execute(text("SELECT body FROM t"))).scalars().all()
    assert bodies == ["same"]


async def test_ending_no_transaction_takes_no_crossing(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    async with engine.connect() as connection:
        seen = await crossings(engine, monkeypatch)
        await connection.execute(text("SELECT 1"))
        # A read opens no transaction in SQLite: the pool's rollback on return has nothing to do.
    assert len(seen) == 1
    seen.clear()
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t (body) VALUES ('x')"))
    assert len(seen) == 2  # the insert and its commit
    seen.clear()
    with pytest.raises(RuntimeError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t (body) VALUES ('y')"))
            raise RuntimeError
    assert len(seen) == 2  # the insert and its rollback
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT body FROM t"))).scalars().all() == ["x"]
