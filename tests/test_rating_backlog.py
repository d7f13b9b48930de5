"""Late rating requests owed to many answers at once are asked in batches, each committed on its own.

A desk holding thousands of answers never closed and never asked (bulk-loaded, or upgraded from
before migration 0010) made the first sweep ask them all in one transaction: on SQLite that held
the process's one connection for minutes, and webhooks and sends timed out (benchmarks/bench_startup.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlmodel import select

from bot.app import Runtime
from bot.standins.telegram_api import TelegramStandIn
from handlers import rating
from handlers.sla import SweepResult
from storage.models import Citizen, Complaint, table_of
from tests.harness import World, running_bot, settings_for

HOUR = timedelta(hours=1)
OWED = [900001, 900002, 900003, 900004, 900005]  # answered 30 hours ago, never asked
NOT_YET = 900006  # answered an hour ago: asked later
ASKED = 900007  # asked already
STALE = 900008  # answered 9 days ago, never asked: too late to ask now


@pytest.fixture
async def world(database_url: str, telegram: TelegramStandIn, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    # The timer sweeps once at start, then stays out of the way (once an hour): the test waits for
    # that first sweep before it makes the complaints, then sweeps explicitly.
    swept = asyncio.Event()
    original = Runtime.sweep_once

    async def sweep_once(self: Runtime) -> SweepResult:
        try:
            return await original(self)
        finally:
            swept.set()

    monkeypatch.setattr(Runtime, "sweep_once", sweep_once)
    settings = settings_for(database_url, telegram, sla={"rate_after_hours": 24.0, "sweep_seconds": 3600.0})
    async with running_bot(settings, telegram) as world:
        await asyncio.wait_for(swept.wait(), timeout=10)
        yield world


async def answered_complaints(world: World) -> None:
    """One answered, never closed complaint per citizen above, straight into the tables."""
    now = world.clock.now()
    users = [*OWED, NOT_YET, ASKED, STALE]
    async with world.runtime.sessions() as session, session.begin():
        await session.exec(
            insert(table_of(Citizen)).values(
                [
                    {"channel": "telegram", "address": str(user), "display_name": "W", "reachable": True}
                    | {"created_at": now - 40 * HOUR}
                    for user in users
                ]
            )
        )
        ids = {address: id_ for id_, address in (await session.exec(select(Citizen.id, Citizen.address))).all()}
        rows: list[dict[str, Any]] = []
        for n, user in enumerate(users):
            answered = now - (HOUR if user == NOT_YET else 9 * 24 * HOUR if user == STALE else (30 + n) * HOUR)
            rows.append(
                {
                    "citizen_id": ids[str(user)],
                    "opd_code": "DLHK",
                    "category": None,
                    "confidence": 0.9,
                    "description": "sampah menumpuk di pasar",
                    "media": [],
                    "status": "answered",
                    "created_at": answered - 2 * HOUR,
                    "due_at": answered + 20 * HOUR,
                    "answered_at": answered,
                    "rating_requested_at": answered + 24 * HOUR if user == ASKED else None,
                }
            )
        await session.exec(insert(table_of(Complaint)).values(rows))


async def test_a_backlog_of_rating_requests_is_asked_in_committed_batches(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await answered_complaints(world)
    monkeypatch.setattr(rating, "RATING_BATCH", 2)
    me = asyncio.current_task()
    commits: list[int] = []  # claims seen at each commit of the sweep (this task's transactions)
    claims: list[str] = []
    choices: list[tuple[str, Any]] = []  # the SELECT that picks each batch

    def on_commit(_conn: Any) -> None:
        if asyncio.current_task() is me:
            commits.append(len(claims))

    def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.startswith("UPDATE complaint SET rating_requested_at"):
            claims.append(statement)
        elif statement.startswith("SELECT complaint.id") and "rating_requested_at IS NULL" in statement:
            choices.append((statement, parameters))

    engine = world.runtime.engine.sync_engine
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        result = await world.runtime.sweep_once()
    finally:
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "before_cursor_execute", on_execute)

    # Every answer owed a request is asked in that one sweep, and no other.
    assert result.rating_requests == len(OWED)
    await world.settled()
    for user in OWED:
        prompts = [c for c in world.telegram.sent_messages(user) if "Beri nilai 1" in (c.text or "")]
        assert len(prompts) == 1, user
    # Not yet due, asked already, or owed so long ago that asking now would puzzle the citizen.
    for user in (NOT_YET, ASKED, STALE):
        assert world.telegram.sent_messages(user) == []
    # ... in batches of 2, 2 and 1, each committed before the next is claimed (the deadline part first).
    assert len(claims) == 3
    assert commits == [0, 1, 2, 3]
    # A second sweep finds nothing left to ask.
    assert (await world.runtime.sweep_once()).rating_requests == 0

    if world.runtime.engine.dialect.name == "sqlite":
        # The batch is found from the index (0015), not by reading every answered complaint.
        statement, parameters = choices[0]
        async with world.runtime.engine.connect() as conn:
            plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
        assert any("ix_complaint_rating_request" in str(row) for row in plan), plan
