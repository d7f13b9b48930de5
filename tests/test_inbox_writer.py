"""Group commit: concurrent webhook rows share transactions, each caller learns its own outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.runtime.inbox_writer import InboxWriter
from storage.models import InboxEvent

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def row(external_id: str, payload: Any = None) -> dict[str, Any]:
    return {
        "channel": "telegram",
        "external_id": external_id,
        "chat_key": f"telegram:{external_id}",
        "payload": payload if payload is not None else {"update_id": external_id},
        "received_at": NOW,
    }


async def stored(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int((await session.exec(select(func.count()).select_from(InboxEvent))).one())


async def test_concurrent_rows_share_commits_and_redeliveries_are_told(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    commits = 0

    def counted(*_: Any) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", counted)
    writer = InboxWriter(sessions)
    rows = [row(str(i)) for i in range(60)] + [row("7")] * 4  # a redelivery, four times at once
    results = await asyncio.gather(*(writer.store(r) for r in rows))
    assert results[:60] == [True] * 60 and results[60:] == [False] * 4
    assert await stored(sessions) == 60
    assert commits < 10  # 64 requests, a handful of transactions


async def test_a_row_the_database_refuses_fails_alone(sessions: async_sessionmaker[AsyncSession]) -> None:
    writer = InboxWriter(sessions)
    rows = [row("a"), row("bad", payload={"not json": {1, 2}}), row("b")]
    results = await asyncio.gather(*(writer.store(r) for r in rows), return_exceptions=True)
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], Exception)
    assert await stored(sessions) == 2


async def test_quiet_returns_at_once_when_nothing_arrives(sessions: async_sessionmaker[AsyncSession]) -> None:
    writer = InboxWriter(sessions)
    await asyncio.wait_for(writer.quiet(10.0), timeout=0.5)


async def test_quiet_gives_way_to_a_burst_but_not_for_ever(sessions: async_sessionmaker[AsyncSession]) -> None:
    writer = InboxWriter(sessions)
    loop = asyncio.get_running_loop()

    async def burst() -> None:
        for i in range(300):
            await writer.store(row(f"burst-{i}"))

    task = asyncio.create_task(burst())
    await asyncio.sleep(0)  # the burst has begun
    started = loop.time()
    await writer.quiet(0.05)
    waited = loop.time() - started
    assert 0.045 <= waited < 1.0
    await task
